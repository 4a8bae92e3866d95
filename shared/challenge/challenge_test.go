package challenge_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/challenge/sheet"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"

	dayrules "github.com/werun-sam/werun-sam/shared/day"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// checker stands in for WeChat's content check: it judges text risky when
// it holds the word "risky".
type checker struct{}

func (checker) CheckText(_ context.Context, _, text string) (bool, error) {
	return text == "risky" || len(text) >= 5 && text[:5] == "risky", nil
}

// testDays are the fair-board rules the tests' events credit by.
var testDays = dayrules.Rules{MaxBoardSteps: 100000, MaxStepsPerMinute: 300, RetentionDays: 400}

type world struct {
	t     *testing.T
	ctx   context.Context
	st    *store.DynamoStore
	ev    *eventstore.Store
	svc   *challenge.Service
	clock *testenv.Clock
}

// both is the challenges' storage as usecases pairs it.
type both struct {
	*store.DynamoStore
	ev
}

type ev = *eventstore.Store

// now is 2026-03-10 12:00 CST.
var now = time.Date(2026, 3, 10, 12, 0, 0, 0, steps.CST)

func newWorld(t *testing.T) *world { t.Helper(); return newWorldWith(t, nil) }

// newWorldWith is newWorld whose service's config edit changes (nil:
// none): a fault in its storage, the standings cache's settings.
func newWorldWith(t *testing.T, edit func(*challenge.Config)) *world {
	t.Helper()
	st := testenv.Store(t)
	clock := &testenv.Clock{}
	clock.Set(now)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	w := &world{t: t, ctx: ctx, st: st, ev: eventstore.New(st.Table()), clock: clock}
	cfg := challenge.Config{Store: both{st, w.ev}, Text: checker{}, DailyGoal: 10000, Days: testDays, Sheet: sheet.Write, Now: clock.Now}
	if edit != nil {
		edit(&cfg)
	}
	w.svc = challenge.New(cfg)
	return w
}

// user makes a user with a nickname and returns their openid.
func (w *world) user(name string) string {
	w.t.Helper()
	openid := testenv.UniqueID("ev-" + name)
	mid, err := w.st.MemberID(w.ctx, openid, crypto.NewID())
	if err != nil {
		w.t.Fatal(err)
	}
	if name != "" {
		if err := w.st.PutProfile(w.ctx, store.Profile{MemberID: mid, OpenID: openid, Nickname: name}); err != nil {
			w.t.Fatal(err)
		}
	}
	return openid
}

func (w *world) mid(openid string) string {
	mid, err := w.st.MemberID(w.ctx, openid, crypto.NewID())
	if err != nil {
		w.t.Fatal(err)
	}
	return mid
}

func i64(v int64) *int64 { return &v }

func (w *world) create(org string, in challenge.NewEvent) challenge.Event {
	w.t.Helper()
	e, err := w.svc.Create(w.ctx, org, in)
	if err != nil {
		w.t.Fatalf("Create: %v", err)
	}
	return e
}

func (w *world) join(openid string, e challenge.Event, team string) challenge.Event {
	w.t.Helper()
	out, err := w.svc.Join(w.ctx, openid, challenge.JoinRequest{JoinCode: e.JoinCode, TeamID: team, Consent: true})
	if err != nil {
		w.t.Fatalf("Join: %v", err)
	}
	return out
}

