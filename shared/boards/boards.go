// Package boards owns the app-wide leaderboard: the scheduled refresher
// builds each day's board from the sparse ActiveIndex into a snapshot (and
// keeps WeChat's shared access token fresh while it runs), a summary ranks
// a user against it, and a deletion takes a user out of it. It also keeps
// the operator's exclusions, which every board applies.
package boards

import (
	"context"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/shared/store"
)

// Store is what the boards read and write; *store.DynamoStore satisfies it.
type Store interface {
	BoardPage(ctx context.Context, board, cursor string) (entries []store.BoardEntry, next string, err error)
	ClearBoard(ctx context.Context, board, cursor string) (cleared int, next string, err error)
	GetSnapshot(ctx context.Context, appid, name string) (data []byte, found bool, err error)
	PutSnapshot(ctx context.Context, appid, name string, data []byte, expiresAt time.Time) error
	Snapshots(ctx context.Context, appid, prefix string) ([]store.Snapshot, error)
	Excluded(ctx context.Context) (map[string]bool, error)
	BoardItems(ctx context.Context, date string, members []store.Friend, profiles bool) (map[string]store.BoardItem, error)
}

// AccessTokens keeps WeChat's shared access token fresh; *opendata.Opener
// satisfies it.
type AccessTokens interface {
	RefreshAccessToken(ctx context.Context, margin time.Duration) error
}

// Config is what a Service is built from.
type Config struct {
	AppID  string
	Store  Store
	Tokens AccessTokens // nil in a function that does not refresh
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service builds and reads the boards. Build it once per container with New.
type Service struct {
	appID  string
	store  Store
	opener AccessTokens
	now    func() time.Time
	// excluded is the operator's exclusions, cached a minute.
	excluded exclusions
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{appID: cfg.AppID, store: cfg.Store, opener: cfg.Tokens, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// exclusionsTTL is how long a container trusts its copy of the operator's
// exclusions.
const exclusionsTTL = time.Minute

// exclusions caches the operator's list of memberIds kept off the boards.
type exclusions struct {
	mu    sync.Mutex
	set   map[string]bool
	until time.Time
}

// ExcludedMembers are the memberIds the operator keeps off every board,
// as this container last read them (at most a minute ago).
func (s *Service) ExcludedMembers(ctx context.Context) (map[string]bool, error) {
	s.excluded.mu.Lock()
	defer s.excluded.mu.Unlock()
	now := time.Now()
	if s.excluded.set != nil && now.Before(s.excluded.until) {
		return s.excluded.set, nil
	}
	set, err := s.store.Excluded(ctx)
	if err != nil {
		return nil, err
	}
	s.excluded.set, s.excluded.until = set, now.Add(exclusionsTTL)
	return set, nil
}

// excludedOpenIDs are the openids of the excluded members, for the
// app-wide board, which the index holds by openid.
func (s *Service) excludedOpenIDs(ctx context.Context) (map[string]bool, error) {
	set, err := s.ExcludedMembers(ctx)
	if err != nil || len(set) == 0 {
		return nil, err
	}
	members := make([]store.Friend, 0, len(set))
	for mid := range set {
		members = append(members, store.Friend{MemberID: mid})
	}
	items, err := s.store.BoardItems(ctx, "", members, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(items))
	for _, it := range items {
		if it.Profile.OpenID != "" {
			out[it.Profile.OpenID] = true
		}
	}
	return out, nil
}
