// Package eventstore owns the step challenges' items in the table: an
// event, its join code, its participants with their running totals, who
// left or was removed, each member's events and the slots that bound them.
// The marks in a user's own partition, which tell the sync which events to
// credit, are package store's (the user's partition is its). The layout is
// docs/DESIGN.md's data-model table.
//
// Participant items hold no names (profiles are read for the shown rows
// only), so a 5,000-participant event is one Query page of about 0.6 MB.
package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// Store is the step challenges' storage on one table; the challenge use
// case pairs it with a *store.DynamoStore for what it reads of users.
type Store struct {
	t ddb.Table
}

// New returns a Store on the table t (store.DynamoStore's Table).
func New(t ddb.Table) *Store { return &Store{t: t} }

// Team is one team of an event.
type Team struct {
	ID   string `json:"teamId"`
	Name string `json:"name"`
}

// Event is an event's settings and state.
type Event struct {
	ID, Name, Start, End string // dates YYYY-MM-DD (CST)
	DailyGoal, DailyCap  int64
	GoalDays             int
	Teams                []Team
	Organizer            string // memberId
	JoinCode             string
	Participants         int
	ExpiresAt            time.Time
}

// Participant is one participant's standing.
type Participant struct {
	EventID, MemberID, OpenID, TeamID string
	Total                             int64
	GoalDays                          int
	// Version counts recounts; Credits counts credits applied. A recount
	// writes only if neither moved since it read them.
	Version, Credits int64
	ExpiresAt        time.Time
}

// Departure records that a member left an event that ran, or was removed.
type Departure struct {
	Removed bool
	TeamID  string
	// OpenID is the participant's: OpenIDIndex lists the record, so that
	// the participant's account deletion finds it.
	OpenID string
}

// EventRef is one event of a member's list.
type EventRef struct {
	EventID, TeamID        string
	Organizer, Participant bool
}

const (
	metaSK     = "META"
	slotsSK    = "EVSLOTS"
	evIndexPfx = "EVENT#"
)

func eventKey(id string) map[string]types.AttributeValue      { return ddb.Key("EVENT#"+id, metaSK) }
func joinCodeKey(code string) map[string]types.AttributeValue { return ddb.Key("ECODE#"+code, "ECODE") }
func partKey(eid, mid string) map[string]types.AttributeValue {
	return ddb.Key("EVP#"+eid, mid)
}
func goneKey(eid, mid string) map[string]types.AttributeValue { return ddb.Key("EVGONE#"+eid, mid) }

// indexSK orders a member's events by start date, latest first, then id.
func indexSK(start, eid string) string {
	d, _ := strconv.Atoi(strings.ReplaceAll(start, "-", ""))
	return fmt.Sprintf("%s%08d#%s", evIndexPfx, 99999999-d, eid)
}

func indexKey(mid, start, eid string) map[string]types.AttributeValue {
	return ddb.Key("MEMBER#"+mid, indexSK(start, eid))
}

func eventItem(e Event) (map[string]types.AttributeValue, error) {
	teams, err := json.Marshal(e.Teams)
	if err != nil {
		return nil, err
	}
	item := eventKey(e.ID)
	item["name"] = ddb.S(e.Name)
	item["start"], item["end"] = ddb.S(e.Start), ddb.S(e.End)
	item["goal"], item["cap"], item["goalDays"] = ddb.N(e.DailyGoal), ddb.N(e.DailyCap), ddb.N(int64(e.GoalDays))
	item["teams"] = ddb.S(string(teams))
	item["org"], item["code"] = ddb.S(e.Organizer), ddb.S(e.JoinCode)
	item["pc"] = ddb.N(int64(e.Participants))
	item["expiresAt"] = ddb.N(e.ExpiresAt.Unix())
	return item, nil
}

func eventOf(item map[string]types.AttributeValue) (Event, bool) {
	if item == nil || ddb.Num(item["cancelled"]) == 1 {
		return Event{}, false
	}
	e := Event{
		ID: strings.TrimPrefix(ddb.Str(item["PK"]), "EVENT#"), Name: ddb.Str(item["name"]),
		Start: ddb.Str(item["start"]), End: ddb.Str(item["end"]),
		DailyGoal: ddb.Num(item["goal"]), DailyCap: ddb.Num(item["cap"]), GoalDays: int(ddb.Num(item["goalDays"])),
		Organizer: ddb.Str(item["org"]), JoinCode: ddb.Str(item["code"]), Participants: int(ddb.Num(item["pc"])),
		ExpiresAt: time.Unix(ddb.Num(item["expiresAt"]), 0),
	}
	if json.Unmarshal([]byte(ddb.Str(item["teams"])), &e.Teams) != nil {
		return Event{}, false
	}
	return e, true
}

