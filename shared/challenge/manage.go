package challenge

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
)

// NewEvent is the body of a create. Nil numbers take their defaults.
type NewEvent struct {
	Name      string
	StartDate string
	EndDate   string
	DailyGoal *int64
	DailyCap  *int64
	GoalDays  *int64
	Teams     []string
}

// Event is "the event" of every answer.
type Event struct {
	EventID      string            `json:"eventId"`
	Name         string            `json:"name"`
	StartDate    string            `json:"startDate"`
	EndDate      string            `json:"endDate"`
	DailyGoal    int64             `json:"dailyGoal"`
	DailyCap     int64             `json:"dailyCap"`
	GoalDays     int               `json:"goalDays"`
	Teams        []eventstore.Team `json:"teams"`
	Participants int               `json:"participants"`
	Status       string            `json:"status"`
	Final        bool              `json:"final"`
	JoinCode     string            `json:"joinCode"`
	Me           Me                `json:"me"`
}

// Me is the caller's place in an event.
type Me struct {
	Organizer   bool    `json:"organizer"`
	Participant bool    `json:"participant"`
	MemberID    string  `json:"memberId"`
	TeamID      *string `json:"teamId"`
}

func (s *Service) view(e eventstore.Event, me Me) Event {
	p, today := spanOf(e), s.today()
	teams := e.Teams
	if teams == nil {
		teams = []eventstore.Team{}
	}
	return Event{
		EventID: e.ID, Name: e.Name, StartDate: e.Start, EndDate: e.End, DailyGoal: e.DailyGoal, DailyCap: e.DailyCap,
		GoalDays: e.GoalDays, Teams: teams, Participants: e.Participants, Status: p.status(today), Final: p.final(today),
		JoinCode: e.JoinCode, Me: me,
	}
}

