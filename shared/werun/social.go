package werun

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Defaults of SocialRules.
const (
	DefaultMembershipDays    = 90
	DefaultMaxBoardSteps     = 100000
	DefaultMaxStepsPerMinute = 250
	DefaultGroupMembers      = 500 // a WeChat group's size
	DefaultUserGroups        = 200
	DefaultFriends           = 1000
	InviteTTL                = 7 * 24 * time.Hour
	// GroupsPage is how many groups GET /v1/groups answers at once.
	GroupsPage = 50
	// exclusionsTTL is how long a container trusts its copy of the
	// operator's exclusions.
	exclusionsTTL = time.Minute
)

// SocialRules are the limits and fairness rules; a zero field is its default.
type SocialRules struct {
	MembershipDays    int   // a membership lapses this long after the last join
	MaxBoardSteps     int64 // a day above this is kept off the boards
	MaxStepsPerMinute int64 // ... and one above this many per minute of the day passed
	GroupMembers      int   // current members of a group, at most
	UserGroups        int   // current groups of a user, at most
	Friends           int   // friends of a user, at most
}

// withDefaults fills each zero field with its default.
func (r SocialRules) withDefaults() SocialRules {
	orDefault(&r.MembershipDays, DefaultMembershipDays)
	orDefault(&r.MaxBoardSteps, DefaultMaxBoardSteps)
	orDefault(&r.MaxStepsPerMinute, DefaultMaxStepsPerMinute)
	orDefault(&r.GroupMembers, DefaultGroupMembers)
	orDefault(&r.UserGroups, DefaultUserGroups)
	orDefault(&r.Friends, DefaultFriends)
	return r
}

func orDefault[T int | int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func (s *Service) membership() time.Duration {
	return time.Duration(s.social.MembershipDays) * 24 * time.Hour
}

// plausible says whether a day's count may stand on a board: at most
// MaxBoardSteps, and at most MaxStepsPerMinute for each minute of the day
// (China Standard Time) that had passed when WeChat stamped the count.
func (s *Service) plausible(n, stampedAt int64, date string) bool {
	if n > s.social.MaxBoardSteps {
		return false
	}
	start, err := time.ParseInLocation(time.DateOnly, date, steps.CST)
	if err != nil {
		return false
	}
	minutes := min(max((stampedAt-start.Unix())/60, 0), 24*60)
	return n <= minutes*s.social.MaxStepsPerMinute
}

// newID is an opaque id: 128 random bits, base64url (22 characters).
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// memberID is the caller's memberId, made on first use.
func (s *Service) memberID(ctx context.Context, openid string) (string, error) {
	return s.store.MemberID(ctx, openid, newID())
}

// exclusions caches the operator's list of memberIds kept off the boards.
type exclusions struct {
	mu    sync.Mutex
	set   map[string]bool
	until time.Time
}

func (s *Service) excludedMembers(ctx context.Context) (map[string]bool, error) {
	s.excluded.mu.Lock()
	defer s.excluded.mu.Unlock()
	now := time.Now()
	if s.excluded.set != nil && now.Before(s.excluded.until) {
		return s.excluded.set, nil
	}
	set, err := s.store.Excluded(ctx)
	if err != nil {
		return nil, err
	}
	s.excluded.set, s.excluded.until = set, now.Add(exclusionsTTL)
	return set, nil
}

// excludedOpenIDs are the openids of the excluded members, for the
// app-wide board, which the index holds by openid.
func (s *Service) excludedOpenIDs(ctx context.Context) (map[string]bool, error) {
	set, err := s.excludedMembers(ctx)
	if err != nil || len(set) == 0 {
		return nil, err
	}
	members := make([]store.Friend, 0, len(set))
	for mid := range set {
		members = append(members, store.Friend{MemberID: mid})
	}
	items, err := s.store.BoardItems(ctx, "", members, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(items))
	for _, it := range items {
		if it.Profile.OpenID != "" {
			out[it.Profile.OpenID] = true
		}
	}
	return out, nil
}

// boardDate checks a board's date: today when empty, else a day of the
// stored window.
func (s *Service) boardDate(date string) (string, error) {
	now := s.now()
	today := steps.DateOf(now)
	if date == "" {
		return today, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, date, steps.CST)
	if err != nil || d.Format(time.DateOnly) != date {
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
		if excluded[m.MemberID] || (it.HasDay && !s.plausible(it.Steps, it.SourceTS, date)) {
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

// memberBoard reads the items of members for date and ranks them; the
// items and the exclusions are read at once.
func (s *Service) memberBoard(ctx context.Context, date string, members []store.Friend, me string) (MemberBoard, error) {
	var (
		items    map[string]store.BoardItem
		excluded map[string]bool
	)
	err := both(func() (err error) { items, err = s.store.BoardItems(ctx, date, members, true); return err },
		func() (err error) { excluded, err = s.excludedMembers(ctx); return err })
	if err != nil {
		return MemberBoard{}, err
	}
	return s.rank(date, members, items, excluded, me), nil
}