// PutEvent writes a new event, its join code and the organizer's index
// item; false when the id is taken.
func (d *Store) PutEvent(ctx context.Context, e Event) (bool, error) {
	if e.ID == "" || e.Organizer == "" || e.JoinCode == "" {
		return false, fmt.Errorf("store: PutEvent: empty id: %w", ddb.ErrInvalidArgument)
	}
	item, err := eventItem(e)
	if err != nil {
		return false, fmt.Errorf("store: PutEvent: %w", err)
	}
	ok, err := d.t.PutNew(ctx, "PutEvent", item)
	if !ok || err != nil {
		return ok, err
	}
	code := joinCodeKey(e.JoinCode)
	code["eventId"], code["expiresAt"] = ddb.S(e.ID), ddb.N(e.ExpiresAt.Unix())
	idx := indexKey(e.Organizer, e.Start, e.ID)
	idx["org"], idx["expiresAt"] = ddb.N(1), ddb.N(e.ExpiresAt.Unix())
	return true, ddb.Parallel(ctx, "PutEvent", d.putter(code), d.putter(idx))
}

func (d *Store) putter(item map[string]types.AttributeValue) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: item})
		return err
	}
}

func (d *Store) deleter(k map[string]types.AttributeValue) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.t.Name, Key: k})
		return err
	}
}

// Event reads an event with a strongly consistent GetItem; a cancelled
// event is not found.
func (d *Store) Event(ctx context.Context, eventID string) (Event, bool, error) {
	// Projected, as every read of a function that may not read secrets is.
	out, err := d.t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.t.Name, Key: eventKey(eventID), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("PK, #n, #s, #e, goal, cap, goalDays, org, code, pc, expiresAt, teams, cancelled"),
		ExpressionAttributeNames: map[string]string{"#n": "name", "#s": "start", "#e": "end"},
	})
	if err != nil {
		return Event{}, false, ddb.Wrap("Event", err)
	}
	e, ok := eventOf(out.Item)
	return e, ok, nil
}

// EventByCode reads the event a join code names; a code the event no
// longer holds is not found.
func (d *Store) EventByCode(ctx context.Context, code string) (Event, bool, error) {
	item, err := d.t.Get(ctx, "EventByCode", joinCodeKey(code), true)
	if err != nil || item == nil {
		return Event{}, false, err
	}
	e, ok, err := d.Event(ctx, ddb.Str(item["eventId"]))
	if err != nil || !ok || e.JoinCode != code {
		return Event{}, false, err
	}
	return e, true, nil
}

// Events reads many events with parallel BatchGetItems; cancelled ones
// are left out.
func (d *Store) Events(ctx context.Context, ids []string) (map[string]Event, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = eventKey(id)
	}
	items, err := d.t.BatchGet(ctx, "Events", keys, "")
	if err != nil {
		return nil, err
	}
	out := make(map[string]Event, len(items))
	for _, item := range items {
		if e, ok := eventOf(item); ok {
			out[e.ID] = e
		}
	}
	return out, nil
}

// SetJoinCode gives the event a new join code; the old one stops naming
// it at once (EventByCode checks the event's code). False when the event
// is gone or its code changed meanwhile.
func (d *Store) SetJoinCode(ctx context.Context, e Event, code string) (bool, error) {
	item := joinCodeKey(code)
	item["eventId"], item["expiresAt"] = ddb.S(e.ID), ddb.N(e.ExpiresAt.Unix())
	if err := ddb.Parallel(ctx, "SetJoinCode", d.putter(item)); err != nil {
		return false, err
	}
	ok, err := d.t.ConditionalUpdate(ctx, "SetJoinCode", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: eventKey(e.ID),
		UpdateExpression:          aws.String("SET code = :new"),
		ConditionExpression:       aws.String("code = :old AND attribute_not_exists(cancelled)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":new": ddb.S(code), ":old": ddb.S(e.JoinCode)},
	})
	if err != nil || !ok {
		return ok, err
	}
	return true, ddb.Parallel(ctx, "SetJoinCode", d.deleter(joinCodeKey(e.JoinCode)))
}

