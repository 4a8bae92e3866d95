package usersteps_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The app the tests run as.
const appID, secret = testenv.AppID, testenv.Secret

func TestLoginGivesATokenNamingTheUserAndRefusesACodeRedeemedElsewhere(t *testing.T) {
	e := testenv.New(t, appID, secret, time.Now())
	svc := e.Service(t)
	ctx := context.Background()
	openid := testenv.UniqueID("login")
	code := e.Sim.Login(openid)
	s, err := svc.Sessions.Login(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Sessions.Authenticate(ctx, s.Token); err != nil || got.OpenID != openid {
		t.Fatalf("Authenticate = %q, %v; want %q", got, err, openid)
	}
	if s.ExpiresIn != int(session.TTL.Seconds()) {
		t.Errorf("ExpiresIn = %d", s.ExpiresIn)
	}
	// A code some other client of WeChat redeemed is no code of ours.
	elsewhere := e.Sim.Login(openid)
	if _, err := wechat.NewClient(e.Sim.URL, appID, secret, nil).Code2Session(ctx, elsewhere); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Sessions.Login(ctx, elsewhere); !errors.Is(err, fault.InvalidCode) || !errors.Is(err, wechat.ErrCodeUsed) {
		t.Errorf("a code redeemed elsewhere: %v, want ErrInvalidCode (WeChat's code used)", err)
	}
}

func TestSyncEncrypted(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// run prepares the user and returns the sync to make.
		run     func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync
		wantErr error
		changed int
	}{
		{"first sync stores every day", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(31, now), now)
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}
		}, nil, 31},
		{"data fetched before a wx.login rotation still syncs", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(31, now), now)
			e.Login(t, svc, openid) // the mini program logs in again after fetching
			e.Login(t, svc, openid)
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}
		}, nil, 31},
		{"stateless flow with a code logs in and syncs", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			code := e.Sim.Login(openid)
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
			return usersteps.EncryptedSync{Code: code, EncryptedData: ed, IV: iv}
		}, nil, 3},
		{"no session key held", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Sim.Login(openid) // WeChat knows the user; this server never saw the code
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}
		}, fault.NoSessionKey, 0},
		{"data under a key the server never held", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			e.Sim.Login(openid) // a login that never reached this server
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}
		}, fault.DecryptFailed, 0},
		{"another app's data", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			plain := `{"stepInfoList":[{"timestamp":` + itoa(now.Unix()) + `,"step":5}],"watermark":{"appid":"wxother","timestamp":` + itoa(now.Unix()) + `}}`
			iv := "r7BXXKkLb8qrSNn05n0qiA=="
			ed, err := crypto.Encrypt(e.Sim.SessionKey(openid), iv, []byte(plain))
			if err != nil {
				t.Fatal(err)
			}
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}
		}, crypto.ErrWrongApp, 0},
		{"stale data", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now.Add(-2*time.Hour))
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}
		}, crypto.ErrStale, 0},
		{"empty step list", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			ed, iv := e.Sim.WeRunData(openid, []wechattest.StepInfo{}, now)
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}
		}, steps.ErrNoSteps, 0},
		{"malformed base64", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: "%%%", IV: "r7BXXKkLb8qrSNn05n0qiA=="}
		}, crypto.ErrBase64, 0},
		{"wrong-length iv", func(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) usersteps.EncryptedSync {
			e.Login(t, svc, openid)
			ed, _ := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
			return usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: "AAAA"}
		}, crypto.ErrIVSize, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testenv.New(t, appID, secret, now)
			svc := e.Service(t)
			openid := testenv.UniqueID("sync")
			in := tt.run(t, e, svc, openid)
			res, err := svc.Steps.SyncEncrypted(context.Background(), in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				days, derr := e.Store.Days(context.Background(), openid, "2000-01-01", "2100-01-01")
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
	e := testenv.New(t, appID, secret, now)
	svc := e.Service(t)
	ctx := context.Background()
	openid := testenv.UniqueID("resend")
	e.Login(t, svc, openid)
	list := wechattest.Days(31, now)
	ed, iv := e.Sim.WeRunData(openid, list, now)
	first, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv})
	if err != nil || first.Changed != 31 {
		t.Fatalf("first sync: changed %d, %v", first.Changed, err)
	}
	again, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv})
	if err != nil || again.Changed != 0 {
		t.Fatalf("resend: changed %d, %v; want 0", again.Changed, err)
	}
	lower := append([]wechattest.StepInfo(nil), list...)
	lower[30].Step = list[30].Step / 2
	lower[29].Step = list[29].Step + 100
	ed, iv = e.Sim.WeRunData(openid, lower, now)
	res, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv})
	if err != nil || res.Changed != 1 {
		t.Fatalf("partly lower sync: changed %d, %v; want 1", res.Changed, err)
	}
	stored, err := svc.Steps.Days(ctx, openid, "", "")
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

// A payload fetched just before midnight and sent after it carries a day
// that is no longer in the window: it is dropped from the write and the
// answer, never stored where no read would find it.
func TestADayBeforeTheWindowIsDroppedNotStored(t *testing.T) {
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	svc := e.Service(t)
	openid := testenv.UniqueID("window")
	e.Login(t, svc, openid)
	list := wechattest.Days(steps.WindowDays+1, now) // today and the 31 days before
	before := steps.DateOf(time.Unix(list[0].Timestamp, 0))
	if before >= steps.FirstDate(now) {
		t.Fatalf("fixture: %s is inside the window starting %s", before, steps.FirstDate(now))
	}
	ed, iv := e.Sim.WeRunData(openid, list, now)
	res, err := svc.Steps.SyncEncrypted(context.Background(), usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Days) != steps.WindowDays || res.Changed != steps.WindowDays {
		t.Errorf("answer has %d days, changed %d; want the window's %d", len(res.Days), res.Changed, steps.WindowDays)
	}
	for _, d := range res.Days {
		if d.Date < steps.FirstDate(now) {
			t.Errorf("answer carries %s, before the window", d.Date)
		}
	}
	stored, err := e.Store.Days(context.Background(), openid, before, before)
	if err != nil || len(stored) != 0 {
		t.Errorf("stored before the window: %v, %v", stored, err)
	}
}
