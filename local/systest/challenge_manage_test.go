package systest

import (
	"cmp"
	"net/http"
	"slices"
	"testing"
)

// eventList is GET /v1/events's answer.
type eventList struct {
	Events []eventView
	Cursor string
}

// listAll reads every page of c's events, checking each but the last
// is full and has a cursor.
func (c *client) listAll() []eventView {
	c.t.Helper()
	var all []eventView
	cursor := ""
	for {
		var page eventList
		c.must(http.StatusOK, "GET", "/v1/events?cursor="+cursor, nil, &page)
		all = append(all, page.Events...)
		if page.Cursor == "" {
			return all
		}
		if len(page.Events) != 50 {
			c.t.Fatalf("a page of %d events with a cursor, want 50", len(page.Events))
		}
		cursor = page.Cursor
	}
}

// TestChallengeListThroughTheFunctions lists a user's 51 events (organized,
// joined, both) through the built function: startDate latest first, then
// eventId; 50 a page with a cursor, none on the last; each event once with
// the caller's place in it; a cancelled one gone at once.
func TestChallengeListThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-list")
	answers := recordAnswers(t)
	user, other := newClient(t, st.API, st.Sim, "user"), newClient(t, st.API, st.Sim, "other")
	userID := user.named("用户")
	var want []eventView
	organized := map[string]bool{}
	// Start dates repeat, so the eventId order is needed too.
	for i := range 49 {
		ev := user.create(eventBody(i%5-2, 3, nil))
		want = append(want, ev)
		organized[ev.EventID] = true
	}
	both := want[48]
	user.join(both.JoinCode, "")
	for _, start := range []int{1, 2} {
		ev := other.create(eventBody(start, 3, map[string]any{"teams": []string{"研发"}}))
		user.join(ev.JoinCode, ev.teamID("研发"))
		want = append(want, ev)
	}
	slices.SortFunc(want, func(a, b eventView) int {
		return cmp.Or(cmp.Compare(b.StartDate, a.StartDate), cmp.Compare(a.EventID, b.EventID))
	})

	got := user.listAll()
	if len(got) != 51 {
		t.Fatalf("%d events listed, want 51", len(got))
	}
	for i, ev := range got {
		w := want[i]
		organizer, participant := organized[w.EventID], !organized[w.EventID] || w.EventID == both.EventID
		if ev.EventID != w.EventID || ev.StartDate != w.StartDate || ev.JoinCode != w.JoinCode || ev.Me.Organizer != organizer ||
			ev.Me.Participant != participant || ev.Me.MemberID != userID || participant != (ev.Participants == 1) ||
			participant && len(ev.Teams) == 1 && (ev.Me.TeamID == nil || *ev.Me.TeamID != ev.Teams[0].TeamID) {
			t.Errorf("event %d: %+v, want %s of %s (organizer %v, participant %v)", i, ev, w.EventID, w.StartDate, organizer, participant)
		}
	}
	user.refused(http.StatusBadRequest, "INVALID_FIELD", "GET", "/v1/events?cursor=not-a-cursor!", nil)

	gone := want[slices.IndexFunc(want, func(e eventView) bool { return organized[e.EventID] })].EventID
	user.must(http.StatusNoContent, "DELETE", "/v1/events/"+gone, nil, nil)
	got = user.listAll()
	if len(got) != 50 || slices.ContainsFunc(got, func(e eventView) bool { return e.EventID == gone }) {
		t.Errorf("after a cancel, %d events listed, want 50 without %s", len(got), gone)
	}
	answers.holdNone(t, secrets(t, user, other))
}