// CancelEvent marks the event cancelled, so every read finds nothing from
// now on; false when it was not there.
func (d *Store) CancelEvent(ctx context.Context, eventID string) (bool, error) {
	return d.t.ConditionalUpdate(ctx, "CancelEvent", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: eventKey(eventID),
		UpdateExpression:          aws.String("SET cancelled = :one"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(cancelled)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": ddb.N(1)},
	})
}

// PurgeEvent deletes a cancelled event's items: each participant's item,
// mark and index item, the departures, the code and the event itself (last,
// so a purge cut short can be run again from the event); hide is the marks'
// as they were written. Slots are left to the member's next join, which
// drops events that are gone.
func (d *Store) PurgeEvent(ctx context.Context, e Event, hide string) error {
	parts, err := d.t.Pages(ctx, "PurgeEvent", &dynamodb.QueryInput{
		TableName: &d.t.Name, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S("EVP#" + e.ID)},
		ProjectionExpression:      aws.String("PK, SK, openid"),
	})
	if err != nil {
		return err
	}
	gone, err := d.t.Pages(ctx, "PurgeEvent", &dynamodb.QueryInput{
		TableName: &d.t.Name, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S("EVGONE#" + e.ID)},
		ProjectionExpression:      aws.String("PK, SK"),
	})
	if err != nil {
		return err
	}
	var keys []ddb.Item
	for _, it := range parts {
		mid := ddb.Str(it["SK"])
		keys = append(keys, partKey(e.ID, mid), indexKey(mid, e.Start, e.ID))
		if o := ddb.Str(it["openid"]); o != "" {
			keys = append(keys, store.MarkKey(o, hide, e.ID))
		}
	}
	for _, it := range gone {
		keys = append(keys, goneKey(e.ID, ddb.Str(it["SK"])))
	}
	keys = append(keys, joinCodeKey(e.JoinCode), indexKey(e.Organizer, e.Start, e.ID))
	if err := d.t.DeleteAll(ctx, "PurgeEvent", keys); err != nil {
		return err
	}
	return ddb.Parallel(ctx, "PurgeEvent", d.deleter(eventKey(e.ID)))
}

// CountParticipants adds delta to the event's participant count; with
// delta > 0 only while the count stays at most max and the event is not
// cancelled (false otherwise).
func (d *Store) CountParticipants(ctx context.Context, eventID string, delta, max int) (bool, error) {
	in := &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: eventKey(eventID),
		UpdateExpression:          aws.String("ADD pc :d"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": ddb.N(int64(delta))},
	}
	if delta > 0 {
		in.ConditionExpression = aws.String("attribute_exists(PK) AND attribute_not_exists(cancelled) AND pc <= :max")
		in.ExpressionAttributeValues[":max"] = ddb.N(int64(max - delta))
	}
	return d.t.ConditionalUpdate(ctx, "CountParticipants", in)
}

func participantOf(eid string, item map[string]types.AttributeValue) Participant {
	return Participant{
		EventID: eid, MemberID: ddb.Str(item["SK"]), OpenID: ddb.Str(item["openid"]), TeamID: ddb.Str(item["t"]),
		Total: ddb.Num(item["s"]), GoalDays: int(ddb.Num(item["g"])), Version: ddb.Num(item["v"]), Credits: ddb.Num(item["x"]),
		ExpiresAt: ddb.UnixOrZero(item["expiresAt"]),
	}
}

// Participant reads one participant, strongly consistent.
func (d *Store) Participant(ctx context.Context, eventID, memberID string) (Participant, bool, error) {
	item, err := d.t.Get(ctx, "Participant", partKey(eventID, memberID), true)
	if err != nil || item == nil {
		return Participant{}, false, err
	}
	return participantOf(eventID, item), true, nil
}

