package werun_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
	"github.com/werun-sam/werun-sam/shared/werun"
)

const (
	appID  = "wxtestapp0000001"
	secret = "test-app-secret"
)

// env is one test's world: the WeChat simulator, the real DynamoDB store
// (dynalite under make test), and a clock both share.
type env struct {
	sim   *wechattest.Server
	store *store.DynamoStore
	clock *clock
}

// clock runs at real speed from a time the test sets, so the order of
// events (session keys issued one after another) stays real.
type clock struct {
	mu      sync.Mutex
	t, real time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.Add(time.Since(c.real))
}

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t, c.real = t, time.Now(); c.mu.Unlock() }

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	table := os.Getenv("TABLE_NAME")
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" || table == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB and TABLE_NAME are not set: run the tests through `make test`, which starts dynalite")
	}
	cfg, err := config.AWS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		sim:   wechattest.NewServer(appID, secret),
		store: store.New(dynamodb.NewFromConfig(cfg), table),
		clock: &clock{},
	}
	e.clock.Set(now)
	e.sim.SetNow(e.clock.Now)
	t.Cleanup(e.sim.Close)
	return e
}

// service is one container's worth of dependencies: its own WeChat client
// and access-token cache over the shared table.
func (e *env) service(t *testing.T) *werun.Service {
	t.Helper()
	signer, err := crypto.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	wc := wechat.NewClient(e.sim.URL, appID, secret, nil)
	return &werun.Service{
		AppID: appID, Store: e.store, WeChat: wc, Signer: signer, Now: e.clock.Now,
		Tokens: &werun.AccessTokens{AppID: appID, Store: e.store, WeChat: wc, Now: e.clock.Now, Poll: 10 * time.Millisecond},
	}
}

