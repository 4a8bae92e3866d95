package challenge

import (
	"context"
	"sort"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
)

// Entry is one row of an event's board.
type Entry struct {
	Rank      int     `json:"rank"`
	MemberID  string  `json:"memberId"`
	Nickname  string  `json:"nickname"`
	AvatarURL string  `json:"avatarUrl"`
	TeamID    *string `json:"teamId"`
	Total     int64   `json:"total"`
	GoalDays  int     `json:"goalDays"`
	Completed bool    `json:"completed"`
	Me        bool    `json:"me"`
}

// Standing is the caller's own place on a board.
type Standing struct {
	Rank      *int  `json:"rank"`
	Total     int64 `json:"total"`
	GoalDays  int   `json:"goalDays"`
	Completed bool  `json:"completed"`
}

// Board is an event's board.
type Board struct {
	EventID      string    `json:"eventId"`
	AsOf         *string   `json:"asOf"`
	Participants int       `json:"participants"`
	Entries      []Entry   `json:"entries"`
	Me           *Standing `json:"me"`
}

// TeamRow is one team of the team board.
type TeamRow struct {
	Rank    int    `json:"rank"`
	TeamID  string `json:"teamId"`
	Name    string `json:"name"`
	Members int    `json:"members"`
	Total   int64  `json:"total"`
	Average int64  `json:"average"`
}

// Teams is an event's team board.
type Teams struct {
	EventID string    `json:"eventId"`
	AsOf    *string   `json:"asOf"`
	Teams   []TeamRow `json:"teams"`
}

// standings is what every board reads: the caller's access, every
// participant, and the operator's exclusions, in one round trip. A small
// event's participants' Query also says whether the caller is one; a big
// one's participants may come from the container's cache (standingsCache),
// with the caller's own item read beside the event's, so that the event
// (a cancel) and the caller's own standing (a join, a sync, a leave) are
// never older than the view.
type standings struct {
	access
	all      []eventstore.Participant
	excluded map[string]bool
}

func (s *Service) standings(ctx context.Context, openid, eventID string) (standings, error) {
	if !validID(eventID) {
		return standings{}, fault.EventNotFound
	}
	now := s.now()
	cached, fresh, big := s.cache.lookup(eventID, now)
	var (
		st       standings
		found    bool
		own      eventstore.Participant
		ownFound bool
	)
	reads := []func(context.Context) error{func(ctx context.Context) (err error) {
		st.memberID, err = session.MemberOf(ctx, s.store, openid)
		if err != nil || !big {
			return err
		}
		own, ownFound, err = s.store.Participant(ctx, eventID, st.memberID)
		return err
	}, func(ctx context.Context) (err error) {
		st.event, found, err = s.store.Event(ctx, eventID)
		return err
	}, func(ctx context.Context) (err error) {
		st.excluded, err = s.store.Excluded(ctx)
		return err
	}}
	switch {
	case fresh:
		st.all = cached
	case big:
		reads = append(reads, func(ctx context.Context) (err error) {
			st.all, err = s.cache.fill(ctx, eventID, s.now, s.store.EventualParticipants)
			return err
		})
	default:
		reads = append(reads, func(ctx context.Context) (err error) {
			st.all, _, err = s.store.Participants(ctx, eventID, "", 0)
			return err
		})
	}
	if err := parallel(ctx, reads...); err != nil {
		return standings{}, err
	}
	if !found {
		s.cache.drop(eventID)
		return standings{}, fault.EventNotFound
	}
	switch {
	case big:
		st.all = withOwn(st.all, st.memberID, own, ownFound)
		if !s.cache.big(st.event.Participants) {
			s.cache.drop(eventID) // small again: read fresh from the next view on
		}
	case s.cache.big(st.event.Participants):
		s.cache.put(eventID, st.all, now)
	}
	for _, p := range st.all {
		if p.MemberID == st.memberID {
			st.participant, st.isPart = p, true
		}
	}
	if !st.organizer() && !st.isPart {
		return standings{}, fault.EventNotFound
	}
	return st, nil
}

func (s *Service) asOf(e eventstore.Event) *string {
	if last, ok := spanOf(e).counted(s.today()); ok {
		d := last.String()
		return &d
	}
	return nil
}