// Participants reads the participants after memberId `after` in memberId
// order: limit of them with the next cursor, or all (limit 0); strongly
// consistent, so a join is on its own board at once (5,000 participants of
// about 110 bytes are one page, some 135 read units).
func (d *Store) Participants(ctx context.Context, eventID, after string, limit int) ([]Participant, string, error) {
	in := &dynamodb.QueryInput{
		TableName: &d.t.Name, KeyConditionExpression: aws.String("PK = :pk AND SK > :after"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S("EVP#" + eventID), ":after": ddb.S(after)},
	}
	in.ConsistentRead = aws.Bool(true)
	if limit <= 0 {
		out, err := d.allParticipants(ctx, "Participants", eventID, in)
		return out, "", err
	}
	in.Limit = aws.Int32(int32(limit + 1))
	out, err := d.t.DB.Query(ctx, in)
	if err != nil {
		return nil, "", ddb.Wrap("Participants", err)
	}
	ps := make([]Participant, 0, len(out.Items))
	for _, it := range out.Items {
		ps = append(ps, participantOf(eventID, it))
	}
	next := ""
	if len(ps) > limit {
		ps = ps[:limit]
		next = ps[limit-1].MemberID
	}
	return ps, next, nil
}

// EventualParticipants reads every participant, eventually consistent:
// half the read units of Participants, for standings that may be a few
// seconds old (a big event's board, kept per container).
func (d *Store) EventualParticipants(ctx context.Context, eventID string) ([]Participant, error) {
	return d.allParticipants(ctx, "EventualParticipants", eventID, &dynamodb.QueryInput{
		TableName: &d.t.Name, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": ddb.S("EVP#" + eventID)},
	})
}

func (d *Store) allParticipants(ctx context.Context, op, eventID string, in *dynamodb.QueryInput) ([]Participant, error) {
	items, err := d.t.Pages(ctx, op, in)
	if err != nil {
		return nil, err
	}
	out := make([]Participant, len(items))
	for i, it := range items {
		out[i] = participantOf(eventID, it)
	}
	return out, nil
}

// AddParticipant writes a new participant (false when there is one), then
// the mark in the participant's partition and the member's index item.
func (d *Store) AddParticipant(ctx context.Context, e Event, p Participant, m store.EventMark) (bool, error) {
	if p.OpenID == "" || p.MemberID == "" || e.ID == "" {
		return false, fmt.Errorf("store: AddParticipant: empty id: %w", ddb.ErrInvalidArgument)
	}
	item := partKey(e.ID, p.MemberID)
	item["openid"], item["s"], item["g"], item["v"], item["x"] = ddb.S(p.OpenID), ddb.N(p.Total), ddb.N(int64(p.GoalDays)), ddb.N(p.Version), ddb.N(p.Credits)
	if p.TeamID != "" {
		item["t"] = ddb.S(p.TeamID)
	}
	item["expiresAt"] = ddb.N(e.ExpiresAt.Unix())
	ok, err := d.t.PutNew(ctx, "AddParticipant", item)
	if !ok || err != nil {
		return ok, err
	}
	return true, ddb.Parallel(ctx, "AddParticipant", d.putter(store.MarkItem(p.OpenID, m)), func(ctx context.Context) error {
		return d.indexParticipant(ctx, e, p.MemberID, p.TeamID)
	})
}

// indexParticipant records the member's participation (and team) on their
// index item, beside an organizer's flag.
func (d *Store) indexParticipant(ctx context.Context, e Event, mid, team string) error {
	update, values := "SET part = :one, expiresAt = :exp REMOVE t", map[string]types.AttributeValue{
		":one": ddb.N(1), ":exp": ddb.N(e.ExpiresAt.Unix())}
	if team != "" {
		update = "SET part = :one, expiresAt = :exp, t = :t"
		values[":t"] = ddb.S(team)
	}
	_, err := d.t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: indexKey(mid, e.Start, e.ID),
		UpdateExpression: aws.String(update), ExpressionAttributeValues: values,
	})
	return err
}

// MoveTeam changes a participant's team; false when they are not one.
func (d *Store) MoveTeam(ctx context.Context, e Event, memberID, teamID string) (bool, error) {
	ok, err := d.t.ConditionalUpdate(ctx, "MoveTeam", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: partKey(e.ID, memberID),
		UpdateExpression:          aws.String("SET t = :t"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": ddb.S(teamID)},
	})
	if err != nil || !ok {
		return ok, err
	}
	return true, ddb.Parallel(ctx, "MoveTeam", func(ctx context.Context) error {
		return d.indexParticipant(ctx, e, memberID, teamID)
	})
}