func uniqueUser(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// login logs a user in through the service and returns their openid.
func login(t *testing.T, e *env, svc *werun.Service, openid string) {
	t.Helper()
	if _, err := svc.Login(context.Background(), e.sim.Login(openid)); err != nil {
		t.Fatalf("login: %v", err)
	}
}

func total(days []steps.Day) (n int64) {
	for _, d := range days {
		n += d.Steps
	}
	return n
}

func TestLoginGivesATokenNamingTheUserAndRefusesTheCodeTwice(t *testing.T) {
	e := newEnv(t, time.Now())
	svc := e.service(t)
	ctx := context.Background()
	openid := uniqueUser("login")
	code := e.sim.Login(openid)
	s, err := svc.Login(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Authenticate(s.Token); err != nil || got != openid {
		t.Fatalf("Authenticate = %q, %v; want %q", got, err, openid)
	}
	if s.ExpiresIn != int(werun.SessionTTL.Seconds()) {
		t.Errorf("ExpiresIn = %d", s.ExpiresIn)
	}
	if _, err := svc.Login(ctx, code); !errors.Is(err, wechat.ErrCodeUsed) {
		t.Errorf("second use of a code: %v, want ErrCodeUsed", err)
	}
}

func TestSyncEncrypted(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// run prepares the user and returns the sync to make.
		run     func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync
		wantErr error
		changed int
	}{
		{"first sync stores every day", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			ed, iv := e.sim.WeRunData(openid, wechattest.Days(31, now), now)
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv}
		}, nil, 31},
		{"data fetched before a wx.login rotation still syncs", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			ed, iv := e.sim.WeRunData(openid, wechattest.Days(31, now), now)
			login(t, e, svc, openid) // the mini program logs in again after fetching
			login(t, e, svc, openid)
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv}
		}, nil, 31},
		{"stateless flow with a code logs in and syncs", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			code := e.sim.Login(openid)
			ed, iv := e.sim.WeRunData(openid, wechattest.Days(3, now), now)
			return werun.EncryptedSync{Code: code, EncryptedData: ed, IV: iv}
		}, nil, 3},
		{"no session key held", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			e.sim.Login(openid) // WeChat knows the user; this server never saw the code
			ed, iv := e.sim.WeRunData(openid, wechattest.Days(3, now), now)
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv}
		}, werun.ErrNoSessionKey, 0},
		{"data under a key the server never held", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			e.sim.Login(openid) // a login that never reached this server
			ed, iv := e.sim.WeRunData(openid, wechattest.Days(3, now), now)
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv}
		}, werun.ErrNoMatchingKey, 0},
		{"another app's data", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			plain := `{"stepInfoList":[{"timestamp":` + itoa(now.Unix()) + `,"step":5}],"watermark":{"appid":"wxother","timestamp":` + itoa(now.Unix()) + `}}`
			iv := "r7BXXKkLb8qrSNn05n0qiA=="
			ed, err := crypto.Encrypt(e.sim.SessionKey(openid), iv, []byte(plain))
			if err != nil {
				t.Fatal(err)
			}
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv}
		}, crypto.ErrWrongApp, 0},
		{"stale data", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			ed, iv := e.sim.WeRunData(openid, wechattest.Days(3, now), now.Add(-2*time.Hour))
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv}
		}, crypto.ErrStale, 0},
		{"empty step list", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			ed, iv := e.sim.WeRunData(openid, []wechattest.StepInfo{}, now)
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv}
		}, steps.ErrNoSteps, 0},
		{"malformed base64", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			return werun.EncryptedSync{OpenID: openid, EncryptedData: "%%%", IV: "r7BXXKkLb8qrSNn05n0qiA=="}
		}, crypto.ErrBase64, 0},
		{"wrong-length iv", func(t *testing.T, e *env, svc *werun.Service, openid string) werun.EncryptedSync {
			login(t, e, svc, openid)
			ed, _ := e.sim.WeRunData(openid, wechattest.Days(3, now), now)
			return werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: "AAAA"}
		}, crypto.ErrIVSize, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, now)
			svc := e.service(t)
			openid := uniqueUser("sync")
			in := tt.run(t, e, svc, openid)
			res, err := svc.SyncEncrypted(context.Background(), in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				days, derr := e.store.Days(context.Background(), openid, "2000-01-01", "2100-01-01")
				if derr != nil || len(days) != 0 {
					t.Fatalf("a failed sync stored %d days (%v)", len(days), derr)
				}
				return
			}
			if res.Changed != tt.changed || len(res.Days) != tt.changed {
				t.Fatalf("changed = %d, days = %d; want %d", res.Changed, len(res.Days), tt.changed)
			}
			if in.Code != "" && (res.Session == nil || res.Session.OpenID != openid) {
				t.Fatalf("stateless flow returned session %+v", res.Session)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestResendAndLowerCountsChangeNothing(t *testing.T) {
	now := time.Now()
	e := newEnv(t, now)
	svc := e.service(t)
	ctx := context.Background()
	openid := uniqueUser("resend")
	login(t, e, svc, openid)
	list := wechattest.Days(31, now)
	ed, iv := e.sim.WeRunData(openid, list, now)
	first, err := svc.SyncEncrypted(ctx, werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv})
	if err != nil || first.Changed != 31 {
		t.Fatalf("first sync: changed %d, %v", first.Changed, err)
	}
	again, err := svc.SyncEncrypted(ctx, werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv})
	if err != nil || again.Changed != 0 {
		t.Fatalf("resend: changed %d, %v; want 0", again.Changed, err)
	}
	lower := append([]wechattest.StepInfo(nil), list...)
	lower[30].Step = list[30].Step / 2
	lower[29].Step = list[29].Step + 100
	ed, iv = e.sim.WeRunData(openid, lower, now)
	res, err := svc.SyncEncrypted(ctx, werun.EncryptedSync{OpenID: openid, EncryptedData: ed, IV: iv})
	if err != nil || res.Changed != 1 {
		t.Fatalf("partly lower sync: changed %d, %v; want 1", res.Changed, err)
	}
	stored, err := svc.Days(ctx, openid, "", "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, d := range stored {
		got[d.Date] = d.Steps
	}
	if today := steps.DateOf(now); got[today] != list[30].Step {
		t.Errorf("today = %d, want the higher stored %d", got[today], list[30].Step)
	}
	if res.Days[30].Steps != list[30].Step {
		t.Errorf("answer shows today %d, want the stored %d", res.Days[30].Steps, list[30].Step)
	}
	if y := steps.DateOf(now.AddDate(0, 0, -1)); got[y] != list[29].Step+100 {
		t.Errorf("yesterday = %d, want the raised %d", got[y], list[29].Step+100)
	}
}
