package crypto

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Errors of the session-token functions. None of them ever carries the
// token or a key.
var (
	ErrTokenInvalid = errors.New("crypto: session token is invalid")
	ErrTokenExpired = errors.New("crypto: session token has expired")
	ErrWeakKey      = errors.New("crypto: signing key must be at least 32 bytes")
	ErrNoSigningKey = errors.New("crypto: no signing key")
	ErrBadStack     = errors.New("crypto: a stack name is letters, digits and hyphens, at most 128")
)

// MinKeyLen is the shortest signing key accepted: HMAC-SHA256 gains nothing
// from more than 32 bytes and loses strength with fewer.
const MinKeyLen = 32

// tokenVersion leads every payload so that a later format can be told apart
// (and an old one refused) without guessing. Version 1 named no account and
// is refused: an account deletion could not revoke it. Version 2 named no
// stack; it is still accepted, as the deploy that brings version 3 leaves
// version-2 tokens in users' hands (and old containers mint them until the
// traffic has shifted), each for at most TokenLifetime.
const (
	tokenVersion   = "3"
	unnamedVersion = "2"
)

// MaxStackLen is CloudFormation's longest stack name.
const MaxStackLen = 128

// MaxAccountLen bounds the account id a token carries.
const MaxAccountLen = 64

// MaxOpenIDLen bounds the openid a token carries (WeChat's are 28 bytes),
// and with it the work Verify does on hostile input.
const MaxOpenIDLen = 256

// maxTokenLen fits version, a 20-digit expiry, MaxStackLen bytes of stack,
// MaxAccountLen bytes of account and MaxOpenIDLen bytes of openid in
// base64url, a dot and a 43-character MAC.
const maxTokenLen = (2+20+1+MaxStackLen+1+MaxAccountLen+1+MaxOpenIDLen)*4/3 + 2 + 1 + 43

var b64url = base64.RawURLEncoding.Strict()

// TokenLifetime is how long a session token is valid. Verify refuses a
// token whose expiry lies further from now than this (and a few minutes of
// clock skew between containers): no key holder mints a token for years.
const TokenLifetime = 24 * time.Hour

// maxSkew is how far containers' clocks may disagree.
const maxSkew = 5 * time.Minute

// Signer signs session tokens with its first key and verifies them with any
// of its keys, so that a key can be rotated without logging anyone out: the
// new key is first accepted ("old,new"), then signs ("new,old") once every
// container accepts it, and "old" is dropped once tokens signed with it have
// expired (README, Rotating the signing key). SetKeys takes a re-read list.
//
// A token is base64url(payload) "." base64url(HMAC-SHA256(key, first part)),
// where payload is "3|<expiry unix seconds>|<stack>|<account>|<openid>". The
// stack is the deployment that issued it: another stack refuses it even if
// the two share a key. The account is the id of the user's account
// generation: deleting the account revokes every token naming it, and a
// later login gets a new one.
type Signer struct {
	stack string
	keys  atomic.Pointer[[][]byte]
}

// NewSigner returns a Signer whose tokens name no stack (a stack of ""),
// like NewStackSigner.
func NewSigner(keys ...[]byte) (*Signer, error) {
	return NewStackSigner("", keys...)
}

// NewStackSigner returns a Signer for the stack called stack that signs
// with keys[0] and verifies with all keys. Each key must be at least
// MinKeyLen bytes (ErrWeakKey); at least one is needed (ErrNoSigningKey).
// A stack name holds letters, digits and hyphens (ErrBadStack).
func NewStackSigner(stack string, keys ...[]byte) (*Signer, error) {
	if len(stack) > MaxStackLen || strings.Trim(stack, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		return nil, ErrBadStack
	}
	s := &Signer{stack: stack}
	if err := s.SetKeys(keys...); err != nil {
		return nil, err
	}
	return s, nil
}

// SetKeys replaces the keys, as NewStackSigner takes them; on an error the
// keys stay as they were. It is safe alongside Sign and Verify.
func (s *Signer) SetKeys(keys ...[]byte) error {
	if len(keys) == 0 {
		return ErrNoSigningKey
	}
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		if len(k) < MinKeyLen {
			return ErrWeakKey
		}
		ks[i] = bytes.Clone(k)
	}
	s.keys.Store(&ks)
	return nil
}

