package session_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The app the tests run as.
const appID, secret = testenv.AppID, testenv.Secret

// A login code this backend already redeemed is not wasted: a duplicate or a
// retry within the code's life gets a session for the same user, from the
// same container or another, on both ways in.
func TestARetriedLoginCodeGetsTheSameUser(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// retry runs the second use of code and returns the openid it names.
		retry   func(t *testing.T, e *testenv.Env, first *usecases.Set, code, openid string) (string, error)
		wantErr error
	}{
		{"same container", func(t *testing.T, e *testenv.Env, first *usecases.Set, code, _ string) (string, error) {
			return loginName(t, first, code)
		}, nil},
		{"another container", func(t *testing.T, e *testenv.Env, _ *usecases.Set, code, _ string) (string, error) {
			return loginName(t, e.Service(t), code)
		}, nil},
		{"stateless decrypt on another container", func(t *testing.T, e *testenv.Env, _ *usecases.Set, code, openid string) (string, error) {
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
			res, err := e.Service(t).Steps.SyncEncrypted(context.Background(), usersteps.EncryptedSync{Code: code, EncryptedData: ed, IV: iv})
			if err != nil {
				return "", err
			}
			c, err := e.Service(t).Sessions.Authenticate(context.Background(), res.Session.Token)
			return c.OpenID, err
		}, nil},
		{"after the code's life", func(t *testing.T, e *testenv.Env, _ *usecases.Set, code, _ string) (string, error) {
			e.Clock.Set(now.Add(session.CodeLife + time.Second))
			return loginName(t, e.Service(t), code)
		}, fault.InvalidCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testenv.New(t, appID, secret, now)
			first := e.Service(t)
			openid := testenv.UniqueID("retry")
			code := e.Sim.Login(openid)
			if got, err := loginName(t, first, code); err != nil || got != openid {
				t.Fatalf("first login: %q, %v", got, err)
			}
			got, err := tt.retry(t, e, first, code, openid)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("retry: %q, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != openid {
				t.Fatalf("retry: %q, %v; want a session for %q", got, err, openid)
			}
		})
	}
}

// When DynamoDB fails after WeChat redeemed the code, the login answers
// ErrUnavailable (a token names the user's account, which lives in the
// table), and a retry of the same code on the same container, once the
// table answers again, is answered from its memory for the same user.
func TestALoginRetriedAfterTheTableFailedGetsTheSameUser(t *testing.T) {
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	cfg := e.Config(t)
	flaky := &downStore{Store: cfg.Store}
	flaky.down.Store(true)
	cfg.Store = flaky
	svc := usecases.New(cfg)
	openid := testenv.UniqueID("down")
	code := e.Sim.Login(openid)
	if _, err := loginName(t, svc, code); !errors.Is(err, fault.Unavailable) {
		t.Fatalf("login with the table down: %v; want ErrUnavailable", err)
	}
	flaky.down.Store(false)
	if got, err := loginName(t, svc, code); err != nil || got != openid {
		t.Fatalf("retry once the table is back: %q, %v; want a session for %q", got, err, openid)
	}
}

// downStore fails the writes of a login while down is set.
type downStore struct {
	usecases.Store
	down atomic.Bool
}

func (d *downStore) fail() error {
	if d.down.Load() {
		return store.ErrUnavailable
	}
	return nil
}

func (d *downStore) Account(ctx context.Context, openid, newID string) (string, error) {
	if err := d.fail(); err != nil {
		return "", err
	}
	return d.Store.Account(ctx, openid, newID)
}

func (d *downStore) AddSessionKey(ctx context.Context, openid string, k store.SessionKey) error {
	if err := d.fail(); err != nil {
		return err
	}
	return d.Store.AddSessionKey(ctx, openid, k)
}

func (d *downStore) PutRedeemedCode(ctx context.Context, hash string, r store.RedeemedCode) error {
	if err := d.fail(); err != nil {
		return err
	}
	return d.Store.PutRedeemedCode(ctx, hash, r)
}

func loginName(t *testing.T, svc *usecases.Set, code string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := svc.Sessions.Login(ctx, code)
	if err != nil {
		return "", err
	}
	c, err := svc.Sessions.Authenticate(ctx, s.Token)
	return c.OpenID, err
}
