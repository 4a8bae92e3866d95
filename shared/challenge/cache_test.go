package challenge_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/fault"
)

// cacheTTL is the tests' TTL: long beside the real time a test's steps
// take, since the tests' clock runs on from each time it is set to; a
// step moves the clock by half of it to stay within, and by pastTTL to
// be past it.
const (
	cacheTTL = time.Minute
	pastTTL  = 3 * cacheTTL / 2
)

// newCachingWorld is a world whose events of at least from participants
// are big: their boards are kept per container for cacheTTL, at most
// events of them (0: the default).
func newCachingWorld(t *testing.T, from, events int) *world {
	t.Helper()
	return newWorldWith(t, func(c *challenge.Config) { c.CacheFrom, c.CacheTTL, c.CacheEvents = from, cacheTTL, events })
}

// totals is the board's totals by nickname, as openid's view shows them.
func (w *world) totals(openid string, e challenge.Event, team string) (map[string]int64, error) {
	b, err := w.svc.Board(w.ctx, openid, e.EventID, team)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, en := range b.Entries {
		out[en.Nickname] = en.Total
	}
	if len(out) != b.Participants {
		return nil, errors.New("the board's participants do not match its entries")
	}
	return out, nil
}

// wantTotals fails unless openid's view of e's board shows exactly want.
func (w *world) wantTotals(openid string, e challenge.Event, want map[string]int64) {
	w.t.Helper()
	got, err := w.totals(openid, e, "")
	if err != nil {
		w.t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		w.t.Errorf("board: %v, want %v", got, want)
	}
}

// advance sets the clock d after its time at the previous advance.
func (w *world) advance(at *time.Time, d time.Duration) {
	*at = at.Add(d)
	w.clock.Set(*at)
}

func TestABigEventsBoardShowsOthersUpToTheTTLOldAndTheCallersOwnStandingAtOnce(t *testing.T) {
	w := newCachingWorld(t, 2, 0) // still big when one leaves
	org := w.user("org")
	e := w.create(org, challenge.NewEvent{Name: "Kickoff", StartDate: "2026-03-01", EndDate: "2026-03-31", Teams: []string{"A", "B"}})
	u := map[string]string{}
	for _, p := range []struct {
		name, team string
		steps      int64
	}{{"a", "t001", 1000}, {"b", "t001", 2000}, {"c", "t002", 3000}} {
		u[p.name] = w.user(p.name)
		w.join(u[p.name], e, p.team)
		w.sync(u[p.name], stepsOn("2026-03-09", p.steps))
	}
	u["d"] = w.user("d")
	at := now
	w.clock.Set(at)
	for _, step := range []struct {
		name  string
		do    func()
		who   string
		want  map[string]int64 // nil: the view is refused
		teams map[string]int64 // team totals, when checked
	}{
		{"the first view reads everyone", func() {}, "a",
			map[string]int64{"a": 1000, "b": 2000, "c": 3000}, map[string]int64{"t001": 3000, "t002": 3000}},
		{"another's sync is not read again before the TTL",
			func() { w.sync(u["c"], stepsOn("2026-03-09", 5000)); w.advance(&at, cacheTTL/2) }, "a",
			map[string]int64{"a": 1000, "b": 2000, "c": 3000}, map[string]int64{"t001": 3000, "t002": 3000}},
		{"the caller's own sync shows at once", func() { w.sync(u["a"], stepsOn("2026-03-09", 4000)) }, "a",
			map[string]int64{"a": 4000, "b": 2000, "c": 3000}, map[string]int64{"t001": 6000, "t002": 3000}},
		{"others' totals are read again once the TTL passed", func() { w.advance(&at, pastTTL) }, "a",
			map[string]int64{"a": 4000, "b": 2000, "c": 5000}, map[string]int64{"t001": 6000, "t002": 5000}},
		{"one who left is refused at once", func() {
			if err := w.svc.Remove(w.ctx, u["b"], e.EventID, w.mid(u["b"])); err != nil {
				t.Fatal(err)
			}
		}, "b", nil, nil},
		{"others still see them before the TTL", func() {}, "a", map[string]int64{"a": 4000, "b": 2000, "c": 5000}, nil},
		{"a joiner sees themself at once", func() { w.join(u["d"], e, "t002") }, "d",
			map[string]int64{"a": 4000, "b": 2000, "c": 5000, "d": 0}, nil},
		{"once the TTL passed the one who left is gone and the joiner there", func() { w.advance(&at, pastTTL) }, "a",
			map[string]int64{"a": 4000, "c": 5000, "d": 0}, map[string]int64{"t001": 4000, "t002": 5000}},
		{"a cancel is seen at once", func() {
			if err := w.svc.Cancel(w.ctx, org, e.EventID); err != nil {
				t.Fatal(err)
			}
		}, "a", nil, nil},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			got, err := w.totals(u[step.who], e, "")
			if step.want == nil {
				wantClass(t, err, fault.EventNotFound)
				_, err = w.svc.Teams(w.ctx, u[step.who], e.EventID)
				wantClass(t, err, fault.EventNotFound)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, step.want) {
				t.Errorf("board: %v, want %v", got, step.want)
			}
			if step.teams == nil {
				return
			}
			tb, err := w.svc.Teams(w.ctx, u[step.who], e.EventID)
			if err != nil {
				t.Fatal(err)
			}
			teams := map[string]int64{}
			for _, r := range tb.Teams {
				teams[r.TeamID] = r.Total
			}
			if !maps.Equal(teams, step.teams) {
				t.Errorf("team totals: %v, want %v", teams, step.teams)
			}
		})
	}
}

