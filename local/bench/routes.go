package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/api"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The DynamoDB cost of each route a user waits for, measured through the
// API handlers (package api) as a function runs them: the bearer token is
// verified and its revocation read, then the use case runs, over the real
// DynamoStore. The recorded client reaches dynalite through the stack's
// DynamoDB proxy with a fixed delay on every request (countLatency), so a
// request that waits for another starts after it has ended by a clear
// margin and one that runs beside it does not; the set-up writes go to
// dynalite directly.

// countLatency is the delay the proxy adds to every recorded request
// while round trips are counted: far above a goroutine's start-up, so
// parallel requests never look sequential.
const countLatency = 10 * time.Millisecond

// Cost is one scenario's DynamoDB bill.
type Cost struct {
	Scenario      string
	Route         string // the API route, "METHOD /path"
	Changed       int
	Requests      map[string]int
	Waves         int
	ReportedRCU   float64 // as dynalite reports (table and indexes)
	ReportedWCU   float64 // table writes as dynalite reports
	ReportedGSI   float64 // index writes as dynalite reports
	ComputedWCU   float64 // from the written items' sizes: table
	ComputedGSI   float64 // from the written items' sizes: ActiveIndex
	WriteRequests int
}

// handlers are the API handlers of the routes measured, over one
// benchWorld's use cases.
type handlers struct {
	w                                  *benchWorld
	session, decrypt, cloudid, st, soc api.Handler
}

