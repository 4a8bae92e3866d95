// Package social holds what users do with each other: profiles (the
// nickname and avatar others see, and the opaque memberId they are known
// by), groups joined from a chat's share card, friends made through invite
// codes, and the group and friends boards of a day. No answer names a user
// by a WeChat id.
package social

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/opendata"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Defaults of Limits.
const (
	DefaultMembershipDays = 90
	DefaultGroupMembers   = 500 // a WeChat group's size
	DefaultUserGroups     = 200
	DefaultFriends        = 1000
	InviteTTL             = 7 * 24 * time.Hour
	// GroupsPage is how many groups GET /v1/groups answers at once.
	GroupsPage = 50
)

// Limits are the sizes of groups and friend lists; a zero field is its
// default.
type Limits struct {
	MembershipDays int // a membership lapses this long after the last join
	GroupMembers   int // current members of a group, at most
	UserGroups     int // current groups of a user, at most
	Friends        int // friends of a user, at most
}

func (l Limits) withDefaults() Limits {
	orDefault(&l.MembershipDays, DefaultMembershipDays)
	orDefault(&l.GroupMembers, DefaultGroupMembers)
	orDefault(&l.UserGroups, DefaultUserGroups)
	orDefault(&l.Friends, DefaultFriends)
	return l
}

