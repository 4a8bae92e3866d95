package systest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/recorder"
	"github.com/werun-sam/werun-sam/shared/app"
	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/challenge/sheet"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The IAM check: every function's policy in template.yaml allows exactly the
// DynamoDB actions its code performs (on the table or on an index), and
// ssm:GetParameter on exactly the secrets its entry in the function registry
// (shared/app) says it reads.
// The actions are not listed here: they are recorded from a full flow of the
// real handlers over a real store (dynalite), so a new call in the code that
// the policy lacks fails here and not in production with AccessDenied, and
// an action the code no longer uses fails as over-broad.

// actions are the IAM actions of the recorded calls, with the resource each
// touches: "table", or "index/<name>" when the request names an IndexName.
func actions(r *recorder.Recorder) []string {
	set := map[string]bool{}
	for _, c := range r.Calls() {
		res := "table"
		if c.Index != "" {
			res = "index/" + c.Index
		}
		set["dynamodb:"+c.Op+" "+res] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// iamWorld is the flow's shared state: one simulator, one clock, one signing
// key, and a service per function, each with its own recording client.
type iamWorld struct {
	t      *testing.T
	sim    *wechattest.Server
	appID  string
	now    time.Time
	mu     sync.Mutex
	signer *crypto.Signer
}

func (w *iamWorld) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }

func (w *iamWorld) service(rec http.RoundTripper) *usecases.Set {
	w.t.Helper()
	env := services.ForTests(w.t, services.Need{DynamoDB: true})
	ep, table := env.DynamoDB, env.Table
	db := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ep),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   &http.Client{Transport: rec},
	})
	st := store.New(db, table)
	wc := wechat.NewClient(w.sim.URL, w.appID, "iam-secret", nil)
	return usecases.New(usecases.Config{AppID: w.appID, Store: st, Events: eventstore.New(st.Table()), Sheet: sheet.Write, WeChat: wc, Signer: w.signer, Now: w.clock, TokenPoll: 10 * time.Millisecond})
}

// invokeJSON runs a registry handler as Lambda would: JSON in, JSON out.
func invokeJSON(t *testing.T, h lambda.Handler, in, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	payload, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
}

func iamCall(t *testing.T, h lambda.Handler, req events.APIGatewayV2HTTPRequest) map[string]any {
	t.Helper()
	var resp events.APIGatewayV2HTTPResponse
	invokeJSON(t, h, req, &resp)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", req.RouteKey, req.Body, resp.StatusCode, resp.Body)
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &out)
	return out
}

func iamReq(route, body, token string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RouteKey: route, Body: body, Headers: map[string]string{}}
	if token != "" {
		req.Headers["authorization"] = "Bearer " + token
	}
	return req
}