// ParseSigningKeys splits SESSION_SIGNING_KEY's "signing[,accepted...]" into
// raw keys, trimming whitespace around each (a value pasted into an
// environment or SSM often ends with a newline). Each key must be at least
// MinKeyLen bytes.
func ParseSigningKeys(s string) ([][]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, ErrNoSigningKey
	}
	parts := strings.Split(s, ",")
	keys := make([][]byte, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if len(p) < MinKeyLen {
			return nil, ErrWeakKey
		}
		keys = append(keys, []byte(p))
	}
	return keys, nil
}

// Claims are what a token says: whose it is and until when.
type Claims struct {
	OpenID string
	// Account is the user's account generation, letters, digits, - and _.
	Account   string
	ExpiresAt time.Time
}

// Sign returns a token for c that Verify accepts until c.ExpiresAt. An
// openid that is empty or longer than MaxOpenIDLen, or an account that is
// empty, too long or holds other characters, gives a token Verify refuses.
func (s *Signer) Sign(c Claims) string {
	payload := tokenVersion + "|" + strconv.FormatInt(c.ExpiresAt.Unix(), 10) + "|" + s.stack + "|" + c.Account + "|" + c.OpenID
	enc := b64url.EncodeToString([]byte(payload))
	return enc + "." + b64url.EncodeToString(mac((*s.keys.Load())[0], enc))
}

// Verify returns the claims of a token signed by any of the Signer's keys
// and not expired at now. A token that is malformed in any way, tampered
// with, signed by an unknown key, naming another stack or expiring further
// than TokenLifetime from now is ErrTokenInvalid; a genuine token at or past
// its expiry is ErrTokenExpired.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	if len(token) > maxTokenLen {
		return Claims{}, ErrTokenInvalid
	}
	enc, sigEnc, ok := strings.Cut(token, ".")
	if !ok || enc == "" || strings.IndexByte(sigEnc, '.') >= 0 {
		return Claims{}, ErrTokenInvalid
	}
	sig, err := b64url.DecodeString(sigEnc)
	if err != nil || len(sig) != sha256.Size {
		return Claims{}, ErrTokenInvalid
	}
	genuine := false
	for _, k := range *s.keys.Load() {
		// Try every key, so the time taken does not tell which one matched.
		if hmac.Equal(sig, mac(k, enc)) {
			genuine = true
		}
	}
	if !genuine {
		return Claims{}, ErrTokenInvalid
	}
	raw, err := b64url.DecodeString(enc)
	if err != nil {
		return Claims{}, ErrTokenInvalid
	}
	version, rest, ok1 := strings.Cut(string(raw), "|")
	expStr, rest, ok2 := strings.Cut(rest, "|")
	stack, okStack := s.stack, true
	switch version {
	case tokenVersion:
		stack, rest, okStack = strings.Cut(rest, "|")
	case unnamedVersion:
	default:
		return Claims{}, ErrTokenInvalid
	}
	account, openid, ok3 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || !okStack || !ok3 || stack != s.stack || openid == "" || len(openid) > MaxOpenIDLen || !validAccount(account) {
		return Claims{}, ErrTokenInvalid
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != expStr {
		return Claims{}, ErrTokenInvalid // only the canonical form Sign writes
	}
	if now.Unix() >= exp {
		return Claims{}, ErrTokenExpired
	}
	if exp > now.Add(TokenLifetime+maxSkew).Unix() {
		return Claims{}, ErrTokenInvalid
	}
	return Claims{OpenID: openid, Account: account, ExpiresAt: time.Unix(exp, 0)}, nil
}

func validAccount(a string) bool {
	if a == "" || len(a) > MaxAccountLen {
		return false
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// NewID is an opaque id: 128 random bits, base64url (22 characters). Every
// id the API issues (accounts, memberIds, groupIds, invite codes) is one.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// IDLen is the length of every id NewID makes.
const IDLen = 22

// ValidID reports whether id has the form NewID gives: 22 characters of
// base64url encoding 16 bytes, the last one's unused bits zero. An id from
// a request is checked before it becomes part of a storage key, so that
// anything else is refused as unknown without a round trip (and never
// reaches DynamoDB's key-size limits).
func ValidID(id string) bool {
	if len(id) != IDLen {
		return false
	}
	// The decoder skips newlines, so the decoded length is checked too.
	b, err := base64.RawURLEncoding.Strict().DecodeString(id)
	return err == nil && len(b) == 16
}