func teamPtr(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// Create makes an event organized by the caller.
func (s *Service) Create(ctx context.Context, openid string, in NewEvent) (_ Event, err error) {
	defer fault.Classify(&err)
	e, err := s.validEvent(in)
	if err != nil {
		return Event{}, err
	}
	texts := append([]string{e.Name}, teamNames(e.Teams)...)
	risky, err := s.text.CheckText(ctx, openid, strings.Join(texts, "\n"))
	if err != nil {
		return Event{}, err
	}
	if risky {
		return Event{}, fault.ContentRejected
	}
	mid, err := session.MemberOf(ctx, s.store, openid)
	if err != nil {
		return Event{}, err
	}
	e.ID, e.Organizer, e.JoinCode = crypto.NewID(), mid, newJoinCode()
	end, _ := parseDay(e.End)
	e.ExpiresAt = time.Unix(int64(end+1+day(s.retention()))*86400, 0)
	ok, err := s.store.PutEvent(ctx, e)
	if err != nil {
		return Event{}, err
	}
	if !ok {
		return Event{}, fmt.Errorf("%w: an event id was taken", fault.Unavailable)
	}
	return s.view(e, Me{Organizer: true, MemberID: mid}), nil
}

func (s *Service) retention() int { return s.cfg.Days.RetentionDays }

func teamNames(ts []eventstore.Team) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// validEvent checks a create's fields in the contract's order.
func (s *Service) validEvent(in NewEvent) (eventstore.Event, error) {
	if in.Name == "" {
		return eventstore.Event{}, fault.MissingEventName
	}
	name, ok := validName(in.Name, MaxName)
	if !ok {
		return eventstore.Event{}, fault.InvalidEventName
	}
	if in.StartDate == "" || in.EndDate == "" {
		return eventstore.Event{}, fault.MissingEventDates
	}
	start, ok1 := parseDay(in.StartDate)
	end, ok2 := parseDay(in.EndDate)
	today := s.today()
	if !ok1 || !ok2 || start < today-earliestStartDays || start > today+latestStartDays || end < start || int(end-start)+1 > MaxDays {
		return eventstore.Event{}, fault.InvalidEventDates
	}
	length := int64(end-start) + 1
	e := eventstore.Event{Name: name, Start: in.StartDate, End: in.EndDate, DailyGoal: s.cfg.DailyGoal, GoalDays: int(length)}
	if e.DailyGoal <= 0 || e.DailyGoal > MaxGoal {
		e.DailyGoal = 10000
	}
	if in.DailyGoal != nil {
		if *in.DailyGoal < 1 || *in.DailyGoal > MaxGoal {
			return eventstore.Event{}, fault.InvalidDailyGoal
		}
		e.DailyGoal = *in.DailyGoal
	}
	if in.DailyCap != nil {
		if c := *in.DailyCap; c != 0 && (c < e.DailyGoal || c > MaxGoal) {
			return eventstore.Event{}, fault.InvalidDailyCap
		}
		e.DailyCap = *in.DailyCap
	}
	if in.GoalDays != nil {
		if *in.GoalDays < 1 || *in.GoalDays > length {
			return eventstore.Event{}, fault.InvalidGoalDays
		}
		e.GoalDays = int(*in.GoalDays)
	}
	if len(in.Teams) > MaxTeams {
		return eventstore.Event{}, fault.InvalidTeams
	}
	seen := map[string]bool{}
	for i, t := range in.Teams {
		tn, ok := validName(t, MaxTeamName)
		if !ok || seen[tn] {
			return eventstore.Event{}, fault.InvalidTeams
		}
		seen[tn] = true
		e.Teams = append(e.Teams, eventstore.Team{ID: fmt.Sprintf("t%03d", i+1), Name: tn})
	}
	return e, nil
}

// access is what the caller is to an event.
type access struct {
	event       eventstore.Event
	memberID    string
	participant eventstore.Participant
	isPart      bool
}

func (a access) organizer() bool { return a.event.Organizer == a.memberID }

func (a access) me() Me {
	m := Me{Organizer: a.organizer(), Participant: a.isPart, MemberID: a.memberID}
	if a.isPart {
		m.TeamID = teamPtr(a.participant.TeamID)
	}
	return m
}

// open reads the event and the caller's standing in it at once; anyone
// neither organizer nor participant gets EventNotFound, as for no event.
func (s *Service) open(ctx context.Context, openid, eventID string) (access, error) {
	if !validID(eventID) {
		return access{}, fault.EventNotFound
	}
	var a access
	err := parallel(ctx, func(ctx context.Context) (err error) {
		a.memberID, err = session.MemberOf(ctx, s.store, openid)
		if err != nil {
			return err
		}
		a.participant, a.isPart, err = s.store.Participant(ctx, eventID, a.memberID)
		return err
	}, func(ctx context.Context) error {
		var ok bool
		var err error
		a.event, ok, err = s.store.Event(ctx, eventID)
		if err == nil && !ok {
			err = fault.EventNotFound
		}
		return err
	})
	if err != nil {
		return access{}, err
	}
	if !a.organizer() && !a.isPart {
		return access{}, fault.EventNotFound
	}
	return a, nil
}

// organizerOnly: participants get NotOrganizer, everyone else not found.
func (a access) organizerOnly() error {
	if !a.organizer() {
		return fault.NotOrganizer
	}
	return nil
}

// Get returns the event to its organizer and participants.
func (s *Service) Get(ctx context.Context, openid, eventID string) (_ Event, err error) {
	defer fault.Classify(&err)
	a, err := s.open(ctx, openid, eventID)
	if err != nil {
		return Event{}, err
	}
	return s.view(a.event, a.me()), nil
}

// JoinRequest is the body of a join.
type JoinRequest struct {
	JoinCode string
	TeamID   string
	Consent  bool
}

// Join adds the caller to the event a join code names, or moves them to
// another team before it starts; checks run in the contract's order.
func (s *Service) Join(ctx context.Context, openid string, in JoinRequest) (_ Event, err error) {
	defer fault.Classify(&err)
	if in.JoinCode == "" {
		return Event{}, fault.MissingJoinCode
	}
	if !validJoinCode(in.JoinCode) {
		return Event{}, fault.EventNotFound
	}
	e, ok, err := s.store.EventByCode(ctx, in.JoinCode)
	if err != nil {
		return Event{}, err
	}
	if !ok {
		return Event{}, fault.EventNotFound
	}
	today, p := s.today(), spanOf(e)
	if today > p.end {
		return Event{}, fault.EventEnded
	}
	mid, err := session.MemberOf(ctx, s.store, openid)
	if err != nil {
		return Event{}, err
	}
	var (
		dep    eventstore.Departure
		left   bool
		prof   store.Profile
		cur    eventstore.Participant
		isPart bool
	)
	err = parallel(ctx, func(ctx context.Context) (err error) {
		dep, left, err = s.store.Departure(ctx, e.ID, mid)
		return err
	}, func(ctx context.Context) (err error) {
		prof, _, err = s.store.Profile(ctx, mid)
		return err
	}, func(ctx context.Context) (err error) {
		cur, isPart, err = s.store.Participant(ctx, e.ID, mid)
		return err
	})
	if err != nil {
		return Event{}, err
	}
	if left && dep.Removed {
		return Event{}, fault.JoinRefused
	}
	if !in.Consent {
		return Event{}, fault.ConsentRequired
	}
	if err := checkTeam(e, in.TeamID); err != nil {
		return Event{}, err
	}
	if prof.Nickname == "" {
		return Event{}, fault.ProfileRequired
	}
	started := today >= p.start
	switch {
	case isPart && cur.TeamID == in.TeamID:
		return s.view(e, Me{Organizer: e.Organizer == mid, Participant: true, MemberID: mid, TeamID: teamPtr(cur.TeamID)}), nil
	case isPart && started:
		return Event{}, fault.TeamLocked
	case isPart:
		ok, err := s.store.MoveTeam(ctx, e, mid, in.TeamID)
		if err != nil {
			return Event{}, err
		}
		if !ok {
			return Event{}, fmt.Errorf("%w: the participant left while moving", fault.Unavailable)
		}
		return s.view(e, Me{Organizer: e.Organizer == mid, Participant: true, MemberID: mid, TeamID: teamPtr(in.TeamID)}), nil
	case left && started && dep.TeamID != in.TeamID:
		return Event{}, fault.TeamLocked
	}
	if err := s.takeSlot(ctx, mid, e); err != nil {
		return Event{}, err
	}
	ok, err = s.store.CountParticipants(ctx, e.ID, 1, MaxParticipants)
	if err == nil && !ok {
		err = fault.EventLimit
	}
	if err != nil {
		logFailure(ctx, "give the slot back", s.dropSlot(ctx, mid, e.ID))
		return Event{}, err
	}
	now := s.now()
	part := eventstore.Participant{EventID: e.ID, MemberID: mid, OpenID: openid, TeamID: in.TeamID}
	mark := s.markOf(e, mid, 0, now)
	added, err := s.store.AddParticipant(ctx, e, part, mark)
	if err != nil {
		return Event{}, err
	}
	if !added { // a racing join of the same caller won
		_, err := s.store.CountParticipants(ctx, e.ID, -1, 0)
		logFailure(ctx, "count out a duplicate join", err)
		e.Participants++
		return s.Get(ctx, openid, e.ID)
	}
	// A removal that raced this join wrote its departure before deleting:
	// one of the two sees the other.
	if dep, left, err := s.store.Departure(ctx, e.ID, mid); err != nil {
		return Event{}, err
	} else if left && dep.Removed {
		_, _, err := s.store.RemoveParticipant(ctx, e, mid, mark.Hide, nil)
		logFailure(ctx, "undo a join that raced a removal", err)
		return Event{}, fault.JoinRefused
	}
	if err := s.recount(ctx, openid, mark, false); err != nil {
		return Event{}, err
	}
	e.Participants++
	return s.view(e, Me{Organizer: e.Organizer == mid, Participant: true, MemberID: mid, TeamID: teamPtr(in.TeamID)}), nil
}

func (s *Service) markOf(e eventstore.Event, mid string, version int64, now time.Time) store.EventMark {
	return store.EventMark{
		EventID: e.ID, MemberID: mid, Start: e.Start, End: e.End, DailyGoal: e.DailyGoal, DailyCap: e.DailyCap,
		Hide: s.hide(e.End), Version: version, Since: now, Recount: true, ExpiresAt: e.ExpiresAt,
	}
}

func checkTeam(e eventstore.Event, teamID string) error {
	if len(e.Teams) == 0 {
		if teamID != "" {
			return fault.InvalidTeam
		}
		return nil
	}
	if teamID == "" {
		return fault.MissingTeam
	}
	for _, t := range e.Teams {
		if t.ID == teamID {
			return nil
		}
	}
	return fault.InvalidTeam
}

// takeSlot adds the event to the member's slots, unless they already take
// part in MaxOpenEvents events that have not ended; events since cancelled
// are dropped when the slots look full. Racing joins retry on the version.
func (s *Service) takeSlot(ctx context.Context, mid string, e eventstore.Event) error {
	today := s.today().String()
	for range 5 {
		slots, version, err := s.store.Slots(ctx, mid)
		if err != nil {
			return err
		}
		for id, end := range slots {
			if end < today {
				delete(slots, id)
			}
		}
		delete(slots, e.ID)
		if len(slots) >= MaxOpenEvents {
			ids := make([]string, 0, len(slots))
			for id := range slots {
				ids = append(ids, id)
			}
			live, err := s.store.Events(ctx, ids)
			if err != nil {
				return err
			}
			for id := range slots {
				if _, ok := live[id]; !ok {
					delete(slots, id)
				}
			}
			if len(slots) >= MaxOpenEvents {
				return fault.EventLimit
			}
		}
		slots[e.ID] = e.End
		ok, err := s.store.SetSlots(ctx, mid, slots, version)
		if err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("%w: the member's events kept changing", fault.Unavailable)
}

// dropSlot takes the event out of the member's slots.
func (s *Service) dropSlot(ctx context.Context, mid, eventID string) error {
	for range 5 {
		slots, version, err := s.store.Slots(ctx, mid)
		if err != nil {
			return err
		}
		if _, ok := slots[eventID]; !ok {
			return nil
		}
		delete(slots, eventID)
		ok, err := s.store.SetSlots(ctx, mid, slots, version)
		if err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("%w: the member's events kept changing", fault.Unavailable)
}

// List is a page of the caller's events.
type List struct {
	Events []Event `json:"events"`
	Cursor string  `json:"cursor,omitempty"`
}

// List returns the events the caller organizes or takes part in, latest
// start first, ListPage at a time.
func (s *Service) List(ctx context.Context, openid, cursor string) (_ List, err error) {
	defer fault.Classify(&err)
	after, err := decodeCursor(cursor)
	if err != nil {
		return List{}, err
	}
	mid, err := session.MemberOf(ctx, s.store, openid)
	if err != nil {
		return List{}, err
	}
	refs, next, err := s.store.MemberEvents(ctx, mid, after, ListPage)
	if errors.Is(err, store.ErrInvalidArgument) {
		return List{}, fault.InvalidCursor
	}
	if err != nil {
		return List{}, err
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.EventID
	}
	evs, err := s.store.Events(ctx, ids)
	if err != nil {
		return List{}, err
	}
	out := List{Events: []Event{}, Cursor: encodeCursor(next)}
	for _, r := range refs {
		e, ok := evs[r.EventID]
		if !ok {
			continue // cancelled: its index item goes with the clean-up
		}
		me := Me{Organizer: e.Organizer == mid, Participant: r.Participant, MemberID: mid}
		if r.Participant {
			me.TeamID = teamPtr(r.TeamID)
		}
		out.Events = append(out.Events, s.view(e, me))
	}
	return out, nil
}

func encodeCursor(c string) string {
	if c == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(c))
}

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 200 {
		return "", fault.InvalidCursor
	}
	return string(b), nil
}

// ParticipantRow is one participant of the organizer's list.
type ParticipantRow struct {
	MemberID string  `json:"memberId"`
	Nickname string  `json:"nickname"`
	TeamID   *string `json:"teamId"`
}

// ParticipantList is a page of participants.
type ParticipantList struct {
	Participants []ParticipantRow `json:"participants"`
	Cursor       string           `json:"cursor,omitempty"`
}

// Participants lists the participants in memberId order, for the organizer.
func (s *Service) Participants(ctx context.Context, openid, eventID, cursor string) (_ ParticipantList, err error) {
	defer fault.Classify(&err)
	a, err := s.open(ctx, openid, eventID)
	if err != nil {
		return ParticipantList{}, err
	}
	if err := a.organizerOnly(); err != nil {
		return ParticipantList{}, err
	}
	after, err := decodeCursor(cursor)
	if err != nil {
		return ParticipantList{}, err
	}
	if after != "" && !validID(after) {
		return ParticipantList{}, fault.InvalidCursor
	}
	ps, next, err := s.store.Participants(ctx, eventID, after, ParticipantsPage)
	if err != nil {
		return ParticipantList{}, err
	}
	names, err := s.profiles(ctx, ps)
	if err != nil {
		return ParticipantList{}, err
	}
	out := ParticipantList{Participants: make([]ParticipantRow, len(ps)), Cursor: encodeCursor(next)}
	for i, p := range ps {
		out.Participants[i] = ParticipantRow{MemberID: p.MemberID, Nickname: names[p.MemberID].Nickname, TeamID: teamPtr(p.TeamID)}
	}
	return out, nil
}

// profiles reads the profiles of participants, in one round trip.
func (s *Service) profiles(ctx context.Context, ps []eventstore.Participant) (map[string]store.Profile, error) {
	members := make([]store.Friend, len(ps))
	for i, p := range ps {
		members[i] = store.Friend{MemberID: p.MemberID}
	}
	items, err := s.store.BoardItems(ctx, "", members, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.Profile, len(items))
	for mid, it := range items {
		out[mid] = it.Profile
	}
	return out, nil
}

// JoinCode is the answer of a rotation.
type JoinCode struct {
	JoinCode string `json:"joinCode"`
}

// RotateJoinCode gives the event a new join code; the old one stops working.
func (s *Service) RotateJoinCode(ctx context.Context, openid, eventID string) (_ JoinCode, err error) {
	defer fault.Classify(&err)
	a, err := s.open(ctx, openid, eventID)
	if err != nil {
		return JoinCode{}, err
	}
	if err := a.organizerOnly(); err != nil {
		return JoinCode{}, err
	}
	code := newJoinCode()
	ok, err := s.store.SetJoinCode(ctx, a.event, code)
	if err != nil {
		return JoinCode{}, err
	}
	if !ok {
		return JoinCode{}, fmt.Errorf("%w: the code changed meanwhile", fault.Unavailable)
	}
	return JoinCode{JoinCode: code}, nil
}

// Remove is a leave when memberID is the caller's own, else the
// organizer's removal, after which the member cannot join again.
func (s *Service) Remove(ctx context.Context, openid, eventID, memberID string) (err error) {
	defer fault.Classify(&err)
	a, err := s.open(ctx, openid, eventID)
	if err != nil {
		return err
	}
	today, p := s.today(), spanOf(a.event)
	if today > p.end {
		return fault.EventEnded
	}
	hide := s.hide(a.event.End)
	if memberID == a.memberID && a.isPart {
		var dep *eventstore.Departure
		if today >= p.start { // the team stays locked for a rejoin
			dep = &eventstore.Departure{TeamID: a.participant.TeamID, OpenID: a.participant.OpenID}
		}
		if _, _, err := s.store.RemoveParticipant(ctx, a.event, memberID, hide, dep); err != nil {
			return err
		}
		return s.dropSlot(ctx, memberID, eventID)
	}
	if !a.organizer() {
		return fault.NotOrganizer
	}
	if !validID(memberID) {
		return fault.ParticipantNotFound
	}
	target, ok, err := s.store.Participant(ctx, eventID, memberID)
	if err != nil {
		return err
	}
	if !ok {
		return fault.ParticipantNotFound
	}
	if _, _, err := s.store.RemoveParticipant(ctx, a.event, memberID, hide, &eventstore.Departure{Removed: true, TeamID: target.TeamID, OpenID: target.OpenID}); err != nil {
		return err
	}
	return s.dropSlot(ctx, memberID, eventID)
}

// Cancel cancels the organizer's event: every later call gets not found at
// once; the items are then deleted, and what a failure leaves expires.
func (s *Service) Cancel(ctx context.Context, openid, eventID string) (err error) {
	defer fault.Classify(&err)
	a, err := s.open(ctx, openid, eventID)
	if err != nil {
		return err
	}
	if err := a.organizerOnly(); err != nil {
		return err
	}
	return s.cancel(ctx, a.event)
}

func (s *Service) cancel(ctx context.Context, e eventstore.Event) error {
	if _, err := s.store.CancelEvent(ctx, e.ID); err != nil {
		return err
	}
	logFailure(ctx, "purge a cancelled event", s.store.PurgeEvent(ctx, e, s.hide(e.End)))
	return nil
}