// do makes one API request through h as the Lambda runtime would (a 10 s
// deadline) and decodes a 200's body into out; any other status is an
// error naming the answer.
func (h handlers) do(ctx context.Context, fn api.Handler, route, token string, body any, q, p map[string]string, out any) error {
	req := events.APIGatewayV2HTTPRequest{RouteKey: route, QueryStringParameters: q, PathParameters: p,
		Headers: map[string]string{"content-type": "application/json"}}
	if token != "" {
		req.Headers["authorization"] = "Bearer " + token
	}
	if body != nil {
		b, _ := json.Marshal(body)
		req.Body = string(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := fn(ctx, req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", route, resp.StatusCode, resp.Body)
	}
	if out != nil {
		return json.Unmarshal([]byte(resp.Body), out)
	}
	return nil
}

// login is POST /v1/session for openid: its token.
func (h handlers) login(ctx context.Context, openid string) (string, error) {
	var s struct{ Token string }
	err := h.do(ctx, h.session, "POST /v1/session", "", map[string]string{"code": h.w.sim.Login(openid)}, nil, nil, &s)
	return s.Token, err
}

// sync is POST /v1/werun/decrypt of list with token; the days it changed.
func (h handlers) sync(ctx context.Context, openid, token string, list []wechattest.StepInfo) (int, error) {
	ed, iv := h.w.sim.WeRunData(openid, list, time.Now())
	var r api.SyncResponse
	err := h.do(ctx, h.decrypt, "POST /v1/werun/decrypt", token, map[string]string{"encryptedData": ed, "iv": iv}, nil, nil, &r)
	return r.Changed, err
}

// measureRoutes seeds the table and measures every scenario through the
// handlers; proxy is the stack's DynamoDB proxy the recorded client goes
// through, dynamo the dynalite behind it.
func measureRoutes(ctx context.Context, proxy *ddbproxy.Proxy, dynamo, table string) ([]Cost, error) {
	w, err := newBenchWorld(proxy.URL, dynamo, table)
	if err != nil {
		return nil, err
	}
	defer w.sim.Close()
	h := handlers{w: w, session: api.Session(w.svc), decrypt: api.Decrypt(w.svc), cloudid: api.CloudID(w.svc),
		st: api.Steps(w.svc), soc: api.Social(w.svc)}
	now := time.Now()
	b := &socialBench{ctx: ctx, setup: store.New(w.plain, table), date: steps.DateOf(now.AddDate(0, 0, -1)), now: now}
	seed, err := b.seed()
	if err != nil {
		return nil, err
	}
	// Tokens from logins after the seeding carry the memberIds it made.
	tokens := map[string]string{}
	for _, openid := range []string{seed.bigMembers[0].OpenID, seed.smallMembers[1].OpenID, seed.lister.OpenID, seed.syncer} {
		if tokens[openid], err = h.login(ctx, openid); err != nil {
			return nil, err
		}
	}
	syncer := seed.syncer
	if _, err := h.sync(ctx, syncer, tokens[syncer], wechattest.Days(31, now)); err != nil {
		return nil, err
	}
	// A user in no group for the login, the syncs and the reads; the
	// cloudID syncs are measured after one unmeasured (a warm container
	// has WeChat's access token).
	fresh := "bench-" + stack.RandomKey()[:12]
	list := wechattest.Days(31, now)
	bump := func(n int64) []wechattest.StepInfo {
		list[len(list)-1].Step += n
		return append([]wechattest.StepInfo(nil), list...)
	}
	var freshToken string
	cloudSync := func() (int, error) {
		var r api.SyncResponse
		id := w.sim.CloudID(fresh, bump(300), time.Now())
		err := h.do(ctx, h.cloudid, "POST /v1/werun/cloudid", freshToken, map[string]string{"cloudID": id}, nil, nil, &r)
		return r.Changed, err
	}
	syncerList := wechattest.Days(31, now)
	syncerList[len(syncerList)-1].Step += 500
	// The exclusions are read once a minute per container: read them
	// before measuring, as a warm container has.
	if err := h.do(ctx, h.soc, "GET /v1/groups/{groupId}/board", tokens[seed.bigMembers[0].OpenID], nil,
		map[string]string{"date": b.date}, map[string]string{"groupId": seed.big}, nil); err != nil {
		return nil, err
	}
	board := func(route, openid string, p map[string]string, want int) func() (int, error) {
		return func() (int, error) {
			var bd social.MemberBoard
			err := h.do(ctx, h.soc, route, tokens[openid], nil, map[string]string{"date": b.date}, p, &bd)
			if err == nil && len(bd.Entries) != want {
				err = fmt.Errorf("%d entries, want %d", len(bd.Entries), want)
			}
			return 0, err
		}
	}
	read := func(route string) func() (int, error) {
		return func() (int, error) { return 0, h.do(ctx, h.st, route, freshToken, nil, nil, nil, nil) }
	}
	events, err := challengeScenarios(ctx, h, b.setup)
	if err != nil {
		return nil, err
	}
	if err := proxy.SetLatency(ddbproxy.Latency{Mean: countLatency}); err != nil {
		return nil, err
	}
	defer func() { _ = proxy.SetLatency(ddbproxy.Latency{}) }()
	return w.measure(ctx, append([]scenario{
		{"login", "POST /v1/session", func() (int, error) {
			freshToken, err = h.login(ctx, fresh)
			return 0, err
		}},
		{"sync (encryptedData), first, 31 days", "POST /v1/werun/decrypt", func() (int, error) { return h.sync(ctx, fresh, freshToken, list) }},
		{"sync (encryptedData), only today changed", "POST /v1/werun/decrypt", func() (int, error) { return h.sync(ctx, fresh, freshToken, bump(500)) }},
		{"sync (encryptedData), resend of unchanged data", "POST /v1/werun/decrypt", func() (int, error) { return h.sync(ctx, fresh, freshToken, list) }},
		{"sync with a login code (exempt), only today changed", "POST /v1/werun/decrypt", func() (int, error) {
			ed, iv := w.sim.WeRunData(fresh, bump(500), time.Now())
			var r api.SyncResponse
			err := h.do(ctx, h.decrypt, "POST /v1/werun/decrypt", "", map[string]string{"encryptedData": ed, "iv": iv, "code": w.sim.Login(fresh)}, nil, nil, &r)
			return r.Changed, err
		}},
		{"sync (cloudID), a container's first: it reads WeChat's access token", "POST /v1/werun/cloudid", cloudSync},
		{"sync (cloudID), only today changed", "POST /v1/werun/cloudid", cloudSync},
		{"reads: the days", "GET /v1/steps", read("GET /v1/steps")},
		{"summary", "GET /v1/steps/summary", read("GET /v1/steps/summary")},
		{fmt.Sprintf("group board, %d members", benchGroupMembers), "GET /v1/groups/{groupId}/board",
			board("GET /v1/groups/{groupId}/board", seed.bigMembers[0].OpenID, map[string]string{"groupId": seed.big}, benchGroupMembers)},
		{fmt.Sprintf("group board, %d members", benchSmallGroup), "GET /v1/groups/{groupId}/board",
			board("GET /v1/groups/{groupId}/board", seed.smallMembers[1].OpenID, map[string]string{"groupId": seed.small}, benchSmallGroup)},
		{fmt.Sprintf("friends board, %d friends", benchFriends), "GET /v1/friends/board",
			board("GET /v1/friends/board", seed.lister.OpenID, nil, benchFriends+1)},
		{fmt.Sprintf("GET /v1/groups, %d groups of %d", benchListGroups, benchSmallGroup), "GET /v1/groups", func() (int, error) {
			var l social.GroupList
			err := h.do(ctx, h.soc, "GET /v1/groups", tokens[seed.lister.OpenID], nil, nil, nil, &l)
			if err == nil && len(l.Groups) != benchListGroups {
				err = fmt.Errorf("%d groups, want %d", len(l.Groups), benchListGroups)
			}
			return 0, err
		}},
		{fmt.Sprintf("sync of a member of %d groups, only today changed", benchUserGroups), "POST /v1/werun/decrypt",
			func() (int, error) { return h.sync(ctx, syncer, tokens[syncer], syncerList) }},
	}, events...))
}

// roundTripTargets are the routes' round-trip targets: the scenario of
// section 4 each is read from.
var roundTripTargets = []struct {
	label, scenario string
	most            int
}{
	{"sync (encryptedData), only today changed", "sync (encryptedData), only today changed", 2},
	{"sync (cloudID), only today changed, warm container", "sync (cloudID), only today changed", 2},
	{"reads (`GET /v1/steps`)", "reads: the days", 2},
	{"summary (`GET /v1/steps/summary`)", "summary", 2},
	{fmt.Sprintf("group board (`GET /v1/groups/{groupId}/board`), %d members", benchGroupMembers), fmt.Sprintf("group board, %d members", benchGroupMembers), 2},
	{fmt.Sprintf("friends board (`GET /v1/friends/board`), %d friends", benchFriends), "friends board", 2},
	{fmt.Sprintf("`GET /v1/groups`, %d groups of %d", benchListGroups, benchSmallGroup), "GET /v1/groups", 3},
}

// beforeDate is when beforeWaves were counted: the round trips through the
// API before the revocation read ran beside the first read, the sync's
// re-read of it went and tokens carried the memberId (authentication
// 1, then the use case's).
const beforeDate = "2026-12-07"

var beforeWaves = map[string]int{
	"sync (encryptedData), only today changed":                                        4,
	"sync (encryptedData), resend of unchanged data":                                  3,
	"sync (cloudID), only today changed":                                              4,
	"reads: the days":                                                                 2,
	"summary":                                                                         2,
	fmt.Sprintf("group board, %d members", benchGroupMembers):                         3,
	fmt.Sprintf("group board, %d members", benchSmallGroup):                           3,
	fmt.Sprintf("friends board, %d friends", benchFriends):                            4,
	fmt.Sprintf("GET /v1/groups, %d groups of %d", benchListGroups, benchSmallGroup):  5,
	fmt.Sprintf("sync of a member of %d groups, only today changed", benchUserGroups): 4,
}

// beforeLoadDate and beforeLoad are the last load figures before this
// change (p50 / p99 at loopback speed), as docs/PERFORMANCE.md had them.
const beforeLoadDate = "2026-11-26"

var beforeLoad = map[string]string{
	"POST /v1/session":       "31.5ms / 49.5ms",
	"POST /v1/werun/decrypt": "82.3ms / 125.7ms",
	"GET /v1/steps":          "13.9ms / 75.0ms",
}
