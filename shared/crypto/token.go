package crypto

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors of the session-token functions. None of them ever carries the
// token or a key.
var (
	ErrTokenInvalid = errors.New("crypto: session token is invalid")
	ErrTokenExpired = errors.New("crypto: session token has expired")
	ErrWeakKey      = errors.New("crypto: signing key must be at least 32 bytes")
	ErrNoSigningKey = errors.New("crypto: no signing key")
)

// MinKeyLen is the shortest signing key accepted: HMAC-SHA256 gains nothing
// from more than 32 bytes and loses strength with fewer.
const MinKeyLen = 32

// tokenVersion leads every payload so that a later format can be told apart
// (and an old one refused) without guessing.
const tokenVersion = "1"

// MaxOpenIDLen bounds the openid a token carries (WeChat's are 28 bytes),
// and with it the work Verify does on hostile input.
const MaxOpenIDLen = 256

// maxTokenLen fits version, a 20-digit expiry and MaxOpenIDLen bytes of
// openid in base64url, a dot and a 43-character MAC.
const maxTokenLen = (2+20+1+MaxOpenIDLen)*4/3 + 2 + 1 + 43

var b64url = base64.RawURLEncoding.Strict()

// TokenLifetime is how long a session token is valid. Verify refuses a
// token whose expiry lies further from now than this (and a few minutes of
// clock skew between containers): no key holder mints a token for years.
const TokenLifetime = 24 * time.Hour

// maxSkew is how far containers' clocks may disagree.
const maxSkew = 5 * time.Minute

// Signer signs session tokens with its first key and verifies them with any
// of its keys, so that a key can be rotated without logging everyone out:
// deploy "new,old", and drop "old" once tokens signed with it have expired.
//
// A token is base64url(payload) "." base64url(HMAC-SHA256(key, first part)),
// where payload is "1|<expiry unix seconds>|<openid>".
type Signer struct {
	keys [][]byte
}

// NewSigner returns a Signer that signs with keys[0] and verifies with all
// keys. Each key must be at least MinKeyLen bytes (ErrWeakKey); at least one
// is needed (ErrNoSigningKey).
func NewSigner(keys ...[]byte) (*Signer, error) {
	if len(keys) == 0 {
		return nil, ErrNoSigningKey
	}
	s := &Signer{keys: make([][]byte, len(keys))}
	for i, k := range keys {
		if len(k) < MinKeyLen {
			return nil, ErrWeakKey
		}
		s.keys[i] = bytes.Clone(k)
	}
	return s, nil
}

// ParseSigningKeys splits SESSION_SIGNING_KEY's "current[,previous]" into
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

// Sign returns a token for openid that Verify accepts until expiresAt. An
// openid that is empty or longer than MaxOpenIDLen gives a token Verify
// refuses.
func (s *Signer) Sign(openid string, expiresAt time.Time) string {
	payload := tokenVersion + "|" + strconv.FormatInt(expiresAt.Unix(), 10) + "|" + openid
	enc := b64url.EncodeToString([]byte(payload))
	return enc + "." + b64url.EncodeToString(mac(s.keys[0], enc))
}

// Verify returns the openid of a token signed by any of the Signer's keys
// and not expired at now. A token that is malformed in any way, tampered
// with, signed by an unknown key or expiring further than TokenLifetime from
// now is ErrTokenInvalid; a genuine token at or past its expiry is
// ErrTokenExpired.
func (s *Signer) Verify(token string, now time.Time) (string, error) {
	if len(token) > maxTokenLen {
		return "", ErrTokenInvalid
	}
	enc, sigEnc, ok := strings.Cut(token, ".")
	if !ok || enc == "" || strings.IndexByte(sigEnc, '.') >= 0 {
		return "", ErrTokenInvalid
	}
	sig, err := b64url.DecodeString(sigEnc)
	if err != nil || len(sig) != sha256.Size {
		return "", ErrTokenInvalid
	}
	genuine := false
	for _, k := range s.keys {
		// Try every key, so the time taken does not tell which one matched.
		if hmac.Equal(sig, mac(k, enc)) {
			genuine = true
		}
	}
	if !genuine {
		return "", ErrTokenInvalid
	}
	raw, err := b64url.DecodeString(enc)
	if err != nil {
		return "", ErrTokenInvalid
	}
	version, rest, ok1 := strings.Cut(string(raw), "|")
	expStr, openid, ok2 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || version != tokenVersion || openid == "" || len(openid) > MaxOpenIDLen {
		return "", ErrTokenInvalid
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != expStr {
		return "", ErrTokenInvalid // only the canonical form Sign writes
	}
	if now.Unix() >= exp {
		return "", ErrTokenExpired
	}
	if exp > now.Add(TokenLifetime+maxSkew).Unix() {
		return "", ErrTokenInvalid
	}
	return openid, nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
