// Package usecases builds one container's use cases from their shared
// dependencies, so that a function, the local stack and the tests wire them
// the same way.
package usecases

import (
	"context"
	"iter"
	"time"

	"github.com/werun-sam/werun-sam/shared/account"
	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/opendata"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// WeChat is every WeChat call a use case makes; *wechat.Client satisfies
// it.
type WeChat interface {
	session.WeChat
	opendata.WeChat
	social.WeChat
}

var _ WeChat = (*wechat.Client)(nil)

// Store is every storage call a use case makes; *store.DynamoStore
// satisfies it, and a test may wrap it.
type Store interface {
	opendata.Store
	session.Store
	usersteps.Store
	boards.Store
	social.Store
	account.Store
	ConsistentDays(ctx context.Context, openid, from, to string) ([]store.Day, error)
}

var _ Store = (*store.DynamoStore)(nil)

// Config is what every use case of a container is built from.
type Config struct {
	AppID string
	Store Store
	// Events is the step challenges' storage on the same table.
	Events *eventstore.Store
	WeChat WeChat
	// Signer signs and verifies session tokens; nil in a function that
	// serves no HTTP route.
	Signer *crypto.Signer
	// MaxAge is the replay window on a watermark; 0 means
	// crypto.DefaultMaxAge.
	MaxAge time.Duration
	// Goal is the daily step goal streaks count; 0 means the default.
	Goal   int64
	Days   day.Rules
	Limits social.Limits
	// AvatarHosts limits avatar links to the operator's storage; zero
	// allows any public host name.
	AvatarHosts display.Hosts
	// DeletionDelay is how long after a deletion its second pass is due
	// (account.Config.Delay).
	DeletionDelay time.Duration
	// Sheet writes a step challenge's XLSX export (sheet.Write); only the
	// challenge function links it.
	Sheet func(rows iter.Seq[[]any]) ([]byte, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TokenPoll is the wait between reads of the shared access token while
	// another container refreshes it; 0 means 100 ms.
	TokenPoll time.Duration
}

// Set is one container's use cases, sharing its caches.
type Set struct {
	Opener   *opendata.Opener
	Sessions *session.Service
	Steps    *usersteps.Service
	Boards   *boards.Service
	Social   *social.Service
	Account  *account.Service
	// Challenge is the step challenges, which every sync credits.
	Challenge *challenge.Service
}

// New builds every use case from cfg. Building is cheap (no I/O), so a
// function builds them all and uses those its routes need.
func New(cfg Config) *Set {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opener := opendata.New(opendata.Config{AppID: cfg.AppID, Store: cfg.Store, WeChat: cfg.WeChat, Now: cfg.Now, TokenPoll: cfg.TokenPoll})
	sessions := session.New(session.Config{Store: cfg.Store, WeChat: cfg.WeChat, Signer: cfg.Signer, Now: cfg.Now})
	bs := boards.New(boards.Config{AppID: cfg.AppID, Store: cfg.Store, Tokens: opener, Now: cfg.Now})
	sc := social.New(social.Config{AppID: cfg.AppID, Store: cfg.Store, WeChat: cfg.WeChat, Opener: opener, Boards: bs,
		Days: cfg.Days, Limits: cfg.Limits, AvatarHosts: cfg.AvatarHosts, MaxAge: cfg.MaxAge, Now: cfg.Now})
	ch := challenge.New(challenge.Config{Store: challengeStore{cfg.Store, cfg.Events}, Text: sc, Sheet: cfg.Sheet, DailyGoal: cfg.Goal, Days: cfg.Days, Now: cfg.Now})
	return &Set{
		Opener:    opener,
		Sessions:  sessions,
		Boards:    bs,
		Social:    sc,
		Challenge: ch,
		Steps: usersteps.New(usersteps.Config{AppID: cfg.AppID, Store: cfg.Store, Sessions: sessions, Opener: opener, Boards: bs,
			Days: cfg.Days, MaxAge: cfg.MaxAge, Goal: cfg.Goal, Events: ch, Now: cfg.Now}),
		Account: account.New(account.Config{Store: cfg.Store, Signer: cfg.Signer, Boards: bs, Events: ch, Days: cfg.Days,
			Delay: cfg.DeletionDelay, Now: cfg.Now}),
	}
}

// challengeStore is the challenges' storage: their own items, and what they
// read of users.
type challengeStore struct {
	users
	*eventstore.Store
}

// users names the embedded Store apart from eventstore's.
type users = Store
