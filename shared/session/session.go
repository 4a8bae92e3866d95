// Package session turns a wx.login code into a session token and a token
// back into its caller. A login redeems the code with WeChat once, keeps
// the session key the data will be decrypted with, and remembers what the
// code gave for the code's life, so a resent request gets the same user.
// Authentication refuses every token of an account that was deleted; its
// revocation read may run beside the use case's own first read (Start,
// Alongside), the answer waiting for it.
package session

import (
	"context"
	"fmt"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// TTL is how long a session token is valid. It only names the user; the
// WeChat session key behind it is kept separately, so a short lifetime
// costs the mini program one wx.login a day at most.
const TTL = crypto.TokenLifetime

// WeChat is the part of WeChat's server API a login calls; *wechat.Client
// satisfies it.
type WeChat interface {
	Code2Session(ctx context.Context, code string) (wechat.Session, error)
}

// Store is what logins and authentication keep; *store.DynamoStore
// satisfies it.
type Store interface {
	AddSessionKey(ctx context.Context, openid string, k store.SessionKey) error
	PutRedeemedCode(ctx context.Context, hash string, r store.RedeemedCode) error
	GetRedeemedCode(ctx context.Context, hash string, now time.Time) (store.RedeemedCode, bool, error)
	Account(ctx context.Context, openid, newID string) (string, error)
	LookupMemberID(ctx context.Context, openid string) (mid string, found bool, err error)
	CurrentAccount(ctx context.Context, openid string) (account string, deleting bool, err error)
	Revoked(ctx context.Context, account string, now time.Time) (revoked, done bool, err error)
}

// Config is what a Service is built from.
type Config struct {
	Store  Store
	WeChat WeChat
	// Signer signs and verifies session tokens.
	Signer *crypto.Signer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service logs users in and authenticates them. Build it once per container
// with New.
type Service struct {
	store  Store
	wechat WeChat
	signer *crypto.Signer
	now    func() time.Time
	// codes are the login codes this container redeemed.
	codes codeCache
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, wechat: cfg.WeChat, signer: cfg.Signer, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Session is the answer to a login.
type Session struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expiresIn"`
	OpenID    string `json:"-"`
	Account   string `json:"-"`
	MemberID  string `json:"-"`
}

// Caller is who a session token names: the user, the account generation
// the token was issued for, and the memberId the user had at login ("" for
// none then, or a token of an earlier version).
type Caller struct {
	OpenID   string
	Account  string
	MemberID string
}

// Login turns a wx.login code into a session token, keeping the user's new
// session key beside the previous ones. A resend of a code already redeemed
// gets a token for the same user. A token is given only once the key is
// kept: when the table fails, the answer is 503 and a resend of the same
// code (which WeChat then refuses as used) keeps the key and gives the
// token. While the user's account is being deleted, the answer is
// fault.DeletionInProgress.
func (s *Service) Login(ctx context.Context, code string) (_ Session, err error) {
	sess, _, err := s.LoginWithKey(ctx, code)
	return sess, err
}

// LoginWithKey is Login that also returns the session key the code gave,
// for data sent with its code, to open that data with first.
func (s *Service) LoginWithKey(ctx context.Context, code string) (_ Session, sessionKey string, err error) {
	defer fault.Classify(&err)
	if !wechat.ValidCode(code) {
		return Session{}, "", fault.MalformedCode
	}
	r, err := s.redeem(ctx, code)
	if err != nil {
		return Session{}, "", err
	}
	return s.issue(r), r.sessionKey, nil
}

// issue signs a token naming the user's current account and memberId.
func (s *Service) issue(r redemption) Session {
	return Session{
		Token:     s.signer.Sign(crypto.Claims{OpenID: r.openid, Account: r.account, MemberID: r.memberID, ExpiresAt: s.now().Add(TTL)}),
		ExpiresIn: int(TTL / time.Second),
		OpenID:    r.openid,
		Account:   r.account,
		MemberID:  r.memberID,
	}
}

// Verify returns the caller a session token names from the token alone,
// with no read: the revocation is still to be checked (CheckAccount, or
// Start), before anything is written or answered for the caller.
func (s *Service) Verify(token string) (_ Caller, err error) {
	defer fault.Classify(&err)
	c, err := s.signer.Verify(token, s.now())
	if err != nil {
		return Caller{}, err
	}
	return Caller{OpenID: c.OpenID, Account: c.Account, MemberID: c.MemberID}, nil
}

// Authenticate returns the caller a session token names, unless the
// token's account was deleted (fault.TokenInvalid): one strongly consistent
// read of the revocation, so every token issued before a deletion is
// refused from the deletion's answer on.
func (s *Service) Authenticate(ctx context.Context, token string) (Caller, error) {
	c, err := s.Verify(token)
	if err != nil {
		return Caller{}, err
	}
	if err := s.CheckAccount(ctx, c.Account); err != nil {
		return Caller{}, err
	}
	return c, nil
}

// CheckAccount is fault.TokenInvalid when account was deleted.
func (s *Service) CheckAccount(ctx context.Context, account string) (err error) {
	defer fault.Classify(&err)
	revoked, _, err := s.store.Revoked(ctx, account, s.now())
	if err != nil {
		return err
	}
	if revoked {
		return fmt.Errorf("%w: the account was deleted", fault.TokenInvalid)
	}
	return nil
}
