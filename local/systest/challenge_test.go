package systest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// eventView is "the event" of every challenge answer, as a client reads it.
type eventView struct {
	EventID, Name, StartDate, EndDate string
	DailyGoal, DailyCap               int64
	GoalDays                          int
	Teams                             []struct{ TeamID, Name string }
	Participants                      int
	Status                            string
	Final                             bool
	JoinCode                          string
	Me                                struct {
		Organizer, Participant bool
		MemberID               string
		TeamID                 *string
	}
}

// teamID is the id of the team named name, or "".
func (e eventView) teamID(name string) string {
	for _, t := range e.Teams {
		if t.Name == name {
			return t.TeamID
		}
	}
	return ""
}

// eventBody is a create's body: a valid event from today+start through
// today+end, with fields set (a nil value is JSON null) and dropped.
func eventBody(start, end int, set map[string]any, drop ...string) map[string]any {
	b := map[string]any{"name": "健步走", "startDate": cstDate(start), "endDate": cstDate(end)}
	maps.Copy(b, set)
	for _, k := range drop {
		delete(b, k)
	}
	return b
}

// create is POST /v1/events, which must answer 201.
func (c *client) create(body map[string]any) eventView {
	c.t.Helper()
	var ev eventView
	c.must(http.StatusCreated, "POST", "/v1/events", body, &ev)
	return ev
}

// join is POST /v1/events/join with consent (no teamId when teamID is
// ""), which must answer 200.
func (c *client) join(code, teamID string) eventView {
	c.t.Helper()
	var ev eventView
	c.must(http.StatusOK, "POST", "/v1/events/join", joinBody(code, teamID), &ev)
	return ev
}

func joinBody(code, teamID string) map[string]any {
	b := map[string]any{"joinCode": code, "consent": true}
	if teamID != "" {
		b["teamId"] = teamID
	}
	return b
}

// named stores c's nickname and returns c's memberId.
func (c *client) named(nickname string) string {
	c.t.Helper()
	c.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": nickname}, nil)
	var me struct{ MemberID string }
	c.must(http.StatusOK, "GET", "/v1/me/profile", nil, &me)
	return me.MemberID
}

// as is c reporting to t, a subtest: c's own t is its parent's.
func (c *client) as(t *testing.T) *client {
	d := *c
	d.t = t
	return &d
}

// refused checks that a call gets the error status and code.
func (c *client) refused(status int, code, method, path string, body any) {
	c.t.Helper()
	wantError(c.t, method+" "+path, send(c.api, method, path, c.token, body), status, code, false)
}

// challengeVar is a number of the challenge function's environment as
// the stack gives it.
func challengeVar(t *testing.T, st *stack.Stack, name string) int64 {
	t.Helper()
	fn, err := st.Template.Function("ChallengeFunction")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(stack.FunctionVars(st.Template, fn, st.Over)[name], 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// answerLog keeps the body of every answer of the challenge routes while
// a test runs: every helper sends through http.DefaultClient, and the
// package's tests that use it run one at a time.
type answerLog struct {
	mu     sync.Mutex
	next   http.RoundTripper
	bodies []string
}

func recordAnswers(t *testing.T) *answerLog {
	l := &answerLog{next: http.DefaultTransport}
	prev := http.DefaultClient.Transport
	http.DefaultClient.Transport = l
	t.Cleanup(func() { http.DefaultClient.Transport = prev })
	return l
}

func (l *answerLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/v1/events") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	l.mu.Lock()
	l.bodies = append(l.bodies, req.Method+" "+req.URL.Path+": "+string(body))
	l.mu.Unlock()
	return resp, nil
}

// secrets are the clients' openids and the session keys stored for them.
func secrets(t *testing.T, clients ...*client) []string {
	t.Helper()
	var out []string
	items := tableItems(t)
	for _, c := range clients {
		out = append(out, c.openid)
		keys := 0
		for _, raw := range holding(items, "USER#"+c.openid) {
			var it struct{ SessionKey string }
			_ = json.Unmarshal([]byte(raw), &it)
			if it.SessionKey != "" {
				out = append(out, it.SessionKey)
				keys++
			}
		}
		if keys == 0 {
			t.Fatalf("no session key stored for %s", c.openid)
		}
	}
	return out
}

// holdNone checks no answer recorded so far holds any of the secrets.
func (l *answerLog) holdNone(t *testing.T, secrets []string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bodies) == 0 {
		t.Fatal("no answer of the challenge routes was recorded")
	}
	for _, b := range l.bodies {
		for _, s := range secrets {
			if strings.Contains(b, s) {
				t.Errorf("an answer holds %q: %.300s", s, b)
			}
		}
	}
}

// enrol makes c a participant of an event that has ended, which no join
// allows any more, through the stores.
func enrol(t *testing.T, eventID string, c *client, memberID string) {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true})
	evs := eventstore.New(store.New(services.Client(env.DynamoDB), env.Table).Table())
	ctx := context.Background()
	e, ok, err := evs.Event(ctx, eventID)
	if err != nil || !ok {
		t.Fatalf("the event %s: %v %v", eventID, ok, err)
	}
	p := eventstore.Participant{EventID: e.ID, MemberID: memberID, OpenID: c.openid}
	m := store.EventMark{EventID: e.ID, MemberID: memberID, Start: e.Start, End: e.End, DailyGoal: e.DailyGoal, Hide: e.End, ExpiresAt: e.ExpiresAt}
	if ok, err := evs.CountParticipants(ctx, e.ID, 1, challenge.MaxParticipants); err != nil || !ok {
		t.Fatalf("CountParticipants: %v %v", ok, err)
	}
	if ok, err := evs.AddParticipant(ctx, e, p, m); err != nil || !ok {
		t.Fatalf("AddParticipant: %v %v", ok, err)
	}
}

