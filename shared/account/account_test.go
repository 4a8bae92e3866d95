package account_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/account"
	"github.com/werun-sam/werun-sam/shared/challenge"
	shards "github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The app the tests run as.
const appID, secret = testenv.AppID, testenv.Secret

// loginCaller is wx.login and POST /v1/session for openid, authenticated.
func loginCaller(t *testing.T, e *testenv.Env, svc *usecases.Set, openid string) (session.Caller, string) {
	t.Helper()
	ctx := testenv.Timeout(t, 10*time.Second)
	s, err := svc.Sessions.Login(ctx, e.Sim.Login(openid))
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Sessions.Authenticate(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	return c, s.Token
}

// secondPass runs the refresher's second pass as it would once every
// request that authenticated before the deletion has ended.
func secondPass(t *testing.T, e *testenv.Env, svc *usecases.Set) int {
	t.Helper()
	e.Clock.Set(e.Clock.Now().Add(account.DefaultDeletionDelay + time.Second))
	n, err := svc.Account.FinishDeletions(testenv.Timeout(t, 20*time.Second))
	if err != nil {
		t.Fatalf("second pass: %v", err)
	}
	return n
}

// A sync authenticated before a deletion whose writes land after it finds
// the revocation and deletes what it wrote: the account does not come
// back, and the answer is the old token's 401. Until the second pass has
// run, a login is refused as DELETION_IN_PROGRESS; after it, the login is
// a new, empty account.
func TestASyncRacingADeletionDoesNotBringTheAccountBack(t *testing.T) {
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	svc := e.Service(t)
	openid := testenv.UniqueID("racer")
	caller, token := loginCaller(t, e, svc, openid)
	ctx := testenv.Timeout(t, 10*time.Second)
	if err := svc.Account.DeleteAccount(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Sessions.Authenticate(ctx, token); !errors.Is(err, fault.TokenInvalid) {
		t.Fatalf("the token after the deletion: %v, want ErrTokenInvalid", err)
	}
	id := e.Sim.CloudID(openid, wechattest.Days(5, now), now)
	if _, err := svc.Steps.SyncCloudID(ctx, caller, id); !errors.Is(err, fault.TokenInvalid) {
		t.Fatalf("a sync of the deleted account: %v, want ErrTokenInvalid", err)
	}
	code := e.Sim.Login(openid)
	ed, iv := e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
	_, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Code: code, EncryptedData: ed, IV: iv})
	if !errors.Is(err, fault.DeletionInProgress) {
		t.Fatalf("a login and sync before the second pass: %v, want DeletionInProgress", err)
	}
	if n := secondPass(t, e, svc); n < 1 {
		t.Fatalf("the second pass finished %d deletions, want this one", n)
	}
	now = e.Clock.Now()
	code = e.Sim.Login(openid)
	ed, iv = e.Sim.WeRunData(openid, wechattest.Days(3, now), now)
	if _, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Code: code, EncryptedData: ed, IV: iv}); err != nil {
		t.Fatalf("a login and sync after the second pass: %v", err)
	}
	days, err := e.Store.Days(ctx, openid, steps.DateOf(now.AddDate(0, 0, -10)), steps.DateOf(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 {
		t.Errorf("days after the deletion: %+v, want the new account's 3 only", days)
	}
}

// eraseFails fails the Erases fail picks: a deletion cut short after the
// revocation.
type eraseFails struct {
	usecases.Store
	fail func(store.Holdings) bool
}

func (e *eraseFails) Erase(ctx context.Context, h store.Holdings) error {
	if e.fail(h) {
		return store.ErrUnavailable
	}
	return e.Store.Erase(ctx, h)
}

// A second pass that keeps failing does not hold back the deletions after
// it: they finish, and the run reports the failure.
func TestASecondPassThatKeepsFailingDoesNotHoldBackTheOthers(t *testing.T) {
	e := testenv.New(t, appID, secret, time.Now())
	cfg := e.Config(t)
	var poisoned string
	cfg.Store = &eraseFails{Store: e.Store, fail: func(h store.Holdings) bool { return h.OpenID == poisoned }}
	svc := usecases.New(cfg)
	ctx := testenv.Timeout(t, 20*time.Second)
	type user struct {
		openid, account, token string
	}
	var users []user
	for _, name := range []string{"poison", "healthy"} {
		openid := testenv.UniqueID(name)
		caller, token := loginCaller(t, e, svc, openid)
		e.SyncCounts(t, svc, openid, 100)
		users = append(users, user{openid, caller.Account, token})
	}
	// The pending passes are read in account order: the failing one first.
	slices.SortFunc(users, func(a, b user) int { return strings.Compare(a.account, b.account) })
	bad, good := users[0], users[1]
	poisoned = bad.openid
	if err := svc.Account.DeleteAccount(ctx, bad.token); !errors.Is(err, fault.Unavailable) {
		t.Fatalf("the failing deletion: %v, want ErrUnavailable", err)
	}
	if err := svc.Account.DeleteAccount(ctx, good.token); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(e.Clock.Now().Add(account.DefaultDeletionDelay + time.Second))
	if _, err := svc.Account.FinishDeletions(ctx); !errors.Is(err, fault.Unavailable) {
		t.Errorf("the run with a failing pass: %v, want it reported as ErrUnavailable", err)
	}
	if _, err := svc.Sessions.Login(ctx, e.Sim.Login(good.openid)); err != nil {
		t.Errorf("a login after the healthy deletion's second pass: %v, want a new account", err)
	}
	if _, err := svc.Sessions.Login(ctx, e.Sim.Login(bad.openid)); !errors.Is(err, fault.DeletionInProgress) {
		t.Errorf("a login while the failing deletion is pending: %v, want DeletionInProgress", err)
	}
}

// cutShortDeletion logs a user in, syncs two days and deletes the account
// through a store whose first erase fails: the deletion answers
// ErrUnavailable after the revocation and the second pass's record.
func cutShortDeletion(t *testing.T, prefix string) (*testenv.Env, *usecases.Set, string, session.Caller, string) {
	t.Helper()
	e := testenv.New(t, appID, secret, time.Now())
	cfg := e.Config(t)
	first := true // only the first erase fails
	cfg.Store = &eraseFails{Store: e.Store, fail: func(store.Holdings) bool { f := first; first = false; return f }}
	svc := usecases.New(cfg)
	openid := testenv.UniqueID(prefix)
	caller, token := loginCaller(t, e, svc, openid)
	e.SyncCounts(t, svc, openid, 100, 200)
	if err := svc.Account.DeleteAccount(testenv.Timeout(t, 10*time.Second), token); !errors.Is(err, fault.Unavailable) {
		t.Fatalf("the cut-short deletion: %v, want ErrUnavailable", err)
	}
	return e, svc, openid, caller, token
}

// A deletion that fails part way answers ErrUnavailable with the account
// already revoked (its other routes refuse the token); the same call with
// the same token runs its first pass again, and the second pass finishes
// it; once it is complete that token gets ErrTokenInvalid, and a new login
// is a new, empty account.
func TestADeletionCutShortIsFinishedByARetryWithTheSameToken(t *testing.T) {
	e, svc, openid, caller, token := cutShortDeletion(t, "retry")
	ctx := testenv.Timeout(t, 10*time.Second)
	if _, err := svc.Sessions.Authenticate(ctx, token); !errors.Is(err, fault.TokenInvalid) {
		t.Errorf("the token during the deletion: %v, want ErrTokenInvalid", err)
	}
	if err := svc.Account.DeleteAccount(ctx, token); err != nil {
		t.Fatalf("the retried deletion: %v", err)
	}
	secondPass(t, e, svc)
	if err := svc.Account.DeleteAccount(ctx, token); !errors.Is(err, fault.TokenInvalid) {
		t.Errorf("a retry after the deletion: %v, want ErrTokenInvalid", err)
	}
	h, err := e.Store.Holdings(ctx, openid)
	if err != nil || len(h.Days) != 0 || len(h.SessionKeysIssued) != 0 || h.Account != "" {
		t.Errorf("left after the deletion: %+v, %v", h, err)
	}
	again, _ := loginCaller(t, e, svc, openid)
	if again.Account == caller.Account {
		t.Errorf("a new login after the deletion kept the account %q", caller.Account)
	}
}

// A deletion cut short and never resent is finished by the second pass
// alone: the work item outlives the request.
func TestADeletionNeverResentIsFinishedByTheSecondPass(t *testing.T) {
	e, svc, openid, _, token := cutShortDeletion(t, "never")
	ctx := testenv.Timeout(t, 10*time.Second)
	if _, err := svc.Sessions.Login(ctx, e.Sim.Login(openid)); !errors.Is(err, fault.DeletionInProgress) {
		t.Fatalf("a login while the deletion is pending: %v, want DeletionInProgress", err)
	}
	secondPass(t, e, svc)
	h, err := e.Store.Holdings(ctx, openid)
	if err != nil || len(h.Days) != 0 || h.Account != "" {
		t.Errorf("left after the second pass: %+v, %v", h, err)
	}
	if err := svc.Account.DeleteAccount(ctx, token); !errors.Is(err, fault.TokenInvalid) {
		t.Errorf("the old token after the second pass: %v, want ErrTokenInvalid", err)
	}
}

// Days carry their expiry; reads skip days past the retention, whether
// they carry one or (written before days had one) are judged by their date.
func TestDaysPastTheRetentionAreNotRead(t *testing.T) {
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	cfg := e.Config(t)
	cfg.Days.RetentionDays = 40
	svc := usecases.New(cfg)
	openid := testenv.UniqueID("old")
	ctx := testenv.Timeout(t, 10*time.Second)
	today := steps.DateOf(now)
	old := steps.DateOf(now.AddDate(0, 0, -45))
	kept := steps.DateOf(now.AddDate(0, 0, -35))
	if _, err := e.Store.WriteDays(ctx, openid, []store.Day{
		{Date: old, Steps: 100}, // no expiry: written before days had one
		{Date: kept, Steps: 200, ExpiresAt: now.Add(time.Hour)},
		{Date: steps.DateOf(now.AddDate(0, 0, -36)), Steps: 300, ExpiresAt: now.Add(-time.Minute)}, // TTL not run yet
	}); err != nil {
		t.Fatal(err)
	}
	days, err := svc.Steps.Days(ctx, openid, old, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 1 || days[0].Date != kept {
		t.Errorf("days read: %+v, want only %s", days, kept)
	}
	caller, _ := loginCaller(t, e, svc, openid)
	ex, err := svc.Account.Export(ctx, caller)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Days) != 1 || ex.Days[0].Date != kept || ex.RetentionDays != 40 {
		t.Errorf("export: %+v", ex)
	}
	// A sync writes the expiry: its date plus the retention.
	e.SyncCounts(t, svc, openid, 500)
	stored, err := e.Store.Days(ctx, openid, today, today)
	if err != nil {
		t.Fatal(err)
	}
	date, _ := time.ParseInLocation(time.DateOnly, today, steps.CST)
	if len(stored) != 1 || !stored[0].ExpiresAt.Equal(date.AddDate(0, 0, 40)) {
		t.Errorf("today's stored day %+v, want it to expire %v", stored, date.AddDate(0, 0, 40))
	}
}

// The refresher takes the days of two days ago out of the leaderboard
// index, so it holds at most yesterday's and today's.
func TestTheRefresherEmptiesPastBoardsFromTheIndex(t *testing.T) {
	day := testenv.BoardDay()
	e := testenv.New(t, appID, secret, day.AddDate(0, 0, -2))
	svc := e.Service(t)
	for i := range 3 {
		e.SyncCounts(t, svc, testenv.UniqueID("past"), int64(1000*(i+1)))
	}
	past := steps.DateOf(e.Clock.Now())
	e.Clock.Set(day)
	rep, err := svc.Boards.Refresh(testenv.Timeout(t, 20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unboarded != 3 {
		t.Errorf("unboarded %d, want 3", rep.Unboarded)
	}
	for shard := range shards.Shards {
		entries, _, err := e.Store.BoardPage(context.Background(), shards.Shard(past, shard), "")
		if err != nil || len(entries) != 0 {
			t.Errorf("shard %d of %s still holds %v (%v)", shard, past, entries, err)
		}
	}
	if rep, _ = svc.Boards.Refresh(testenv.Timeout(t, 20*time.Second)); rep.Unboarded != 0 {
		t.Errorf("a second run unboarded %d, want 0", rep.Unboarded)
	}
}

// A deletion takes the user out of their step challenges: a participant's
// deletion counts them out of the event, an organizer's cancels the events
// they organize, and both passes leave no event item naming them.
func TestADeletionLeavesEventsAndCancelsTheOnesOrganized(t *testing.T) {
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	svc := e.Service(t)
	ctx := testenv.Timeout(t, 20*time.Second)
	users := map[string]string{}
	for _, name := range []string{"org", "part", "stay"} {
		openid := testenv.UniqueID(name)
		_, token := loginCaller(t, e, svc, openid)
		if _, err := svc.Social.SetProfile(ctx, openid, social.Profile{Nickname: name}); err != nil {
			t.Fatal(err)
		}
		users[name], users[name+"-token"] = openid, token
	}
	today := steps.DateOf(now)
	ev, err := svc.Challenge.Create(ctx, users["org"], challenge.NewEvent{Name: "walk", StartDate: today, EndDate: today})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"part", "stay"} {
		if _, err := svc.Challenge.Join(ctx, users[who], challenge.JoinRequest{JoinCode: ev.JoinCode, Consent: true}); err != nil {
			t.Fatalf("%s joins: %v", who, err)
		}
	}
	if err := svc.Account.DeleteAccount(ctx, users["part-token"]); err != nil {
		t.Fatal(err)
	}
	secondPass(t, e, svc)
	got, err := svc.Challenge.Get(ctx, users["stay"], ev.EventID)
	if err != nil || got.Participants != 1 {
		t.Fatalf("the event after a participant's deletion: %+v %v, want 1 participant", got, err)
	}
	if err := svc.Account.DeleteAccount(ctx, users["org-token"]); err != nil {
		t.Fatal(err)
	}
	secondPass(t, e, svc)
	if _, err := svc.Challenge.Get(ctx, users["stay"], ev.EventID); !errors.Is(err, fault.EventNotFound) {
		t.Fatalf("the event after its organizer's deletion: %v, want EventNotFound", err)
	}
}