// sync writes days as the sync does and credits the user's events.
func (w *world) sync(openid string, days ...store.Day) {
	w.t.Helper()
	if err := w.syncErr(openid, days...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) syncErr(openid string, days ...store.Day) error {
	p, err := w.read(openid, days...)
	if err != nil {
		return err
	}
	return w.commit(p)
}

// pending is a sync that has read the user and not written yet.
type pending struct {
	openid  string
	marks   []store.EventMark
	planned []store.Day
}

// read is a sync's read: the user's marks, and the days that grew, each
// with what is stored of it as Prev.
func (w *world) read(openid string, days ...store.Day) (pending, error) {
	u, err := w.st.LoadUser(w.ctx, openid, steps.FirstDate(w.clock.Now()))
	if err != nil {
		return pending{}, err
	}
	stored := make(map[string]store.Day, len(u.Days))
	for _, d := range u.Days {
		stored[d.Date] = d
	}
	p := pending{openid: openid, marks: u.Events}
	for _, d := range days {
		if old, ok := stored[d.Date]; ok {
			if old.Steps >= d.Steps {
				continue
			}
			d.PrevSteps, d.PrevSourceTS = old.Steps, old.SourceTS
		}
		p.planned = append(p.planned, d)
	}
	return p, nil
}

// commit is the sync's writes with the credits beside them.
func (w *world) commit(p pending) error {
	_, err := w.svc.Credit(w.ctx, p.openid, p.marks, p.planned, func(ctx context.Context) ([]store.Day, error) {
		return w.st.WriteDays(ctx, p.openid, p.planned)
	})
	return err
}

// stepsOn is a day stamped at its end, so the per-minute rule allows it.
func stepsOn(date string, n int64) store.Day {
	d, _ := time.ParseInLocation(time.DateOnly, date, steps.CST)
	return store.Day{Date: date, Steps: n, SourceTS: d.Add(23 * time.Hour).Unix()}
}

func (w *world) board(openid string, e challenge.Event, team string) challenge.Board {
	w.t.Helper()
	b, err := w.svc.Board(w.ctx, openid, e.EventID, team)
	if err != nil {
		w.t.Fatalf("Board: %v", err)
	}
	return b
}

func wantClass(t *testing.T, err error, c *fault.Class) {
	t.Helper()
	if !errors.Is(err, c) {
		t.Fatalf("err = %v, want %v", err, c)
	}
}

func TestCreateValidatesEachFieldWithItsOwnError(t *testing.T) {
	w := newWorld(t)
	org := w.user("org")
	ok := challenge.NewEvent{Name: "Spring walk", StartDate: "2026-03-01", EndDate: "2026-03-30"}
	for _, c := range []struct {
		name string
		edit func(*challenge.NewEvent)
		want *fault.Class
	}{
		{"missing name", func(e *challenge.NewEvent) { e.Name = "" }, fault.MissingEventName},
		{"blank name", func(e *challenge.NewEvent) { e.Name = "   " }, fault.InvalidEventName},
		{"name of 33", func(e *challenge.NewEvent) {
			e.Name = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三"
		}, fault.InvalidEventName},
		{"zero-width space in name", func(e *challenge.NewEvent) { e.Name = "a\u200bb" }, fault.InvalidEventName},
		{"missing start", func(e *challenge.NewEvent) { e.StartDate = "" }, fault.MissingEventDates},
		{"start too early", func(e *challenge.NewEvent) { e.StartDate = "2026-02-07" }, fault.InvalidEventDates},
		{"start too late", func(e *challenge.NewEvent) { e.StartDate, e.EndDate = "2026-06-09", "2026-06-10" }, fault.InvalidEventDates},
		{"end before start", func(e *challenge.NewEvent) { e.EndDate = "2026-02-28" }, fault.InvalidEventDates},
		{"101 days", func(e *challenge.NewEvent) { e.EndDate = "2026-06-09" }, fault.InvalidEventDates},
		{"bad date", func(e *challenge.NewEvent) { e.EndDate = "2026-3-30" }, fault.InvalidEventDates},
		{"goal 0", func(e *challenge.NewEvent) { e.DailyGoal = i64(0) }, fault.InvalidDailyGoal},
		{"cap below goal", func(e *challenge.NewEvent) { e.DailyCap = i64(5000) }, fault.InvalidDailyCap},
		{"goalDays beyond length", func(e *challenge.NewEvent) { e.GoalDays = i64(31) }, fault.InvalidGoalDays},
		{"duplicate team", func(e *challenge.NewEvent) { e.Teams = []string{"a", "a"} }, fault.InvalidTeams},
		{"team of 17", func(e *challenge.NewEvent) { e.Teams = []string{"12345678901234567"} }, fault.InvalidTeams},
		{"risky name", func(e *challenge.NewEvent) { e.Name = "risky" }, fault.ContentRejected},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := ok
			c.edit(&in)
			_, err := w.svc.Create(w.ctx, org, in)
			wantClass(t, err, c.want)
		})
	}
	e := w.create(org, ok)
	if e.DailyGoal != 10000 || e.DailyCap != 0 || e.GoalDays != 30 || e.Status != "running" || !e.Me.Organizer || e.Me.Participant || len(e.Teams) != 0 {
		t.Errorf("defaults: %+v", e)
	}
}

