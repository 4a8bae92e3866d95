package werun

import (
	"context"
	"log/slog"
	"time"

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
	defer classify(&err)
	tokenErr := s.tokens.Refresh(ctx, TokenRefreshMargin)
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
	defer classify(&err)
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
	return rep, nil
}
