// Package usersteps holds a user's own steps: a sync turns WeRun data
// (encryptedData, or a cloudID) into stored days, writing only the days that
// changed, and the reads give the days back with a summary of goals, streaks
// and the user's place on today's app-wide board.
package usersteps

import (
	"context"
	"time"

	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/opendata"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/store"
)

// DefaultGoal is the daily goal when none is configured.
const DefaultGoal = 10000

// Store is what a sync and the reads touch; *store.DynamoStore satisfies it.
type Store interface {
	LoadUser(ctx context.Context, openid, fromDate string) (store.User, error)
	WriteDays(ctx context.Context, openid string, days []store.Day) (written []store.Day, err error)
	Days(ctx context.Context, openid, from, to string) ([]store.Day, error)
}

// Config is what a Service is built from.
type Config struct {
	AppID    string
	Store    Store
	Sessions *session.Service // logins for data sent with a code
	Opener   *opendata.Opener
	Boards   *boards.Service // today's board, for the summary
	Days     day.Rules
	// MaxAge is the replay window on the watermark timestamp; 0 means
	// crypto.DefaultMaxAge.
	MaxAge time.Duration
	// Goal is the daily step goal streaks count; 0 means DefaultGoal.
	Goal int64
	// Events, when set, is told of the days each sync wrote for the
	// user's running events (package challenge).
	Events Crediter
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Crediter runs a sync's day writes (write, which writes planned) and
// brings the user's running events up to date with them; the marks are
// those the sync's read found, and each planned day carries what the read
// found of it as Prev. It returns what write returned.
type Crediter interface {
	Credit(ctx context.Context, openid string, marks []store.EventMark, planned []store.Day,
		write func(context.Context) ([]store.Day, error)) ([]store.Day, error)
}

// Service syncs and reads a user's steps. Build it once per container with
// New.
type Service struct {
	appID    string
	store    Store
	sessions *session.Service
	opener   *opendata.Opener
	boards   *boards.Service
	days     day.Rules
	maxAge   time.Duration
	goal     int64
	events   Crediter
	now      func() time.Time
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{appID: cfg.AppID, store: cfg.Store, sessions: cfg.Sessions, opener: cfg.Opener, boards: cfg.Boards,
		days: cfg.Days.WithDefaults(), maxAge: cfg.MaxAge, goal: cfg.Goal, events: cfg.Events, now: cfg.Now}
	if s.maxAge <= 0 {
		s.maxAge = crypto.DefaultMaxAge
	}
	if s.goal <= 0 {
		s.goal = DefaultGoal
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}
