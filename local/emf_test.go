package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/metrics/emftest"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// emfWorld is the five built functions under the emulator, with their
// template environment, a WeChat simulator of their own app and dynalite.
type emfWorld struct {
	t      *testing.T
	tmpl   *Template
	sim    *wechattest.Server
	pools  map[string]*Pool
	procs  *Procs
	log    *bytes.Buffer // what the emulators wrote, through a lockedWriter
	appID  string
	secret string
	key    string
}

func newEMFWorld(t *testing.T) *emfWorld {
	t.Helper()
	dynamo := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if dynamo == "" || os.Getenv("WERUN_RIE") == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB and WERUN_RIE are unset: run under `go run ./local exec -- go test ./local` (make test)")
	}
	w := &emfWorld{t: t, tmpl: loadRepoTemplate(t), log: &bytes.Buffer{}, pools: map[string]*Pool{},
		// An app of its own, so no other test's access token is in the way.
		appID: "wx00000000000000ef", secret: randomKey(), key: randomKey()}
	w.sim = wechattest.NewServer(w.appID, w.secret)
	t.Cleanup(w.sim.Close)
	ids := functionIDs(t, w.tmpl)
	paths, err := buildAll(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	w.procs = &Procs{}
	t.Cleanup(w.procs.StopAll)
	log := &lockedWriter{w: w.log}
	over := Overrides{"TABLE_NAME": localTableName, "AWS_ENDPOINT_URL_DYNAMODB": dynamo,
		"WECHAT_API_BASE": w.sim.URL, "WECHAT_APPID": w.appID, "WECHAT_SECRET": w.secret, "SESSION_SIGNING_KEY": w.key}
	for _, id := range ids {
		fn, err := w.tmpl.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		if w.pools[id], err = NewPool(fn, paths[id], functionVars(w.tmpl, fn, over), 1, w.procs, log); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// call sends one API request to the function of its route and checks the status.
func (w *emfWorld) call(fn, routeKey, token, body string, status int) map[string]any {
	w.t.Helper()
	method, path, _ := strings.Cut(routeKey, " ")
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, Body: body,
		Headers: map[string]string{"content-type": "application/json"}}
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = method, path
	req.RequestContext.RequestID = randomKey()[:16]
	if token != "" {
		req.Headers["authorization"] = "Bearer " + token
	}
	ev, _ := json.Marshal(req)
	out, err := w.pools[fn].Invoke(context.Background(), ev)
	if err != nil {
		w.t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		w.t.Fatalf("%s: %s is no response: %v", routeKey, out, err)
	}
	if resp.StatusCode != status {
		w.t.Fatalf("%s: status %d, want %d: %s", routeKey, resp.StatusCode, status, resp.Body)
	}
	var answer map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &answer)
	return answer
}

