package usersteps_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

func TestSyncCloudID(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// prepare makes the cloudID the user sends and sets up faults.
		prepare  func(e *testenv.Env, openid string) string
		wantErr  error
		wantCode int // WeChat's errcode, kept in the chain
		changed  int
	}{
		{"a simulator cloudID syncs every day", func(e *testenv.Env, openid string) string {
			return e.Sim.CloudID(openid, wechattest.Days(31, now), now)
		}, nil, 0, 31},
		{"busy answers are retried", func(e *testenv.Env, openid string) string {
			e.Sim.Fail(wechattest.PathGetOpenData, -1, 2)
			return e.Sim.CloudID(openid, wechattest.Days(3, now), now)
		}, nil, 0, 3},
		{"a cloudID older than five minutes is expired", func(e *testenv.Env, openid string) string {
			id := e.Sim.CloudID(openid, wechattest.Days(3, now), now)
			e.Clock.Set(e.Clock.Now().Add(6 * time.Minute))
			return id
		}, wechat.ErrCloudIDExpired, 0, 0},
		{"rate limit is not retried", func(e *testenv.Env, openid string) string {
			e.Sim.Fail(wechattest.PathGetOpenData, 45011, 1)
			return e.Sim.CloudID(openid, wechattest.Days(3, now), now)
		}, wechat.ErrRateLimited, 0, 0},
		{"a cloudID issued for another openid fails", func(e *testenv.Env, openid string) string {
			return e.Sim.CloudID(openid+"-other", wechattest.Days(3, now), now)
		}, wechat.ErrCloudIDExpired, 40097, 0}, // CLOUDID_EXPIRED: the mini program fetches again
		{"an empty step list", func(e *testenv.Env, openid string) string {
			return e.Sim.CloudID(openid, []wechattest.StepInfo{}, now)
		}, steps.ErrNoSteps, 0, 0},
		{"stale data", func(e *testenv.Env, openid string) string {
			return e.Sim.CloudID(openid, wechattest.Days(3, now), now.Add(-2*time.Hour))
		}, crypto.ErrStale, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testenv.NewApp(t, now)
			svc := e.Service(t)
			ctx := testenv.Timeout(t, 20*time.Second)
			openid := testenv.UniqueID("cloud")
			res, err := svc.Steps.SyncCloudID(ctx, session.Caller{OpenID: openid, Account: "a1"}, tt.prepare(e, openid))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var we *wechat.Error
			if tt.wantCode != 0 && (!errors.As(err, &we) || we.Code != tt.wantCode) {
				t.Fatalf("err = %v, want WeChat's errcode %d kept", err, tt.wantCode)
			}
			stored, derr := svc.Steps.Days(ctx, openid, "", "")
			if derr != nil {
				t.Fatal(derr)
			}
			if err != nil {
				if len(stored) != 0 {
					t.Fatalf("a failed sync stored %d days", len(stored))
				}
				return
			}
			if res.Changed != tt.changed || len(stored) != tt.changed {
				t.Fatalf("changed = %d, read back %d days; want %d", res.Changed, len(stored), tt.changed)
			}
			if testenv.Total(stored) != testenv.Total(res.Days) {
				t.Errorf("read back %d steps, synced %d", testenv.Total(stored), testenv.Total(res.Days))
			}
			for _, d := range res.Days {
				if d.Date == steps.DateOf(now) && d.Steps != stored[len(stored)-1].Steps {
					t.Errorf("today read back as %d, synced %d", stored[len(stored)-1].Steps, d.Steps)
				}
			}
		})
	}
}

