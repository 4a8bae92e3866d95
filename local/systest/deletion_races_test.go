package systest

// A deletion is final: whatever raced it, once its second pass has run no
// item names the user's openid, account or memberId, but the revocation
// REVOKED#<account>. Each race is widened by the stack's DynamoDB proxy,
// which holds the racing request's writes until the deletion has answered
// 204 and then forwards them (late), or fails the calls a test names;
// DELETION_DELAY is shortened so the refresher's next run is the second
// pass, and the test runs it (as `make invoke FUNCTION=RefreshFunction
// EVENT=events/scheduled.json` does).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/steps"
)

// raceStack is the local stack the races run on.
type raceStack struct {
	*stack.Stack
}

// victim is a user whose account a test deletes, and every name the
// table may know them by.
type victim struct {
	*client
	account string
	members map[string]bool
}

func (r *raceStack) newVictim(t *testing.T, name string) *victim {
	t.Helper()
	v := &victim{client: newClient(t, r.API, r.Sim, name), members: map[string]bool{}}
	var item struct{ Account string }
	_ = json.Unmarshal([]byte(tableItems(t)["USER#"+v.openid+" / ACCOUNT"]), &item)
	if v.account = item.Account; v.account == "" {
		t.Fatal("a login made no account item")
	}
	return v
}

// memberID is GET /v1/me/profile's memberId (made on first use).
func (v *victim) memberID() string {
	v.t.Helper()
	var me struct{ MemberID string }
	v.must(http.StatusOK, "GET", "/v1/me/profile", nil, &me)
	v.members[me.MemberID] = true
	return me.MemberID
}

// learn adds the memberIds the table holds for the victim: their pointer's
// and any profile that names them.
func (v *victim) learn(items map[string]string) {
	for k, raw := range items {
		var item map[string]string
		_ = json.Unmarshal([]byte(raw), &item)
		switch {
		case k == "USER#"+v.openid+" / MEMBER" && item["memberId"] != "":
			v.members[item["memberId"]] = true
		case strings.HasPrefix(k, "MEMBER#") && strings.HasSuffix(k, " / PROFILE") && item["openid"] == v.openid:
			v.members[strings.TrimPrefix(item["PK"], "MEMBER#")] = true
		}
	}
}

// naming lists, sorted, the keys of the items that name the victim's
// openid, account or a memberId of theirs, but for the revocation.
func (v *victim) naming(items map[string]string) []string {
	names := []string{v.openid, v.account}
	for m := range v.members {
		names = append(names, m)
	}
	var out []string
	for k, raw := range items {
		if k == "REVOKED#"+v.account+" / REVOKED" {
			continue
		}
		if slices.ContainsFunc(names, func(n string) bool { return n != "" && strings.Contains(raw, n) }) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// outraced checks that the race left what it should have after the first
// pass (so the test tests a race), and learns the victim's names.
func (r *raceStack) outraced(t *testing.T, v *victim, keys ...string) {
	t.Helper()
	items := tableItems(t)
	v.learn(items)
	for _, k := range keys {
		if _, ok := items[k]; !ok {
			t.Fatalf("the race left no %s after the deletion's answer: the window was not widened (items naming the user: %v)", k, v.naming(items))
		}
	}
}

// clean is the whole-table scan after the second pass.
func (r *raceStack) clean(t *testing.T, v *victim) {
	t.Helper()
	items := tableItems(t)
	if left := v.naming(items); len(left) > 0 {
		var b strings.Builder
		for _, k := range left {
			b.WriteString("\n" + items[k])
		}
		t.Errorf("after the second pass, items naming the deleted user (openid, account or memberId):%s", b.String())
	}
}

// finishes is secondPass, which must finish a deletion (the test's).
func finishes(t *testing.T, st *stack.Stack) boards.RefreshReport {
	t.Helper()
	rep := secondPass(t, st)
	if rep.Deletions < 1 {
		t.Fatalf("the refresher finished %d deletions, want the test's: %+v", rep.Deletions, rep)
	}
	return rep
}

// rule adds a proxy rule for the rest of the test.
func (r *raceStack) rule(t *testing.T, rule ddbproxy.Rule) *ddbproxy.Handle {
	t.Helper()
	h, err := r.Proxy.Add(rule)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Remove)
	return h
}

// hold holds every request of op on a partition starting with prefix
// (every try the SDK makes) until Remove, which forwards them.
func (r *raceStack) hold(t *testing.T, op, prefix string) *ddbproxy.Handle {
	t.Helper()
	return r.rule(t, ddbproxy.Rule{Op: op, KeyPrefix: prefix, Action: ddbproxy.Late, Hold: ddbproxy.UntilReleased})
}

// fail fails every request of op on a partition starting with prefix,
// each try, until Remove.
func (r *raceStack) fail(t *testing.T, op, prefix string) *ddbproxy.Handle {
	t.Helper()
	return r.rule(t, ddbproxy.Rule{Op: op, KeyPrefix: prefix, Action: ddbproxy.Fail})
}

// async sends a request of c's in the background.
func (c *client) async(method, path string, body any) <-chan answer {
	out := make(chan answer, 1)
	go func() { out <- send(c.api, method, path, c.token, body) }()
	return out
}

// held waits until each rule holds a request of the racing one, which
// must not answer first.
func held(t *testing.T, racing <-chan answer, rules ...*ddbproxy.Handle) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, h := range rules {
		arrived := make(chan error, 1)
		go func() { _, err := h.Wait(ctx); arrived <- err }()
		select {
		case err := <-arrived:
			if err != nil {
				t.Fatalf("no write of the racing request reached rule %d: %v", h.ID(), err)
			}
		case a := <-racing:
			t.Fatalf("the racing request answered %d %s before its write was held", a.status, a.body)
		}
	}
}

