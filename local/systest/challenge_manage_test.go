package systest

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
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

// listed is the event as c's list shows it, or false.
func (c *client) listed(eventID string) (eventView, bool) {
	c.t.Helper()
	all := c.listAll()
	i := slices.IndexFunc(all, func(e eventView) bool { return e.EventID == eventID })
	if i < 0 {
		return eventView{}, false
	}
	return all[i], true
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

// TestChallengeOrganizingThroughTheFunctions runs what an organizer does
// through the built function: the participants list, a new join code,
// leaving and removing (before and after endDate), cancelling; and each
// event's status and final.
func TestChallengeOrganizingThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-organize")
	answers := recordAnswers(t)
	org, stranger := newClient(t, st.API, st.Sim, "org"), newClient(t, st.API, st.Sim, "stranger")
	orgID := org.named("组织者")
	stranger.named("路人")
	joiner, newcomer := newClient(t, st.API, st.Sim, "joiner"), newClient(t, st.API, st.Sim, "newcomer")
	joiner.named("新人")
	ps := make([]*client, 4)
	ids := make([]string, len(ps))
	for i := range ps {
		ps[i] = newClient(t, st.API, st.Sim, "p")
		ids[i] = ps[i].named("参加者" + string(rune('A'+i)))
	}
	ev := org.create(eventBody(-1, 5, map[string]any{"teams": []string{"研发", "市场"}}))
	teamOf := []string{ev.teamID("研发"), ev.teamID("市场"), ev.teamID("研发"), ev.teamID("市场")}
	for i, p := range ps {
		p.join(ev.JoinCode, teamOf[i])
	}
	base := "/v1/events/" + ev.EventID

	// The participants list, in memberId order.
	{
		type row struct {
			MemberID, Nickname string
			TeamID             *string
		}
		var list struct {
			Participants []row
			Cursor       string
		}
		raw := org.must(http.StatusOK, "GET", base+"/participants", nil, &list)
		var want []row
		for i := range ps {
			want = append(want, row{ids[i], "参加者" + string(rune('A'+i)), &teamOf[i]})
		}
		slices.SortFunc(want, func(a, b row) int { return cmp.Compare(a.MemberID, b.MemberID) })
		if list.Cursor != "" || !slices.EqualFunc(list.Participants, want, func(a, b row) bool {
			return a.MemberID == b.MemberID && a.Nickname == b.Nickname && a.TeamID != nil && *a.TeamID == *b.TeamID
		}) {
			t.Errorf("participants %s, want %+v", raw, want)
		}
		ps[0].refused(http.StatusForbidden, "NOT_ORGANIZER", "GET", base+"/participants", nil)
		stranger.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "GET", base+"/participants", nil)
		org.refused(http.StatusBadRequest, "INVALID_FIELD", "GET", base+"/participants?cursor=not-a-cursor!", nil)
	}

	// A new join code replaces the old.
	{
		ps[0].refused(http.StatusForbidden, "NOT_ORGANIZER", "POST", base+"/joinCode", nil)
		stranger.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "POST", base+"/joinCode", nil)
		var code struct{ JoinCode string }
		org.must(http.StatusOK, "POST", base+"/joinCode", nil, &code)
		if code.JoinCode == "" || code.JoinCode == ev.JoinCode {
			t.Fatalf("the new code %q, the old %q", code.JoinCode, ev.JoinCode)
		}
		joiner.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "POST", "/v1/events/join", joinBody(ev.JoinCode, teamOf[0]))
		if got := joiner.join(code.JoinCode, teamOf[0]); got.EventID != ev.EventID || got.JoinCode != code.JoinCode {
			t.Errorf("joined with the new code: %+v", got)
		}
		var got eventView
		ps[1].must(http.StatusOK, "GET", base, nil, &got)
		if got.JoinCode != code.JoinCode || got.Participants != 5 {
			t.Errorf("a participant reads %+v, want the new code and 5 participants", got)
		}
	}

	// Leaving and removing.
	{
		del := func(id string) string { return base + "/participants/" + id }
		// A leave is not a ban.
		ps[0].must(http.StatusNoContent, "DELETE", del(ids[0]), nil, nil)
		ps[0].refused(http.StatusNotFound, "EVENT_NOT_FOUND", "GET", base, nil)
		ps[0].refused(http.StatusNotFound, "EVENT_NOT_FOUND", "DELETE", del(ids[0]), nil)
		if _, ok := ps[0].listed(ev.EventID); ok {
			t.Error("the event is still listed to the participant who left")
		}
		var got eventView
		if got = ps[0].join(joinCodeOf(t, org, ev.EventID), teamOf[0]); got.Participants != 5 {
			t.Errorf("back after leaving: %d participants, want 5", got.Participants)
		}
		if l, ok := ps[0].listed(ev.EventID); !ok || !l.Me.Participant || l.Me.TeamID == nil || *l.Me.TeamID != teamOf[0] {
			t.Errorf("listed back after leaving: %v %+v", ok, l.Me)
		}
		ps[1].refused(http.StatusForbidden, "NOT_ORGANIZER", "DELETE", del(ids[0]), nil)
		org.refused(http.StatusNotFound, "PARTICIPANT_NOT_FOUND", "DELETE", del(orgID), nil)
		org.refused(http.StatusNotFound, "PARTICIPANT_NOT_FOUND", "DELETE", del(ids[0]+"x"), nil)
		org.refused(http.StatusNotFound, "PARTICIPANT_NOT_FOUND", "DELETE", del("x"), nil)
		newcomer.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "DELETE", del(ids[0]), nil)
		newcomer.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "DELETE", del(newcomer.named("新来")), nil)

		// The organizer's removal bans.
		org.must(http.StatusNoContent, "DELETE", del(ids[3]), nil, nil)
		ps[3].refused(http.StatusNotFound, "EVENT_NOT_FOUND", "GET", base, nil)
		if _, ok := ps[3].listed(ev.EventID); ok {
			t.Error("the event is still listed to the removed participant")
		}
		ps[3].refused(http.StatusUnprocessableEntity, "JOIN_REFUSED", "POST", "/v1/events/join", joinBody(joinCodeOf(t, org, ev.EventID), teamOf[3]))
		org.refused(http.StatusNotFound, "PARTICIPANT_NOT_FOUND", "DELETE", del(ids[3]), nil)
		org.must(http.StatusOK, "GET", base, nil, &got)
		if got.Participants != 4 {
			t.Errorf("after the removal: %d participants, want 4", got.Participants)
		}
		// An organizer taking part leaves as anyone does, and may come back.
		org.join(joinCodeOf(t, org, ev.EventID), teamOf[0])
		org.must(http.StatusNoContent, "DELETE", del(orgID), nil, nil)
		if l, ok := org.listed(ev.EventID); !ok || !l.Me.Organizer || l.Me.Participant || l.Me.TeamID != nil {
			t.Errorf("listed to the organizer who left: %v %+v", ok, l.Me)
		}
		if got = org.join(joinCodeOf(t, org, ev.EventID), teamOf[0]); !got.Me.Participant || got.Participants != 5 {
			t.Errorf("the organizer back after leaving: %+v", got)
		}

		// After endDate the results are a record.
		ended := org.create(eventBody(-30, -2, nil))
		enrol(t, ended.EventID, ps[0], ids[0])
		enrol(t, ended.EventID, ps[1], ids[1])
		ps[0].refused(http.StatusUnprocessableEntity, "EVENT_ENDED", "DELETE", "/v1/events/"+ended.EventID+"/participants/"+ids[0], nil)
		org.refused(http.StatusUnprocessableEntity, "EVENT_ENDED", "DELETE", "/v1/events/"+ended.EventID+"/participants/"+ids[1], nil)
		ps[0].must(http.StatusOK, "GET", "/v1/events/"+ended.EventID, nil, &got)
		if !got.Me.Participant || got.Participants != 2 {
			t.Errorf("the ended event after the refused leave: %+v", got)
		}
		var b eventBoard
		ps[0].must(http.StatusOK, "GET", "/v1/events/"+ended.EventID+"/board", nil, &b)
		if b.AsOf == nil || *b.AsOf != ended.EndDate || b.Participants != 2 {
			t.Errorf("the ended event's board as of %v with %d participants, want as of endDate %s with 2", b.AsOf, b.Participants, ended.EndDate)
		}
	}

	// Status and final.
	{
		for _, c := range []struct {
			name       string
			start, end int
			status     string
			final      bool
		}{
			{"before startDate", 1, 3, "upcoming", false},
			{"on startDate", 0, 3, "running", false},
			{"on endDate", -3, 0, "running", false},
			{"on endDate + 1", -3, -1, "ended", false},
			{"after endDate + 1", -3, -2, "ended", true},
		} {
			ev := org.create(eventBody(c.start, c.end, nil))
			var got eventView
			org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID, nil, &got)
			if ev.Status != c.status || ev.Final != c.final || got.Status != c.status || got.Final != c.final {
				t.Errorf("%s: created %s/%v, read %s/%v, want %s/%v", c.name, ev.Status, ev.Final, got.Status, got.Final, c.status, c.final)
			}
		}
	}

	// Cancelling.
	{
		ps[1].refused(http.StatusForbidden, "NOT_ORGANIZER", "DELETE", base, nil)
		stranger.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "DELETE", base, nil)
		joinCode := joinCodeOf(t, org, ev.EventID)
		org.must(http.StatusNoContent, "DELETE", base, nil, nil)
		for _, who := range []*client{org, ps[1]} {
			for _, r := range [][2]string{
				{"GET", base}, {"GET", base + "/board"}, {"GET", base + "/teams"}, {"GET", base + "/participants"},
				{"GET", base + "/export"}, {"POST", base + "/joinCode"}, {"DELETE", base + "/participants/" + ids[1]}, {"DELETE", base},
			} {
				who.refused(http.StatusNotFound, "EVENT_NOT_FOUND", r[0], r[1], nil)
			}
		}
		ps[3].refused(http.StatusNotFound, "EVENT_NOT_FOUND", "POST", "/v1/events/join", joinBody(joinCode, teamOf[3]))
	}
	answers.holdNone(t, secrets(t, append(ps, org, stranger, joiner, newcomer)...))
}

