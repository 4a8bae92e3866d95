package challenge

import (
	"context"
	"fmt"
	"sync"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Credit brings the totals of the caller's running events up to date with
// the days a sync wrote: for each mark, one conditional UpdateItem adding
// what the writes changed, at once for all events. A credit refused
// because a recount moved the participant's version, or a mark still
// settling after a join, recounts from the stored days instead. A mark
// whose participant left credits nothing, so a leave is never undone.
func (s *Service) Credit(ctx context.Context, openid string, marks []store.EventMark, written []store.Day) (err error) {
	defer fault.Classify(&err)
	today := s.today()
	now := s.now()
	calls := make([]func(context.Context) error, 0, len(marks))
	for _, m := range marks {
		first, ok1 := parseDay(m.Start)
		last, ok2 := parseDay(m.End)
		if !ok1 || !ok2 || today > last+1 {
			continue
		}
		if m.Recount && !now.Before(m.JoinedAt.Add(s.settle)) {
			calls = append(calls, func(ctx context.Context) error { return s.recount(ctx, openid, m, false) })
			continue
		}
		r := s.rulesOf(m.DailyGoal, m.DailyCap)
		var ds int64
		var dg int
		for _, d := range written {
			dd, ok := parseDay(d.Date)
			if !ok || dd < first || dd > last {
				continue
			}
			newC, newMet := r.credit(d.Steps, d.SourceTS, d.Date)
			oldC, oldMet := r.credit(d.PrevSteps, d.PrevSourceTS, d.Date)
			ds += newC - oldC
			dg += b2i(newMet) - b2i(oldMet)
		}
		if ds == 0 && dg == 0 {
			continue
		}
		calls = append(calls, func(ctx context.Context) error {
			ok, err := s.store.Credit(ctx, m.EventID, m.MemberID, m.Version, ds, dg)
			if err != nil || ok {
				return err
			}
			return s.recount(ctx, openid, m, m.Recount)
		})
	}
	return parallel(ctx, calls...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// recount sets a participant's totals from their stored days: it reads the
// participant, then the days, and writes only if no credit or recount
// moved the participant meanwhile (else it reads again). It then gives the
// mark the new version, so the sync's credits apply again; keep says
// whether the mark still asks a later sync to recount. A participant who
// left is not brought back.
func (s *Service) recount(ctx context.Context, openid string, m store.EventMark, keep bool) error {
	r := s.rulesOf(m.DailyGoal, m.DailyCap)
	first, _ := parseDay(m.Start)
	last, _ := parseDay(m.End)
	for range 5 {
		p, ok, err := s.store.Participant(ctx, m.EventID, m.MemberID)
		if err != nil || !ok {
			return err
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
			m.Version, m.Recount = p.Version+1, keep
			return s.store.UpdateMark(ctx, openid, m)
		}
	}
	return fmt.Errorf("%w: the participant's totals kept changing", fault.Unavailable)
}

// parallel runs the calls at once and returns the first error.
func parallel(ctx context.Context, calls ...func(context.Context) error) error {
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = call(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
