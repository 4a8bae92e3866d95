package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
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

// redemption is a login code's result: the user, the session key it gave
// and the account it logged in to.
type redemption struct {
	openid, sessionKey, account, memberID string
}

// redeem exchanges a login code once and keeps what it gave: the user's
// account (made on a first login), the session key, and a record of the
// code for its life. WeChat refuses a code the second time (40163), and
// mobile networks resend requests, and a failure of our own after
// code2Session must not cost the user a new wx.login: so what a code gave
// is kept in this container's memory before anything can fail, and in the
// table keyed by a hash of the code, and a resend of a code this backend
// already redeemed gets the same user, its key kept this time.
func (s *Service) redeem(ctx context.Context, code string) (redemption, error) {
	hash := codeHash(code)
	ws, err := s.wechat.Code2Session(ctx, code)
	if errors.Is(err, wechat.ErrCodeUsed) {
		rec, found, rerr := s.recall(ctx, hash)
		if rerr != nil {
			return redemption{}, rerr
		}
		if found {
			return s.keep(ctx, hash, rec)
		}
	}
	if err != nil {
		return redemption{}, err
	}
	rec := store.RedeemedCode{OpenID: ws.OpenID, SessionKey: ws.SessionKey, ExpiresAt: s.now().Add(CodeLife)}
	s.codes.put(hash, rec, s.now())
	return s.keep(ctx, hash, rec)
}

// keep reads (or makes) the user's account, and reads their memberId
// beside it for the token, then stores the session key and the code's
// record naming that account, at once.
func (s *Service) keep(ctx context.Context, hash string, rec store.RedeemedCode) (redemption, error) {
	var (
		account, mid string
		lg           errgroup.Group
	)
	lg.Go(func() (err error) { mid, _, err = s.store.LookupMemberID(ctx, rec.OpenID); return err })
	account, err := s.store.Account(ctx, rec.OpenID, crypto.NewID())
	if lerr := lg.Wait(); err == nil {
		err = lerr
	}
	if errors.Is(err, store.ErrDeleting) {
		return redemption{}, fmt.Errorf("%w: %w", fault.DeletionInProgress, err)
	}
	if err != nil {
		return redemption{}, err
	}
	rec.Account = account
	s.codes.put(hash, rec, s.now())
	var g errgroup.Group
	g.Go(func() error {
		return s.store.AddSessionKey(ctx, rec.OpenID, store.SessionKey{Key: rec.SessionKey, IssuedAt: s.now()})
	})
	g.Go(func() error { return s.store.PutRedeemedCode(ctx, hash, rec) })
	if err := g.Wait(); err != nil {
		return redemption{}, err
	}
	return redemption{openid: rec.OpenID, sessionKey: rec.SessionKey, account: account, memberID: mid}, nil
}

// recall finds what a used code gave: in memory when this container
// redeemed it, else in the table (briefly waiting for a racing first
// request to write it). Either copy is checked against the user's account
// in the table before use: a code that logged in to an account since
// deleted, or replaced, is refused (fault.InvalidCode), and when the table
// cannot be read the code is not used (the error).
func (s *Service) recall(ctx context.Context, hash string) (store.RedeemedCode, bool, error) {
	rec, ok := s.codes.get(hash, s.now())
	for try := 0; !ok && try < codeReadTries; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return store.RedeemedCode{}, false, nil
			case <-time.After(codeReadWait):
			}
		}
		var err error
		rec, ok, err = s.store.GetRedeemedCode(ctx, hash, s.now())
		if err != nil {
			return store.RedeemedCode{}, false, err
		}
	}
	if !ok {
		return store.RedeemedCode{}, false, nil
	}
	current, deleting, err := s.store.CurrentAccount(ctx, rec.OpenID)
	if err != nil {
		return store.RedeemedCode{}, false, err
	}
	if rec.Account != "" && (current != rec.Account || deleting) {
		return store.RedeemedCode{}, false, fmt.Errorf("%w: the code logged in to an account deleted since", fault.InvalidCode)
	}
	return rec, true, nil
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
