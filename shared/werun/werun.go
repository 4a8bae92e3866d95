// Package werun holds the use cases of the backend: a login code becomes a
// session, a WeRun payload (encryptedData or cloudID) becomes stored days, and
// stored days are read back. Each use case is a plain method over typed values;
// the API Gateway adapters live in package api.
package werun

import (
	"context"
	"errors"
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

// Errors of the use cases themselves; errors of the layers below (crypto,
// steps, wechat, store) pass through wrapped, so callers match either with
// errors.Is.
var (
	// ErrNoSessionKey: the server holds no session key for the user, so
	// encryptedData cannot be opened until the mini program logs in again.
	ErrNoSessionKey = errors.New("werun: no session key held for the user")
	// ErrNoMatchingKey: none of the held session keys opens the data.
	ErrNoMatchingKey = errors.New("werun: no held session key decrypts the data")
	// ErrInvalidRange: a date range that is malformed, reversed or too long.
	ErrInvalidRange = errors.New("werun: invalid date range")
)

// SessionTTL is how long a session token is valid. It only names the user;
// the WeChat session key behind it is kept separately, so a short lifetime
// costs the mini program one wx.login a day at most.
const SessionTTL = 24 * time.Hour

// Service runs the use cases. Build it once per container and share it
// between invocations.
type Service struct {
	AppID  string
	Store  store.Store
	WeChat WeChat
	Signer *crypto.Signer
	// Tokens holds the shared WeChat access token; only the cloudID path
	// and the refresher need it.
	Tokens *AccessTokens
	// MaxAge is the replay window on the watermark timestamp.
	MaxAge time.Duration
	// Goal is the daily step goal streaks count; 0 means DefaultGoal.
	Goal int64
	// Social holds the rules of groups, friends and boards; zero values
	// are the defaults (social.go).
	Social SocialRules
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	excluded exclusions // the operator's exclusions, cached a minute
}

// DefaultGoal is the daily goal when none is configured.
const DefaultGoal = 10000

func (s *Service) goal() int64 {
	if s.Goal > 0 {
		return s.Goal
	}
	return DefaultGoal
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Session is the answer to a login.
type Session struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expiresIn"`
	OpenID    string `json:"-"`
}

// Login turns a wx.login code into a session token, keeping the user's new
// session key beside the previous ones.
func (s *Service) Login(ctx context.Context, code string) (Session, error) {
	ws, err := s.WeChat.Code2Session(ctx, code)
	if err != nil {
		return Session{}, err
	}
	if err := s.Store.AddSessionKey(ctx, ws.OpenID, store.SessionKey{Key: ws.SessionKey, IssuedAt: s.now()}); err != nil {
		return Session{}, err
	}
	return s.issue(ws.OpenID), nil
}

func (s *Service) issue(openid string) Session {
	return Session{
		Token:     s.Signer.Sign(openid, s.now().Add(SessionTTL)),
		ExpiresIn: int(SessionTTL / time.Second),
		OpenID:    openid,
	}
}

// Authenticate returns the openid a session token names.
func (s *Service) Authenticate(token string) (string, error) {
	return s.Signer.Verify(token, s.now())
}
