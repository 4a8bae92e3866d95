package systest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// exclude does what the README's operator command does: it keeps
// memberID off every board.
func exclude(t *testing.T, memberID string) {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true})
	_, err := services.Client(env.DynamoDB).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(env.Table),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "EXCLUDED"},
			"SK": &types.AttributeValueMemberS{Value: "MEMBER#" + memberID},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// localStack serves the whole local stack (every function built with the
// Makefile under the emulator, the simulator, the test services' table
// behind the stack's DynamoDB fault proxy) on free ports, the functions'
// output in a file named on failure. Its API and Sim are the base URLs,
// its Proxy the test's handle on DynamoDB's faults, its DynamoDB the
// table past them.
func localStack(t *testing.T, name string) *stack.Stack {
	t.Helper()
	services.ForTests(t, services.Need{DynamoDB: true})
	t.Setenv("WECHAT_API_BASE", "") // the stack's own simulator
	// A deletion's second pass is due at once (1 ms), so a test drives it with
	// secondPass instead of waiting.
	t.Setenv("DELETION_DELAY", "1ms")
	if err := os.MkdirAll(emulator.BuildDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(emulator.BuildDir, name+"-stack.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := &services.LockedWriter{W: logf}
	// The context bounds the build and the start; the stack runs on until
	// the test ends.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	st, err := stack.Start(ctx, stack.Options{
		Pool: 2, Serve: true,
		Log:    func(name string) io.Writer { return services.NewPrefixWriter(log, "["+name+"] ") },
		APILog: func(format string, a ...any) { fmt.Fprintf(log, "[api] "+format+"\n", a...) },
	})
	t.Cleanup(func() {
		if st != nil {
			st.Close()
		}
		cancel()
		logf.Close()
		if t.Failed() {
			t.Logf("the local stack's log: %s", logPath)
		}
	})
	if err != nil {
		t.Fatalf("local stack: %v", err)
	}
	return st
}

// client is one mini program user against the local stack.
type client struct {
	t        *testing.T
	api, sim string
	openid   string
	token    string
}

func newClient(t *testing.T, api, sim, name string) *client {
	c := &client{t: t, api: api, sim: sim, openid: name + "-" + stack.RandomKey()[:12]}
	c.login()
	return c
}

// login is wx.login, then POST /v1/session.
func (c *client) login() {
	c.t.Helper()
	var code struct{ Code string }
	postJSONTo(c.t, c.sim+"/_sim/login", `{"openid":"`+c.openid+`"}`, &code)
	var s struct{ Token string }
	postJSONTo(c.t, c.api+"/v1/session", `{"code":"`+code.Code+`"}`, &s)
	c.token = s.Token
}

// simulate asks the simulator's control API for what the mini program gets.
func (c *client) simulate(path string, body map[string]any) map[string]string {
	c.t.Helper()
	body["openid"] = c.openid
	b, _ := json.Marshal(body)
	var out map[string]string
	postJSONTo(c.t, c.sim+path, string(b), &out)
	return out
}

// call sends a request with the caller's token and returns the status and
// the raw answer, decoding it into v when v is not nil.
func (c *client) call(method, path string, body any, v any) (int, string) {
	c.t.Helper()
	a := send(c.api, method, path, c.token, body)
	if a.err != nil {
		c.t.Fatal(a.err)
	}
	if v != nil && a.status/100 == 2 {
		if err := json.Unmarshal([]byte(a.body), v); err != nil {
			c.t.Fatalf("%s %s: %s: %v", method, path, a.body, err)
		}
	}
	return a.status, a.body
}

// answer is one answer of the API.
type answer struct {
	status int
	body   string
	header http.Header
	err    error // the request's own failure (no answer)
}

// send sends a JSON request (no body when body is nil) with token, if
// any, as its bearer; it is safe from any goroutine.
func send(api, method, path, token string, body any) answer {
	var rd io.Reader = strings.NewReader("")
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, api+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(raw), header: resp.Header, err: err}
}

// must is call that fails the test unless the answer is want.
func (c *client) must(want int, method, path string, body any, v any) string {
	c.t.Helper()
	status, raw := c.call(method, path, body, v)
	if status != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, status, raw, want)
	}
	return raw
}

// walk syncs yesterday's count.
func (c *client) walk(yesterday int64) { c.sync(map[int]int64{-1: yesterday}) }

// sync syncs the counts of days before today (-1 is yesterday), stamped
// now, through the decrypt route: any count up to MAX_BOARD_STEPS is
// plausible for a past day at any hour.
func (c *client) sync(days map[int]int64) {
	c.t.Helper()
	c.must(http.StatusOK, "POST", "/v1/werun/decrypt", c.syncBody(days), nil)
}

