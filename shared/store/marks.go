package store

// The marks of a user's events: one item per event in the user's own
// partition, under a DAY# sort key that the sync's one Query reads until
// the day after the event ends (its hide date), and no longer after that.

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

const markInfix = "#EVT#"

// EventMark is what the sync needs to credit one event: it lives in the
// participant's own partition.
type EventMark struct {
	EventID, MemberID, Start, End string
	DailyGoal, DailyCap           int64
	// Hide is the window start after which the sync no longer reads the mark.
	Hide string
	// Version is the participant's recount version the mark was written
	// with; a credit applies only while the participant's is the same.
	Version int64
	// Recount asks the first sync a settling time after Since to recount
	// the participant from the stored days; until then syncs credit after
	// their writes. A join sets it, and so does a credit that went wrong.
	Recount   bool
	Since     time.Time
	ExpiresAt time.Time
}

// MarkKey is the key of the mark of event eid, hidden from hide on, in
// openid's partition.
func MarkKey(openid, hide, eid string) map[string]types.AttributeValue {
	return userPKKey(openid, markSK(hide, eid))
}

// markSK is the sort key of a mark, among the days.
func markSK(hide, eid string) string { return dayPrefix + hide + markInfix + eid }

// isMark tells a mark from a day: both begin with DAY#.
func isMark(sk string) bool { return strings.Contains(sk, markInfix) }

func MarkItem(openid string, m EventMark) map[string]types.AttributeValue {
	item := userPKKey(openid, markSK(m.Hide, m.EventID))
	item["mid"], item["start"], item["end"] = ddb.S(m.MemberID), ddb.S(m.Start), ddb.S(m.End)
	item["goal"], item["cap"], item["v"] = ddb.N(m.DailyGoal), ddb.N(m.DailyCap), ddb.N(m.Version)
	item["since"] = ddb.N(m.Since.UnixMilli())
	if m.Recount {
		item["recount"] = ddb.N(1)
	}
	item["expiresAt"] = ddb.N(m.ExpiresAt.Unix())
	return item
}

func markOf(item map[string]types.AttributeValue) EventMark {
	sk := strings.TrimPrefix(ddb.Str(item["SK"]), dayPrefix)
	hide, eid, _ := strings.Cut(sk, markInfix)
	return EventMark{
		EventID: eid, MemberID: ddb.Str(item["mid"]), Start: ddb.Str(item["start"]), End: ddb.Str(item["end"]),
		DailyGoal: ddb.Num(item["goal"]), DailyCap: ddb.Num(item["cap"]), Hide: hide, Version: ddb.Num(item["v"]),
		Since: ddb.Millis(item["since"]), Recount: ddb.Num(item["recount"]) == 1,
		ExpiresAt: ddb.UnixOrZero(item["expiresAt"]),
	}
}