// ranked orders participants by total descending, then memberId.
func ranked(ps []eventstore.Participant) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Total != ps[j].Total {
			return ps[i].Total > ps[j].Total
		}
		return ps[i].MemberID < ps[j].MemberID
	})
}

// Board ranks the event's participants (or one team's) by total; equal
// totals share a rank. Excluded participants count in participants only.
func (s *Service) Board(ctx context.Context, openid, eventID, teamID string) (_ Board, err error) {
	defer fault.Classify(&err)
	st, err := s.standings(ctx, openid, eventID)
	if err != nil {
		return Board{}, err
	}
	e := st.event
	if teamID != "" && checkTeam(e, teamID) != nil {
		return Board{}, fault.InvalidTeam
	}
	out := Board{EventID: e.ID, AsOf: s.asOf(e), Entries: []Entry{}}
	var shown []eventstore.Participant
	for _, p := range st.all {
		if teamID != "" && p.TeamID != teamID {
			continue
		}
		out.Participants++
		if !st.excluded[p.MemberID] {
			shown = append(shown, p)
		}
	}
	ranked(shown)
	top := shown[:min(len(shown), BoardEntries)]
	rows := append([]eventstore.Participant(nil), top...)
	var (
		myRank int
		mine   *eventstore.Participant
	)
	rank := 0
	for i, p := range shown {
		if i == 0 || p.Total != shown[i-1].Total {
			rank = i + 1
		}
		if p.MemberID == st.memberID {
			myRank, mine = rank, &shown[i]
			if i >= BoardEntries {
				rows = append(rows, p)
			}
		}
	}
	names, err := s.profiles(ctx, rows)
	if err != nil {
		return Board{}, err
	}
	rank = 0
	for i, p := range top {
		if i == 0 || p.Total != top[i-1].Total {
			rank = i + 1
		}
		prof := names[p.MemberID]
		out.Entries = append(out.Entries, Entry{Rank: rank, MemberID: p.MemberID, Nickname: prof.Nickname, AvatarURL: prof.AvatarURL,
			TeamID: teamPtr(p.TeamID), Total: p.Total, GoalDays: p.GoalDays, Completed: p.GoalDays >= e.GoalDays, Me: p.MemberID == st.memberID})
	}
	switch {
	case mine != nil:
		out.Me = &Standing{Rank: &myRank, Total: mine.Total, GoalDays: mine.GoalDays, Completed: mine.GoalDays >= e.GoalDays}
	case st.isPart && (teamID == "" || st.participant.TeamID == teamID):
		// Excluded: no rank, but their own standing.
		p := st.participant
		out.Me = &Standing{Total: p.Total, GoalDays: p.GoalDays, Completed: p.GoalDays >= e.GoalDays}
	}
	return out, nil
}

// Teams ranks the event's teams by the floor of their members' average
// total; excluded participants are left out of members and total.
func (s *Service) Teams(ctx context.Context, openid, eventID string) (_ Teams, err error) {
	defer fault.Classify(&err)
	st, err := s.standings(ctx, openid, eventID)
	if err != nil {
		return Teams{}, err
	}
	e := st.event
	rows := make([]TeamRow, len(e.Teams))
	at := make(map[string]int, len(e.Teams))
	for i, t := range e.Teams {
		rows[i] = TeamRow{TeamID: t.ID, Name: t.Name}
		at[t.ID] = i
	}
	for _, p := range st.all {
		i, ok := at[p.TeamID]
		if !ok || st.excluded[p.MemberID] {
			continue
		}
		rows[i].Members++
		rows[i].Total += p.Total
	}
	for i := range rows {
		if rows[i].Members > 0 {
			rows[i].Average = rows[i].Total / int64(rows[i].Members)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Average != rows[j].Average {
			return rows[i].Average > rows[j].Average
		}
		return rows[i].TeamID < rows[j].TeamID
	})
	for i := range rows {
		rows[i].Rank = i + 1
		if i > 0 && rows[i].Average == rows[i-1].Average {
			rows[i].Rank = rows[i-1].Rank
		}
	}
	return Teams{EventID: e.ID, AsOf: s.asOf(e), Teams: rows}, nil
}