// RemoveParticipant records the departure first (when dep is set), so a
// racing join sees it, then deletes the participant; when there was one it
// also deletes their mark (hide as it was written) and their index item
// (or its participation, for an organizer) and counts them out. It returns
// the participant deleted, found false when there was none.
func (d *Store) RemoveParticipant(ctx context.Context, e Event, memberID, hide string, dep *Departure) (Participant, bool, error) {
	if dep != nil {
		item := goneKey(e.ID, memberID)
		item["openid"], item["expiresAt"] = ddb.S(dep.OpenID), ddb.N(e.ExpiresAt.Unix())
		if dep.Removed {
			item["removed"] = ddb.N(1)
		}
		if dep.TeamID != "" {
			item["t"] = ddb.S(dep.TeamID)
		}
		if err := ddb.Parallel(ctx, "RemoveParticipant", d.putter(item)); err != nil {
			return Participant{}, false, err
		}
	}
	out, err := d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &d.t.Name, Key: partKey(e.ID, memberID), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return Participant{}, false, ddb.Wrap("RemoveParticipant", err)
	}
	if len(out.Attributes) == 0 {
		return Participant{}, false, nil
	}
	p := participantOf(e.ID, out.Attributes)
	unindex := d.deleter(indexKey(memberID, e.Start, e.ID))
	if memberID == e.Organizer {
		unindex = func(ctx context.Context) error {
			_, err := d.t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: &d.t.Name, Key: indexKey(memberID, e.Start, e.ID),
				UpdateExpression: aws.String("REMOVE part, t"),
			})
			return err
		}
	}
	err = ddb.Parallel(ctx, "RemoveParticipant",
		d.deleter(store.MarkKey(p.OpenID, hide, e.ID)), unindex,
		func(ctx context.Context) error {
			_, err := d.CountParticipants(ctx, e.ID, -1, 0)
			return err
		})
	return p, true, err
}

// Departure reads a member's departure from an event, strongly consistent.
func (d *Store) Departure(ctx context.Context, eventID, memberID string) (Departure, bool, error) {
	item, err := d.t.Get(ctx, "Departure", goneKey(eventID, memberID), true)
	if err != nil || item == nil {
		return Departure{}, false, err
	}
	return Departure{Removed: ddb.Num(item["removed"]) == 1, TeamID: ddb.Str(item["t"])}, true, nil
}

// Slots reads the events a member takes part in (eventId -> endDate) and
// the version SetSlots needs.
func (d *Store) Slots(ctx context.Context, memberID string) (map[string]string, int64, error) {
	item, err := d.t.Get(ctx, "Slots", ddb.Key("MEMBER#"+memberID, slotsSK), true)
	if err != nil {
		return nil, 0, err
	}
	out := map[string]string{}
	if m, ok := item["ev"].(*types.AttributeValueMemberM); ok {
		for id, end := range m.Value {
			out[id] = ddb.Str(end)
		}
	}
	return out, ddb.Num(item["v"]), nil
}

// SetSlots replaces the member's slots if they are still at version;
// false when another writer moved them first.
func (d *Store) SetSlots(ctx context.Context, memberID string, slots map[string]string, version int64) (bool, error) {
	m := make(map[string]types.AttributeValue, len(slots))
	for id, end := range slots {
		m[id] = ddb.S(end)
	}
	cond := "v = :v"
	if version == 0 {
		cond = "attribute_not_exists(v) OR v = :v"
	}
	return d.t.ConditionalUpdate(ctx, "SetSlots", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: ddb.Key("MEMBER#"+memberID, slotsSK),
		UpdateExpression:          aws.String("SET ev = :ev, v = :next"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":ev": &types.AttributeValueMemberM{Value: m}, ":v": ddb.N(version), ":next": ddb.N(version + 1)},
	})
}

// Credit adds to a participant's total and goal days, only while they are
// a participant at the given recount version (false otherwise): one
// UpdateItem of a small item, one write unit.
func (d *Store) Credit(ctx context.Context, eventID, memberID string, version, total int64, goalDays int) (bool, error) {
	return d.t.ConditionalUpdate(ctx, "Credit", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: partKey(eventID, memberID),
		UpdateExpression:    aws.String("ADD s :s, g :g, x :one"),
		ConditionExpression: aws.String("attribute_exists(PK) AND v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": ddb.N(total), ":g": ddb.N(int64(goalDays)), ":one": ddb.N(1), ":v": ddb.N(version)},
	})
}