// recordFlows runs every function's full flow and returns the DynamoDB
// actions each performed, by LogicalId, and its reads that name no
// attributes or name a secret.
// actions each performed, by LogicalId.
func recordFlows(t *testing.T) (map[string][]string, map[string][]string) {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	// A date of its own (in 2100..2249, 08:00 in China) so that this run's
	// leaderboard is built from this run's user alone, whatever else the
	// table holds. (Before 2262, past which time.UnixNano, in the store's keys, overflows.)
	y, _ := rand.Int(rand.Reader, big.NewInt(150))
	w := &iamWorld{t: t, appID: "wxiam" + hex.EncodeToString(suffix),
		now: time.Date(2100+int(y.Int64()), 6, 15, 0, 0, 0, 0, time.UTC)}
	signer, err := crypto.NewSigner([]byte("iam-test-signing-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	w.signer = signer
	w.sim = wechattest.NewServer(w.appID, "iam-secret")
	t.Cleanup(w.sim.Close)
	w.sim.SetNow(w.clock)
	openid := "iam-" + hex.EncodeToString(suffix)
	recs := map[string]*recorder.Recorder{}
	reads := &readLog{m: map[string][]string{}}
	handlers := map[string]lambda.Handler{}
	for _, fn := range app.Functions {
		recs[fn.LogicalID] = recorder.New(&projections{next: http.DefaultTransport, reads: reads, id: fn.LogicalID})
		handlers[fn.LogicalID] = fn.Handler(w.service(recs[fn.LogicalID]))
	}
	// another is a second container of a function, recorded with the first.
	another := func(id string) lambda.Handler {
		fn, err := app.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		return fn.Handler(w.service(recs[id]))
	}
	login := func() string {
		out := iamCall(t, handlers["SessionFunction"],
			iamReq("POST /v1/session", `{"code":"`+w.sim.Login(openid)+`"}`, ""))
		tok, _ := out["token"].(string)
		if tok == "" {
			t.Fatalf("no token in %v", out)
		}
		return tok
	}
	// Session: logins past MaxSessionKeys, so the oldest key is pruned.
	var token string
	for range store.MaxSessionKeys + 1 {
		token = login()
		w.mu.Lock()
		w.now = w.now.Add(time.Second)
		w.mu.Unlock()
	}
	// A retried code on another container (no memory of it) reads the
	// code's record.
	retried := w.sim.Login(openid)
	iamCall(t, handlers["SessionFunction"], iamReq("POST /v1/session", `{"code":"`+retried+`"}`, ""))
	iamCall(t, another("SessionFunction"), iamReq("POST /v1/session", `{"code":"`+retried+`"}`, ""))
	// Decrypt: with a token, then stateless with a fresh code in the body.
	ed, iv := w.sim.WeRunData(openid, wechattest.Days(5, w.clock()), w.clock())
	decrypt := handlers["DecryptFunction"]
	iamCall(t, decrypt, iamReq("POST /v1/werun/decrypt", fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, ed, iv), token))
	code := w.sim.Login(openid)
	ed, iv = w.sim.WeRunData(openid, wechattest.Days(7, w.clock()), w.clock())
	out := iamCall(t, decrypt, iamReq("POST /v1/werun/decrypt",
		fmt.Sprintf(`{"encryptedData":%q,"iv":%q,"code":%q}`, ed, iv, code), ""))
	if out["token"] == nil {
		t.Fatalf("stateless decrypt gave no token: %v", out)
	}
	iamCall(t, another("DecryptFunction"), iamReq("POST /v1/werun/decrypt",
		fmt.Sprintf(`{"encryptedData":%q,"iv":%q,"code":%q}`, ed, iv, code), ""))
	// CloudID: the first call fetches the app's access token (none is stored
	// for this AppID yet), then syncs.
	cloud := handlers["OpenDataFunction"]
	iamCall(t, cloud, iamReq("POST /v1/werun/cloudid",
		`{"cloudID":"`+w.sim.CloudID(openid, wechattest.Days(9, w.clock()), w.clock())+`"}`, token))
	if w.sim.TokenFetches() == 0 {
		t.Fatal("the cloudID flow fetched no access token")
	}
	// Social: a second user; both join one group, become friends, read
	// the boards and undo it all. The friend is then excluded by the
	// operator, so the refresher reads the exclusions.
	social := handlers["SocialFunction"]
	friend := openid + "-friend"
	friendToken := iamCall(t, handlers["SessionFunction"],
		iamReq("POST /v1/session", `{"code":"`+w.sim.Login(friend)+`"}`, ""))["token"].(string)
	iamCall(t, social, iamReq("PUT /v1/me/profile", `{"nickname":"iam"}`, friendToken))
	var groupID string
	for _, tok := range []struct{ openid, token string }{{openid, token}, {friend, friendToken}} {
		ed, iv, _ := w.sim.GroupData(tok.openid, wechattest.GroupShareInfo, "iam", w.clock())
		groupID, _ = iamCall(t, social, iamReq("POST /v1/groups", fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, ed, iv), tok.token))["groupId"].(string)
	}
	invite, _ := iamCall(t, social, iamReq("POST /v1/friends/invites", "", friendToken))["inviteCode"].(string)
	iamCall(t, social, iamReq("POST /v1/friends", `{"inviteCode":"`+invite+`"}`, token))
	iamCall(t, social, iamReq("GET /v1/groups", "", token))
	board := iamReq("GET /v1/groups/{groupId}/board", "", token)
	board.PathParameters = map[string]string{"groupId": groupID}
	iamCall(t, social, board)
	iamCall(t, social, iamReq("GET /v1/friends", "", token))
	iamCall(t, social, iamReq("GET /v1/friends/board", "", token))
	friendID, _ := iamCall(t, social, iamReq("GET /v1/me/profile", "", friendToken))["memberId"].(string)
	leave := iamReq("DELETE /v1/groups/{groupId}", "", token)
	leave.PathParameters = map[string]string{"groupId": groupID}
	iamCall(t, social, leave)
	unfriend := iamReq("DELETE /v1/friends/{friendId}", "", token)
	unfriend.PathParameters = map[string]string{"friendId": friendID}
	iamCall(t, social, unfriend)
	exclude(t, friendID)
	// Challenge: the user organizes an event with a team, the friend joins
	// it and a sync credits it; every route runs, down to the cancel.
	challenge := handlers["ChallengeFunction"]
	iamCall(t, social, iamReq("PUT /v1/me/profile", `{"nickname":"iam-organizer"}`, token))
	today := w.clock().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	ev := iamCall(t, challenge, iamReq("POST /v1/events", `{"name":"iam","startDate":"`+today+`","endDate":"`+today+`","teams":["a"]}`, token))
	eventID, _ := ev["eventId"].(string)
	joinCode, _ := ev["joinCode"].(string)
	joined := iamCall(t, challenge, iamReq("POST /v1/events/join", `{"joinCode":"`+joinCode+`","teamId":"t001","consent":true}`, friendToken))
	friendMember, _ := joined["me"].(map[string]any)["memberId"].(string)
	ed, iv = w.sim.WeRunData(friend, wechattest.Days(2, w.clock()), w.clock())
	iamCall(t, decrypt, iamReq("POST /v1/werun/decrypt", fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, ed, iv), friendToken))
	onEvent := func(route, tok string, extra map[string]string) events.APIGatewayV2HTTPRequest {
		req := iamReq(route, "", tok)
		req.PathParameters = map[string]string{"eventId": eventID}
		for k, v := range extra {
			req.PathParameters[k] = v
		}
		return req
	}
	iamCall(t, challenge, iamReq("GET /v1/events", "", token))
	iamCall(t, challenge, onEvent("GET /v1/events/{eventId}", friendToken, nil))
	iamCall(t, challenge, onEvent("GET /v1/events/{eventId}/participants", token, nil))
	iamCall(t, challenge, onEvent("GET /v1/events/{eventId}/board", friendToken, nil))
	iamCall(t, challenge, onEvent("GET /v1/events/{eventId}/teams", friendToken, nil))
	iamCall(t, challenge, onEvent("GET /v1/events/{eventId}/export", token, nil))
	xlsx := onEvent("GET /v1/events/{eventId}/export", token, nil)
	xlsx.QueryStringParameters = map[string]string{"format": "xlsx"}
	iamCall(t, challenge, xlsx)
	iamCall(t, challenge, onEvent("POST /v1/events/{eventId}/joinCode", token, nil))
	iamCall(t, challenge, onEvent("DELETE /v1/events/{eventId}/participants/{memberId}", token, map[string]string{"memberId": friendMember}))
	iamCall(t, challenge, onEvent("DELETE /v1/events/{eventId}", token, nil))
	// Refresh: a token past its refresh margin, and today's board.
	w.mu.Lock()
	w.now = w.now.Add(3 * time.Hour)
	w.mu.Unlock()
	fetches := w.sim.TokenFetches()
	var rep boards.RefreshReport
	invokeJSON(t, handlers["RefreshFunction"], events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.scheduler"}, &rep)
	if !rep.TokenRefreshed || len(rep.Changed) == 0 || w.sim.TokenFetches() == fetches {
		t.Fatalf("refresh: %+v (token fetches %d -> %d)", rep, fetches, w.sim.TokenFetches())
	}
	// Steps: both routes, the summary over the board just built.
	steps := handlers["StepsFunction"]
	iamCall(t, steps, iamReq("GET /v1/steps", "", token))
	iamCall(t, steps, iamReq("GET /v1/steps/summary", "", token))
	// Account: the friend (with a profile, an invite and friends) exports
	// and deletes their data.
	account := handlers["AccountFunction"]
	iamCall(t, social, iamReq("POST /v1/friends", `{"inviteCode":"`+invite+`"}`, token))
	iamCall(t, account, iamReq("GET /v1/me/export", "", friendToken))
	iamCall(t, account, iamReq("DELETE /v1/me", "", friendToken))
	// The refresher's second pass of the friend's deletion, once due.
	w.mu.Lock()
	w.now = w.now.Add(2 * time.Minute)
	w.mu.Unlock()
	rep = boards.RefreshReport{}
	invokeJSON(t, handlers["RefreshFunction"], events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.scheduler"}, &rep)
	if rep.Deletions < 1 {
		t.Fatalf("the second refresh finished %d deletions, want the friend's", rep.Deletions)
	}

	got := map[string][]string{}
	for id, r := range recs {
		got[id] = actions(r)
	}
	return got, reads.m
}

// readLog collects, by function, its reads that name no attributes or
// name a secret.
type readLog struct {
	mu sync.Mutex
	m  map[string][]string
}

// projections records the reads of one function that a policy denying
// unprojected reads and reads of sessionKey or accessToken would refuse.
type projections struct {
	next  http.RoundTripper
	reads *readLog
	id    string
}

func (p *projections) RoundTrip(req *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if op == "GetItem" || op == "Query" || op == "BatchGetItem" {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		var in struct {
			ProjectionExpression     string
			ExpressionAttributeNames map[string]string
			RequestItems             map[string]struct {
				ProjectionExpression     string
				ExpressionAttributeNames map[string]string
			}
		}
		_ = json.Unmarshal(body, &in)
		for _, ri := range in.RequestItems {
			in.ProjectionExpression, in.ExpressionAttributeNames = ri.ProjectionExpression, ri.ExpressionAttributeNames
		}
		problem := ""
		if in.ProjectionExpression == "" {
			problem = op + " without a projection"
		}
		for _, a := range strings.Split(in.ProjectionExpression, ",") {
			a = strings.TrimSpace(a)
			if n, ok := in.ExpressionAttributeNames[a]; ok {
				a = n
			}
			if a == "sessionKey" || a == "accessToken" {
				problem = op + " projecting " + a
			}
		}
		if problem != "" {
			p.reads.mu.Lock()
			if !slices.Contains(p.reads.m[p.id], problem) {
				p.reads.m[p.id] = append(p.reads.m[p.id], problem)
			}
			p.reads.mu.Unlock()
		}
	}
	return p.next.RoundTrip(req)
}

// deny is a Deny statement on the table with one of the conditions this
// test evaluates: requests on items whose partition key is like one of
// leadingKeys (IAM's StringLike: * and ?); reads that name no attributes
// (noProjection); reads naming any of attributes; writes answering with the
// item (returnValues).
type deny struct {
	actions      []string
	leadingKeys  []string
	noProjection bool
	attributes   []string
	returnValues []string
}

// policy reads a function's Policies: the DynamoDB actions allowed, as
// "action resource" like the recorder's, the secrets (env variable names)
// whose SSM parameter it may read, and the Deny statements on leading keys.
// Anything else is a problem.
func policy(t *template.Template, id string) (dynamo []string, secrets []string, denies []deny, problems []string) {
	var props struct{ Policies []any }
	_ = json.Unmarshal(t.Resources[id].Properties, &props)
	add := func(list *[]string, v string) {
		if !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, p := range props.Policies {
		pm, ok := p.(map[string]any)
		stmts, _ := pm["Statement"].([]any)
		if !ok || stmts == nil {
			problems = append(problems, fmt.Sprintf("%s: policy %v is not an inline Statement list (a SAM policy template or managed policy grants more than the code uses)", id, p))
			continue
		}
		for _, s := range stmts {
			sm, _ := s.(map[string]any)
			if sm["Effect"] == "Deny" {
				d, err := leadingKeysDeny(sm)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", id, err))
				}
				denies = append(denies, d)
				continue
			}
			if sm["Effect"] != "Allow" {
				problems = append(problems, fmt.Sprintf("%s: a statement with Effect %v", id, sm["Effect"]))
				continue
			}
			actions, resources := asList(sm["Action"]), asList(sm["Resource"])
			for _, a := range actions {
				as, _ := a.(string)
				switch {
				case strings.HasPrefix(as, "dynamodb:") && !strings.Contains(as, "*"):
					for _, r := range resources {
						res, ok := dynamoResource(r)
						if !ok {
							problems = append(problems, fmt.Sprintf("%s: %s on %v, not the table or one of its indexes", id, as, r))
							continue
						}
						add(&dynamo, as+" "+res)
					}
				case as == "ssm:GetParameter":
					for _, r := range resources {
						name, ok := ssmSecret(r)
						if !ok {
							problems = append(problems, fmt.Sprintf("%s: ssm:GetParameter on %v, not one of the secret parameters", id, r))
							continue
						}
						add(&secrets, name)
					}
				default:
					problems = append(problems, fmt.Sprintf("%s: allows %v, which no code of it uses", id, a))
				}
			}
		}
	}
	sort.Strings(dynamo)
	sort.Strings(secrets)
	return dynamo, secrets, denies, problems
}

// leadingKeysDeny reads a Deny on the table conditioned on one of the forms
// this test can evaluate: ForAnyValue:StringLike dynamodb:LeadingKeys,
// Null dynamodb:Attributes "true", ForAnyValue:StringEquals
// dynamodb:Attributes, StringEquals dynamodb:ReturnValues.
func leadingKeysDeny(sm map[string]any) (deny, error) {
	var d deny
	for _, r := range asList(sm["Resource"]) {
		if res, ok := dynamoResource(r); !ok || res != "table" {
			return d, fmt.Errorf("a Deny on %v, not the table", r)
		}
	}
	for _, a := range asList(sm["Action"]) {
		as, _ := a.(string)
		d.actions = append(d.actions, as)
	}
	cond, _ := sm["Condition"].(map[string]any)
	strs := func(v any) []string {
		var out []string
		for _, k := range asList(v) {
			ks, _ := k.(string)
			out = append(out, ks)
		}
		return out
	}
	// Both a leading key and ReturnValues: IAM denies only when both hold
	// (a write answering with an item, in the partitions named).
	if lk, rv := cond["ForAnyValue:StringLike"], cond["StringEquals"]; len(cond) == 2 && lk != nil && rv != nil {
		lkm, _ := lk.(map[string]any)
		rvm, _ := rv.(map[string]any)
		if len(lkm) == 1 && len(rvm) == 1 && lkm["dynamodb:LeadingKeys"] != nil && rvm["dynamodb:ReturnValues"] != nil {
			d.leadingKeys, d.returnValues = strs(lkm["dynamodb:LeadingKeys"]), strs(rvm["dynamodb:ReturnValues"])
			return d, nil
		}
	}
	for op, keys := range cond {
		km, _ := keys.(map[string]any)
		if len(cond) != 1 || len(km) != 1 {
			break
		}
		switch {
		case op == "ForAnyValue:StringLike" && km["dynamodb:LeadingKeys"] != nil:
			d.leadingKeys = strs(km["dynamodb:LeadingKeys"])
			return d, nil
		case op == "Null" && km["dynamodb:Attributes"] == "true":
			d.noProjection = true
			return d, nil
		case op == "ForAnyValue:StringEquals" && km["dynamodb:Attributes"] != nil:
			d.attributes = strs(km["dynamodb:Attributes"])
			return d, nil
		case op == "StringEquals" && km["dynamodb:ReturnValues"] != nil:
			d.returnValues = strs(km["dynamodb:ReturnValues"])
			return d, nil
		}
	}
	return d, fmt.Errorf("a Deny conditioned on %v, not one of the forms this test evaluates", sm["Condition"])
}

// The item actions that read, and those that write (each of which may
// also answer with the item it replaced).
var (
	readActions = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
	// forgeActions are the writes that could make a login-code record;
	// deleting one (as a deletion does) cannot.
	forgeActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}
)