// TestChallengeCreateAndReadThroughTheFunctions creates events through
// the built function: defaults, nulls and limits are taken, every bad
// field gets its code, a risky name or team name is refused; the event is
// read by its organizer and participants only, and a bad id is a 404.
func TestChallengeCreateAndReadThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-create")
	answers := recordAnswers(t)
	org := newClient(t, st.API, st.Sim, "org")
	orgID := org.named("组织者")
	dailyGoal := challengeVar(t, st, "DAILY_GOAL")

	hundredTeams := make([]string, 101)
	for i := range hundredTeams {
		hundredTeams[i] = "队" + strconv.Itoa(i)
	}
	type want struct {
		name       string
		start, end string
		goal, cap  int64
		goalDays   int
		teams      []string
		status     string
		final      bool
	}
	for _, c := range []struct {
		name string
		body map[string]any
		want want
	}{
		{"absent optional fields take their defaults", eventBody(0, 9, nil),
			want{"健步走", cstDate(0), cstDate(9), dailyGoal, 0, 10, nil, "running", false}},
		{"null optional fields take their defaults", eventBody(1, 10, map[string]any{"dailyGoal": nil, "dailyCap": nil, "goalDays": nil, "teams": nil}),
			want{"健步走", cstDate(1), cstDate(10), dailyGoal, 0, 10, nil, "upcoming", false}},
		{"every field given, the cap equal to the goal", eventBody(-3, -2, map[string]any{"name": " 秋季 ", "dailyGoal": 8000, "dailyCap": 8000, "goalDays": 1, "teams": []string{"研发", " 市场 "}}),
			want{"秋季", cstDate(-3), cstDate(-2), 8000, 8000, 1, []string{"研发", "市场"}, "ended", true}},
		{"the largest fields: 32 code points, 100 days from today-30, goal and cap 100000, 100 teams of 16",
			eventBody(-30, 69, map[string]any{"name": strings.Repeat("😀", 32), "dailyGoal": 100000, "dailyCap": 100000, "goalDays": 100,
				"teams": append(hundredTeams[:99:99], strings.Repeat("部", 16))}),
			want{strings.Repeat("😀", 32), cstDate(-30), cstDate(69), 100000, 100000, 100, append(hundredTeams[:99:99], strings.Repeat("部", 16)), "running", false}},
		{"the latest start, today+90, no cap given as 0", eventBody(90, 90, map[string]any{"dailyGoal": 1, "dailyCap": 0}),
			want{"健步走", cstDate(90), cstDate(90), 1, 0, 1, nil, "upcoming", false}},
		{"names stored in NFC", eventBody(0, 0, map[string]any{"name": "Cafe\u0301", "teams": []string{"Tea\u0301m"}}),
			want{"Café", cstDate(0), cstDate(0), dailyGoal, 0, 1, []string{"Teám"}, "running", false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			org := org.as(t)
			ev := org.create(c.body)
			w := c.want
			var teams []string
			for _, tm := range ev.Teams {
				teams = append(teams, tm.Name)
			}
			if ev.EventID == "" || ev.JoinCode == "" || ev.Name != w.name || ev.StartDate != w.start || ev.EndDate != w.end ||
				ev.DailyGoal != w.goal || ev.DailyCap != w.cap || ev.GoalDays != w.goalDays || !slices.Equal(teams, w.teams) ||
				ev.Participants != 0 || ev.Status != w.status || ev.Final != w.final {
				t.Errorf("created %+v, want %+v", ev, w)
			}
			if m := ev.Me; !m.Organizer || m.Participant || m.MemberID != orgID || m.TeamID != nil {
				t.Errorf("me %+v, want the organizer (%s), not a participant", m, orgID)
			}
			ids := map[string]bool{}
			for _, tm := range ev.Teams {
				ids[tm.TeamID] = true
			}
			if len(ids) != len(ev.Teams) || ids[""] {
				t.Errorf("team ids %+v, want distinct and present", ev.Teams)
			}
			var got eventView
			org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID, nil, &got)
			if a, b := mustJSON(t, got), mustJSON(t, ev); a != b {
				t.Errorf("read back %s, created %s", a, b)
			}
		})
	}

	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no name", eventBody(0, 9, nil, "name"), http.StatusBadRequest, "MISSING_FIELD"},
		{"no startDate", eventBody(0, 9, nil, "startDate"), http.StatusBadRequest, "MISSING_FIELD"},
		{"no endDate", eventBody(0, 9, nil, "endDate"), http.StatusBadRequest, "MISSING_FIELD"},
		{"a name of 33 code points", eventBody(0, 9, map[string]any{"name": strings.Repeat("走", 33)}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a name blank after trimming", eventBody(0, 9, map[string]any{"name": " \t "}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a name with an invisible character", eventBody(0, 9, map[string]any{"name": "健\u200b步"}), http.StatusBadRequest, "INVALID_FIELD"},
		{"dailyGoal 0", eventBody(0, 9, map[string]any{"dailyGoal": 0}), http.StatusBadRequest, "INVALID_FIELD"},
		{"dailyGoal 100001", eventBody(0, 9, map[string]any{"dailyGoal": 100001}), http.StatusBadRequest, "INVALID_FIELD"},
		{"dailyCap below the goal", eventBody(0, 9, map[string]any{"dailyGoal": 10000, "dailyCap": 9999}), http.StatusBadRequest, "INVALID_FIELD"},
		{"dailyCap below the default goal", eventBody(0, 9, map[string]any{"dailyCap": dailyGoal - 1}), http.StatusBadRequest, "INVALID_FIELD"},
		{"dailyCap 100001", eventBody(0, 9, map[string]any{"dailyCap": 100001}), http.StatusBadRequest, "INVALID_FIELD"},
		{"goalDays 0", eventBody(0, 9, map[string]any{"goalDays": 0}), http.StatusBadRequest, "INVALID_FIELD"},
		{"goalDays above the length", eventBody(0, 9, map[string]any{"goalDays": 11}), http.StatusBadRequest, "INVALID_FIELD"},
		{"101 teams", eventBody(0, 9, map[string]any{"teams": hundredTeams}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a duplicate team", eventBody(0, 9, map[string]any{"teams": []string{"研发", "市场", "研发"}}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a duplicate team after trimming", eventBody(0, 9, map[string]any{"teams": []string{"研发", " 研发"}}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a team of 17 code points", eventBody(0, 9, map[string]any{"teams": []string{strings.Repeat("部", 17)}}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a blank team", eventBody(0, 9, map[string]any{"teams": []string{"研发", " "}}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a fractional dailyGoal", eventBody(0, 9, map[string]any{"dailyGoal": 1.5}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a dailyGoal in a string", eventBody(0, 9, map[string]any{"dailyGoal": "10000"}), http.StatusBadRequest, "INVALID_FIELD"},
		{"teams that are no list", eventBody(0, 9, map[string]any{"teams": "研发"}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a team that is no string", eventBody(0, 9, map[string]any{"teams": []any{"研发", 7}}), http.StatusBadRequest, "INVALID_FIELD"},
		{"a name that is no string", eventBody(0, 9, map[string]any{"name": 7}), http.StatusBadRequest, "INVALID_FIELD"},
		{"startDate today-31", eventBody(-31, 0, nil), http.StatusBadRequest, "INVALID_RANGE"},
		{"startDate today+91", eventBody(91, 91, nil), http.StatusBadRequest, "INVALID_RANGE"},
		{"endDate before startDate", eventBody(5, 4, nil), http.StatusBadRequest, "INVALID_RANGE"},
		{"101 days", eventBody(0, 100, nil), http.StatusBadRequest, "INVALID_RANGE"},
		{"a date that is no day", eventBody(0, 0, map[string]any{"endDate": "2026-02-30"}), http.StatusBadRequest, "INVALID_RANGE"},
		{"a risky name", eventBody(0, 9, map[string]any{"name": "走 " + wechattest.RiskyWord}), http.StatusUnprocessableEntity, "CONTENT_REJECTED"},
		{"a risky team name", eventBody(0, 9, map[string]any{"teams": []string{"研发", wechattest.RiskyWord}}), http.StatusUnprocessableEntity, "CONTENT_REJECTED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			org.as(t).refused(c.status, c.code, "POST", "/v1/events", c.body)
		})
	}
	var list struct{ Events []eventView }
	org.must(http.StatusOK, "GET", "/v1/events", nil, &list)
	if len(list.Events) != 6 {
		t.Errorf("the organizer has %d events, want the 6 created", len(list.Events))
	}

	// Reading: the organizer and a participant; anyone else, an unknown
	// and a malformed id get the same 404, on every route.
	ev := org.create(eventBody(0, 9, map[string]any{"teams": []string{"研发"}}))
	part, stranger := newClient(t, st.API, st.Sim, "part"), newClient(t, st.API, st.Sim, "stranger")
	partID := part.named("参加者")
	part.join(ev.JoinCode, ev.teamID("研发"))
	for _, c := range []struct {
		name         string
		who          *client
		id           string
		organizer    bool
		participant  bool
		participants int
	}{
		{"the organizer", org, ev.EventID, true, false, 1},
		{"a participant", part, ev.EventID, false, true, 1},
	} {
		t.Run("read by "+c.name, func(t *testing.T) {
			var got eventView
			c.who.as(t).must(http.StatusOK, "GET", "/v1/events/"+c.id, nil, &got)
			if got.EventID != ev.EventID || got.JoinCode != ev.JoinCode || got.Participants != c.participants ||
				got.Me.Organizer != c.organizer || got.Me.Participant != c.participant {
				t.Errorf("%+v", got)
			}
			if c.participant && (got.Me.MemberID != partID || got.Me.TeamID == nil || *got.Me.TeamID != ev.teamID("研发")) {
				t.Errorf("the participant's me %+v, want %s in 研发", got.Me, partID)
			}
		})
	}
	for _, c := range []struct {
		name string
		who  *client
		id   string
	}{
		{"anyone else", stranger, ev.EventID},
		{"an unknown id", org, strings.Repeat("A", 22)},
		{"a malformed id", org, "x"},
		{"a long id", org, strings.Repeat("a", 300)},
		{"an id of other characters", org, "%E8%B5%B0%20x%21"},
	} {
		// Every route on an event answers them alike.
		t.Run("asked by "+c.name, func(t *testing.T) {
			base := "/v1/events/" + c.id
			for _, r := range [][2]string{
				{"GET", base}, {"GET", base + "/board"}, {"GET", base + "/teams"}, {"GET", base + "/participants"}, {"GET", base + "/export"},
				{"POST", base + "/joinCode"}, {"DELETE", base + "/participants/" + partID}, {"DELETE", base},
			} {
				c.who.as(t).refused(http.StatusNotFound, "EVENT_NOT_FOUND", r[0], r[1], nil)
			}
		})
	}
	var got eventView
	part.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID, nil, &got)
	if got.Participants != 1 || !got.Me.Participant {
		t.Errorf("after the refused calls: %+v", got)
	}
	answers.holdNone(t, secrets(t, org, part, stranger))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reversed is code backwards: a well-formed join code that names no event.
func reversed(code string) string {
	b := []byte(code)
	slices.Reverse(b)
	return string(b)
}

// TestChallengeJoinThroughTheFunctions joins events through the built
// function: each refusal in the contract's order (every later check would
// also refuse the body), a team move before the start, the team locked
// from the start on even across a leave, and the limit of events not
// ended, freed by a leave or a cancel.
func TestChallengeJoinThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-join")
	answers := recordAnswers(t)
	org := newClient(t, st.API, st.Sim, "org")
	org.named("组织者")
	teams := map[string]any{"teams": []string{"研发", "市场"}}
	upcoming := org.create(eventBody(1, 10, teams))
	running := org.create(eventBody(-3, 5, teams))
	noTeams := org.create(eventBody(0, 3, nil))
	ended := org.create(eventBody(-30, -1, teams))
	removed, unnamed, a := newClient(t, st.API, st.Sim, "removed"), newClient(t, st.API, st.Sim, "unnamed"), newClient(t, st.API, st.Sim, "a")
	removedID := removed.named("被移除")
	removed.join(running.JoinCode, running.teamID("研发"))
	org.must(http.StatusNoContent, "DELETE", "/v1/events/"+running.EventID+"/participants/"+removedID, nil, nil)
	aID := a.named("甲")
	rd, mk := running.teamID("研发"), running.teamID("市场")

	for _, c := range []struct {
		name   string
		who    *client
		body   map[string]any
		status int
		code   string
	}{
		{"no joinCode", a, map[string]any{"teamId": rd, "consent": true}, http.StatusBadRequest, "MISSING_FIELD"},
		{"an unknown joinCode, before every other check", unnamed, map[string]any{"joinCode": reversed(running.JoinCode), "teamId": "t999"}, http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"a malformed joinCode", a, joinBody("../"+running.JoinCode, rd), http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"an ended event, before consent and team", unnamed, map[string]any{"joinCode": ended.JoinCode, "teamId": "t999"}, http.StatusUnprocessableEntity, "EVENT_ENDED"},
		{"a removed participant, before consent and team", removed, map[string]any{"joinCode": running.JoinCode, "teamId": "t999"}, http.StatusUnprocessableEntity, "JOIN_REFUSED"},
		{"a removed participant with a good body", removed, joinBody(running.JoinCode, rd), http.StatusUnprocessableEntity, "JOIN_REFUSED"},
		{"no consent, before the team and the profile", unnamed, map[string]any{"joinCode": running.JoinCode, "teamId": "t999"}, http.StatusBadRequest, "CONSENT_REQUIRED"},
		{"consent false", a, map[string]any{"joinCode": running.JoinCode, "teamId": rd, "consent": false}, http.StatusBadRequest, "CONSENT_REQUIRED"},
		{"consent null", a, map[string]any{"joinCode": running.JoinCode, "teamId": rd, "consent": nil}, http.StatusBadRequest, "CONSENT_REQUIRED"},
		{"no teamId, before the profile", unnamed, joinBody(running.JoinCode, ""), http.StatusBadRequest, "MISSING_FIELD"},
		{"an unknown teamId, before the profile", unnamed, joinBody(running.JoinCode, "t999"), http.StatusBadRequest, "INVALID_FIELD"},
		{"a malformed teamId", a, joinBody(running.JoinCode, strings.Repeat("t", 300)), http.StatusBadRequest, "INVALID_FIELD"},
		{"a teamId for an event without teams, before the profile", unnamed, joinBody(noTeams.JoinCode, rd), http.StatusBadRequest, "INVALID_FIELD"},
		{"no nickname", unnamed, joinBody(running.JoinCode, rd), http.StatusUnprocessableEntity, "PROFILE_REQUIRED"},
		{"no nickname, an event without teams", unnamed, joinBody(noTeams.JoinCode, ""), http.StatusUnprocessableEntity, "PROFILE_REQUIRED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.who.as(t).refused(c.status, c.code, "POST", "/v1/events/join", c.body)
		})
	}
	var got eventView
	org.must(http.StatusOK, "GET", "/v1/events/"+running.EventID, nil, &got)
	if got.Participants != 0 {
		t.Errorf("the refused joins left %d participants", got.Participants)
	}

	// inTeam checks a join's answer: a's place, the team and the count.
	inTeam := func(what string, ev eventView, code, teamID string, participants int) {
		t.Helper()
		m := ev.Me
		if ev.JoinCode != code || ev.Participants != participants || m.Organizer || !m.Participant || m.MemberID != aID ||
			(teamID == "") != (m.TeamID == nil) || m.TeamID != nil && *m.TeamID != teamID {
			t.Errorf("%s: %+v, want a (%s) in team %q of %d", what, ev, aID, teamID, participants)
		}
	}
	// Before the start: joining again with another team moves a, and so
	// does leaving and joining another.
	ud, um := upcoming.teamID("研发"), upcoming.teamID("市场")
	inTeam("the first join", a.join(upcoming.JoinCode, ud), upcoming.JoinCode, ud, 1)
	inTeam("the same team again", a.join(upcoming.JoinCode, ud), upcoming.JoinCode, ud, 1)
	inTeam("another team before the start", a.join(upcoming.JoinCode, um), upcoming.JoinCode, um, 1)
	a.must(http.StatusOK, "GET", "/v1/events/"+upcoming.EventID, nil, &got)
	inTeam("read after the move", got, upcoming.JoinCode, um, 1)
	got, _ = a.listed(upcoming.EventID)
	inTeam("listed after the move", got, upcoming.JoinCode, um, 1)
	var tm teamBoard
	raw := org.must(http.StatusOK, "GET", "/v1/events/"+upcoming.EventID+"/teams", nil, &tm)
	for _, row := range tm.Teams {
		if row.Members != map[string]int{ud: 0, um: 1}[row.TeamID] {
			t.Errorf("the teams after the move: %s", raw)
		}
	}
	a.must(http.StatusNoContent, "DELETE", "/v1/events/"+upcoming.EventID+"/participants/"+aID, nil, nil)
	inTeam("another team after leaving before the start", a.join(upcoming.JoinCode, ud), upcoming.JoinCode, ud, 1)

	// From the start on the team is locked, even across a leave.
	inTeam("the first join of a running event", a.join(running.JoinCode, rd), running.JoinCode, rd, 1)
	a.refused(http.StatusUnprocessableEntity, "TEAM_LOCKED", "POST", "/v1/events/join", joinBody(running.JoinCode, mk))
	inTeam("the same team again", a.join(running.JoinCode, rd), running.JoinCode, rd, 1)
	a.must(http.StatusNoContent, "DELETE", "/v1/events/"+running.EventID+"/participants/"+aID, nil, nil)
	a.refused(http.StatusUnprocessableEntity, "TEAM_LOCKED", "POST", "/v1/events/join", joinBody(running.JoinCode, mk))
	inTeam("the same team after leaving", a.join(running.JoinCode, rd), running.JoinCode, rd, 1)
	inTeam("an event without teams", a.join(noTeams.JoinCode, ""), noTeams.JoinCode, "", 1)

	// The organizer may take part too.
	var both eventView
	org.must(http.StatusOK, "POST", "/v1/events/join", joinBody(running.JoinCode, mk), &both)
	if !both.Me.Organizer || !both.Me.Participant || both.Participants != 2 {
		t.Errorf("the organizer's join: %+v", both)
	}

	// A user takes part in at most 20 events that have not ended: a has
	// 3, so 17 more are taken and the next refused, until a leaves one.
	var more []eventView
	for range 18 {
		more = append(more, org.create(eventBody(0, 1, nil)))
	}
	for _, ev := range more[:17] {
		a.join(ev.JoinCode, "")
	}
	a.refused(http.StatusUnprocessableEntity, "LIMIT_REACHED", "POST", "/v1/events/join", joinBody(more[17].JoinCode, ""))
	a.must(http.StatusNoContent, "DELETE", "/v1/events/"+more[0].EventID+"/participants/"+aID, nil, nil)
	a.join(more[17].JoinCode, "")
	// A cancelled event frees its place too.
	last := org.create(eventBody(0, 1, nil))
	a.refused(http.StatusUnprocessableEntity, "LIMIT_REACHED", "POST", "/v1/events/join", joinBody(last.JoinCode, ""))
	org.must(http.StatusNoContent, "DELETE", "/v1/events/"+more[1].EventID, nil, nil)
	a.join(last.JoinCode, "")
	answers.holdNone(t, secrets(t, org, removed, unnamed, a))
}