// SetTotals writes a recount: the totals, and the next version, only if
// neither a credit nor another recount changed the participant since p was
// read (false otherwise).
func (d *Store) SetTotals(ctx context.Context, p Participant, total int64, goalDays int) (bool, error) {
	return d.t.ConditionalUpdate(ctx, "SetTotals", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: partKey(p.EventID, p.MemberID),
		UpdateExpression:    aws.String("SET s = :s, g = :g, v = :next"),
		ConditionExpression: aws.String("attribute_exists(PK) AND v = :v AND x = :x"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": ddb.N(total), ":g": ddb.N(int64(goalDays)), ":v": ddb.N(p.Version), ":x": ddb.N(p.Credits), ":next": ddb.N(p.Version + 1)},
	})
}

// FlagMark asks the syncs of mark m to recount a settling time after
// since, at version; nothing when the mark is gone (a leave deletes it).
func (d *Store) FlagMark(ctx context.Context, openid string, m store.EventMark, version int64, since time.Time) error {
	_, err := d.t.ConditionalUpdate(ctx, "FlagMark", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: store.MarkKey(openid, m.Hide, m.EventID),
		UpdateExpression:    aws.String("SET v = :v, recount = :one, since = :since"),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":v": ddb.N(version), ":one": ddb.N(1), ":since": ddb.N(since.UnixMilli())},
	})
	return err
}

// SettleMark ends mark m's recount at version, so syncs credit beside
// their writes again; not when the mark was flagged again after m was read
// (its since moved) or is gone.
func (d *Store) SettleMark(ctx context.Context, openid string, m store.EventMark, version int64) error {
	cond, values := "attribute_exists(PK) AND since = :since", map[string]types.AttributeValue{
		":v": ddb.N(version), ":since": ddb.N(m.Since.UnixMilli())}
	if m.Since.IsZero() { // a mark written before marks had a since
		cond = "attribute_exists(PK) AND attribute_not_exists(since)"
		delete(values, ":since")
	}
	_, err := d.t.ConditionalUpdate(ctx, "SettleMark", &dynamodb.UpdateItemInput{
		TableName: &d.t.Name, Key: store.MarkKey(openid, m.Hide, m.EventID),
		UpdateExpression:          aws.String("SET v = :v REMOVE recount"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	})
	return err
}

// MemberEvents reads a page of a member's events, latest start first; the
// cursor is the last item's sort key.
func (d *Store) MemberEvents(ctx context.Context, memberID, cursor string, limit int) ([]EventRef, string, error) {
	in := &dynamodb.QueryInput{
		TableName:              &d.t.Name,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": ddb.S("MEMBER#" + memberID), ":p": ddb.S(evIndexPfx)},
		ProjectionExpression: aws.String("SK, org, part, t"),
		ConsistentRead:       aws.Bool(true),
		Limit:                aws.Int32(int32(limit + 1)),
	}
	if cursor != "" {
		if !strings.HasPrefix(cursor, evIndexPfx) {
			return nil, "", fmt.Errorf("store: MemberEvents: bad cursor: %w", ddb.ErrInvalidArgument)
		}
		in.ExclusiveStartKey = ddb.Key("MEMBER#"+memberID, cursor)
	}
	out, err := d.t.DB.Query(ctx, in)
	if err != nil {
		return nil, "", ddb.Wrap("MemberEvents", err)
	}
	refs := make([]EventRef, 0, len(out.Items))
	var sks []string
	for _, it := range out.Items {
		sk := ddb.Str(it["SK"])
		rest := strings.TrimPrefix(sk, evIndexPfx)
		_, eid, _ := strings.Cut(rest, "#")
		refs = append(refs, EventRef{EventID: eid, TeamID: ddb.Str(it["t"]),
			Organizer: ddb.Num(it["org"]) == 1, Participant: ddb.Num(it["part"]) == 1})
		sks = append(sks, sk)
	}
	next := ""
	if len(refs) > limit {
		refs, next = refs[:limit], sks[limit-1]
	}
	return refs, next, nil
}