// syncBody is the decrypt route's body for a sync of days (as sync).
func (c *client) syncBody(days map[int]int64) map[string]string {
	c.t.Helper()
	now := time.Now().In(steps.CST)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, steps.CST)
	var list []map[string]int64
	for _, offset := range slices.Sorted(maps.Keys(days)) {
		list = append(list, map[string]int64{"timestamp": midnight.AddDate(0, 0, offset).Unix(), "step": days[offset]})
	}
	data := c.simulate("/_sim/werun", map[string]any{"stepInfoList": list})
	return map[string]string{"encryptedData": data["encryptedData"], "iv": data["iv"]}
}

type board struct {
	Date    string
	Members int
	Entries []struct {
		Rank     int
		MemberID string
		Nickname string
		Steps    int64
		Me       bool
	}
	Me struct {
		Rank  *int
		Steps int64
	}
}

func (b board) steps() map[string]int64 {
	out := map[string]int64{}
	for _, e := range b.Entries {
		out[e.MemberID] = e.Steps
	}
	return out
}

// TestSocialThroughTheFunctions runs the social flows through the built
// functions: joining in every shape, boards, invites, profiles, an
// implausible day and an excluded member, leaving and unfriending; and no
// answer about others holds an openid or an openGId.
func TestSocialThroughTheFunctions(t *testing.T) {
	st := localStack(t, "social")
	api, sim := st.API, st.Sim
	alice, bob, carol, dave, erin := newClient(t, api, sim, "alice"), newClient(t, api, sim, "bob"),
		newClient(t, api, sim, "carol"), newClient(t, api, sim, "dave"), newClient(t, api, sim, "erin")
	yesterday := steps.DateOf(time.Now().AddDate(0, 0, -1))
	group := "club-" + stack.RandomKey()[:8]
	openids := []string{alice.openid, bob.openid, carol.openid, dave.openid, erin.openid}
	clean := func(what, raw string) {
		t.Helper()
		for _, secret := range append(openids, sim, group) {
			if strings.Contains(raw, secret) {
				t.Errorf("%s holds %q: %s", what, secret, raw)
			}
		}
	}

	// Profiles: a risky nickname is refused, others stored.
	if status, raw := alice.call("PUT", "/v1/me/profile", map[string]string{"nickname": "bad " + wechattest.RiskyWord}, nil); status != http.StatusUnprocessableEntity || !strings.Contains(raw, "NICKNAME_REJECTED") {
		t.Errorf("risky nickname: %d %s", status, raw)
	}
	if status, raw := alice.call("PUT", "/v1/me/profile", map[string]string{"nickname": " "}, nil); status != http.StatusBadRequest || !strings.Contains(raw, "INVALID_FIELD") {
		t.Errorf("blank nickname: %d %s", status, raw)
	}
	ids := map[*client]string{}
	for _, c := range []*client{alice, bob, carol, erin} {
		var p struct{ Nickname, AvatarURL string }
		c.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": " " + c.openid[:4] + " ", "avatarUrl": "https://cdn.example.com/a.png"}, &p)
		if p.Nickname != c.openid[:4] || p.AvatarURL != "https://cdn.example.com/a.png" {
			t.Errorf("stored profile %+v", p)
		}
		var me struct{ Nickname, MemberID string }
		c.must(http.StatusOK, "GET", "/v1/me/profile", nil, &me)
		ids[c] = me.MemberID
	}
	// The operator keeps erin off the boards before anyone reads one.
	exclude(t, ids[erin])

	// Steps: carol's yesterday is implausible (over MAX_BOARD_STEPS).
	alice.walk(9000)
	bob.walk(7000)
	carol.walk(150000)
	erin.walk(50000)
	var hist struct{ Days []steps.Day }
	carol.must(http.StatusOK, "GET", "/v1/steps?from="+yesterday+"&to="+yesterday, nil, &hist)
	if len(hist.Days) != 1 || hist.Days[0].Steps != 150000 {
		t.Errorf("carol's history %+v, want her 150000", hist)
	}

	// Joining: getShareInfo's data after a wx.login rotated alice's key,
	// getGroupEnterInfo's for bob, a cloudID for carol and erin.
	share := alice.simulate("/_sim/group", map[string]any{"group": group, "kind": "shareInfo"})
	alice.login()
	var joined struct {
		GroupID string
		Members int
	}
	alice.must(http.StatusOK, "POST", "/v1/groups", map[string]string{"encryptedData": share["encryptedData"], "iv": share["iv"]}, &joined)
	gid := joined.GroupID
	enter := bob.simulate("/_sim/group", map[string]any{"group": group, "kind": "enterInfo"})
	bob.must(http.StatusOK, "POST", "/v1/groups", map[string]string{"encryptedData": enter["encryptedData"], "iv": enter["iv"]}, &joined)
	if joined.GroupID != gid || joined.Members != 2 {
		t.Errorf("bob joined %+v, want %s with 2 members", joined, gid)
	}
	for _, c := range []*client{carol, erin} {
		cloud := c.simulate("/_sim/group", map[string]any{"group": group})
		c.must(http.StatusOK, "POST", "/v1/groups", map[string]string{"cloudID": cloud["cloudID"]}, &joined)
	}
	if joined.GroupID != gid || joined.Members != 4 {
		t.Errorf("erin joined %+v, want %s with 4 members", joined, gid)
	}

	// The board: alice and bob see each other; carol's day and erin are kept off.
	var b board
	raw := alice.must(http.StatusOK, "GET", "/v1/groups/"+gid+"/board?date="+yesterday, nil, &b)
	clean("the group board", raw)
	if got := b.steps(); b.Members != 4 || len(got) != 2 || got[ids[alice]] != 9000 || got[ids[bob]] != 7000 || b.Entries[0].Rank != 1 || !b.Entries[0].Me {
		t.Errorf("alice's board %s", raw)
	}
	carol.must(http.StatusOK, "GET", "/v1/groups/"+gid+"/board?date="+yesterday, nil, &b)
	if b.Me.Rank != nil || b.Me.Steps != 150000 {
		t.Errorf("carol's own line %+v, want rank null and her steps", b.Me)
	}
	erin.must(http.StatusOK, "GET", "/v1/groups/"+gid+"/board?date="+yesterday, nil, &b)
	if b.Me.Rank != nil || len(b.Entries) != 2 {
		t.Errorf("erin's board %+v, want her off it", b)
	}
	if status, raw := dave.call("GET", "/v1/groups/"+gid+"/board", nil, nil); status != http.StatusNotFound || !strings.Contains(raw, "GROUP_NOT_FOUND") {
		t.Errorf("a non-member: %d %s", status, raw)
	}
	if status, raw := alice.call("GET", "/v1/groups/"+gid+"/board?date=2026-02-30", nil, nil); status != http.StatusBadRequest || !strings.Contains(raw, "INVALID_RANGE") {
		t.Errorf("a bad date: %d %s", status, raw)
	}
	var list struct {
		Groups []struct {
			GroupID string
			Members int
		}
	}
	raw = bob.must(http.StatusOK, "GET", "/v1/groups", nil, &list)
	clean("the group list", raw)
	if len(list.Groups) != 1 || list.Groups[0].GroupID != gid || list.Groups[0].Members != 4 {
		t.Errorf("bob's groups %s", raw)
	}

	// Friends: an invite accepted makes friends both ways.
	var inv struct {
		InviteCode string
		ExpiresIn  int
	}
	alice.must(http.StatusCreated, "POST", "/v1/friends/invites", nil, &inv)
	if inv.ExpiresIn != 7*24*3600 {
		t.Errorf("invite %+v", inv)
	}
	var added struct{ FriendID, Nickname string }
	for range 2 {
		raw = dave.must(http.StatusOK, "POST", "/v1/friends", map[string]string{"inviteCode": inv.InviteCode}, &added)
		clean("an accepted invite", raw)
		if added.FriendID != ids[alice] || added.Nickname != alice.openid[:4] {
			t.Errorf("accepted %s", raw)
		}
	}
	if status, raw := alice.call("POST", "/v1/friends", map[string]string{"inviteCode": inv.InviteCode}, nil); status != http.StatusUnprocessableEntity || !strings.Contains(raw, "INVALID_INVITE") {
		t.Errorf("own invite: %d %s", status, raw)
	}
	var friends struct{ Friends []struct{ FriendID string } }
	raw = alice.must(http.StatusOK, "GET", "/v1/friends", nil, &friends)
	clean("the friend list", raw)
	if len(friends.Friends) != 1 {
		t.Errorf("alice's friends %s", raw)
	}
	raw = dave.must(http.StatusOK, "GET", "/v1/friends/board?date="+yesterday, nil, &b)
	clean("the friends board", raw)
	if b.Members != 2 || len(b.Entries) != 2 || b.Entries[0].MemberID != ids[alice] || *b.Me.Rank != 2 || b.Me.Steps != 0 {
		t.Errorf("dave's friends board %s", raw)
	}

	// Leaving and unfriending.
	bob.must(http.StatusNoContent, "DELETE", "/v1/groups/"+gid, nil, nil)
	if status, _ := bob.call("GET", "/v1/groups/"+gid+"/board", nil, nil); status != http.StatusNotFound {
		t.Errorf("bob's board after leaving: %d", status)
	}
	if status, _ := bob.call("DELETE", "/v1/groups/"+gid, nil, nil); status != http.StatusNotFound {
		t.Errorf("leaving again: %d", status)
	}
	dave.must(http.StatusNoContent, "DELETE", "/v1/friends/"+ids[alice], nil, nil)
	if status, raw := dave.call("DELETE", "/v1/friends/"+ids[alice], nil, nil); status != http.StatusNotFound || !strings.Contains(raw, "FRIEND_NOT_FOUND") {
		t.Errorf("unfriending again: %d %s", status, raw)
	}
}