// canDo says whether a function's policy lets it perform one of actions on
// an item whose partition key is pk: an Allow of it on the table that no
// Deny on pk's leading key takes away.
func canDo(dynamo []string, denies []deny, pk string, actions []string) bool {
	for _, action := range actions {
		if !slices.Contains(dynamo, action+" table") {
			continue
		}
		denied := false
		for _, d := range denies {
			if slices.Contains(d.actions, action) && !d.both() && d.matchesKey(pk) {
				denied = true
			}
		}
		if !denied {
			return true
		}
	}
	return false
}

// both says the Deny holds only when its leading keys and its
// ReturnValues both match.
func (d deny) both() bool { return len(d.leadingKeys) > 0 && len(d.returnValues) > 0 }

func (d deny) matchesKey(pk string) bool {
	return slices.ContainsFunc(d.leadingKeys, func(p string) bool { return stringLike(p, pk) })
}

// canReadAttribute says whether a function's policy lets some request
// return attribute attr of an item under pk: a read without a projection,
// a read projecting attr, or a write answering with the old or new item.
func canReadAttribute(dynamo []string, denies []deny, pk, attr string) bool {
	deniedBy := func(action string, applies func(deny) bool) bool {
		return slices.ContainsFunc(denies, func(d deny) bool {
			if !slices.Contains(d.actions, action) {
				return false
			}
			if d.both() {
				return d.matchesKey(pk) && applies(d)
			}
			return d.matchesKey(pk) || applies(d)
		})
	}
	for _, action := range []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"} {
		if !slices.Contains(dynamo, action+" table") {
			continue
		}
		whole := !deniedBy(action, func(d deny) bool { return d.noProjection })
		projected := !deniedBy(action, func(d deny) bool { return slices.Contains(d.attributes, attr) })
		if whole || projected {
			return true
		}
	}
	for _, action := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} {
		if slices.Contains(dynamo, action+" table") && !deniedBy(action, func(d deny) bool { return slices.Contains(d.returnValues, "ALL_OLD") }) {
			return true
		}
	}
	return false
}