func TestManyCloudIDSyncsFromSeveralContainersFetchOneToken(t *testing.T) {
	now := time.Now()
	e := testenv.NewApp(t, now)
	ctx := testenv.Timeout(t, 30*time.Second)
	const containers, users = 5, 10
	var wg sync.WaitGroup
	errs := make(chan error, containers*users)
	for c := 0; c < containers; c++ {
		svc := e.Service(t) // a cold container: empty cache
		for u := 0; u < users; u++ {
			openid := testenv.UniqueID(fmt.Sprintf("fleet%d", c))
			id := e.Sim.CloudID(openid, wechattest.Days(2, now), now)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if res, err := svc.Steps.SyncCloudID(ctx, session.Caller{OpenID: openid, Account: "a1"}, id); err != nil || res.Changed != 2 {
					errs <- fmt.Errorf("%s: changed %d, %v", openid, res.Changed, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.Sim.TokenFetches(); n != 1 {
		t.Errorf("stable_token fetched %d times by %d containers, want 1", n, containers)
	}
}

func TestARejectedTokenIsReplacedAndTheSyncSucceeds(t *testing.T) {
	now := time.Now()
	e := testenv.NewApp(t, now)
	ctx := testenv.Timeout(t, 30*time.Second)
	// Three warm containers, each holding the token in memory.
	svcs := []*usecases.Set{e.Service(t), e.Service(t), e.Service(t)}
	for _, svc := range svcs {
		if _, err := svc.Opener.AccessToken(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := e.Sim.TokenFetches()
	e.Sim.RevokeTokens()
	var wg sync.WaitGroup
	for i, svc := range svcs {
		openid := testenv.UniqueID(fmt.Sprintf("revoked%d", i))
		id := e.Sim.CloudID(openid, wechattest.Days(3, now), now)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := svc.Steps.SyncCloudID(ctx, session.Caller{OpenID: openid, Account: "a1"}, id); err != nil || res.Changed != 3 {
				t.Errorf("sync after revocation: changed %d, %v", res.Changed, err)
			}
		}()
	}
	wg.Wait()
	if grew := e.Sim.TokenFetches() - before; grew < 1 || grew > 2 {
		t.Errorf("token fetches grew by %d after one revocation, want 1 or 2", grew)
	}
}

func TestATokenNearExpiryIsRefreshedByOneOfManyCallers(t *testing.T) {
	start := time.Now()
	e := testenv.NewApp(t, start)
	ctx := testenv.Timeout(t, 30*time.Second)
	old, err := e.Service(t).Opener.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Three minutes before expiry: inside the callers' margin, and inside
	// the window in which WeChat hands out the successor.
	e.Clock.Set(start.Add(wechattest.TokenTTL - 3*time.Minute))
	const callers = 20
	tokens := make([]string, callers)
	var wg sync.WaitGroup
	for i := range tokens {
		svc := e.Service(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := svc.Opener.AccessToken(ctx)
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			tokens[i] = tok
		}()
	}
	wg.Wait()
	if n := e.Sim.TokenFetches(); n != 2 {
		t.Errorf("stable_token fetched %d times, want 2 (the first token and one renewal)", n)
	}
	for i, tok := range tokens {
		if tok == old || tok != tokens[0] {
			t.Fatalf("caller %d got a different or the old token", i)
		}
	}
}

// A container whose token fetch fails gives the lease back at once, so the
// next caller fetches without waiting for the lease to expire.
func TestAFailedTokenFetchFreesTheLease(t *testing.T) {
	e := testenv.NewApp(t, time.Now())
	e.Sim.Fail(wechattest.PathStableToken, 45009, 1) // the daily quota: not retried
	if _, err := e.Service(t).Opener.AccessToken(testenv.Timeout(t, 5*time.Second)); !errors.Is(err, fault.QuotaExhausted) {
		t.Fatalf("first fetch: %v, want ErrQuotaExhausted", err)
	}
	// Well inside the lease's lifetime: only a released lease lets this through.
	tok, err := e.Service(t).Opener.AccessToken(testenv.Timeout(t, time.Second))
	if err != nil || tok == "" {
		t.Fatalf("second container: %q, %v; want a token at once", tok, err)
	}
	if n := e.Sim.TokenFetches(); n != 2 {
		t.Errorf("stable_token fetched %d times, want 2", n)
	}
}

// When WeChat rejects the very token stable_token keeps handing out, the
// holder forces a new one, but not again within 30 s of the last forced
// refresh (WeChat allows 20 a day, 30 s apart): that request fails with a
// retryable error, and one after the gap forces again and succeeds.
func TestForcedRefreshesAreAtLeastThirtySecondsApart(t *testing.T) {
	now := time.Now()
	e := testenv.NewApp(t, now)
	svc := e.Service(t)
	ctx := testenv.Timeout(t, 30*time.Second)
	if _, err := svc.Opener.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	sync := func() error {
		openid := testenv.UniqueID("forced")
		id := e.Sim.CloudID(openid, wechattest.Days(3, e.Clock.Now()), e.Clock.Now())
		// getopendata rejects the token stable_token still answers with.
		e.Sim.Fail(wechattest.PathGetOpenData, 40001, 1)
		_, err := svc.Steps.SyncCloudID(ctx, session.Caller{OpenID: openid, Account: "a1"}, id)
		return err
	}
	steps := []struct {
		name    string
		advance time.Duration
		wantErr error
		fetches int // stable_token calls: normal, then forced
	}{
		{"first rejection forces a new token", 0, nil, 2},
		{"a second within 30 s does not force", 10 * time.Second, wechat.ErrTokenRejected, 1},
		{"after the gap it forces again", 25 * time.Second, nil, 2},
	}
	for _, st := range steps {
		e.Clock.Set(e.Clock.Now().Add(st.advance))
		before := e.Sim.TokenFetches()
		if err := sync(); !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.wantErr)
		}
		if got := e.Sim.TokenFetches() - before; got != st.fetches {
			t.Errorf("%s: %d stable_token calls, want %d", st.name, got, st.fetches)
		}
	}
}
