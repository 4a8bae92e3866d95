package systest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/local/stack"
)

// race runs two calls at once through the functions while the proxy
// holds the first two requests rule matches until both have arrived, and
// returns the two answers' statuses and bodies.
func race(t *testing.T, st *stack.Stack, rule ddbproxy.Rule, calls [2]func() (int, string)) (status [2]int, body [2]string) {
	t.Helper()
	rule.Count, rule.Action, rule.Hold = 2, ddbproxy.Late, ddbproxy.UntilReleased
	h, err := st.Proxy.Add(rule)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Remove()
	done := make(chan int, 2)
	for i, call := range calls {
		go func() {
			status[i], body[i] = call()
			done <- i
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 {
		if _, err := h.Wait(ctx); err != nil {
			t.Fatalf("the racers' %s of %s did not both arrive: %v", rule.Op, rule.KeyPrefix, err)
		}
	}
	h.Release()
	<-done
	<-done
	return status, body
}

// joinRace runs two group joins at once while the proxy holds the first
// two Queries of partitions starting prefix (the set both count): both
// count the set before either writes, and race for the one place left.
func joinRace(t *testing.T, st *stack.Stack, prefix string, racers [2]*client, groups [2]string) (status [2]int, body [2]string) {
	t.Helper()
	var calls [2]func() (int, string)
	for i, c := range racers {
		data := c.simulate("/_sim/group", map[string]any{"group": groups[i], "kind": "shareInfo"})
		calls[i] = func() (int, string) {
			return c.call("POST", "/v1/groups", map[string]string{"encryptedData": data["encryptedData"], "iv": data["iv"]}, nil)
		}
	}
	return race(t, st, ddbproxy.Rule{Op: "Query", KeyPrefix: prefix}, calls)
}

// oneAdmitted fails unless exactly one of two answers is 200 and the other
// 422 LIMIT_REACHED.
func oneAdmitted(t *testing.T, what string, status [2]int, body [2]string) {
	t.Helper()
	ok, full := 0, 0
	for i := range status {
		switch {
		case status[i] == http.StatusOK:
			ok++
		case status[i] == http.StatusUnprocessableEntity && strings.Contains(body[i], "LIMIT_REACHED"):
			full++
		}
	}
	if ok != 1 || full != 1 {
		t.Errorf("%s: answers %v %q, want one 200 and one 422 LIMIT_REACHED", what, status, body)
	}
}

// Racing joins through the built functions hold the limits the operator
// configured (MAX_GROUP_MEMBERS, MAX_USER_GROUPS): of two joins racing for
// the last place, one is admitted and the other refused.
func TestRacingJoinsHoldTheConfiguredLimitsThroughTheFunctions(t *testing.T) {
	t.Setenv("MAX_GROUP_MEMBERS", "2")
	t.Setenv("MAX_USER_GROUPS", "2")
	st := localStack(t, "limits")
	api, sim := st.API, st.Sim
	alice, bob, carol, dave := newClient(t, api, sim, "alice"), newClient(t, api, sim, "bob"),
		newClient(t, api, sim, "carol"), newClient(t, api, sim, "dave")
	group := "full-" + stack.RandomKey()[:8]
	var joined struct {
		GroupID string
		Members int
	}
	share := alice.simulate("/_sim/group", map[string]any{"group": group, "kind": "shareInfo"})
	alice.must(http.StatusOK, "POST", "/v1/groups", map[string]string{"encryptedData": share["encryptedData"], "iv": share["iv"]}, &joined)

	status, body := joinRace(t, st, "GROUP#", [2]*client{bob, carol}, [2]string{group, group})
	oneAdmitted(t, "bob and carol racing for a group's last place", status, body)
	var b struct{ Members int }
	alice.must(http.StatusOK, "GET", "/v1/groups/"+joined.GroupID+"/board", nil, &b)
	if b.Members != 2 {
		t.Errorf("the group has %d members, want 2 (MAX_GROUP_MEMBERS)", b.Members)
	}

	first := "dave-" + stack.RandomKey()[:8]
	share = dave.simulate("/_sim/group", map[string]any{"group": first, "kind": "shareInfo"})
	dave.must(http.StatusOK, "POST", "/v1/groups", map[string]string{"encryptedData": share["encryptedData"], "iv": share["iv"]}, nil)
	status, body = joinRace(t, st, "MEMBER#", [2]*client{dave, dave}, [2]string{first + "-a", first + "-b"})
	oneAdmitted(t, "dave joining two groups at once for his last place", status, body)
	var list struct{ Groups []struct{ GroupID string } }
	dave.must(http.StatusOK, "GET", "/v1/groups", nil, &list)
	if len(list.Groups) != 2 {
		t.Errorf("dave is in %d groups, want 2 (MAX_USER_GROUPS)", len(list.Groups))
	}
}
