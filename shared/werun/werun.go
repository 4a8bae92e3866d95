// Package werun holds the use cases of the backend: a login code becomes a
// session, a WeRun payload (encryptedData or cloudID) becomes stored days,
// stored days are read back, and users join groups, befriend each other and
// see each other on boards. Each use case is a plain method over typed values;
// the API Gateway adapters live in package api.
package werun

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/steps"
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
	// RetentionDays is how long a day is kept after its date; 0 means
	// DefaultRetentionDays, and less than the synced window counts as the
	// window (steps.WindowDays), which every sync would write again.
	RetentionDays int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TokenPoll is the wait between reads of the shared access token while
	// another container refreshes it; 0 means 100 ms.
	TokenPoll time.Duration
	// Events, when set, is told of the days each sync wrote for the
	// user's running events (package challenge).
	Events Crediter
}

// Crediter brings a user's running events up to date with the days a sync
// wrote; the marks are those the sync's read found.
type Crediter interface {
	Credit(ctx context.Context, openid string, marks []store.EventMark, written []store.Day) error
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
	// retention is how long a day is kept after its date.
	retention int
	events    Crediter
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{
		appID: cfg.AppID, store: cfg.Store, wechat: cfg.WeChat, signer: cfg.Signer,
		maxAge: cfg.MaxAge, goal: cfg.Goal, clock: cfg.Now, social: cfg.Social.withDefaults(),
		retention: cfg.RetentionDays, events: cfg.Events,
	}
	if s.retention <= 0 {
		s.retention = DefaultRetentionDays
	}
	s.retention = max(s.retention, steps.WindowDays)
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
	defer fault.Classify(&err)
	return s.tokens.Token(ctx)
}

// Session is the answer to a login.
type Session struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expiresIn"`
	OpenID    string `json:"-"`
	Account   string `json:"-"`
}

// Login turns a wx.login code into a session token, keeping the user's new
// session key beside the previous ones. A retry of a code already redeemed
// gets a token for the same user. When keeping the key fails after WeChat
// redeemed the code, the token is still given: a later decrypt that finds
// no key answers NO_SESSION_KEY, as it would anyway.
func (s *Service) Login(ctx context.Context, code string) (_ Session, err error) {
	defer fault.Classify(&err)
	if !wechat.ValidCode(code) {
		return Session{}, fault.MalformedCode
	}
	r, err := s.redeem(ctx, code)
	if err != nil {
		return Session{}, err
	}
	if r.stored != nil {
		slog.WarnContext(ctx, "login answered without keeping the session key", "err", r.stored.Error())
	}
	return s.issue(ctx, r.openid)
}

// issue signs a token naming the user's current account, which a first
// login (or the first after a deletion) makes.
func (s *Service) issue(ctx context.Context, openid string) (Session, error) {
	account, err := s.store.Account(ctx, openid, newID())
	if err != nil {
		return Session{}, err
	}
	return Session{
		Token:     s.signer.Sign(crypto.Claims{OpenID: openid, Account: account, ExpiresAt: s.now().Add(SessionTTL)}),
		ExpiresIn: int(SessionTTL / time.Second),
		OpenID:    openid,
		Account:   account,
	}, nil
}

// Caller is who a session token names: the user and the account
// generation the token was issued for.
type Caller struct {
	OpenID  string
	Account string
}

// Authenticate returns the caller a session token names, unless the
// token's account was deleted (ErrTokenInvalid): one strongly consistent
// read of the revocation, so every token issued before a deletion is
// refused from the deletion's answer on.
func (s *Service) Authenticate(ctx context.Context, token string) (_ Caller, err error) {
	defer fault.Classify(&err)
	c, err := s.signer.Verify(token, s.now())
	if err != nil {
		return Caller{}, err
	}
	if err := s.checkAccount(ctx, c.Account); err != nil {
		return Caller{}, err
	}
	return Caller{OpenID: c.OpenID, Account: c.Account}, nil
}

// checkAccount is ErrTokenInvalid when account was deleted.
func (s *Service) checkAccount(ctx context.Context, account string) error {
	revoked, _, err := s.store.Revoked(ctx, account, s.now())
	if err != nil {
		return err
	}
	if revoked {
		return fmt.Errorf("%w: the account was deleted", fault.TokenInvalid)
	}
	return nil
}
