package opendata

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

const (
	// tokenMargin is how long before expiry a token counts as stale. WeChat
	// renews a stable token five minutes ahead, so a token inside this margin
	// may already have a successor.
	tokenMargin = 5 * time.Minute
	// leaseFor bounds how long a refresher may hold the lease; a holder that
	// dies frees it by expiry. It fits a normal and a forced stable_token
	// call with their retries.
	leaseFor = 20 * time.Second
	// leaseMargin is how long before the lease expires the holder's fetch
	// is cut short, so no fetch outlives the lease it runs under.
	leaseMargin = 2 * time.Second
	// forceGap is WeChat's minimum time between forced refreshes.
	forceGap = 30 * time.Second
)

// accessTokens is the WeChat access token shared by every function through
// the table, cached per container until near its expiry, and refreshed by one
// caller at a time under a lease, so a fleet of cold containers makes one
// WeChat call.
type accessTokens struct {
	appID  string
	store  Store
	wechat WeChat
	now    func() time.Time
	// poll is the wait between reads while another holder refreshes.
	poll time.Duration
	// lease and margin are leaseFor and leaseMargin (tests shorten them).
	lease, margin time.Duration

	once   sync.Once
	holder string

	mu        sync.Mutex
	token     string
	expiresAt time.Time
}

func newAccessTokens(appID string, st Store, wc WeChat, now func() time.Time, poll time.Duration) *accessTokens {
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	return &accessTokens{appID: appID, store: st, wechat: wc, now: now, poll: poll, lease: leaseFor, margin: leaseMargin}
}

func (a *accessTokens) id() string {
	a.once.Do(func() {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		a.holder = hex.EncodeToString(b)
	})
	return a.holder
}

func (a *accessTokens) cached(margin time.Duration) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.token, a.token != "" && a.now().Add(margin).Before(a.expiresAt)
}

func (a *accessTokens) keep(token string, expiresAt time.Time) {
	a.mu.Lock()
	a.token, a.expiresAt = token, expiresAt
	a.mu.Unlock()
}

// Token returns a valid access token: from memory, else from the table, else
// fetched from WeChat by whichever caller wins the lease.
func (a *accessTokens) Token(ctx context.Context) (string, error) {
	return a.fresh(ctx, tokenMargin, "")
}

// Refresh makes sure the shared token stays valid for at least margin; the
// scheduled function calls it so requests rarely wait on WeChat.
func (a *accessTokens) Refresh(ctx context.Context, margin time.Duration) error {
	_, err := a.fresh(ctx, margin, "")
	return err
}

// Rejected replaces a token WeChat refused (40001, 42001). Another container
// may have replaced it already; only when the table still holds the refused
// token does this caller fetch, and it asks WeChat to force a new one only if
// the normal answer is the refused token again, since forced refreshes are
// limited to a few a day.
func (a *accessTokens) Rejected(ctx context.Context, token string) error {
	a.mu.Lock()
	if a.token == token {
		a.token = ""
	}
	a.mu.Unlock()
	_, err := a.fresh(ctx, tokenMargin, token)
	return err
}

// fresh returns a token valid for at least margin that is not the rejected one.
func (a *accessTokens) fresh(ctx context.Context, margin time.Duration, rejected string) (string, error) {
	if t, ok := a.cached(margin); ok && t != rejected {
		return t, nil
	}
	for {
		rec, found, err := a.store.GetAccessToken(ctx, a.appID)
		if err != nil {
			return "", err
		}
		now := a.now()
		if found && rec.Token != rejected && now.Add(margin).Before(rec.ExpiresAt) {
			a.keep(rec.Token, rec.ExpiresAt)
			return rec.Token, nil
		}
		won, err := a.store.AcquireTokenLease(ctx, a.appID, a.id(), now, now.Add(a.lease))
		if err != nil {
			return "", err
		}
		if won {
			return a.fetchHeld(ctx, margin, rejected)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: the access token is being refreshed elsewhere", fault.Unavailable)
		case <-time.After(a.poll):
		}
	}
}

// fetchHeld runs under the lease. Another caller may have published a
// token between this caller's read and its winning the lease (the lease is
// free again once a token is put), so the record is read again first: while
// the lease is held nobody else can write it. When no token comes of it (one
// was there, or the fetch failed) the lease is released at once, so other
// callers need not wait for it to expire.
func (a *accessTokens) fetchHeld(ctx context.Context, margin time.Duration, rejected string) (string, error) {
	rec, found, err := a.store.GetAccessToken(ctx, a.appID)
	if err == nil && found && rec.Token != "" && rec.Token != rejected && a.now().Add(margin).Before(rec.ExpiresAt) {
		a.keep(rec.Token, rec.ExpiresAt)
		_ = a.store.ReleaseTokenLease(ctx, a.appID, a.id()) // failing that, it expires
		return rec.Token, nil
	}
	token := ""
	if err == nil {
		fctx, cancel := context.WithTimeout(ctx, a.lease-a.margin)
		token, err = a.fetch(fctx, rejected, rec.ForcedAt)
		cancel()
	}
	if err != nil {
		_ = a.store.ReleaseTokenLease(ctx, a.appID, a.id())
	}
	return token, err
}

// fetch asks WeChat for the current token. When that is the very token
// WeChat just rejected, it forces a new one, but not within forceGap of the
// last forced refresh, which WeChat would refuse anyway (20 a day, 30 s
// apart): the request fails with a retryable 502 instead.
func (a *accessTokens) fetch(ctx context.Context, rejected string, lastForced time.Time) (string, error) {
	t, err := a.wechat.StableToken(ctx, false)
	var forcedAt time.Time
	if err == nil && rejected != "" && t.Token == rejected {
		if a.now().Sub(lastForced) < forceGap {
			return "", fmt.Errorf("opendata: token rejected again within %v of a forced refresh: %w", forceGap, wechat.ErrTokenRejected)
		}
		forcedAt = a.now()
		t, err = a.wechat.StableToken(ctx, true)
	}
	if err != nil {
		return "", err
	}
	expiresAt := a.now().Add(t.ExpiresIn)
	if err := a.store.PutAccessToken(ctx, a.appID, a.id(), t.Token, expiresAt, forcedAt); err != nil {
		return "", err
	}
	a.keep(t.Token, expiresAt)
	return t.Token, nil
}
