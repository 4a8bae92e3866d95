// Package werun holds the use cases of the backend: a login code becomes a
// session, a WeRun payload (encryptedData or cloudID) becomes stored days,
// stored days are read back, and users join groups, befriend each other and
// see each other on boards. Each use case is a plain method over typed values;
// the API Gateway adapters live in package api.
package werun

import (
	"context"
	"log/slog"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// WeChat is the part of the WeChat server API the use cases call;
// *wechat.Client satisfies it.
type WeChat interface {
	Code2Session(ctx context.Context, code string) (wechat.Session, error)
	StableToken(ctx context.Context, forceRefresh bool) (wechat.AccessToken, error)
	GetOpenData(ctx context.Context, accessToken, openid string, cloudIDs []string) ([]wechat.OpenData, error)
	MsgSecCheck(ctx context.Context, accessToken, openid string, scene int, content string) (string, error)
}

var _ WeChat = (*wechat.Client)(nil)

// SessionTTL is how long a session token is valid. It only names the user;
// the WeChat session key behind it is kept separately, so a short lifetime
// costs the mini program one wx.login a day at most.
const SessionTTL = crypto.TokenLifetime

// Config is what a Service is built from.
type Config struct {
	AppID  string
	Store  store.Store
	WeChat WeChat
	// Signer signs and verifies session tokens; nil in a function that
	// serves no HTTP route.
	Signer *crypto.Signer
	// MaxAge is the replay window on the watermark timestamp; 0 means
	// crypto.DefaultMaxAge.
	MaxAge time.Duration
	// Goal is the daily step goal streaks count; 0 means DefaultGoal.
	Goal int64
	// Social holds the rules of groups, friends and boards; zero values
	// are the defaults (social.go).
	Social SocialRules
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TokenPoll is the wait between reads of the shared access token while
	// another container refreshes it; 0 means 100 ms.
	TokenPoll time.Duration
}

// Service runs the use cases. Build it once per container with New and share
// it between invocations.
type Service struct {
	appID  string
	store  store.Store
	wechat WeChat
	signer *crypto.Signer
	// tokens holds the shared WeChat access token; only the cloudID path
	// and the refresher use it.
	tokens *accessTokens
	maxAge time.Duration
	goal   int64
	clock  func() time.Time
	// codes are the login codes this container redeemed.
	codes  codeCache
	social SocialRules
	// excluded is the operator's exclusions, cached a minute.
	excluded exclusions
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{
		appID: cfg.AppID, store: cfg.Store, wechat: cfg.WeChat, signer: cfg.Signer,
		maxAge: cfg.MaxAge, goal: cfg.Goal, clock: cfg.Now, social: cfg.Social.withDefaults(),
	}
	if s.maxAge <= 0 {
		s.maxAge = crypto.DefaultMaxAge
	}
	if s.goal <= 0 {
		s.goal = DefaultGoal
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.tokens = newAccessTokens(cfg.AppID, cfg.Store, cfg.WeChat, s.clock, cfg.TokenPoll)
	return s
}

// DefaultGoal is the daily goal when none is configured.
const DefaultGoal = 10000

func (s *Service) now() time.Time { return s.clock() }

// AccessToken returns the shared WeChat access token: from this container's
// memory, else from the table, else fetched from WeChat by one container.
func (s *Service) AccessToken(ctx context.Context) (_ string, err error) {
	defer classify(&err)
	return s.tokens.Token(ctx)
}

// Session is the answer to a login.
type Session struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expiresIn"`
	OpenID    string `json:"-"`
}

// Login turns a wx.login code into a session token, keeping the user's new
// session key beside the previous ones. A retry of a code already redeemed
// gets a token for the same user. When the table fails after WeChat
// redeemed the code, the token is still given (it needs no table): a later
// decrypt that finds no key answers NO_SESSION_KEY, as it would anyway.
func (s *Service) Login(ctx context.Context, code string) (_ Session, err error) {
	defer classify(&err)
	if !wechat.ValidCode(code) {
		return Session{}, ErrMalformedCode
	}
	r, err := s.redeem(ctx, code)
	if err != nil {
		return Session{}, err
	}
	if r.stored != nil {
		slog.WarnContext(ctx, "login answered without keeping the session key", "err", r.stored.Error())
	}
	return s.issue(r.openid), nil
}

func (s *Service) issue(openid string) Session {
	return Session{
		Token:     s.signer.Sign(openid, s.now().Add(SessionTTL)),
		ExpiresIn: int(SessionTTL / time.Second),
		OpenID:    openid,
	}
}

// Authenticate returns the openid a session token names.
func (s *Service) Authenticate(token string) (_ string, err error) {
	defer classify(&err)
	return s.signer.Verify(token, s.now())
}
