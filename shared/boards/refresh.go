package boards

import (
	"context"
	"log/slog"
	"time"

	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/steps"
)

// TokenRefreshMargin is how far ahead of expiry the scheduled run replaces
// the shared access token, so requests never wait on WeChat for it. Runs are
// every 15 minutes: a margin of two runs survives one failed run.
const TokenRefreshMargin = 30 * time.Minute

// RefreshReport says what one scheduled run did.
type RefreshReport struct {
	TokenRefreshed bool     `json:"tokenRefreshed"`
	Boards         []string `json:"boards"`  // dates whose board is complete
	Changed        []string `json:"changed"` // dates whose published board changed
	Pending        []string `json:"pending"` // dates to be continued by the next run
	Users          int      `json:"users"`   // users on today's board, when complete
	// Unboarded is how many days of two days ago this run took out of the
	// leaderboard index, so the index holds at most three days: today,
	// yesterday, and the day before until a run clears it.
	Unboarded int `json:"unboarded"`
	// Deletions is how many deletions' second passes this run finished.
	Deletions int `json:"deletions"`
}

// Refresh is the scheduled run: it keeps the shared access token ahead of
// expiry, then builds the boards (BuildBoards). A failed token refresh does
// not stop the boards; it is tried next run and, failing that, by the first
// request that needs the token. Each run publishes its users and duration as
// metrics.
func (s *Service) Refresh(ctx context.Context) (rep RefreshReport, err error) {
	start := time.Now()
	defer func() {
		outcome := metrics.ErrOutcome(err)
		metrics.RefreshUsers.Add(ctx, float64(rep.Users), outcome)
		metrics.RefreshDuration.Add(ctx, float64(time.Since(start).Milliseconds()), outcome)
	}()
	defer fault.Classify(&err)
	tokenErr := s.opener.RefreshAccessToken(ctx, TokenRefreshMargin)
	if tokenErr != nil {
		slog.WarnContext(ctx, "access token refresh failed", "err", tokenErr.Error())
	}
	rep, err = s.BuildBoards(ctx)
	rep.TokenRefreshed = tokenErr == nil
	return rep, err
}

// BuildBoards builds today's leaderboard from the sparse index of users who
// synced today. In the first hour of a day it also finishes yesterday's
// board, so syncs from just before midnight are counted in it. A run that
// meets its deadline saves where it stopped; a second run over the same data
// changes nothing.
func (s *Service) BuildBoards(ctx context.Context) (_ RefreshReport, err error) {
	defer fault.Classify(&err)
	rep := RefreshReport{Boards: []string{}, Changed: []string{}, Pending: []string{}}
	now := s.now().In(steps.CST)
	dates := []string{steps.DateOf(now)}
	if now.Hour() == 0 {
		dates = append([]string{steps.DateOf(now.AddDate(0, 0, -1))}, dates...)
	}
	for i, date := range dates {
		complete, changed, users, err := s.buildBoard(ctx, date)
		if err != nil {
			return rep, err
		}
		if complete {
			if i == len(dates)-1 { // today
				rep.Users = users
			}
			rep.Boards = append(rep.Boards, date)
		} else {
			rep.Pending = append(rep.Pending, date)
		}
		if changed {
			rep.Changed = append(rep.Changed, date)
		}
	}
	rep.Unboarded, err = s.clearBoards(ctx, steps.DateOf(now.AddDate(0, 0, -2)))
	return rep, err
}

// clearBoards takes a past date's days out of the leaderboard index (the
// days stay), shard by shard, until done or the deadline nears; each of a
// day's 96 runs continues what the last left. Without it, every day a user
// synced would stay in the index for the day's retention.
func (s *Service) clearBoards(ctx context.Context, date string) (int, error) {
	deadline, bounded := ctx.Deadline()
	total := 0
	for shard := range day.Shards {
		cursor := ""
		for {
			if bounded && time.Until(deadline) < stopMargin {
				return total, nil
			}
			n, next, err := s.store.ClearBoard(ctx, day.Shard(date, shard), cursor)
			if err != nil {
				return total, err
			}
			total += n
			if cursor = next; next == "" {
				break
			}
		}
	}
	return total, nil
}