func TestJoinChecksInTheContractsOrder(t *testing.T) {
	w := newWorld(t)
	org, a, noname := w.user("org"), w.user("a"), w.user("")
	e := w.create(org, challenge.NewEvent{Name: "Teams", StartDate: "2026-03-11", EndDate: "2026-03-20", Teams: []string{"R&D", "Sales"}})
	for _, c := range []struct {
		name string
		who  string
		in   challenge.JoinRequest
		want *fault.Class
	}{
		{"unknown code", a, challenge.JoinRequest{JoinCode: "ABCDEFGHJK", TeamID: "t001", Consent: true}, fault.EventNotFound},
		{"malformed code", a, challenge.JoinRequest{JoinCode: "abc", TeamID: "t001", Consent: true}, fault.EventNotFound},
		{"no consent", a, challenge.JoinRequest{JoinCode: e.JoinCode, TeamID: "t001"}, fault.ConsentRequired},
		{"no team", a, challenge.JoinRequest{JoinCode: e.JoinCode, Consent: true}, fault.MissingTeam},
		{"unknown team", a, challenge.JoinRequest{JoinCode: e.JoinCode, TeamID: "t009", Consent: true}, fault.InvalidTeam},
		{"no nickname", noname, challenge.JoinRequest{JoinCode: e.JoinCode, TeamID: "t001", Consent: true}, fault.ProfileRequired},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.svc.Join(w.ctx, c.who, c.in)
			wantClass(t, err, c.want)
		})
	}
	got := w.join(a, e, "t001")
	if !got.Me.Participant || got.Participants != 1 || *got.Me.TeamID != "t001" {
		t.Fatalf("joined: %+v", got)
	}
	// Before the start a different team moves the participant.
	if got = w.join(a, e, "t002"); *got.Me.TeamID != "t002" || got.Participants != 1 {
		t.Fatalf("moved: %+v", got)
	}
	// From the start on, the team is locked, also after leaving and rejoining.
	w.clock.Set(now.Add(24 * time.Hour))
	_, err := w.svc.Join(w.ctx, a, challenge.JoinRequest{JoinCode: e.JoinCode, TeamID: "t001", Consent: true})
	wantClass(t, err, fault.TeamLocked)
	if err := w.svc.Remove(w.ctx, a, e.EventID, w.mid(a)); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Join(w.ctx, a, challenge.JoinRequest{JoinCode: e.JoinCode, TeamID: "t001", Consent: true})
	wantClass(t, err, fault.TeamLocked)
	w.join(a, e, "t002")
	// After the end: EVENT_ENDED.
	w.clock.Set(now.Add(11 * 24 * time.Hour))
	_, err = w.svc.Join(w.ctx, a, challenge.JoinRequest{JoinCode: e.JoinCode, TeamID: "t002", Consent: true})
	wantClass(t, err, fault.EventEnded)
	wantClass(t, w.svc.Remove(w.ctx, a, e.EventID, w.mid(a)), fault.EventEnded)
}

