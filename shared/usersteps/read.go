package usersteps

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// MaxRangeDays bounds one read, so an answer stays one small Query.
const MaxRangeDays = 366

// Days returns the stored days from..to (inclusive, "YYYY-MM-DD" in China
// Standard Time). Empty bounds default to the last 31 days. Days never synced
// are absent, not zero: WeRun only reports days the user had the app.
func (s *Service) Days(ctx context.Context, openid, from, to string) (_ []steps.Day, err error) {
	defer fault.Classify(&err)
	now := s.now()
	if to == "" {
		to = steps.DateOf(now)
	}
	if from == "" {
		from = steps.FirstDate(now)
	}
	f, err := steps.ParseDate(from)
	if err != nil {
		return nil, fmt.Errorf("%w: from must be a date like 2026-01-31", fault.InvalidRange)
	}
	t, err := steps.ParseDate(to)
	if err != nil {
		return nil, fmt.Errorf("%w: to must be a date like 2026-01-31", fault.InvalidRange)
	}
	if t.Before(f) {
		return nil, fmt.Errorf("%w: from is after to", fault.InvalidRange)
	}
	if t.Sub(f) >= MaxRangeDays*24*time.Hour {
		return nil, fmt.Errorf("%w: at most %d days at a time", fault.InvalidRange, MaxRangeDays)
	}
	stored, err := s.store.Days(ctx, openid, f.Format(time.DateOnly), t.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	return domainDays(s.days.Retained(stored, now)), nil
}

// domainDays drops what only the store keeps (source, timestamps).
func domainDays(stored []store.Day) []steps.Day {
	days := make([]steps.Day, len(stored))
	for i, d := range stored {
		days[i] = steps.Day{Date: d.Date, Steps: d.Steps}
	}
	return days
}

// UserSummary is the answer to GET /v1/steps/summary: the user's totals and
// streak, and where today's count places them among the users who synced
// today (Rank and Percentile are null until the user has synced today and
// the scheduled run has built today's board).
type UserSummary struct {
	steps.Summary
	Rank       *int     `json:"rank"`
	Percentile *float64 `json:"percentile"`
	Users      int      `json:"users"` // users on today's board
}

// Summary computes the user's summary from the stored window at read time,
// so it rolls over at midnight with nothing rewritten, and places today's
// count on the board the scheduled run last built. The two reads run at once.
func (s *Service) Summary(ctx context.Context, openid string) (_ UserSummary, err error) {
	defer fault.Classify(&err)
	now := s.now()
	today := steps.DateOf(now)
	var (
		board  boards.Board
		found  bool
		stored []store.Day
		g      errgroup.Group
	)
	g.Go(func() (err error) { board, found, err = s.boards.Published(ctx, today); return err })
	g.Go(func() (err error) { stored, err = s.store.Days(ctx, openid, steps.FirstDate(now), today); return err })
	if err := g.Wait(); err != nil {
		return UserSummary{}, err
	}
	stored = s.days.Retained(stored, now)
	var last time.Time
	synced := false
	for _, d := range stored {
		if d.UpdatedAt.After(last) {
			last = d.UpdatedAt
		}
		// A day kept off the boards carries no board key: no rank for it.
		synced = synced || (d.Date == today && d.Board != "")
	}
	out := UserSummary{Summary: steps.Summarize(domainDays(stored), now, s.goal)}
	if !last.IsZero() {
		out.LastSyncAt = last.UTC().Format(time.RFC3339)
	}
	if found {
		out.Users = board.Users
	}
	if synced && found && !slices.Contains(board.Excluded, openid) {
		rank, pct := board.Rank(out.Today)
		out.Rank, out.Percentile = &rank, &pct
	}
	return out, nil
}