func orDefault(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// Store is what the social use cases read and write; *store.DynamoStore
// satisfies it.
type Store interface {
	LoadUser(ctx context.Context, openid, fromDate string) (store.User, error)
	LookupMemberID(ctx context.Context, openid string) (string, bool, error)
	MemberID(ctx context.Context, openid, newID string) (string, error)
	Profile(ctx context.Context, memberID string) (store.Profile, bool, error)
	PutProfile(ctx context.Context, p store.Profile) error
	GroupID(ctx context.Context, openGID, newID string) (string, error)
	GroupMembers(ctx context.Context, groupID string, now time.Time) ([]store.Membership, error)
	MemberGroups(ctx context.Context, memberID string, now time.Time) ([]store.Membership, error)
	Join(ctx context.Context, m store.Membership) error
	Renew(ctx context.Context, m store.Membership, now time.Time) (bool, error)
	Tally(ctx context.Context, set store.Limited) (store.Tally, error)
	RaiseTally(ctx context.Context, set store.Limited, limit int, at time.Time) (bool, error)
	ResetTally(ctx context.Context, set store.Limited, read store.Tally, promised int, at time.Time) (bool, error)
	Leave(ctx context.Context, groupID, memberID string) error
	Friends(ctx context.Context, memberID string) ([]store.Friend, error)
	Befriend(ctx context.Context, a, b store.Friend, since time.Time) error
	Unfriend(ctx context.Context, memberID, friendID string) (bool, error)
	PutInvite(ctx context.Context, inv store.Invite) error
	Invite(ctx context.Context, code string) (store.Invite, bool, error)
	BoardItems(ctx context.Context, date string, members []store.Friend, profiles bool) (map[string]store.BoardItem, error)
}

// WeChat is the part of WeChat's server API a profile write calls;
// *wechat.Client satisfies it.
type WeChat interface {
	MsgSecCheck(ctx context.Context, accessToken, openid string, scene int, content string) (string, error)
}

// Config is what a Service is built from.
type Config struct {
	AppID  string
	Store  Store
	WeChat WeChat
	Opener *opendata.Opener
	Boards *boards.Service // the operator's exclusions
	Days   day.Rules
	Limits Limits
	// AvatarHosts limits avatar links to the operator's storage; zero
	// allows any public host name.
	AvatarHosts display.Hosts
	// MaxAge is the replay window on a group payload's watermark; 0 means
	// crypto.DefaultMaxAge.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service runs the social use cases. Build it once per container with New.
type Service struct {
	appID  string
	store  Store
	wechat WeChat
	opener *opendata.Opener
	boards *boards.Service
	days   day.Rules
	limits Limits
	// avatarHosts limits avatar links to the operator's storage.
	avatarHosts display.Hosts
	maxAge      time.Duration
	now         func() time.Time
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{appID: cfg.AppID, store: cfg.Store, wechat: cfg.WeChat, opener: cfg.Opener, boards: cfg.Boards,
		days: cfg.Days.WithDefaults(), limits: cfg.Limits.withDefaults(), avatarHosts: cfg.AvatarHosts, maxAge: cfg.MaxAge, now: cfg.Now}
	if s.maxAge <= 0 {
		s.maxAge = crypto.DefaultMaxAge
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

func (s *Service) membership() time.Duration {
	return time.Duration(s.limits.MembershipDays) * 24 * time.Hour
}

// memberID is the caller's memberId (session.MemberOf).
func (s *Service) memberID(ctx context.Context, openid string) (string, error) {
	return session.MemberOf(ctx, s.store, openid)
}

// boardDate checks a board's date: today when empty, else a day of the
// stored window.
func (s *Service) boardDate(date string) (string, error) {
	now := s.now()
	today := steps.DateOf(now)
	if date == "" {
		return today, nil
	}
	if _, err := steps.ParseDate(date); err != nil {
		return "", fmt.Errorf("%w: date must be a date like 2026-01-31", fault.BoardDate)
	}
	if date < steps.FirstDate(now) || date > today {
		return "", fmt.Errorf("%w: date must be one of the last %d days", fault.BoardDate, steps.WindowDays)
	}
	return date, nil
}

// MemberBoard is a group's or the friends' board of one day.
type MemberBoard struct {
	Date    string        `json:"date"`
	Members int           `json:"members"`
	Entries []MemberEntry `json:"entries"`
	Me      Place         `json:"me"`
}

// MemberEntry is one member on a board. It names the member by memberId
// and the profile they chose, never by a WeChat id.
type MemberEntry struct {
	Rank      int    `json:"rank"`
	MemberID  string `json:"memberId"`
	Nickname  string `json:"nickname"`
	AvatarURL string `json:"avatarUrl"`
	Steps     int64  `json:"steps"`
	Me        bool   `json:"me"`
}

// Place is the caller's own line: Rank is null when their day is kept off.
type Place struct {
	Rank  *int  `json:"rank"`
	Steps int64 `json:"steps"`
}

// rank builds the board of members from their items: entries by steps
// descending, equal steps sharing a rank (1, 2, 2, 4), members without a
// day at 0; excluded members and implausible days are left out.
func (s *Service) rank(date string, members []store.Friend, items map[string]store.BoardItem, excluded map[string]bool, me string) MemberBoard {
	b := MemberBoard{Date: date, Members: len(members), Entries: []MemberEntry{}}
	onBoard := false
	for _, m := range members {
		it := items[m.MemberID]
		if m.MemberID == me {
			b.Me.Steps = it.Steps
		}
		if excluded[m.MemberID] || (it.HasDay && !s.days.Plausible(it.Steps, it.SourceTS, date)) {
			continue
		}
		onBoard = onBoard || m.MemberID == me
		b.Entries = append(b.Entries, MemberEntry{MemberID: m.MemberID, Nickname: it.Profile.Nickname,
			AvatarURL: it.Profile.AvatarURL, Steps: it.Steps, Me: m.MemberID == me})
	}
	sort.Slice(b.Entries, func(i, j int) bool {
		if b.Entries[i].Steps != b.Entries[j].Steps {
			return b.Entries[i].Steps > b.Entries[j].Steps
		}
		return b.Entries[i].MemberID < b.Entries[j].MemberID
	})
	for i := range b.Entries {
		b.Entries[i].Rank = i + 1
		if i > 0 && b.Entries[i].Steps == b.Entries[i-1].Steps {
			b.Entries[i].Rank = b.Entries[i-1].Rank
		}
		if b.Entries[i].Me && onBoard {
			r := b.Entries[i].Rank
			b.Me.Rank = &r
		}
	}
	return b
}

// memberBoard reads the items of members for date and ranks them.
func (s *Service) memberBoard(ctx context.Context, date string, members []store.Friend, me string) (MemberBoard, error) {
	items, excluded, err := s.boardItems(ctx, date, members, true)
	if err != nil {
		return MemberBoard{}, err
	}
	return s.rank(date, members, items, excluded, me), nil
}

// boardItems reads the members' items (BoardItems) and the operator's
// exclusions at once.
func (s *Service) boardItems(ctx context.Context, date string, members []store.Friend, profiles bool) (map[string]store.BoardItem, map[string]bool, error) {
	var (
		items    map[string]store.BoardItem
		excluded map[string]bool
		g        errgroup.Group
	)
	g.Go(func() (err error) { items, err = s.store.BoardItems(ctx, date, members, profiles); return err })
	g.Go(func() (err error) { excluded, err = s.boards.ExcludedMembers(ctx); return err })
	return items, excluded, g.Wait()
}
