package werun_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
	"github.com/werun-sam/werun-sam/shared/werun"
)

// A login code this backend already redeemed is not wasted: a duplicate or a
// retry within the code's life gets a session for the same user, from the
// same container or another, on both ways in.
func TestARetriedLoginCodeGetsTheSameUser(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// retry runs the second use of code and returns the openid it names.
		retry   func(t *testing.T, e *testenv.Env, first *werun.Service, code, openid string) (string, error)
		wantErr error
	}{
		{"same container", func(t *testing.T, e *testenv.Env, first *werun.Service, code, _ string) (string, error) {
			return loginName(t, first, code)
		}, nil},
		{"another container", func(t *testing.T, e *testenv.Env, _ *werun.Service, code, _ string) (string, error) {
			return loginName(t, e.Service(t), code)
		}, nil},
		{"stateless decrypt on another container", func(t *testing.T, e *testenv.Env, _ *werun.Service, code, openid string) (string, error) {
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
			res, err := e.Service(t).SyncEncrypted(context.Background(), werun.EncryptedSync{Code: code, EncryptedData: ed, IV: iv})
			if err != nil {
				return "", err
			}
			return e.Service(t).Authenticate(res.Session.Token)
		}, nil},
		{"after the code's life", func(t *testing.T, e *testenv.Env, _ *werun.Service, code, _ string) (string, error) {
			e.Clock.Set(now.Add(werun.CodeLife + time.Second))
			return loginName(t, e.Service(t), code)
		}, werun.ErrInvalidCode},
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

// When DynamoDB fails after WeChat redeemed the code, the login still
// answers with a token (a token needs no table), and a retry on the same
// container is answered from its memory.
func TestALoginAnswersWhenTheTableFailsAfterWeChat(t *testing.T) {
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	cfg := e.Config(t)
	cfg.Store = testenv.Store(t, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1") // nothing listens there
		o.RetryMaxAttempts = 1
	})
	down := werun.New(cfg)
	openid := testenv.UniqueID("down")
	code := e.Sim.Login(openid)
	if got, err := loginName(t, down, code); err != nil || got != openid {
		t.Fatalf("login with the table down: %q, %v; want a token for %q", got, err, openid)
	}
	if got, err := loginName(t, down, code); err != nil || got != openid {
		t.Fatalf("retry on the same container: %q, %v", got, err)
	}
	// The key could not be kept: a decrypt says so, as it would anyway.
	ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
	_, err := e.Service(t).SyncEncrypted(context.Background(), werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv})
	if !errors.Is(err, werun.ErrNoSessionKey) {
		t.Errorf("decrypt after a login whose key was lost: %v, want ErrNoSessionKey", err)
	}
}

func loginName(t *testing.T, svc *werun.Service, code string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := svc.Login(ctx, code)
	if err != nil {
		return "", err
	}
	return svc.Authenticate(s.Token)
}