// joinCodeOf is the event's join code, as its organizer reads it.
func joinCodeOf(t *testing.T, org *client, eventID string) string {
	t.Helper()
	var ev eventView
	org.must(http.StatusOK, "GET", "/v1/events/"+eventID, nil, &ev)
	return ev.JoinCode
}

// TestChallengeAccountDeletionThroughTheFunctions deletes accounts
// through the built account function: an organizer's events are cancelled
// (their participants get 404 at once), a participant leaves theirs (the
// count drops, the board and the list lose them); after the second pass
// nothing in the table names them.
func TestChallengeAccountDeletionThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-deletion")
	answers := recordAnswers(t)
	organizer, keeper, stays, leaves := newClient(t, st.API, st.Sim, "organizer"), newClient(t, st.API, st.Sim, "keeper"),
		newClient(t, st.API, st.Sim, "stays"), newClient(t, st.API, st.Sim, "leaves")
	orgID, leavesID := organizer.named("组织者"), leaves.named("离开")
	stays.named("留下")
	cancelled := organizer.create(eventBody(0, 5, nil))
	kept := keeper.create(eventBody(-2, 5, nil))
	for _, c := range []*client{stays, leaves} {
		c.join(cancelled.JoinCode, "")
		c.join(kept.JoinCode, "")
		c.sync(map[int]int64{-1: 9000})
	}
	organizer.join(kept.JoinCode, "")
	before := secrets(t, organizer, keeper, stays, leaves)

	organizer.must(http.StatusNoContent, "DELETE", "/v1/me", nil, nil)
	stays.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "GET", "/v1/events/"+cancelled.EventID, nil)
	stays.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "POST", "/v1/events/join", joinBody(cancelled.JoinCode, ""))
	leaves.must(http.StatusNoContent, "DELETE", "/v1/me", nil, nil)
	// A sync after the cancel credits the kept event alone.
	stays.sync(map[int]int64{-1: 9500})

	// checkKept checks the kept event has only stays left, by every read.
	checkKept := func(when string) {
		t.Helper()
		var ev eventView
		keeper.must(http.StatusOK, "GET", "/v1/events/"+kept.EventID, nil, &ev)
		var b eventBoard
		raw := keeper.must(http.StatusOK, "GET", "/v1/events/"+kept.EventID+"/board", nil, &b)
		var ps struct{ Participants []struct{ MemberID string } }
		list := keeper.must(http.StatusOK, "GET", "/v1/events/"+kept.EventID+"/participants", nil, &ps)
		if ev.Participants != 1 || b.Participants != 1 || len(b.Entries) != 1 || b.Entries[0].Total != 9500 || len(ps.Participants) != 1 ||
			strings.Contains(raw+list, leavesID) || strings.Contains(raw+list, orgID) {
			t.Errorf("%s: %d participants, board %s, participants %s; want stays alone", when, ev.Participants, raw, list)
		}
		var mine eventList
		stays.must(http.StatusOK, "GET", "/v1/events", nil, &mine)
		if len(mine.Events) != 1 || mine.Events[0].EventID != kept.EventID {
			t.Errorf("%s: stays lists %+v, want the kept event alone", when, mine.Events)
		}
	}
	checkKept("after the deletions' first pass")
	secondPass(t, st)
	checkKept("after the second pass")
	if left := holding(tableItems(t), organizer.openid, orgID, leaves.openid, leavesID, cancelled.EventID, cancelled.JoinCode); len(left) != 0 {
		t.Errorf("items naming the deleted organizer, participant or cancelled event left after the second pass:\n%s", strings.Join(left, "\n"))
	}
	answers.holdNone(t, before)
}

