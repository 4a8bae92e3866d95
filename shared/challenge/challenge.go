// Package challenge owns step challenges: time-boxed events with teams, a
// daily goal and cap, goal days, a board kept up to date at sync time, and
// the organizer's export. Each use case is a plain method over typed values;
// the HTTP adapter is in package api.
//
// Totals are kept per participant so a board is one Query: a sync credits
// each change of a day exactly once while the participant's recount
// version matches its mark, beside its writes from what it read, and after
// them for what another sync changed in between. A join, and a credit or a
// write whose effect is not known, flag the mark; the first sync a
// settling time later recounts from the stored days.
package challenge

import (
	"context"
	"crypto/rand"
	"iter"
	"log/slog"
	"time"

	dayrules "github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"

	"github.com/werun-sam/werun-sam/shared/store"
)

// Store is the storage the challenges need: their own items
// (*eventstore.Store) and what they read of users (*store.DynamoStore).
type Store interface {
	MemberID(ctx context.Context, openid, newID string) (string, error)
	LookupMemberID(ctx context.Context, openid string) (string, bool, error)
	Profile(ctx context.Context, memberID string) (store.Profile, bool, error)
	BoardItems(ctx context.Context, date string, members []store.Friend, profiles bool) (map[string]store.BoardItem, error)
	Excluded(ctx context.Context) (map[string]bool, error)
	ConsistentDays(ctx context.Context, openid, from, to string) ([]store.Day, error)
	// Days is an eventually consistent read, for the export.
	Days(ctx context.Context, openid, from, to string) ([]store.Day, error)

	PutEvent(ctx context.Context, e eventstore.Event) (bool, error)
	Event(ctx context.Context, eventID string) (eventstore.Event, bool, error)
	EventByCode(ctx context.Context, code string) (eventstore.Event, bool, error)
	Events(ctx context.Context, ids []string) (map[string]eventstore.Event, error)
	SetJoinCode(ctx context.Context, e eventstore.Event, code string) (bool, error)
	CancelEvent(ctx context.Context, eventID string) (bool, error)
	PurgeEvent(ctx context.Context, e eventstore.Event, hide string) error
	CountParticipants(ctx context.Context, eventID string, delta, max int) (bool, error)
	Participant(ctx context.Context, eventID, memberID string) (eventstore.Participant, bool, error)
	Participants(ctx context.Context, eventID, after string, limit int) ([]eventstore.Participant, string, error)
	// EventualParticipants reads every participant eventually consistent,
	// for a big event's cached standings.
	EventualParticipants(ctx context.Context, eventID string) ([]eventstore.Participant, error)
	AddParticipant(ctx context.Context, e eventstore.Event, p eventstore.Participant, m store.EventMark) (bool, error)
	MoveTeam(ctx context.Context, e eventstore.Event, memberID, teamID string) (bool, error)
	RemoveParticipant(ctx context.Context, e eventstore.Event, memberID, hide string, dep *eventstore.Departure) (eventstore.Participant, bool, error)
	Departure(ctx context.Context, eventID, memberID string) (eventstore.Departure, bool, error)
	Slots(ctx context.Context, memberID string) (map[string]string, int64, error)
	SetSlots(ctx context.Context, memberID string, slots map[string]string, version int64) (bool, error)
	Credit(ctx context.Context, eventID, memberID string, version, total int64, goalDays int) (bool, error)
	SetTotals(ctx context.Context, p eventstore.Participant, total int64, goalDays int) (bool, error)
	FlagMark(ctx context.Context, openid string, m store.EventMark, version int64, since time.Time) error
	SettleMark(ctx context.Context, openid string, m store.EventMark, version int64) error
	MemberEvents(ctx context.Context, memberID, cursor string, limit int) ([]eventstore.EventRef, string, error)
}

// TextChecker runs WeChat's content check on displayed text;
// *social.Service satisfies it.
type TextChecker interface {
	CheckText(ctx context.Context, openid, text string) (risky bool, err error)
}

// Limits and defaults of the contract.
const (
	MaxParticipants   = 5000
	MaxTeams          = 100
	MaxDays           = 100
	MaxOpenEvents     = 20 // events not ended a user takes part in
	MaxName           = 32
	MaxTeamName       = 16
	MaxGoal           = 100000
	ListPage          = 50
	ParticipantsPage  = 100
	BoardEntries      = 100
	earliestStartDays = 30
	latestStartDays   = 90
	// Settle is how long after a flag (a join, a credit gone wrong) the
	// first sync recounts: longer than a sync can run, so every sync
	// that raced the flag (read no mark, or credits beside its writes) has
	// finished and its days are in the count.
	Settle = time.Minute
)

// Config is what a Service is built from.
type Config struct {
	Store Store
	Text  TextChecker
	// DailyGoal is an event's default goal (DAILY_GOAL).
	DailyGoal int64
	// Days are the rules of a stored day: a day kept off the boards is
	// credited 0, and an event's items stay RetentionDays after its endDate.
	Days dayrules.Rules
	// Window is how many days a sync reads (steps.WindowDays).
	Window int
	// Sheet writes the export's XLSX (sheet.Write); nil in a function that
	// does not answer the export, which then fails to.
	Sheet func(rows iter.Seq[[]any]) ([]byte, error)
	// A board or team board of an event with at least CacheFrom
	// participants ranks the participants this container read at most
	// CacheTTL ago, with the caller's own item read fresh; smaller events
	// are read fresh. At most CacheEvents events are kept. Zero means
	// DefaultCacheFrom, DefaultCacheTTL, DefaultCacheEvents.
	CacheFrom   int
	CacheTTL    time.Duration
	CacheEvents int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service runs the use cases; build it once per container.
type Service struct {
	store Store
	text  TextChecker
	cfg   Config
	clock func() time.Time
	cache *standingsCache
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	cfg.Days = cfg.Days.WithDefaults()
	s := &Service{store: cfg.Store, text: cfg.Text, cfg: cfg, clock: cfg.Now, cache: newStandingsCache(cfg)}
	if s.clock == nil {
		s.clock = time.Now
	}
	return s
}

func (s *Service) now() time.Time { return s.clock() }

// codeAlphabet leaves out letters and digits read alike (0 O 1 I L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

const codeLen = 10

// newJoinCode is about 50 random bits, easy to read out and type.
func newJoinCode() string {
	b := make([]byte, codeLen)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// validID: a 22-character base64url id, checked before any read.
func validID(id string) bool {
	if len(id) != 22 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validJoinCode(code string) bool {
	if len(code) != codeLen {
		return false
	}
	for i := 0; i < len(code); i++ {
		if !containsByte(codeAlphabet, code[i]) {
			return false
		}
	}
	return true
}

func containsByte(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}

// logFailure notes a best-effort step that failed; the answer stands.
func logFailure(ctx context.Context, what string, err error) {
	if err != nil {
		slog.WarnContext(ctx, "challenge: "+what, "err", err.Error())
	}
}
