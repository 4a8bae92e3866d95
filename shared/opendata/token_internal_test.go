package opendata

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// leaseStore is the token record and its lease in memory; the rest of
// Store is not used here.
type leaseStore struct {
	Store
	mu         sync.Mutex
	holder     string
	leaseUntil time.Time
	released   time.Time
}

func (l *leaseStore) GetAccessToken(context.Context, string) (store.AccessToken, bool, error) {
	return store.AccessToken{}, false, nil
}

func (l *leaseStore) AcquireTokenLease(_ context.Context, _, holder string, now, until time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.leaseUntil) {
		return false, nil
	}
	l.holder, l.leaseUntil = holder, until
	return true, nil
}

func (l *leaseStore) ReleaseTokenLease(context.Context, string, string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leaseUntil, l.released = time.Time{}, time.Now()
	return nil
}

// hungWeChat never answers stable_token before its caller gives up.
type hungWeChat struct{ WeChat }

func (hungWeChat) StableToken(ctx context.Context, _ bool) (wechat.AccessToken, error) {
	<-ctx.Done()
	return wechat.AccessToken{}, ctx.Err()
}

// A holder's fetch is cut short before its lease ends, however long the
// caller would wait, so no fetch outlives the lease it holds and the lease
// is given back for the next caller.
func TestATokenFetchEndsBeforeItsLease(t *testing.T) {
	st := &leaseStore{}
	a := newAccessTokens("wxlease", st, hungWeChat{}, time.Now, 10*time.Millisecond)
	a.lease, a.margin = 400*time.Millisecond, 100*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := a.Token(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the fetch's own deadline", err)
	}
	if took >= a.lease {
		t.Errorf("the fetch took %v, past its %v lease", took, a.lease)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.released.IsZero() || st.released.Sub(start) >= a.lease {
		t.Errorf("lease released at %v after the start, want before the lease's %v end", st.released.Sub(start), a.lease)
	}
}