func TestRemovalRefusesARejoinAndRightsAreChecked(t *testing.T) {
	w := newWorld(t)
	org, a, b, stranger := w.user("org"), w.user("a"), w.user("b"), w.user("s")
	e := w.create(org, challenge.NewEvent{Name: "Walk", StartDate: "2026-03-01", EndDate: "2026-03-31"})
	w.join(a, e, "")
	w.join(b, e, "")
	wantClass(t, w.svc.Remove(w.ctx, a, e.EventID, w.mid(b)), fault.NotOrganizer)
	wantClass(t, w.svc.Remove(w.ctx, stranger, e.EventID, w.mid(b)), fault.EventNotFound)
	wantClass(t, w.svc.Remove(w.ctx, org, e.EventID, w.mid(stranger)), fault.ParticipantNotFound)
	_, err := w.svc.Get(w.ctx, stranger, e.EventID)
	wantClass(t, err, fault.EventNotFound)
	_, err = w.svc.Participants(w.ctx, a, e.EventID, "")
	wantClass(t, err, fault.NotOrganizer)
	if err := w.svc.Remove(w.ctx, org, e.EventID, w.mid(b)); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Join(w.ctx, b, challenge.JoinRequest{JoinCode: e.JoinCode, Consent: true})
	wantClass(t, err, fault.JoinRefused)
	list, err := w.svc.Participants(w.ctx, org, e.EventID, "")
	if err != nil || len(list.Participants) != 1 || list.Participants[0].Nickname != "a" {
		t.Fatalf("participants: %+v %v", list, err)
	}
	got, err := w.svc.Get(w.ctx, org, e.EventID)
	if err != nil || got.Participants != 1 {
		t.Fatalf("count: %+v %v", got, err)
	}
	// A participant may cancel nothing; the organizer cancels for everyone.
	wantClass(t, w.svc.Cancel(w.ctx, a, e.EventID), fault.NotOrganizer)
	if err := w.svc.Cancel(w.ctx, org, e.EventID); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{org, a} {
		_, err = w.svc.Get(w.ctx, who, e.EventID)
		wantClass(t, err, fault.EventNotFound)
	}
	l, err := w.svc.List(w.ctx, a, "")
	if err != nil || len(l.Events) != 0 {
		t.Fatalf("list after cancel: %+v %v", l, err)
	}
}

func TestJoinCodeRotationRetiresTheOldCode(t *testing.T) {
	w := newWorld(t)
	org, a := w.user("org"), w.user("a")
	e := w.create(org, challenge.NewEvent{Name: "Walk", StartDate: "2026-03-01", EndDate: "2026-03-31"})
	code, err := w.svc.RotateJoinCode(w.ctx, org, e.EventID)
	if err != nil || code.JoinCode == e.JoinCode {
		t.Fatalf("rotate: %v %v", code, err)
	}
	_, err = w.svc.Join(w.ctx, a, challenge.JoinRequest{JoinCode: e.JoinCode, Consent: true})
	wantClass(t, err, fault.EventNotFound)
	e.JoinCode = code.JoinCode
	if got := w.join(a, e, ""); got.JoinCode != code.JoinCode {
		t.Fatalf("joined with %q, event shows %q", code.JoinCode, got.JoinCode)
	}
}

func TestTotalsCreditLateJoinersCapGoalDaysAndKeptOffDays(t *testing.T) {
	w := newWorld(t)
	org, a, b := w.user("org"), w.user("a"), w.user("b")
	e := w.create(org, challenge.NewEvent{Name: "Capped", StartDate: "2026-03-05", EndDate: "2026-03-20",
		DailyGoal: i64(8000), DailyCap: i64(12000), GoalDays: i64(2)})
	// a synced before joining: the days from the start count, not before.
	w.sync(a, stepsOn("2026-03-04", 9000), stepsOn("2026-03-05", 15000), stepsOn("2026-03-06", 7000))
	w.join(a, e, "")
	w.join(b, e, "")
	// b's kept-off day (beyond MaxBoardSteps) earns nothing, not the cap.
	w.sync(b, stepsOn("2026-03-09", 150000), stepsOn("2026-03-08", 8000))
	// a raises a day; the credit follows.
	w.sync(a, stepsOn("2026-03-06", 8500))
	brd := w.board(org, e, "")
	want := map[string][3]int64{w.mid(a): {12000 + 8500, 2, 1}, w.mid(b): {8000, 1, 0}}
	if len(brd.Entries) != 2 {
		t.Fatalf("entries: %+v", brd.Entries)
	}
	for _, en := range brd.Entries {
		wt := want[en.MemberID]
		if en.Total != wt[0] || int64(en.GoalDays) != wt[1] || en.Completed != (wt[2] == 1) {
			t.Errorf("%s: total %d goalDays %d completed %v, want %v", en.Nickname, en.Total, en.GoalDays, en.Completed, wt)
		}
	}
	if brd.Entries[0].MemberID != w.mid(a) || brd.Entries[0].Rank != 1 || brd.Entries[1].Rank != 2 || *brd.AsOf != "2026-03-10" {
		t.Errorf("order: %+v asOf %v", brd.Entries, *brd.AsOf)
	}
	w.recomputeAll(e)
}