// TestChallengeRacingJoinsHoldTheLimitsThroughTheFunctions: of two joins
// racing for an event's last place (both counts held until both are
// sent), or for a user's 20th event not ended (both reads of the user's
// events made before either writes), one is admitted and the other
// refused.
func TestChallengeRacingJoinsHoldTheLimitsThroughTheFunctions(t *testing.T) {
	st := localStack(t, "challenge-limits")
	org, a, b, c := newClient(t, st.API, st.Sim, "org"), newClient(t, st.API, st.Sim, "a"), newClient(t, st.API, st.Sim, "b"), newClient(t, st.API, st.Sim, "c")
	a.named("甲")
	b.named("乙")
	cID := c.named("丙")
	joining := func(who *client, code string) func() (int, string) {
		return func() (int, string) { return who.call("POST", "/v1/events/join", joinBody(code, ""), nil) }
	}

	ev := org.create(eventBody(0, 3, nil))
	env := services.ForTests(t, services.Need{DynamoDB: true})
	evs := eventstore.New(store.New(services.Client(env.DynamoDB), env.Table).Table())
	if ok, err := evs.CountParticipants(context.Background(), ev.EventID, challenge.MaxParticipants-1, challenge.MaxParticipants); err != nil || !ok {
		t.Fatalf("CountParticipants: %v %v", ok, err)
	}
	status, body := race(t, st, ddbproxy.Rule{Op: "UpdateItem", KeyPrefix: "EVENT#" + ev.EventID},
		[2]func() (int, string){joining(a, ev.JoinCode), joining(b, ev.JoinCode)})
	oneAdmitted(t, "a and b racing for an event's last place", status, body)
	var got eventView
	org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID, nil, &got)
	if got.Participants != challenge.MaxParticipants {
		t.Errorf("the event has %d participants, want %d", got.Participants, challenge.MaxParticipants)
	}

	var more []eventView
	for range 21 {
		more = append(more, org.create(eventBody(0, 3, nil)))
	}
	for _, ev := range more[:19] {
		c.join(ev.JoinCode, "")
	}
	status, body = race(t, st, ddbproxy.Rule{Op: "UpdateItem", KeyPrefix: "MEMBER#" + cID},
		[2]func() (int, string){joining(c, more[19].JoinCode), joining(c, more[20].JoinCode)})
	oneAdmitted(t, "c joining two events at once for the 20th place", status, body)
	var list eventList
	c.must(http.StatusOK, "GET", "/v1/events", nil, &list)
	if len(list.Events) != 20 {
		t.Errorf("c takes part in %d events, want 20", len(list.Events))
	}
}