// landed forwards what the rules hold and waits for the racing request's
// answer, which must be one of want.
func landed(t *testing.T, racing <-chan answer, rules []*ddbproxy.Handle, want ...int) answer {
	t.Helper()
	for _, h := range rules {
		h.Remove()
	}
	a := <-racing
	if a.err != nil {
		t.Fatal(a.err)
	}
	if !slices.Contains(want, a.status) {
		t.Fatalf("the racing request answered %d %s, want one of %v", a.status, a.body, want)
	}
	return a
}

// deletes is DELETE /v1/me answered 204.
func (v *victim) deletes() {
	v.t.Helper()
	v.must(http.StatusNoContent, "DELETE", "/v1/me", nil, nil)
}

// profileWriteRacing deletes v's account while a profile write of theirs,
// authenticated before, is held; it lands after the 204.
func (r *raceStack) profileWriteRacing(t *testing.T, v *victim) {
	t.Helper()
	mid := v.memberID()
	h := r.hold(t, "UpdateItem", "MEMBER#"+mid)
	put := v.async("PUT", "/v1/me/profile", map[string]string{"nickname": "racer"})
	held(t, put, h)
	v.deletes()
	landed(t, put, []*ddbproxy.Handle{h}, http.StatusOK, http.StatusServiceUnavailable)
	r.outraced(t, v, "MEMBER#"+mid+" / PROFILE")
}

// todayData is the data of a sync of today's steps, which puts the user on
// today's app-wide board (plausible at any minute but the first of the day).
func (c *client) todayData() map[string]string { return c.syncBody(map[int]int64{0: 100}) }

// joinBody is a body of POST /v1/groups: a cloudID for the simulator's
// group.
func (c *client) joinBody(group string) map[string]string {
	return map[string]string{"cloudID": c.simulate("/_sim/group", map[string]any{"group": group})["cloudID"]}
}

// loginCode is wx.login: a fresh code for c.
func (c *client) loginCode() string {
	c.t.Helper()
	var code struct{ Code string }
	postJSONTo(c.t, c.sim+"/_sim/login", `{"openid":"`+c.openid+`"}`, &code)
	return code.Code
}

// wantError checks an answer's status and code, and Retry-After when retry.
func wantError(t *testing.T, what string, a answer, status int, code string, retry bool) {
	t.Helper()
	if a.err != nil {
		t.Fatalf("%s: %v", what, a.err)
	}
	if a.status != status || !strings.Contains(a.body, `"`+code+`"`) {
		t.Errorf("%s: %d %s, want %d %s", what, a.status, a.body, status, code)
	}
	if retry && a.header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", what)
	}
}

