package systest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
)

// eventBoard is GET /v1/events/{eventId}/board's answer.
type eventBoard struct {
	EventID      string
	AsOf         *string
	Participants int
	Entries      []boardEntry
	Me           *struct {
		Rank      *int
		Total     int64
		GoalDays  int
		Completed bool
	}
}

type boardEntry struct {
	Rank                          int
	MemberID, Nickname, AvatarURL string
	TeamID                        *string
	Total                         int64
	GoalDays                      int
	Completed, Me                 bool
}

// teamBoard is GET /v1/events/{eventId}/teams's answer.
type teamBoard struct {
	EventID string
	AsOf    *string
	Teams   []struct {
		Rank           int
		TeamID, Name   string
		Members        int
		Total, Average int64
	}
}

// TestChallengeCountingThroughTheFunctions syncs WeRun data through the
// decrypt function and reads the event's boards from the challenge
// function: a late joiner's earlier days count, the cap caps, a day kept
// off the boards earns nothing, a raised day raises the total, goal days
// and completion; the board's order, shared ranks, team filter and
// standing; the team board's floor averages; an excluded participant.
func TestChallengeCountingThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-count")
	answers := recordAnswers(t)
	maxBoard := challengeVar(t, st, "MAX_BOARD_STEPS")
	org, stranger := newClient(t, st.API, st.Sim, "org"), newClient(t, st.API, st.Sim, "stranger")
	ev := org.create(eventBody(-5, 5, map[string]any{"dailyGoal": 10000, "dailyCap": 15000, "goalDays": 2, "teams": []string{"甲队", "乙队", "丙队"}}))
	ta, tb, tc := ev.teamID("甲队"), ev.teamID("乙队"), ev.teamID("丙队")
	users := map[string]*client{}
	ids := map[string]string{}
	for _, name := range []string{"early", "late", "tied", "last", "excluded"} {
		users[name] = newClient(t, st.API, st.Sim, name)
		ids[name] = users[name].named(name)
	}
	early, late, tied, last, excluded := users["early"], users["late"], users["tied"], users["last"], users["excluded"]

	// early joins first, then syncs twice: the second raises day -5.
	early.join(ev.JoinCode, ta)
	early.sync(map[int]int64{-5: 6000, -4: 20000, -3: maxBoard + 1})
	early.sync(map[int]int64{-5: 12000, -2: 9999})
	// late syncs before joining (day -6 is before the start), then raises
	// day -1.
	late.sync(map[int]int64{-6: 50000, -5: 10000, -1: 5000})
	var b eventBoard
	late.join(ev.JoinCode, ta)
	late.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID+"/board", nil, &b)
	if b.Me == nil || b.Me.Total != 15000 || b.Me.GoalDays != 1 {
		t.Errorf("the late joiner's standing %+v, want the days synced before joining: 15000 and 1 goal day", b.Me)
	}
	late.sync(map[int]int64{-1: 15000})
	// tied takes part in a second event with other rules: one sync
	// credits both.
	other := org.create(eventBody(-2, 2, map[string]any{"dailyGoal": 5000, "goalDays": 1}))
	tied.join(other.JoinCode, "")
	tied.join(ev.JoinCode, tb)
	tied.sync(map[int]int64{-3: 7000, -2: 3000, -1: 18000})
	// last's second sync lowers a day: the total is what the stored day
	// gives, whichever count the store kept.
	last.join(ev.JoinCode, tb)
	last.sync(map[int]int64{-1: 2000})
	last.sync(map[int]int64{-1: 100})
	var hist struct{ Days []struct{ Steps int64 } }
	last.must(http.StatusOK, "GET", "/v1/steps?from="+cstDate(-1)+"&to="+cstDate(-1), nil, &hist)
	if len(hist.Days) != 1 {
		t.Fatalf("last's stored days %+v", hist)
	}
	lastTotal := hist.Days[0].Steps
	excluded.join(ev.JoinCode, tb)
	excluded.sync(map[int]int64{-1: 15000})
	exclude(t, ids["excluded"])

	// The credited days: early 12000 + 15000 (capped) + 0 (kept off) +
	// 9999; late 10000 + 15000; tied 7000 + 3000 + 15000 (capped); last
	// the stored day.
	type row struct {
		who       string
		rank      int
		team      string
		total     int64
		goalDays  int
		completed bool
	}
	second, third := "late", "tied" // equal totals: memberId order
	if ids["tied"] < ids["late"] {
		second, third = third, second
	}
	rows := map[string]row{
		"early": {"early", 1, ta, 36999, 2, true},
		"late":  {"late", 2, ta, 25000, 2, true},
		"tied":  {"tied", 2, tb, 25000, 1, false},
		"last":  {"last", 4, tb, lastTotal, 0, false},
	}
	today := cstDate(0)
	for _, c := range []struct {
		name         string
		who          *client
		teamID       string
		participants int
		order        []string
		ranks        []int
		me           *row // nil: no standing
		meRank       bool
	}{
		{"the whole board to the leader", early, "", 5, []string{"early", second, third, "last"}, []int{1, 2, 2, 4}, ptr(rows["early"]), true},
		{"the whole board to a tied participant", tied, "", 5, []string{"early", second, third, "last"}, []int{1, 2, 2, 4}, ptr(rows["tied"]), true},
		{"the whole board to the organizer", org, "", 5, []string{"early", second, third, "last"}, []int{1, 2, 2, 4}, nil, false},
		{"the whole board to the excluded participant", excluded, "", 5, []string{"early", second, third, "last"}, []int{1, 2, 2, 4}, &row{"excluded", 0, tb, 15000, 1, false}, false},
		{"one team, ranked among themselves", early, ta, 2, []string{"early", "late"}, []int{1, 2}, ptr(rows["early"]), true},
		{"another team to a participant of it", last, tb, 3, []string{"tied", "last"}, []int{1, 2}, &row{"last", 2, tb, lastTotal, 0, false}, true},
		{"another team to a participant of another", early, tb, 3, []string{"tied", "last"}, []int{1, 2}, nil, false},
		{"an empty team", early, tc, 0, nil, nil, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/v1/events/" + ev.EventID + "/board"
			if c.teamID != "" {
				path += "?teamId=" + c.teamID
			}
			var b eventBoard
			raw := c.who.as(t).must(http.StatusOK, "GET", path, nil, &b)
			if b.EventID != ev.EventID || b.AsOf == nil || *b.AsOf != today || b.Participants != c.participants || len(b.Entries) != len(c.order) {
				t.Fatalf("board %s, want %d participants, %d entries, as of %s", raw, c.participants, len(c.order), today)
			}
			for i, who := range c.order {
				w, e := rows[who], b.Entries[i]
				w.rank = c.ranks[i]
				if e.MemberID != ids[who] || e.Nickname != who || e.Rank != w.rank || e.TeamID == nil || *e.TeamID != w.team ||
					e.Total != w.total || e.GoalDays != w.goalDays || e.Completed != w.completed || e.Me != (c.who == users[who]) {
					t.Errorf("entry %d: %+v, want %s %+v", i, e, ids[who], w)
				}
			}
			switch {
			case c.me == nil && b.Me != nil:
				t.Errorf("me %+v, want null", *b.Me)
			case c.me != nil && (b.Me == nil || b.Me.Total != c.me.total || b.Me.GoalDays != c.me.goalDays || b.Me.Completed != c.me.completed ||
				(b.Me.Rank != nil) != c.meRank || c.meRank && *b.Me.Rank != c.me.rank):
				t.Errorf("me %s, want %+v (ranked %v)", raw, *c.me, c.meRank)
			}
		})
	}

	raw := tied.must(http.StatusOK, "GET", "/v1/events/"+other.EventID+"/board", nil, &b)
	if b.Me == nil || b.Me.Total != 21000 || b.Me.GoalDays != 1 || !b.Me.Completed || len(b.Entries) != 1 {
		t.Errorf("the second event's board %s, want tied's 3000 + 18000 uncapped, 1 goal day of 5000, completed", raw)
	}

	// Teams: the floor of the average, the excluded participant left out,
	// the empty team ranked with 0.
	var tm teamBoard
	raw = tied.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID+"/teams", nil, &tm)
	want := fmt.Sprintf("[{1 %s 甲队 2 61999 30999} {2 %s 乙队 2 %d %d} {3 %s 丙队 0 0 0}]", ta, tb, 25000+lastTotal, (25000+lastTotal)/2, tc)
	if fmt.Sprint(tm.Teams) != want || tm.EventID != ev.EventID || tm.AsOf == nil || *tm.AsOf != today {
		t.Errorf("teams %s, want %s as of %s", raw, want, today)
	}

	// An event without teams, not started: no date counted yet, teamId
	// null, and an empty team board.
	upcoming := org.create(eventBody(1, 3, nil))
	early.join(upcoming.JoinCode, "")
	raw = early.must(http.StatusOK, "GET", "/v1/events/"+upcoming.EventID+"/board", nil, &b)
	if b.AsOf != nil || b.Participants != 1 || len(b.Entries) != 1 || b.Entries[0].TeamID != nil || b.Entries[0].Total != 0 ||
		b.Entries[0].Rank != 1 || !b.Entries[0].Me || b.Me == nil || b.Me.Rank == nil || *b.Me.Rank != 1 || !strings.Contains(raw, `"asOf":null`) {
		t.Errorf("the board before the start: %s", raw)
	}
	raw = org.must(http.StatusOK, "GET", "/v1/events/"+upcoming.EventID+"/teams", nil, &tm)
	if !strings.Contains(raw, `"teams":[]`) || !strings.Contains(raw, `"asOf":null`) {
		t.Errorf("the team board of an event without teams: %s", raw)
	}

	for _, c := range []struct {
		name   string
		who    *client
		path   string
		status int
		code   string
	}{
		{"an unknown teamId", early, "/v1/events/" + ev.EventID + "/board?teamId=t999", http.StatusBadRequest, "INVALID_FIELD"},
		{"a malformed teamId", early, "/v1/events/" + ev.EventID + "/board?teamId=" + strings.Repeat("t", 300), http.StatusBadRequest, "INVALID_FIELD"},
		{"a teamId on an event without teams", early, "/v1/events/" + upcoming.EventID + "/board?teamId=" + ta, http.StatusBadRequest, "INVALID_FIELD"},
		{"the board to anyone else", stranger, "/v1/events/" + ev.EventID + "/board", http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"the teams to anyone else", stranger, "/v1/events/" + ev.EventID + "/teams", http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"the board of a malformed id", early, "/v1/events/x/board", http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"the teams of a malformed id", early, "/v1/events/x/teams", http.StatusNotFound, "EVENT_NOT_FOUND"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.who.as(t).refused(c.status, c.code, "GET", c.path, nil)
		})
	}
	answers.holdNone(t, secrets(t, org, stranger, early, late, tied, last, excluded))
}