// TestEMFLinesFromTheBuiltFunctions runs a full flow through the five built
// functions under the emulator — logins, refusals by WeChat's errcodes
// (45009, the credential codes, an unknown one), syncs refused for their
// data (a wrong key, an expired cloudID), both syncs, reads, a failed and a good token fetch, a scheduled run
// — and reads everything they wrote: every line with an _aws member is
// valid EMF in the stack's namespace, every point is a metric of
// shared/metrics by its dimensions, no line carries a secret or an openid,
// and every value an alarm watches was published.
func TestEMFLinesFromTheBuiltFunctions(t *testing.T) {
	w := newEMFWorld(t)
	openid := "emf-user-" + randomKey()[:8]

	// Refused logins are another user's: each wx.login replaces the key.
	other := "emf-other-" + randomKey()[:8]
	login := func(user string, status int) string {
		a := w.call("SessionFunction", "POST /v1/session", "", `{"code":"`+w.sim.Login(user)+`"}`, status)
		tok, _ := a["token"].(string)
		return tok
	}
	token := login(openid, http.StatusOK)
	w.sim.Fail(wechattest.PathCode2Session, 45009, 1)
	login(other, http.StatusTooManyRequests)
	for _, code := range []int{40013, 40125, 40164, 48001} {
		w.sim.Fail(wechattest.PathCode2Session, code, 1)
		login(other, http.StatusBadGateway)
	}

	list := wechattest.Days(3, time.Now())
	enc, iv := w.sim.WeRunData(openid, list, time.Now())
	// Valid base64 and whole blocks, but no key of this user opens it.
	w.call("DecryptFunction", "POST /v1/werun/decrypt", token, `{"encryptedData":"`+enc[:len(enc)-24]+`AAAAAAAAAAAAAAAAAAAAAA==","iv":"`+iv+`"}`, http.StatusUnprocessableEntity)
	w.call("DecryptFunction", "POST /v1/werun/decrypt", token, `{"encryptedData":"`+enc+`","iv":"`+iv+`"}`, http.StatusOK)

	cloudBody := func() string {
		return `{"cloudID":"` + w.sim.CloudID(openid, wechattest.Days(4, time.Now()), time.Now()) + `"}`
	}
	w.sim.Fail(wechattest.PathStableToken, 40125, 1)
	w.call("OpenDataFunction", "POST /v1/werun/cloudid", token, cloudBody(), http.StatusBadGateway)
	w.call("OpenDataFunction", "POST /v1/werun/cloudid", token, cloudBody(), http.StatusOK)
	w.sim.Fail(wechattest.PathGetOpenData, -601006, 1)
	w.call("OpenDataFunction", "POST /v1/werun/cloudid", token, cloudBody(), http.StatusUnprocessableEntity)

	w.call("StepsFunction", "GET /v1/steps", token, "", http.StatusOK)
	w.call("StepsFunction", "GET /v1/steps/summary", token, "", http.StatusOK)
	w.call("StepsFunction", "GET /v1/steps", "not-a-token", "", http.StatusUnauthorized)

	scheduled, err := os.ReadFile("events/scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.pools["RefreshFunction"].Invoke(context.Background(), scheduled); err != nil {
		t.Fatal(err)
	}

	// What must not appear: the AppSecret, the signing key, the user's
	// session key and openid, the session token, the access token.
	secrets := map[string]string{"AppSecret": w.secret, "signing key": w.key, "session key": w.sim.SessionKey(openid),
		"openid": openid, "other openid": other, "session token": token}
	st := store.New(localDynamo(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")), localTableName)
	if rec, found, err := st.GetAccessToken(context.Background(), w.appID); err != nil || !found {
		t.Fatalf("no access token in the table: %v", err)
	} else {
		secrets["access token"] = rec.Token
	}

	ns := Resolver{Template: w.tmpl}.Resolve(w.tmpl.Globals.Function.Environment.Variables["METRICS_NAMESPACE"])
	defs := map[string]metrics.Metric{}
	for _, m := range metrics.All() {
		defs[m.Name] = m
	}
	seen := map[string]bool{} // "Name Dim=Value,..." of every point
	emf := 0
	// Stopping the emulators waits until all they wrote is in the log.
	w.procs.StopAll()
	for _, line := range strings.Split(w.log.String(), "\n") {
		for what, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("the %s is in the log: %s", what, line)
			}
		}
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		emf++
		points, err := emftest.Parse([]byte(line))
		if err != nil {
			t.Errorf("%v: %s", err, line)
			continue
		}
		for _, p := range points {
			def, ok := defs[p.Name]
			dims := make([]string, 0, len(p.Dimensions))
			for d := range p.Dimensions {
				dims = append(dims, d)
			}
			switch {
			case p.Namespace != ns:
				t.Errorf("namespace %q, want the template's %q: %s", p.Namespace, ns, line)
			case !ok:
				t.Errorf("metric %s is not defined in shared/metrics: %s", p.Name, line)
			case !slices.Equal(slices.Sorted(slices.Values(dims)), slices.Sorted(slices.Values(def.Dimensions))):
				t.Errorf("%s by %v, defined by %v", p.Name, dims, def.Dimensions)
			}
			seen[pointKey(p.Name, p.Dimensions)] = true
		}
	}
	if emf == 0 {
		t.Fatal("the functions wrote no EMF line")
	}

	// Every custom metric an alarm watches, at the dimension values it
	// watches, was published by the flow above.
	refs, err := templateMetricRefs(w.tmpl)
	if err != nil {
		t.Fatal(err)
	}
	tns := refResolver(w.tmpl).Resolve(w.tmpl.Globals.Function.Environment.Variables["METRICS_NAMESPACE"])
	for _, r := range refs {
		if r.Namespace != tns || !strings.HasSuffix(r.Where, "Alarm") && !strings.Contains(r.Where, "Alarm.") {
			continue
		}
		if k := pointKey(r.Name, r.Dimensions); !seen[k] {
			t.Errorf("%s watches %s, which the flow never published (published: %v)", r.Where, k, sortedKeys(seen))
		}
	}
	for _, want := range []string{
		"DaysChanged Route=decrypt", "DaysChanged Route=cloudid", "DecryptFailures Cause=DECRYPT_FAILED", "DecryptFailures Cause=CLOUDID_EXPIRED",
		"Requests Outcome=ok,Route=steps", "Errors Code=INVALID_TOKEN", "TokenRefreshes Outcome=ok",
		"RefreshUsers Outcome=ok", "RefreshDuration Outcome=ok",
	} {
		if !seen[want] {
			t.Errorf("no %s point (published: %v)", want, sortedKeys(seen))
		}
	}
}

func pointKey(name string, dims map[string]string) string {
	parts := make([]string, 0, len(dims))
	for d, v := range dims {
		parts = append(parts, d+"="+v)
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s %s", name, strings.Join(parts, ","))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