func TestDeletionRacesLeaveNothingAfterTheSecondPass(t *testing.T) {
	r := &raceStack{Stack: localStack(t, "races")}
	group := func() string { return "races-" + stack.RandomKey()[:8] }

	// Each race runs, then the second pass and the scan, then what the
	// race returns to check after them (nil: nothing).
	type after func(t *testing.T, secondPass boards.RefreshReport)
	tests := []struct {
		name string
		run  func(t *testing.T, v *victim) after
	}{
		{"a profile write racing the deletion", func(t *testing.T, v *victim) after {
			v.walk(9000)
			v.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": "before"}, nil)
			r.profileWriteRacing(t, v)
			return nil
		}},
		{"GET /v1/me/profile making the memberId racing the deletion", func(t *testing.T, v *victim) after {
			v.walk(9000)
			h := r.hold(t, "PutItem", "MEMBER#")
			get := v.async("GET", "/v1/me/profile", nil)
			held(t, get, h)
			v.deletes()
			a := landed(t, get, []*ddbproxy.Handle{h}, http.StatusOK, http.StatusServiceUnavailable)
			r.outraced(t, v)
			if len(v.members) == 0 {
				t.Fatalf("the racing read left no profile (it answered %d %s)", a.status, a.body)
			}
			return nil
		}},
		{"a group join racing the deletion", func(t *testing.T, v *victim) after {
			bob := newClient(t, r.API, r.Sim, "bob")
			g := group()
			var joined struct{ GroupID string }
			bob.must(http.StatusOK, "POST", "/v1/groups", bob.joinBody(g), &joined)
			mid := v.memberID()
			v.walk(9000)
			hg, hm := r.hold(t, "PutItem", "GROUP#"+joined.GroupID), r.hold(t, "PutItem", "MEMBER#"+mid)
			join := v.async("POST", "/v1/groups", v.joinBody(g))
			held(t, join, hg, hm)
			v.deletes()
			landed(t, join, []*ddbproxy.Handle{hg, hm}, http.StatusOK, http.StatusServiceUnavailable)
			r.outraced(t, v, "GROUP#"+joined.GroupID+" / MEMBER#"+mid, "MEMBER#"+mid+" / GROUP#"+joined.GroupID)
			return func(t *testing.T, rep boards.RefreshReport) {
				var b board
				bob.must(http.StatusOK, "GET", "/v1/groups/"+joined.GroupID+"/board", nil, &b)
				if b.Members != 1 {
					t.Errorf("the group's board after the second pass: %d members, want bob alone", b.Members)
				}
			}
		}},
		{"an event join racing the deletion", func(t *testing.T, v *victim) after {
			org := newClient(t, r.API, r.Sim, "org")
			today := steps.DateOf(time.Now())
			var ev struct{ EventID, JoinCode string }
			org.must(http.StatusCreated, "POST", "/v1/events", map[string]any{"name": "races", "startDate": today, "endDate": today}, &ev)
			v.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": "racer"}, nil)
			mid := v.memberID()
			v.walk(9000)
			h := r.hold(t, "PutItem", "EVP#"+ev.EventID)
			join := v.async("POST", "/v1/events/join", map[string]any{"joinCode": ev.JoinCode, "consent": true})
			held(t, join, h)
			v.deletes()
			landed(t, join, []*ddbproxy.Handle{h}, http.StatusOK, http.StatusServiceUnavailable)
			r.outraced(t, v, "EVP#"+ev.EventID+" / "+mid)
			return func(t *testing.T, rep boards.RefreshReport) {
				var got struct{ Participants int }
				org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID, nil, &got)
				var b struct{ Entries []struct{ MemberID string } }
				org.must(http.StatusOK, "GET", "/v1/events/"+ev.EventID+"/board", nil, &b)
				if got.Participants != 0 || len(b.Entries) != 0 {
					t.Errorf("the event after the second pass: %d participants, board %+v; want nobody", got.Participants, b.Entries)
				}
			}
		}},
		{"an invite made during the deletion, accepted before the second pass", func(t *testing.T, v *victim) after {
			bob := newClient(t, r.API, r.Sim, "bob")
			bob.must(http.StatusOK, "GET", "/v1/me/profile", nil, nil)
			mid := v.memberID()
			hi, hm := r.hold(t, "PutItem", "INVITE#"), r.hold(t, "PutItem", "MEMBER#"+mid)
			invite := v.async("POST", "/v1/friends/invites", nil)
			held(t, invite, hi, hm)
			v.deletes()
			a := landed(t, invite, []*ddbproxy.Handle{hi, hm}, http.StatusCreated, http.StatusServiceUnavailable)
			var inv struct{ InviteCode string }
			_ = json.Unmarshal([]byte(a.body), &inv)
			if inv.InviteCode == "" {
				t.Fatalf("the racing invite answered %d %s: no code to accept", a.status, a.body)
			}
			r.outraced(t, v, "INVITE#"+inv.InviteCode+" / INVITE", "MEMBER#"+mid+" / INVITE#"+inv.InviteCode)
			// Whoever accepts it meanwhile befriends the deleted user, until
			// the second pass.
			if status, raw := bob.call("POST", "/v1/friends", map[string]string{"inviteCode": inv.InviteCode}, nil); status != http.StatusOK && status != http.StatusUnprocessableEntity {
				t.Fatalf("accepting the racing invite: %d %s", status, raw)
			}
			return func(t *testing.T, rep boards.RefreshReport) {
				if status, raw := bob.call("POST", "/v1/friends", map[string]string{"inviteCode": inv.InviteCode}, nil); status != http.StatusUnprocessableEntity || !strings.Contains(raw, "INVALID_INVITE") {
					t.Errorf("the invite after the second pass: %d %s, want 422 INVALID_INVITE", status, raw)
				}
				var friends struct{ Friends []struct{ FriendID string } }
				bob.must(http.StatusOK, "GET", "/v1/friends", nil, &friends)
				if len(friends.Friends) != 0 {
					t.Errorf("bob's friends after the second pass: %+v", friends)
				}
			}
		}},
		{"accepting an invite while deleting one's own account", func(t *testing.T, v *victim) after {
			bob := newClient(t, r.API, r.Sim, "bob")
			var bobMe struct{ MemberID string }
			bob.must(http.StatusOK, "GET", "/v1/me/profile", nil, &bobMe)
			var inv struct{ InviteCode string }
			bob.must(http.StatusCreated, "POST", "/v1/friends/invites", nil, &inv)
			mid := v.memberID()
			hv, hb := r.hold(t, "PutItem", "MEMBER#"+mid), r.hold(t, "PutItem", "MEMBER#"+bobMe.MemberID)
			accept := v.async("POST", "/v1/friends", map[string]string{"inviteCode": inv.InviteCode})
			held(t, accept, hv, hb)
			v.deletes()
			landed(t, accept, []*ddbproxy.Handle{hv, hb}, http.StatusOK, http.StatusServiceUnavailable)
			r.outraced(t, v, "MEMBER#"+mid+" / FRIEND#"+bobMe.MemberID, "MEMBER#"+bobMe.MemberID+" / FRIEND#"+mid)
			return func(t *testing.T, rep boards.RefreshReport) {
				var friends struct{ Friends []struct{ FriendID string } }
				bob.must(http.StatusOK, "GET", "/v1/friends", nil, &friends)
				if len(friends.Friends) != 0 {
					t.Errorf("bob's friends after the second pass: %+v", friends)
				}
			}
		}},
		{"a sync that read the revocation before the deletion wrote it, writing after its answer", func(t *testing.T, v *victim) after {
			// The deletion waits at its revocation while the sync reads
			// it (not there yet); then the sync's write waits while the
			// deletion answers. The sync reads the revocation only beside
			// its first read, so it writes and answers 200, and the
			// second pass erases what it wrote.
			revoke := r.hold(t, "PutItem", "REVOKED#"+v.account)
			del := v.async("DELETE", "/v1/me", nil)
			held(t, del, revoke)
			write := r.hold(t, "UpdateItem", "USER#"+v.openid)
			sync := v.async("POST", "/v1/werun/decrypt", v.todayData())
			held(t, sync, write)
			landed(t, del, []*ddbproxy.Handle{revoke}, http.StatusNoContent)
			landed(t, sync, []*ddbproxy.Handle{write}, http.StatusOK)
			r.outraced(t, v, "USER#"+v.openid+" / DAY#"+steps.DateOf(time.Now()))
			return func(t *testing.T, rep boards.RefreshReport) {
				// The run's board is published; other packages' tests sync
				// today meanwhile, so the check is who is on it, not how many.
				var snap struct{ Data string }
				_ = json.Unmarshal([]byte(tableItems(t)["APP#"+stack.AppID+" / SNAPSHOT#BOARD#"+steps.DateOf(time.Now())]), &snap)
				var b boards.Board
				if err := json.Unmarshal([]byte(snap.Data), &b); err != nil {
					t.Fatalf("today's published board after the second pass: %v %q", err, snap.Data)
				}
				if b.Users > len(b.Top) {
					t.Fatalf("today's board shows %d of its %d users: the deleted user could be among the rest", len(b.Top), b.Users)
				}
				for _, u := range b.Top {
					if u.OpenID == v.openid {
						t.Errorf("the deleted user is on today's app-wide board after the second pass")
					}
				}
			}
		}},
		{"login codes redeemed before the deletion, replayed after it", func(t *testing.T, v *victim) after {
			// One code redeemed by a login (the session function keeps it),
			// one by a sync with its code (the decrypt function keeps it),
			// one by a login whose record is written after the deletion.
			first := v.loginCode()
			v.must(http.StatusOK, "POST", "/v1/session", map[string]string{"code": first}, nil)
			second := v.loginCode()
			withCode := func(code string) map[string]string {
				body := v.todayData()
				body["code"] = code
				return body
			}
			if a := send(r.API, "POST", "/v1/werun/decrypt", "", withCode(second)); a.status != http.StatusOK {
				t.Fatalf("a sync with its code: %d %s", a.status, a.body)
			}
			third := v.loginCode()
			h := r.hold(t, "PutItem", "CODE#")
			login := make(chan answer, 1)
			go func() { login <- send(r.API, "POST", "/v1/session", "", map[string]string{"code": third}) }()
			held(t, login, h)
			v.deletes()
			a := landed(t, login, []*ddbproxy.Handle{h}, http.StatusOK, http.StatusServiceUnavailable)
			var late struct{ Token string }
			_ = json.Unmarshal([]byte(a.body), &late)
			if late.Token != "" {
				if b := send(r.API, "GET", "/v1/steps", late.Token, nil); b.status != http.StatusUnauthorized {
					t.Errorf("the token of the login racing the deletion: %d %s, want 401", b.status, b.body)
				}
			}
			replay := func(when string) {
				for _, code := range []string{first, second, third} {
					wantError(t, "POST /v1/session with a code redeemed before the deletion, "+when,
						send(r.API, "POST", "/v1/session", "", map[string]string{"code": code}), http.StatusBadRequest, "INVALID_CODE", false)
					wantError(t, "POST /v1/werun/decrypt with a code redeemed before the deletion, "+when,
						send(r.API, "POST", "/v1/werun/decrypt", "", withCode(code)), http.StatusBadRequest, "INVALID_CODE", false)
				}
			}
			replay("before the second pass")
			sum := sha256.Sum256([]byte(third))
			r.outraced(t, v, "CODE#"+hex.EncodeToString(sum[:])+" / CODE")
			return func(t *testing.T, _ boards.RefreshReport) {
				replay("after the second pass")
				r.clean(t, v)
			}
		}},
		{"a deletion cut short by a 503 is finished by the second pass alone", func(t *testing.T, v *victim) after {
			v.walk(9000)
			v.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": "half"}, nil)
			v.memberID()
			erase := r.fail(t, "BatchWriteItem", "")
			wantError(t, "the deletion whose erase fails", send(r.API, "DELETE", "/v1/me", v.token, nil), http.StatusServiceUnavailable, "UNAVAILABLE", true)
			erase.Remove()
			r.outraced(t, v, "USER#"+v.openid+" / DAY#"+steps.DateOf(time.Now().AddDate(0, 0, -1)))
			wantError(t, "a login before the second pass", send(r.API, "POST", "/v1/session", "", map[string]string{"code": v.loginCode()}),
				http.StatusConflict, "DELETION_IN_PROGRESS", true)
			old := v.token
			return func(t *testing.T, rep boards.RefreshReport) {
				// After the scan: a new login is a new, empty account, which
				// a resend of the old deletion never touches.
				v.login()
				var ex export
				raw := v.must(http.StatusOK, "GET", "/v1/me/export", nil, &ex)
				if ex.Profile != nil || len(ex.Days) != 0 || len(ex.Groups) != 0 || len(ex.Friends) != 0 {
					t.Errorf("the new account's export: %s", raw)
				}
				v.walk(4000)
				wantError(t, "the old deletion resent", send(r.API, "DELETE", "/v1/me", old, nil), http.StatusUnauthorized, "INVALID_TOKEN", false)
				v.must(http.StatusOK, "GET", "/v1/me/export", nil, &ex)
				if len(ex.Days) != 1 || ex.Days[0].Steps != 4000 {
					t.Errorf("the new account after the old deletion was resent: %+v", ex.Days)
				}
			}
		}},
		{"a second pass cut short is finished by the next", func(t *testing.T, v *victim) after {
			v.walk(9000)
			r.profileWriteRacing(t, v)
			erase := r.fail(t, "BatchWriteItem", "")
			if rep, err := refresh(t, r.Stack); err == nil {
				t.Fatalf("the refresher whose erase failed: %+v, want its error", rep)
			}
			erase.Remove()
			wantError(t, "a login after a second pass cut short", send(r.API, "POST", "/v1/session", "", map[string]string{"code": v.loginCode()}),
				http.StatusConflict, "DELETION_IN_PROGRESS", true)
			return nil
		}},
		{"joins and befriends with one of their two writes failed", func(t *testing.T, v *victim) after {
			bob, carol := newClient(t, r.API, r.Sim, "bob"), newClient(t, r.API, r.Sim, "carol")
			mid := v.memberID()
			ids := map[*client]string{}
			for _, c := range []*client{bob, carol} {
				var me struct{ MemberID string }
				c.must(http.StatusOK, "GET", "/v1/me/profile", nil, &me)
				ids[c] = me.MemberID
			}
			var joined struct{ GroupID string }
			g1, g2 := group(), group()
			bob.must(http.StatusOK, "POST", "/v1/groups", bob.joinBody(g1), &joined)
			gid1 := joined.GroupID
			bob.must(http.StatusOK, "POST", "/v1/groups", bob.joinBody(g2), &joined)
			gid2 := joined.GroupID
			invites := map[*client]string{}
			for _, c := range []*client{bob, carol} {
				var inv struct{ InviteCode string }
				c.must(http.StatusCreated, "POST", "/v1/friends/invites", nil, &inv)
				invites[c] = inv.InviteCode
			}
			halfWritten := []struct {
				what, fail, path string
				body             map[string]string
			}{
				{"a join whose group side fails", "GROUP#" + gid1, "/v1/groups", v.joinBody(g1)},
				{"a join whose member side fails", "MEMBER#" + mid, "/v1/groups", v.joinBody(g2)},
				{"a befriend whose friend's side fails", "MEMBER#" + ids[bob], "/v1/friends", map[string]string{"inviteCode": invites[bob]}},
				{"a befriend whose own side fails", "MEMBER#" + mid, "/v1/friends", map[string]string{"inviteCode": invites[carol]}},
			}
			for _, hw := range halfWritten {
				f := r.fail(t, "PutItem", hw.fail)
				wantError(t, hw.what, send(r.API, "POST", hw.path, v.token, hw.body), http.StatusServiceUnavailable, "UNAVAILABLE", true)
				f.Remove()
			}
			r.outraced(t, v, "MEMBER#"+mid+" / GROUP#"+gid1, "GROUP#"+gid2+" / MEMBER#"+mid,
				"MEMBER#"+mid+" / FRIEND#"+ids[bob], "MEMBER#"+ids[carol]+" / FRIEND#"+mid)
			v.deletes()
			return func(t *testing.T, rep boards.RefreshReport) {
				for _, c := range []*client{bob, carol} {
					if status, raw := c.call("DELETE", "/v1/friends/"+mid, nil, nil); status != http.StatusNotFound {
						t.Errorf("unfriending the deleted user after the second pass: %d %s, want 404", status, raw)
					}
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := r.newVictim(t, "victim")
			then := tt.run(t, v)
			rep := finishes(t, r.Stack)
			r.clean(t, v)
			if then != nil {
				then(t, rep)
			}
		})
	}
	t.Run("a login code's session key is kept by a resend after a 503", func(t *testing.T) {
		c := &client{t: t, api: r.API, sim: r.Sim, openid: "w5-" + stack.RandomKey()[:12]}
		code := c.loginCode()
		f := r.fail(t, "PutItem", "USER#"+c.openid)
		wantError(t, "a login whose session key is not kept", send(r.API, "POST", "/v1/session", "", map[string]string{"code": code}),
			http.StatusServiceUnavailable, "UNAVAILABLE", true)
		f.Remove()
		var s struct{ Token string }
		a := send(r.API, "POST", "/v1/session", "", map[string]string{"code": code})
		if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &s) != nil || s.Token == "" {
			t.Fatalf("the same code resent: %d %s, want a token", a.status, a.body)
		}
		c.token = s.Token
		c.walk(5000)
		var ex export
		c.must(http.StatusOK, "GET", "/v1/me/export", nil, &ex)
		if ex.SessionKeys.Count != 1 || len(ex.Days) != 1 {
			t.Errorf("after the resent login and a sync: %d session keys, days %+v", ex.SessionKeys.Count, ex.Days)
		}
	})
}