// recomputeAll checks every participant's total against their stored days.
func (w *world) recomputeAll(e challenge.Event) {
	w.t.Helper()
	ps, _, err := w.ev.Participants(w.ctx, e.EventID, "", 0)
	if err != nil {
		w.t.Fatal(err)
	}
	last := min(steps.DateOf(w.clock.Now()), e.EndDate)
	for _, p := range ps {
		days, err := w.st.ConsistentDays(w.ctx, p.OpenID, e.StartDate, last)
		if err != nil {
			w.t.Fatal(err)
		}
		// The contract's counting, written out again: a kept-off day is 0,
		// the cap applies, and a goal day reaches the goal.
		var total, goals int64
		for _, d := range days {
			n := d.Steps
			if !testDays.Plausible(n, d.SourceTS, d.Date) {
				n = 0
			}
			if e.DailyCap > 0 {
				n = min(n, e.DailyCap)
			}
			total += n
			if n > 0 && n >= e.DailyGoal {
				goals++
			}
		}
		if p.Total != total || int64(p.GoalDays) != goals {
			w.t.Errorf("participant %s: total %d goalDays %d, stored days give %d %d", p.MemberID, p.Total, p.GoalDays, total, goals)
		}
	}
}

func TestBoardTiesExclusionsTeamsAndMe(t *testing.T) {
	w := newWorld(t)
	org := w.user("org")
	e := w.create(org, challenge.NewEvent{Name: "Teams", StartDate: "2026-03-09", EndDate: "2026-03-20", Teams: []string{"A", "B", "Empty"}})
	users := map[string]string{}
	for _, u := range []struct {
		name, team string
		steps      int64
	}{{"a1", "t001", 5000}, {"a2", "t001", 5000}, {"b1", "t002", 9000}, {"x", "t002", 20000}} {
		id := w.user(u.name)
		users[u.name] = id
		w.join(id, e, u.team)
		w.sync(id, stepsOn("2026-03-09", u.steps))
	}
	testenv.Exclude(t, w.mid(users["x"]))
	b := w.board(users["a2"], e, "")
	if b.Participants != 4 || len(b.Entries) != 3 {
		t.Fatalf("board: %+v", b)
	}
	if b.Entries[0].Rank != 1 || b.Entries[1].Rank != 2 || b.Entries[2].Rank != 2 {
		t.Errorf("ranks: %+v", b.Entries)
	}
	if b.Me == nil || *b.Me.Rank != 2 || b.Me.Total != 5000 {
		t.Errorf("me: %+v", b.Me)
	}
	bx := w.board(users["x"], e, "")
	if bx.Me == nil || bx.Me.Rank != nil || bx.Me.Total != 20000 {
		t.Errorf("excluded me: %+v", bx.Me)
	}
	tb := w.board(org, e, "t002")
	if tb.Participants != 2 || len(tb.Entries) != 1 || tb.Me != nil {
		t.Errorf("team board: %+v", tb)
	}
	_, err := w.svc.Board(w.ctx, org, e.EventID, "t999")
	wantClass(t, err, fault.InvalidTeam)
	teams, err := w.svc.Teams(w.ctx, org, e.EventID)
	if err != nil {
		t.Fatal(err)
	}
	want := []challenge.TeamRow{{1, "t002", "B", 1, 9000, 9000}, {2, "t001", "A", 2, 10000, 5000}, {3, "t003", "Empty", 0, 0, 0}}
	if fmt.Sprint(teams.Teams) != fmt.Sprint(want) {
		t.Errorf("teams: %+v, want %+v", teams.Teams, want)
	}
}

