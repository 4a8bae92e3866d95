package systest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/metrics/emftest"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// emfAppID is an app of the EMF test's own, so no other test's access
// token is in the way.
const emfAppID = "wx00000000000000ef"

// TestEMFLinesFromTheBuiltFunctions runs a full flow through the built
// functions under the emulator — logins, refusals by WeChat's errcodes
// (45009, the credential codes, an unknown one), syncs refused for their
// data (a wrong key, an expired cloudID), both syncs, reads, a group list,
// a failed and a good token fetch, a scheduled run — and reads everything
// they wrote:
// every line with an _aws member is valid EMF in the functions'
// METRICS_NAMESPACE, every point is a metric of shared/metrics by its
// dimensions, no line carries a secret or an openid, and every value an
// alarm watches was published.
func TestEMFLinesFromTheBuiltFunctions(t *testing.T) {
	env := services.ForTests(t, services.Need{DynamoDB: true})
	secret, key := stack.RandomKey(), stack.RandomKey()
	sim := wechattest.NewServer(emfAppID, secret)
	t.Cleanup(sim.Close)
	over := stack.Overrides{"TABLE_NAME": env.Table, "AWS_ENDPOINT_URL_DYNAMODB": env.DynamoDB,
		"WECHAT_API_BASE": sim.URL, "WECHAT_APPID": emfAppID, "WECHAT_SECRET": secret, "SESSION_SIGNING_KEY": key}
	var logged bytes.Buffer
	log := &services.LockedWriter{W: &logged}
	procs := &services.Procs{}
	t.Cleanup(procs.StopAll)
	pools := map[string]*emulator.Pool{}
	tmpl := loadRepoTemplate(t)
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		pools[fn.LogicalID], _ = functionPool(t, fn.LogicalID, over, procs, log)
	}
	ns := stack.FunctionVars(tmpl, fns[0], over)["METRICS_NAMESPACE"]

	// call sends one API request to fn and checks the status and, for an
	// error, the envelope's code.
	call := func(fn, route, token, body string, status int, code string) map[string]any {
		t.Helper()
		out, err := pools[fn].Invoke(context.Background(), httpEvent(route, body, token))
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: %s is no response: %v", route, out, err)
		}
		var answer map[string]any
		_ = json.Unmarshal([]byte(resp.Body), &answer)
		e, _ := answer["error"].(map[string]any)
		if resp.StatusCode != status || code != "" && e["code"] != code {
			t.Fatalf("%s: %d %s, want %d %s", route, resp.StatusCode, resp.Body, status, code)
		}
		return answer
	}

	openid := "emf-user-" + stack.RandomKey()[:8]
	// Refused logins are another user's: each wx.login replaces the key.
	other := "emf-other-" + stack.RandomKey()[:8]
	login := func(user string, status int, code string) string {
		a := call("SessionFunction", "POST /v1/session", "", `{"code":"`+sim.Login(user)+`"}`, status, code)
		tok, _ := a["token"].(string)
		return tok
	}
	token := login(openid, http.StatusOK, "")
	sim.Fail(wechattest.PathCode2Session, 45009, 1)
	login(other, http.StatusServiceUnavailable, "WECHAT_QUOTA_EXHAUSTED")
	for _, code := range []int{40013, 40125, 40164, 48001} {
		sim.Fail(wechattest.PathCode2Session, code, 1)
		login(other, http.StatusBadGateway, "WECHAT_CONFIG")
	}

	enc, iv := sim.WeRunData(openid, wechattest.Days(3, time.Now()), time.Now())
	// Valid base64 and whole blocks, but no key of this user opens it.
	call("DecryptFunction", "POST /v1/werun/decrypt", token, `{"encryptedData":"`+enc[:len(enc)-24]+`AAAAAAAAAAAAAAAAAAAAAA==","iv":"`+iv+`"}`,
		http.StatusUnprocessableEntity, "DECRYPT_FAILED")
	call("DecryptFunction", "POST /v1/werun/decrypt", token, `{"encryptedData":"`+enc+`","iv":"`+iv+`"}`, http.StatusOK, "")

	cloudBody := func() string {
		return `{"cloudID":"` + sim.CloudID(openid, wechattest.Days(4, time.Now()), time.Now()) + `"}`
	}
	sim.Fail(wechattest.PathStableToken, 40125, 1)
	call("OpenDataFunction", "POST /v1/werun/cloudid", token, cloudBody(), http.StatusBadGateway, "WECHAT_CONFIG")
	call("OpenDataFunction", "POST /v1/werun/cloudid", token, cloudBody(), http.StatusOK, "")
	sim.Fail(wechattest.PathGetOpenData, -601006, 1)
	call("OpenDataFunction", "POST /v1/werun/cloudid", token, cloudBody(), http.StatusUnprocessableEntity, "CLOUDID_EXPIRED")

	// Data refused for what it holds: one of each cause SyncRefusalRateAlarm counts.
	sim.Fail(wechattest.PathGetOpenData, 40226, 1)
	call("OpenDataFunction", "POST /v1/werun/cloudid", token, cloudBody(), http.StatusUnprocessableEntity, "USER_BLOCKED")
	today := wechattest.Days(1, time.Now())[0].Timestamp
	for _, c := range []struct{ plaintext, code string }{
		{fmt.Sprintf(`{"stepInfoList":[{"timestamp":%d,"step":100}],"watermark":{"appid":"wx1111111111111111","timestamp":%d}}`, today, time.Now().Unix()), "WRONG_APPID"},
		{fmt.Sprintf(`{"stepInfoList":[{"timestamp":%d,"step":100}],"watermark":{"appid":"%s","timestamp":%d}}`, today, emfAppID, time.Now().Add(-3*time.Hour).Unix()), "STALE_DATA"},
		{fmt.Sprintf(`{"watermark":{"appid":"%s","timestamp":%d}}`, emfAppID, time.Now().Unix()), "NO_STEP_DATA"},
		{fmt.Sprintf(`{"stepInfoList":[{"timestamp":%d,"step":-1}],"watermark":{"appid":"%s","timestamp":%d}}`, today, emfAppID, time.Now().Unix()), "INVALID_STEP_DATA"},
	} {
		iv := base64.StdEncoding.EncodeToString(make([]byte, 16))
		ed, err := crypto.Encrypt(sim.SessionKey(openid), iv, []byte(c.plaintext))
		if err != nil {
			t.Fatal(err)
		}
		call("DecryptFunction", "POST /v1/werun/decrypt", token, `{"encryptedData":"`+ed+`","iv":"`+iv+`"}`, http.StatusUnprocessableEntity, c.code)
	}
	signer, err := crypto.NewStackSigner(template.LocalStackName, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	keyless := signer.Sign(crypto.Claims{OpenID: "emf-keyless-" + stack.RandomKey()[:8], Account: "emf", ExpiresAt: time.Now().Add(time.Hour)})
	call("DecryptFunction", "POST /v1/werun/decrypt", keyless, `{"encryptedData":"`+enc+`","iv":"`+iv+`"}`, http.StatusUnprocessableEntity, "NO_SESSION_KEY")

	call("StepsFunction", "GET /v1/steps", token, "", http.StatusOK, "")
	call("StepsFunction", "GET /v1/steps/summary", token, "", http.StatusOK, "")
	call("StepsFunction", "GET /v1/steps", "not-a-token", "", http.StatusUnauthorized, "INVALID_TOKEN")
	call("SocialFunction", "GET /v1/groups", token, "", http.StatusOK, "")

	scheduled, err := os.ReadFile("events/scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pools["RefreshFunction"].Invoke(context.Background(), scheduled); err != nil {
		t.Fatal(err)
	}

	// What must not appear: the AppSecret, the signing key, the user's
	// session key and openid, the session token, the access token.
	secrets := map[string]string{"AppSecret": secret, "signing key": key, "session key": sim.SessionKey(openid),
		"openid": openid, "other openid": other, "session token": token}
	st := store.New(services.Client(env.DynamoDB), env.Table)
	if rec, found, err := st.GetAccessToken(context.Background(), emfAppID); err != nil || !found {
		t.Fatalf("no access token in the table: %v", err)
	} else {
		secrets["access token"] = rec.Token
	}

	defs := map[string]metrics.Metric{}
	for _, m := range metrics.All() {
		defs[m.Name] = m
	}
	seen := map[string]bool{} // "Name Dim=Value,..." of every point
	emf := 0
	// Stopping the emulators waits until all they wrote is in the log.
	procs.StopAll()
	for _, line := range strings.Split(logged.String(), "\n") {
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
			switch {
			case p.Namespace != ns:
				t.Errorf("namespace %q, want the functions' METRICS_NAMESPACE %q: %s", p.Namespace, ns, line)
			case !ok:
				t.Errorf("metric %s is not defined in shared/metrics: %s", p.Name, line)
			case !slices.Equal(slices.Sorted(maps.Keys(p.Dimensions)), slices.Sorted(slices.Values(def.Dimensions))):
				t.Errorf("%s by %v, defined by %v", p.Name, slices.Sorted(maps.Keys(p.Dimensions)), def.Dimensions)
			}
			seen[pointKey(p.Name, p.Dimensions)] = true
		}
	}
	if emf == 0 {
		t.Fatal("the functions wrote no EMF line")
	}

	// Every custom metric an alarm watches, at the dimension values it
	// watches, was published by the flow above.
	refs, err := tmpl.MetricRefs()
	if err != nil {
		t.Fatal(err)
	}
	published := slices.Sorted(maps.Keys(seen))
	filtered, err := tmpl.FilterMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		if !r.Alarm || r.Namespace != tmpl.MetricsNamespace() ||
			slices.ContainsFunc(filtered, func(f template.MetricRef) bool { return f.Name == r.Name }) {
			continue // a metric filter's (the access log's), not the functions'
		}
		if k := pointKey(r.Name, r.Dimensions); !seen[k] {
			t.Errorf("%s watches %s, which the flow never published (published: %v)", r.Where, k, published)
		}
	}
	for _, want := range []string{
		// A spent quota: WeChatQuotaAlarm's errcode, and the answer
		// ApiServerErrorRateAlarm leaves out.
		"WeChatErrors Errcode=45009", "Errors Code=WECHAT_QUOTA_EXHAUSTED",
		"DaysChanged Route=decrypt", "DaysChanged Route=cloudid", "DecryptFailures Cause=DECRYPT_FAILED", "DecryptFailures Cause=CLOUDID_EXPIRED",
		"Requests Outcome=ok,Route=steps", "Requests Outcome=ok,Route=social", "Errors Code=INVALID_TOKEN", "TokenRefreshes Outcome=ok",
		"RefreshUsers Outcome=ok", "RefreshDuration Outcome=ok",
	} {
		if !seen[want] {
			t.Errorf("no %s point (published: %v)", want, published)
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