// stringLike is IAM's StringLike: * any run of characters, ? any one.
func stringLike(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

var indexARN = regexp.MustCompile(`^\$\{Table\.Arn\}/index/([A-Za-z0-9_.-]+)$`)

// dynamoResource names a policy resource as the recorder does: "table" for
// !GetAtt Table.Arn, "index/<name>" for !Sub ${Table.Arn}/index/<name>.
func dynamoResource(r any) (string, bool) {
	m, _ := r.(map[string]any)
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 && ga[0] == "Table" && ga[1] == "Arn" {
		return "table", true
	}
	if sub, ok := m["Fn::Sub"].(string); ok {
		if g := indexARN.FindStringSubmatch(sub); g != nil {
			return "index/" + g[1], true
		}
	}
	return "", false
}

// secretParams maps the template parameter naming each SSM secret to the
// variable shared/config reads it into.
var secretParams = map[string]string{"WeChatSecretParam": "WECHAT_SECRET", "SessionSigningKeyParam": "SESSION_SIGNING_KEY"}

func ssmSecret(r any) (string, bool) {
	m, _ := r.(map[string]any)
	sub, _ := m["Fn::Sub"].(string)
	for p, name := range secretParams {
		if sub == "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${"+p+"}" {
			return name, true
		}
	}
	return "", false
}

// secretsRead names the secrets a registry entry reads, as the variables
// shared/config reads them into.
func secretsRead(n app.Needs) []string {
	var out []string
	if n.AppSecret {
		out = append(out, "WECHAT_SECRET")
	}
	if n.SessionTokens {
		out = append(out, "SESSION_SIGNING_KEY")
	}
	sort.Strings(out)
	return out
}

// checkIAM compares the template's grants with the recorded actions and
// with each registry entry's Needs; it returns every difference.
func checkIAM(t *template.Template, recorded map[string][]string) []string {
	var problems []string
	fns, err := t.Functions()
	if err != nil {
		return []string{err.Error()}
	}
	seen := map[string]bool{}
	for _, f := range fns {
		id := f.LogicalID
		seen[id] = true
		want, ok := recorded[id]
		if !ok {
			problems = append(problems, id+": no flow of this test runs its code; add one")
			continue
		}
		reg, err := app.Lookup(id)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		needs := secretsRead(reg.Needs)
		dynamo, secrets, denies, ps := policy(t, id)
		problems = append(problems, ps...)
		keys := canReadAttribute(dynamo, denies, "USER#o-someone", "sessionKey")
		token := canReadAttribute(dynamo, denies, "APP#wx0123", "accessToken")
		if !reg.Needs.StoredSecrets && (keys || token) {
			problems = append(problems, fmt.Sprintf("%s: can read session keys = %v and the access token = %v, but the registry's Needs.StoredSecrets = false", id, keys, token))
		}
		if reg.Needs.StoredSecrets && !keys && !token {
			problems = append(problems, fmt.Sprintf("%s: can read no session key nor the access token, but the registry's Needs.StoredSecrets = true", id))
		}
		if reads := canDo(dynamo, denies, store.CodePrefix+"0123abcd", readActions); reads != reg.Needs.LoginCodes {
			problems = append(problems, fmt.Sprintf("%s: can read redeemed login codes (%s items, which hold session keys) = %v, but the registry's Needs.LoginCodes = %v", id, store.CodePrefix, reads, reg.Needs.LoginCodes))
		}
		if writes := canDo(dynamo, denies, store.CodePrefix+"0123abcd", forgeActions); writes != reg.Needs.LoginCodes {
			problems = append(problems, fmt.Sprintf("%s: can write redeemed login codes (a forged %s item logs anyone in) = %v, but the registry's Needs.LoginCodes = %v", id, store.CodePrefix, writes, reg.Needs.LoginCodes))
		}
		for _, a := range want {
			if !slices.Contains(dynamo, a) {
				problems = append(problems, fmt.Sprintf("%s: the code performs %s, which the policy does not allow (AccessDenied when deployed)", id, a))
			}
		}
		for _, a := range dynamo {
			if !slices.Contains(want, a) {
				problems = append(problems, fmt.Sprintf("%s: the policy allows %s, which the code never performs", id, a))
			}
		}
		if !slices.Equal(secrets, needs) {
			problems = append(problems, fmt.Sprintf("%s: ssm:GetParameter on the parameters of %v, but the registry's Needs reads %v", id, secrets, needs))
		}
		for _, name := range []string{"WECHAT_SECRET", "SESSION_SIGNING_KEY"} {
			if _, declared := f.Env[name+"_PARAM"]; declared != slices.Contains(needs, name) {
				problems = append(problems, fmt.Sprintf("%s: %s_PARAM declared=%v but the registry's Needs reads %v", id, name, declared, needs))
			}
		}
	}
	for id := range recorded {
		if !seen[id] {
			problems = append(problems, id+": a flow of this test for a function the template lacks")
		}
	}
	sort.Strings(problems)
	return problems
}

// codesDeny is the template's Deny of every item action on the redeemed
// login codes, with leading keys pattern.
func codesDeny(pattern string) string {
	return "            # No redeemed login code, read or written: a forged record would\n            # log anyone in (after WeChat's 40163 the record is trusted).\n            - Effect: Deny\n              Action:\n" +
		"                - dynamodb:GetItem\n                - dynamodb:Query\n                - dynamodb:BatchGetItem\n                - dynamodb:PutItem\n                - dynamodb:UpdateItem\n                - dynamodb:DeleteItem\n                - dynamodb:BatchWriteItem\n                - dynamodb:ConditionCheckItem\n" +
		"                - dynamodb:PartiQLSelect\n                - dynamodb:PartiQLInsert\n                - dynamodb:PartiQLUpdate\n                - dynamodb:PartiQLDelete\n              Resource: !GetAtt Table.Arn\n              Condition:\n                ForAnyValue:StringLike:\n                  dynamodb:LeadingKeys:\n                    - " + pattern + "\n"
}

func TestIAMPolicies(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	recorded, reads := recordFlows(t)
	for _, fn := range app.Functions {
		t.Logf("%s reads unprojected or projecting a secret: %v", fn.LogicalID, reads[fn.LogicalID])
		if !fn.Needs.StoredSecrets {
			for _, r := range reads[fn.LogicalID] {
				t.Errorf("%s: the code sends a %s, which its policy denies (AccessDenied when deployed)", fn.LogicalID, r)
			}
		}
	}
	for id, ops := range recorded {
		t.Logf("%s performs %s", id, strings.Join(ops, ", "))
	}
	for _, p := range checkIAM(tmpl, recorded) {
		t.Error(p)
	}

	// The check itself fails on a broken template: one action too many, one
	// missing, an index grant widened to the table, a secret too many.
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := []struct{ name, old, new, want string }{
		{"an extra action", "                - dynamodb:Query\n                - dynamodb:GetItem\n              Resource: !GetAtt Table.Arn",
			"                - dynamodb:Query\n                - dynamodb:GetItem\n                - dynamodb:Scan\n              Resource: !GetAtt Table.Arn",
			"StepsFunction: the policy allows dynamodb:Scan table, which the code never performs"},
		{"a missing action", "                - dynamodb:PutItem\n                - dynamodb:Query\n                - dynamodb:DeleteItem\n",
			"                - dynamodb:PutItem\n                - dynamodb:Query\n",
			"SessionFunction: the code performs dynamodb:DeleteItem table, which the policy does not allow (AccessDenied when deployed)"},
		{"the index grant on the table", "Resource: !Sub ${Table.Arn}/index/ActiveIndex", "Resource: !GetAtt Table.Arn",
			"RefreshFunction: the code performs dynamodb:Query index/ActiveIndex, which the policy does not allow (AccessDenied when deployed)"},
		{"the AppSecret for the reader", "              Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n      Events:\n        Steps:",
			"              Resource:\n                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${WeChatSecretParam}\n      Events:\n        Steps:",
			"StepsFunction: ssm:GetParameter on the parameters of [SESSION_SIGNING_KEY WECHAT_SECRET], but the registry's Needs reads [SESSION_SIGNING_KEY]"},
		{"the reader allowed the code records", "                - dynamodb:Query\n                - dynamodb:GetItem\n              Resource: !GetAtt Table.Arn\n" + codesDeny("CODE#*"),
			"                - dynamodb:Query\n                - dynamodb:GetItem\n              Resource: !GetAtt Table.Arn\n" + codesDeny("CODES#*"),
			"StepsFunction: can read redeemed login codes (CODE# items, which hold session keys) = true, but the registry's Needs.LoginCodes = false"},
		{"the social function's writes allowed on the code records", "                - dynamodb:BatchGetItem\n              Resource: !GetAtt Table.Arn\n" + codesDeny("CODE#*") + "            - Effect: Allow\n              Action: ssm:GetParameter\n              Resource:\n                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${WeChatSecretParam}\n                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n      Events:\n        PutProfile:",
			"                - dynamodb:BatchGetItem\n              Resource: !GetAtt Table.Arn\n" + strings.Replace(codesDeny("CODE#*"), "                - dynamodb:PutItem\n", "", 1) + "            - Effect: Allow\n              Action: ssm:GetParameter\n              Resource:\n                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${WeChatSecretParam}\n                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n      Events:\n        PutProfile:",
			"SocialFunction: can write redeemed login codes (a forged CODE# item logs anyone in) = true, but the registry's Needs.LoginCodes = false"},
		{"the reader without the projection rule", "              Condition:\n                \"Null\":\n                  dynamodb:Attributes: \"true\"\n            - Effect: Deny\n              Action:\n                - dynamodb:GetItem\n                - dynamodb:Query\n                - dynamodb:BatchGetItem\n              Resource: !GetAtt Table.Arn\n              Condition:\n                ForAnyValue:StringEquals:\n                  dynamodb:Attributes:\n                    - sessionKey\n                    - accessToken\n            - Effect: Allow\n              Action: ssm:GetParameter\n              Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n      Events:\n        Steps:",
			"              Condition:\n                ForAnyValue:StringLike:\n                  dynamodb:LeadingKeys: NONE#*\n            - Effect: Deny\n              Action:\n                - dynamodb:GetItem\n                - dynamodb:Query\n                - dynamodb:BatchGetItem\n              Resource: !GetAtt Table.Arn\n              Condition:\n                ForAnyValue:StringEquals:\n                  dynamodb:Attributes:\n                    - sessionKey\n                    - accessToken\n            - Effect: Allow\n              Action: ssm:GetParameter\n              Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n      Events:\n        Steps:",
			"StepsFunction: can read session keys = true and the access token = true, but the registry's Needs.StoredSecrets = false"},
		{"the reader may project the session key", "                    - sessionKey\n                    - accessToken\n            - Effect: Allow\n              Action: ssm:GetParameter\n              Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n      Events:\n        Steps:",
			"                    - accessToken\n            - Effect: Allow\n              Action: ssm:GetParameter\n              Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n      Events:\n        Steps:",
			"StepsFunction: can read session keys = true and the access token = false, but the registry's Needs.StoredSecrets = false"},
		{"the account function's writes may answer with the item", "                StringEquals:\n                  dynamodb:ReturnValues:\n                    - ALL_OLD\n                    - UPDATED_OLD\n",
			"                StringEquals:\n                  dynamodb:ReturnValues:\n                    - NONE\n                    - UPDATED_OLD\n",
			"AccountFunction: can read session keys = true and the access token = true, but the registry's Needs.StoredSecrets = false"},
		{"a wildcard", "                - dynamodb:GetItem\n                - dynamodb:PutItem\n                - dynamodb:UpdateItem\n                - dynamodb:Query\n                - dynamodb:BatchGetItem\n",
			"                - dynamodb:*\n", "RefreshFunction: allows dynamodb:*, which no code of it uses"},
	}
	for _, b := range broken {
		t.Run("broken: "+b.name, func(t *testing.T) {
			if strings.Count(string(raw), b.old) != 1 {
				t.Fatalf("template.yaml no longer holds this text once:\n%s", b.old)
			}
			bt, err := template.Parse([]byte(strings.Replace(string(raw), b.old, b.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			ps := checkIAM(bt, recorded)
			if !slices.Contains(ps, b.want) {
				t.Errorf("want the problem %q, got %q", b.want, ps)
			}
		})
	}
}
