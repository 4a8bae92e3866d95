package challenge

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Credit runs a sync's day writes (write) and credits the days to the
// user's running events, whose marks the sync's read found. planned are
// the days write writes, each with what the sync read of it as Prev.
//
// A settled mark is credited beside the writes, from what the sync read,
// so a sync in events takes no more round trips than one outside them.
// Each write returns what it replaced: where that differs from what the
// sync read (another sync of the user wrote the day between), the
// difference is credited after. A mark flagged for a recount (a join, or a
// credit or a write that failed, whose effect is not known) is credited
// after the writes from what they replaced, and recounted from the stored
// days by the first sync a settling time later: longer than a sync runs,
// so no credit made beside a write is still under way then. A mark whose
// participant left credits nothing, so a leave is never undone.
func (s *Service) Credit(ctx context.Context, openid string, marks []store.EventMark, planned []store.Day,
	write func(context.Context) ([]store.Day, error)) (written []store.Day, err error) {
	defer fault.Classify(&err)
	today := s.today()
	var running []store.EventMark
	for _, m := range marks {
		if last, ok := parseDay(m.End); ok && today <= last+1 {
			running = append(running, m)
		}
	}
	// Beside the writes: the settled marks' credits, from what the sync read.
	early := make([]credited, len(running))
	var g errgroup.Group
	var werr error
	g.Go(func() error { written, werr = write(ctx); return nil })
	for i, m := range running {
		if m.Recount {
			continue
		}
		c := s.change(m, planned)
		if c.zero() {
			continue
		}
		early[i].change = c
		g.Go(func() error {
			early[i].applied, early[i].err = s.store.Credit(ctx, m.EventID, m.MemberID, m.Version, c.steps, int(c.goals))
			return nil
		})
	}
	_ = g.Wait()
	if werr != nil {
		// What a failed write did is not known: recount later.
		calls := make([]func(context.Context) error, len(running))
		for i, m := range running {
			calls[i] = func(ctx context.Context) error { return s.flag(ctx, openid, m) }
		}
		return written, cmp.Or(werr, parallel(ctx, calls...))
	}
	// After the writes: what they changed and the early credits did not
	// count, or the recount a settling time after a flag.
	calls := make([]func(context.Context) error, 0, len(running))
	for i, m := range running {
		e := early[i]
		switch {
		case m.Recount && !s.now().Before(m.Since.Add(Settle)):
			calls = append(calls, func(ctx context.Context) error { return s.recount(ctx, openid, m, true) })
		case e.err != nil || !e.change.zero() && !e.applied:
			calls = append(calls, func(ctx context.Context) error { return s.flag(ctx, openid, m) })
		default:
			rest := s.change(m, written).minus(e.change)
			if rest.zero() {
				continue
			}
			calls = append(calls, func(ctx context.Context) error {
				ok, err := s.store.Credit(ctx, m.EventID, m.MemberID, m.Version, rest.steps, int(rest.goals))
				if err == nil && ok {
					return nil
				}
				return s.flag(ctx, openid, m)
			})
		}
	}
	return written, parallel(ctx, calls...)
}

// credited is an early credit: the change it carried and how it went.
type credited struct {
	change  change
	applied bool
	err     error
}

// change is what some days' writes add to a participant's totals.
type change struct{ steps, goals int64 }

func (c change) zero() bool { return c.steps == 0 && c.goals == 0 }

func (c change) minus(o change) change { return change{c.steps - o.steps, c.goals - o.goals} }

// change is what the days' writes, each from its Prev to its count, add to
// the totals of m's participant: only the event's days count.
func (s *Service) change(m store.EventMark, days []store.Day) change {
	first, ok1 := parseDay(m.Start)
	last, ok2 := parseDay(m.End)
	var c change
	if !ok1 || !ok2 {
		return c
	}
	r := s.rulesOf(m.DailyGoal, m.DailyCap)
	for _, d := range days {
		if at, ok := parseDay(d.Date); !ok || at < first || at > last {
			continue
		}
		newC, newMet := r.credit(d.Steps, d.SourceTS, d.Date)
		oldC, oldMet := r.credit(d.PrevSteps, d.PrevSourceTS, d.Date)
		c.steps += newC - oldC
		c.goals += b2i(newMet) - b2i(oldMet)
	}
	return c
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// flag asks m's later syncs to recount once a settling time has passed,
// when what a credit or a write did is not known. Only a flag that cannot
// be written fails the sync: its days are stored, and the recount counts
// them.
func (s *Service) flag(ctx context.Context, openid string, m store.EventMark) error {
	if err := s.store.FlagMark(ctx, openid, m, m.Version, s.now()); err != nil {
		return err
	}
	slog.WarnContext(ctx, "an event credit went wrong; the participant is recounted after the settling time", "event", m.EventID)
	return nil
}

// recount sets a participant's totals from their stored days: it reads the
// participant, then the days, and writes only if no credit or recount
// moved the participant meanwhile (else it reads again). It then gives the
// mark the new version: settle ends the recount (syncs credit beside their
// writes again); a join's keeps the mark flagged, so the first sync a
// settling time later recounts what raced the join. A participant already
// recounted since the mark was read is flagged again rather than recounted,
// as syncs that read the settled mark may be crediting beside their writes.
// A participant who left is not brought back.
func (s *Service) recount(ctx context.Context, openid string, m store.EventMark, settle bool) error {
	r := s.rulesOf(m.DailyGoal, m.DailyCap)
	first, _ := parseDay(m.Start)
	last, _ := parseDay(m.End)
	for range 5 {
		p, ok, err := s.store.Participant(ctx, m.EventID, m.MemberID)
		if err != nil || !ok {
			return err
		}
		if p.Version != m.Version {
			return s.store.FlagMark(ctx, openid, m, p.Version, s.now())
		}
		var total int64
		var goals int
		if to := min(s.today(), last); to >= first {
			days, err := s.store.ConsistentDays(ctx, openid, first.String(), to.String())
			if err != nil {
				return err
			}
			_, total, goals = r.creditedDays(days, first, to)
		}
		ok, err = s.store.SetTotals(ctx, p, total, goals)
		if err != nil {
			return err
		}
		if ok {
			if settle {
				return s.store.SettleMark(ctx, openid, m, p.Version+1)
			}
			return s.store.FlagMark(ctx, openid, m, p.Version+1, m.Since)
		}
	}
	return fmt.Errorf("%w: the participant's totals kept changing", fault.Unavailable)
}

// parallel runs the calls at once and returns the first error.
func parallel(ctx context.Context, calls ...func(context.Context) error) error {
	var g errgroup.Group
	errs := make([]error, len(calls))
	for i, call := range calls {
		g.Go(func() error { errs[i] = call(ctx); return nil })
	}
	_ = g.Wait()
	return cmp.Or(errs...)
}
