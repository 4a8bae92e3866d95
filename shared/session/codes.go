package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// CodeLife is how long a redeemed login code is remembered: WeChat's code
// lives about five minutes, so a retry comes within it.
const CodeLife = 5 * time.Minute

// A retry can race the first request for its code; its record may be a
// few milliseconds from written.
const (
	codeReadTries = 3
	codeReadWait  = 150 * time.Millisecond
)

// redemption is a login code's result: the user and the session key it
// gave, and whether this call redeemed it (true) or a retry found it.
type redemption struct {
	openid, sessionKey string
	fresh              bool
	// stored is the error of keeping the key and the record: the login
	// itself succeeded, and a token needs no table.
	stored error
}

// redeem exchanges a login code once. WeChat refuses a code the second
// time (40163), and mobile networks resend requests, and a failure of our
// own after code2Session must not cost the user a new wx.login: so what a
// code gave is kept for its life, in this container's memory and in the
// table keyed by a hash of the code, and a retry of a code this backend
// already redeemed gets the same user.
func (s *Service) redeem(ctx context.Context, code string) (redemption, error) {
	hash := codeHash(code)
	ws, err := s.wechat.Code2Session(ctx, code)
	if errors.Is(err, wechat.ErrCodeUsed) {
		if r, ok := s.recall(ctx, hash); ok {
			return r, nil
		}
	}
	if err != nil {
		return redemption{}, err
	}
	now := s.now()
	rec := store.RedeemedCode{OpenID: ws.OpenID, SessionKey: ws.SessionKey, ExpiresAt: now.Add(CodeLife)}
	s.codes.put(hash, rec, now)
	var g errgroup.Group
	g.Go(func() error {
		return s.store.AddSessionKey(ctx, ws.OpenID, store.SessionKey{Key: ws.SessionKey, IssuedAt: now})
	})
	g.Go(func() error { return s.store.PutRedeemedCode(ctx, hash, rec) })
	return redemption{openid: ws.OpenID, sessionKey: ws.SessionKey, fresh: true, stored: g.Wait()}, nil
}

// recall finds what a used code gave: in memory when this container
// redeemed it, else in the table (briefly waiting for a racing first
// request to write it).
func (s *Service) recall(ctx context.Context, hash string) (redemption, bool) {
	if rec, ok := s.codes.get(hash, s.now()); ok {
		return redemption{openid: rec.OpenID, sessionKey: rec.SessionKey}, true
	}
	for try := 0; try < codeReadTries; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return redemption{}, false
			case <-time.After(codeReadWait):
			}
		}
		rec, found, err := s.store.GetRedeemedCode(ctx, hash, s.now())
		if err != nil {
			slog.WarnContext(ctx, "reading a redeemed login code failed", "err", err.Error())
			return redemption{}, false
		}
		if found {
			return redemption{openid: rec.OpenID, sessionKey: rec.SessionKey}, true
		}
	}
	return redemption{}, false
}

// codeHash keys a code's record: the code itself is a credential for its
// life and is never stored.
func codeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// codeCache is one container's memory of the codes it redeemed, so a retry
// that lands on the same container is answered even when the table is down.
type codeCache struct {
	mu sync.Mutex
	m  map[string]store.RedeemedCode
}

// maxCachedCodes bounds the memory: a container serves one request at a
// time, so a few hundred codes span far more than CodeLife.
const maxCachedCodes = 512

func (c *codeCache) put(hash string, rec store.RedeemedCode, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]store.RedeemedCode{}
	}
	if len(c.m) >= maxCachedCodes {
		for h, r := range c.m {
			if !now.Before(r.ExpiresAt) {
				delete(c.m, h)
			}
		}
	}
	if len(c.m) >= maxCachedCodes {
		return // all still live: the table remembers this one
	}
	c.m[hash] = rec
}

func (c *codeCache) get(hash string, now time.Time) (store.RedeemedCode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.m[hash]
	return rec, ok && now.Before(rec.ExpiresAt)
}