// TestChallengeASyncHeldAcrossALeaveRemovalOrCancelBringsNobodyBack holds
// a participant's sync at its event credit until a leave, a removal or a
// cancel has answered, then lets it land: the participant stays gone, no
// item of theirs is left for the event, and a rejoin (where allowed)
// counts the synced day exactly.
func TestChallengeASyncHeldAcrossALeaveRemovalOrCancelBringsNobodyBack(t *testing.T) {
	st := localStack(t, "challenge-credit-races")
	for _, c := range []struct {
		name   string
		end    func(org, u *client, ev eventView, mid string)
		rejoin bool
	}{
		{"a leave", func(_, u *client, ev eventView, mid string) {
			u.must(http.StatusNoContent, "DELETE", "/v1/events/"+ev.EventID+"/participants/"+mid, nil, nil)
		}, true},
		{"a removal", func(org, _ *client, ev eventView, mid string) {
			org.must(http.StatusNoContent, "DELETE", "/v1/events/"+ev.EventID+"/participants/"+mid, nil, nil)
		}, false},
		{"a cancel", func(org, _ *client, ev eventView, _ string) {
			org.must(http.StatusNoContent, "DELETE", "/v1/events/"+ev.EventID, nil, nil)
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			org, u := newClient(t, st.API, st.Sim, "org"), newClient(t, st.API, st.Sim, "u")
			mid := u.named("同步")
			ev := org.create(eventBody(-2, 5, nil))
			u.join(ev.JoinCode, "")
			u.sync(map[int]int64{-1: 5000})
			h, err := st.Proxy.Add(ddbproxy.Rule{Op: "UpdateItem", KeyPrefix: "EVP#" + ev.EventID, Count: 1,
				Action: ddbproxy.Late, Hold: ddbproxy.UntilReleased})
			if err != nil {
				t.Fatal(err)
			}
			sync := u.async("POST", "/v1/werun/decrypt", u.syncBody(map[int]int64{-1: 8000}))
			held(t, sync, h)
			c.end(org, u, ev, mid)
			landed(t, sync, []*ddbproxy.Handle{h}, http.StatusOK)
			for k := range tableItems(t) {
				if k == "EVP#"+ev.EventID+" / "+mid || strings.HasPrefix(k, "USER#"+u.openid+" / ") && strings.HasSuffix(k, "#EVT#"+ev.EventID) {
					t.Errorf("after the held sync landed, %s is back", k)
				}
			}
			if c.name == "a cancel" {
				org.refused(http.StatusNotFound, "EVENT_NOT_FOUND", "GET", "/v1/events/"+ev.EventID+"/board", nil)
				return
			}
			var b eventBoard
			org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID+"/board", nil, &b)
			if b.Participants != 0 || len(b.Entries) != 0 {
				t.Fatalf("the board after the held sync landed: %+v, want nobody", b)
			}
			if !c.rejoin {
				u.refused(http.StatusUnprocessableEntity, "JOIN_REFUSED", "POST", "/v1/events/join", joinBody(ev.JoinCode, ""))
				return
			}
			u.join(ev.JoinCode, "")
			org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID+"/board", nil, &b)
			if len(b.Entries) != 1 || b.Entries[0].Total != 8000 {
				t.Errorf("the board after the rejoin: %+v, want the synced 8,000 alone", b.Entries)
			}
		})
	}
}