// TestSyncsRacingJoinsLeavesAndRemovalsKeepTotalsExact runs syncs of many
// days at once with joins, leaves and removals, then checks that nobody who
// left is back and every total equals what the stored days give.
func TestSyncsRacingJoinsLeavesAndRemovalsKeepTotalsExact(t *testing.T) {
	w := newWorld(t)
	org := w.user("org")
	e := w.create(org, challenge.NewEvent{Name: "Race", StartDate: "2026-03-01", EndDate: "2026-03-31", DailyCap: i64(20000)})
	var ids []string
	for i := range 6 {
		ids = append(ids, w.user(fmt.Sprintf("r%d", i)))
	}
	w.join(ids[4], e, "")
	w.join(ids[5], e, "")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, id := range ids {
		for k := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- w.syncErr(id, stepsOn("2026-03-0"+fmt.Sprint(k+1), int64(1000*(i+1)*(k+1))), stepsOn("2026-03-10", int64(3000+k*1000)))
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch {
			case i < 4:
				_, err := w.svc.Join(w.ctx, id, challenge.JoinRequest{JoinCode: e.JoinCode, Consent: true})
				errs <- err
			case i == 4:
				errs <- w.svc.Remove(w.ctx, id, e.EventID, w.mid(id))
			default:
				errs <- w.svc.Remove(w.ctx, org, e.EventID, w.mid(id))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// One more sync each, a settling time later, recounts what a sync
	// racing a join missed.
	w.clock.Set(w.clock.Now().Add(challenge.Settle))
	for _, id := range ids {
		w.sync(id, stepsOn("2026-03-10", 9000))
	}
	ps, _, err := w.ev.Participants(w.ctx, e.EventID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 {
		t.Fatalf("participants after the races: %d, want 4 (one left, one removed)", len(ps))
	}
	for _, p := range ps {
		if p.MemberID == w.mid(ids[4]) || p.MemberID == w.mid(ids[5]) {
			t.Errorf("a participant who left is back")
		}
	}
	w.recomputeAll(e)
}

func TestListOrdersByStartLatestFirst(t *testing.T) {
	w := newWorld(t)
	org := w.user("org")
	first := w.create(org, challenge.NewEvent{Name: "One", StartDate: "2026-03-01", EndDate: "2026-03-02"})
	second := w.create(org, challenge.NewEvent{Name: "Two", StartDate: "2026-03-05", EndDate: "2026-03-09"})
	l, err := w.svc.List(w.ctx, org, "")
	if err != nil || len(l.Events) != 2 || l.Events[0].EventID != second.EventID || l.Events[1].EventID != first.EventID {
		t.Fatalf("list: %+v %v", l, err)
	}
	if l.Events[1].Status != "ended" || !l.Events[1].Final || l.Events[0].Status != "ended" || l.Events[0].Final {
		t.Errorf("status/final: %+v", l.Events)
	}
}

// TestForgettingAnOrganizerWhoTakesPartPurgesTheEventAndItsMarks: the
// organizer's deletion cancels the event they also take part in, and the
// purge leaves no participant's mark for syncs to read.
func TestForgettingAnOrganizerWhoTakesPartPurgesTheEventAndItsMarks(t *testing.T) {
	w := newWorld(t)
	org, u := w.user("org"), w.user("u")
	e := w.create(org, challenge.NewEvent{Name: "Own", StartDate: "2026-03-01", EndDate: "2026-03-20"})
	w.join(org, e, "")
	w.join(u, e, "")
	if err := w.svc.ForgetUser(w.ctx, w.mid(org)); err != nil {
		t.Fatalf("ForgetUser: %v", err)
	}
	if _, err := w.svc.Get(w.ctx, u, e.EventID); !errors.Is(err, fault.EventNotFound) {
		t.Errorf("the event after its organizer's deletion: %v, want EventNotFound", err)
	}
	for _, who := range []string{org, u} {
		if m := w.marks(who); len(m) != 0 {
			t.Errorf("marks left after the purge: %+v", m)
		}
	}
}