func TestBoardsReadOthersFreshWhereNothingIsCachedFor(t *testing.T) {
	for _, c := range []struct {
		name string
		// from is the size from which events are cached, events how many
		// are kept.
		from, events int
		// meanwhile runs between the first view and the second.
		meanwhile func(w *world, org string)
	}{
		{"a small event", 3, 0, func(*world, string) {}},
		{"a big event pushed out by another", 2, 1, func(w *world, org string) {
			other := w.create(org, challenge.NewEvent{Name: "Other", StartDate: "2026-03-01", EndDate: "2026-03-31"})
			x, y := w.user("x"), w.user("y")
			w.join(x, other, "")
			w.join(y, other, "")
			w.wantTotals(x, other, map[string]int64{"x": 0, "y": 0})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newCachingWorld(t, c.from, c.events)
			org, a, b := w.user("org"), w.user("a"), w.user("b")
			e := w.create(org, challenge.NewEvent{Name: "Walk", StartDate: "2026-03-01", EndDate: "2026-03-31"})
			w.join(a, e, "")
			w.join(b, e, "")
			w.wantTotals(a, e, map[string]int64{"a": 0, "b": 0})
			c.meanwhile(w, org)
			w.sync(b, stepsOn("2026-03-09", 7000))
			w.wantTotals(a, e, map[string]int64{"a": 0, "b": 7000})
		})
	}
}

func TestABigEventThatShrinksBelowTheThresholdIsReadFreshAgain(t *testing.T) {
	w := newCachingWorld(t, 3, 0)
	org, a, b, c := w.user("org"), w.user("a"), w.user("b"), w.user("c")
	e := w.create(org, challenge.NewEvent{Name: "Walk", StartDate: "2026-03-01", EndDate: "2026-03-31"})
	for _, id := range []string{a, b, c} {
		w.join(id, e, "")
	}
	w.wantTotals(a, e, map[string]int64{"a": 0, "b": 0, "c": 0})
	if err := w.svc.Remove(w.ctx, c, e.EventID, w.mid(c)); err != nil {
		t.Fatal(err)
	}
	// This view still ranks the kept participants, then lets them go.
	w.wantTotals(a, e, map[string]int64{"a": 0, "b": 0, "c": 0})
	w.sync(b, stepsOn("2026-03-09", 7000))
	w.wantTotals(a, e, map[string]int64{"a": 0, "b": 7000})
}