func ptr[T any](v T) *T { return &v }

// TestChallengeLargeEventThroughTheFunctions seeds 101 participants of an
// event through the stores, as the worst-case export does, with stored
// totals 1..101, and reads it through the built function: the board shows
// the first 100 and a caller below them their own rank; the participants
// list pages at 100; the event takes 5,000 participants and no more.
func TestChallengeLargeEventThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-large")
	answers := recordAnswers(t)
	org, me, extra := newClient(t, st.API, st.Sim, "org"), newClient(t, st.API, st.Sim, "me"), newClient(t, st.API, st.Sim, "extra")
	meID := me.named("我")
	extra.named("多余")
	teams := make([]string, worstTeams)
	for i := range teams {
		teams[i] = "队" + strconv.Itoa(i)
	}
	ev := org.create(eventBody(-5, 5, map[string]any{"teams": teams}))
	env := services.ForTests(t, services.Need{DynamoDB: true})
	users := store.New(services.Client(env.DynamoDB), env.Table)
	evs := eventstore.New(users.Table())
	ctx := context.Background()
	e, _, err := evs.Event(ctx, ev.EventID)
	if err != nil {
		t.Fatal(err)
	}
	const seeded = 101
	seedParticipants(t, users, evs, e, seeded)
	ps, _, err := evs.Participants(ctx, e.ID, "", 0)
	if err != nil || len(ps) != seeded {
		t.Fatalf("%d seeded participants: %v", len(ps), err)
	}
	for i, p := range ps {
		if ok, err := evs.SetTotals(ctx, p, int64(i+1), 0); err != nil || !ok {
			t.Fatalf("SetTotals: %v %v", ok, err)
		}
	}
	me.join(ev.JoinCode, ev.teamID("队0"))

	var b eventBoard
	raw := me.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID+"/board", nil, &b)
	if b.Participants != seeded+1 || len(b.Entries) != 100 || b.Entries[0].Total != seeded || b.Entries[0].MemberID != ps[seeded-1].MemberID ||
		b.Entries[99].Rank != 100 || b.Entries[99].Total != 2 || b.Me == nil || b.Me.Rank == nil || *b.Me.Rank != seeded+1 || b.Me.Total != 0 {
		t.Errorf("the board of %d: %.600s", seeded+1, raw)
	}
	if strings.Contains(raw, meID) {
		t.Errorf("the caller at rank %d is among the entries", seeded+1)
	}

	var all []string
	cursor := ""
	for pages := 1; ; pages++ {
		var page struct {
			Participants []struct{ MemberID string }
			Cursor       string
		}
		org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID+"/participants?cursor="+cursor, nil, &page)
		for _, p := range page.Participants {
			all = append(all, p.MemberID)
		}
		if page.Cursor == "" {
			if pages != 2 || len(page.Participants) != seeded+1-100 {
				t.Errorf("the last page is page %d of %d participants", pages, len(page.Participants))
			}
			break
		}
		if len(page.Participants) != 100 || pages > 2 {
			t.Fatalf("page %d: %d participants and a cursor", pages, len(page.Participants))
		}
		cursor = page.Cursor
	}
	if len(all) != seeded+1 || !slices.IsSorted(all) || !slices.Contains(all, meID) {
		t.Errorf("%d participants listed, sorted %v", len(all), slices.IsSorted(all))
	}

	// The seeding left the event's count alone: raised to 4,999 as if
	// others had joined, one more may join, the next is refused.
	var now eventView
	org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID, nil, &now)
	if ok, err := evs.CountParticipants(ctx, e.ID, challenge.MaxParticipants-1-now.Participants, challenge.MaxParticipants); err != nil || !ok {
		t.Fatalf("CountParticipants: %v %v", ok, err)
	}
	late := newClient(t, st.API, st.Sim, "late")
	late.named("晚到")
	if got := late.join(ev.JoinCode, ev.teamID("队1")); got.Participants != challenge.MaxParticipants {
		t.Errorf("the 5,000th join: %d participants", got.Participants)
	}
	extra.refused(http.StatusUnprocessableEntity, "LIMIT_REACHED", "POST", "/v1/events/join", joinBody(ev.JoinCode, ev.teamID("队1")))
	answers.holdNone(t, secrets(t, org, me, extra, late))
}
