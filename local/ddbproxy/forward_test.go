package ddbproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
)

// raw sends one DynamoDB JSON-protocol request as the SDK shapes it.
func raw(t *testing.T, url, target, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+target)
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestRequestsPassThroughUnchanged compares DynamoDB's answers directly and
// through the proxy, with no rule (the body streams) and with a rule that
// matches nothing (the body is read first): status, body and CRC32 alike,
// error answers included.
func TestRequestsPassThroughUnchanged(t *testing.T) {
	p := ddbproxy.ForTests(t)
	env := services.ForTests(t, services.Need{DynamoDB: true})
	pk := unique("USER#")
	item := `{"TableName":"` + env.Table + `","Item":{"PK":{"S":"` + pk + `"},"SK":{"S":"ITEM"},"n":{"N":"7"}}}`
	if resp, b := raw(t, env.DynamoDB, "PutItem", item); resp.StatusCode != http.StatusOK {
		t.Fatalf("put: %d %s", resp.StatusCode, b)
	}
	requests := []struct{ name, target, body string }{
		{"an item", "GetItem", `{"TableName":"` + env.Table + `","Key":{"PK":{"S":"` + pk + `"},"SK":{"S":"ITEM"}},"ConsistentRead":true}`},
		{"a missing table", "GetItem", `{"TableName":"no-such-table","Key":{"PK":{"S":"x"}}}`},
		{"a body that is not JSON", "Query", `{"TableName":`},
		{"an unknown operation", "Explode", `{}`},
		{"a condition that fails", "PutItem", `{"TableName":"` + env.Table + `","Item":{"PK":{"S":"` + pk + `"},"SK":{"S":"ITEM"}},"ConditionExpression":"attribute_not_exists(PK)"}`},
	}
	for _, rules := range []string{"no rule", "a rule that matches nothing"} {
		if rules != "no rule" {
			if _, err := p.Add(ddbproxy.Rule{Op: "DescribeLimits", Action: ddbproxy.Fail}); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range requests {
			t.Run(rules+"/"+r.name, func(t *testing.T) {
				want, wantBody := raw(t, env.DynamoDB, r.target, r.body)
				got, gotBody := raw(t, p.URL, r.target, r.body)
				if got.StatusCode != want.StatusCode || !bytes.Equal(gotBody, wantBody) {
					t.Errorf("through the proxy %d %s, directly %d %s", got.StatusCode, gotBody, want.StatusCode, wantBody)
				}
				for _, h := range []string{"X-Amz-Crc32", "Content-Type", "Content-Length"} {
					if got.Header.Get(h) != want.Header.Get(h) {
						t.Errorf("%s through the proxy %q, directly %q", h, got.Header.Get(h), want.Header.Get(h))
					}
				}
			})
		}
	}
}

func TestLatencyDelaysEveryForwardedRequestReproducibly(t *testing.T) {
	p := ddbproxy.ForTests(t)
	l := ddbproxy.Latency{Mean: 4 * time.Millisecond, Spread: 2 * time.Millisecond, Seed: 7}
	if err := p.SetLatency(l); err != nil {
		t.Fatal(err)
	}
	db := functionsClient(p.URL, 1)
	const n = 20
	for range n {
		if _, err := get(unique("USER#"))(context.Background(), db, services.TableName); err != nil {
			t.Fatal(err)
		}
	}
	// One request at a time, so they drew the seed's first n delays.
	next, want := l.Sampler(), time.Duration(0)
	for range n {
		want += next()
	}
	if got := p.Latency(); got.Delayed != n || got.Added != want {
		t.Errorf("delayed %d requests by %v, want %d by %v", got.Delayed, got.Added, n, want)
	}
	if err := p.SetLatency(ddbproxy.Latency{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(services.TableName)}); err != nil {
		t.Fatal(err)
	}
	if got := p.Latency(); got.Delayed != 0 {
		t.Errorf("with no latency %d requests were delayed", got.Delayed)
	}
}

func TestLatencySamplers(t *testing.T) {
	const n = 20000
	tests := []struct {
		l                  ddbproxy.Latency
		min, max           time.Duration
		wantMean, wantStdv float64 // ms
	}{
		{ddbproxy.Latency{Mean: 4 * time.Millisecond}, 4 * time.Millisecond, 4 * time.Millisecond, 4, 0},
		{ddbproxy.Latency{Mean: 4 * time.Millisecond, Spread: 2 * time.Millisecond, Seed: 1}, 2 * time.Millisecond, 6 * time.Millisecond, 4, 2 / math.Sqrt(3)},
		{ddbproxy.Latency{Mean: 10 * time.Millisecond, Spread: 2 * time.Millisecond, Dist: ddbproxy.Normal, Seed: 1}, 0, time.Hour, 10, 2},
		{ddbproxy.Latency{Mean: time.Millisecond, Spread: 3 * time.Millisecond, Dist: ddbproxy.Normal, Seed: 1}, 0, time.Hour, -1, -1},
	}
	for _, tt := range tests {
		a, b := tt.l.Sampler(), tt.l.Sampler()
		var sum, sq float64
		for i := range n {
			d := a()
			if d != b() {
				t.Fatalf("%+v: draw %d differs between two samplers of one seed", tt.l, i)
			}
			if d < tt.min || d > tt.max {
				t.Fatalf("%+v: draw %v outside [%v, %v]", tt.l, d, tt.min, tt.max)
			}
			ms := float64(d) / 1e6
			sum, sq = sum+ms, sq+ms*ms
		}
		mean := sum / n
		stdv := math.Sqrt(sq/n - mean*mean)
		if tt.wantMean >= 0 && (math.Abs(mean-tt.wantMean) > 0.05 || math.Abs(stdv-tt.wantStdv) > 0.05) {
			t.Errorf("%+v: mean %.3f ms, deviation %.3f ms, want %.3f and %.3f", tt.l, mean, stdv, tt.wantMean, tt.wantStdv)
		}
	}
	for _, bad := range []ddbproxy.Latency{{Mean: -1}, {Spread: -1}, {Mean: 1, Dist: "pareto"}} {
		var le *ddbproxy.LatencyError
		if err := ddbproxy.ForTests(t).SetLatency(bad); !errors.As(err, &le) {
			t.Errorf("%+v: %v, want a LatencyError", bad, err)
		}
	}
}

func TestTheControlAPI(t *testing.T) {
	p := ddbproxy.ForTests(t)
	do := func(method, path, body string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, p.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode
	}
	type rule struct {
		ID                 int
		Op, Action, Hold   string
		Count, Acted, Seen int
		Holding            int
	}
	var r rule
	if code := do("POST", "/_proxy/rules", `{"op":"PutItem","keyPrefix":"GROUP#","action":"late","hold":"until-released","count":1}`, &r); code != http.StatusCreated || r.ID == 0 || r.Hold != "until-released" {
		t.Fatalf("add: %d %+v", code, r)
	}
	id := "/_proxy/rules/" + strconv.Itoa(r.ID)
	pk := unique("GROUP#")
	putErr := make(chan error, 1)
	go func() {
		_, err := put(pk)(context.Background(), functionsClient(p.URL, 1), services.TableName)
		putErr <- err
	}()
	if code := do("GET", id+"/wait?acted=1&timeout=30s", "", &r); code != http.StatusOK || r.Acted != 1 || r.Holding != 1 {
		t.Fatalf("wait: %d %+v, want the put held", code, r)
	}
	var rules []rule
	if do("GET", "/_proxy/rules", "", &rules); len(rules) != 1 || rules[0].Holding != 1 {
		t.Errorf("rules %+v, want the one holding a request", rules)
	}
	if code := do("POST", id+"/release", "", &r); code != http.StatusOK || r.Holding != 0 {
		t.Errorf("release: %d %+v", code, r)
	}
	if err := <-putErr; err != nil {
		t.Fatalf("the released put: %v", err)
	}
	var log []ddbproxy.Entry
	if do("GET", "/_proxy/log", "", &log); len(log) != 1 || log[0].Rule != r.ID || log[0].Op != "PutItem" || log[0].Keys[0] != pk || log[0].Outcome != "forwarded late: 200" {
		t.Errorf("log %+v", log)
	}
	if code := do("GET", id+"/wait?acted=2&timeout=10ms", "", nil); code != http.StatusGatewayTimeout {
		t.Errorf("a wait that times out: %d, want 504", code)
	}

	var lat struct{ Mean, Spread, Dist, Added string }
	if code := do("PUT", "/_proxy/latency", `{"mean":"4ms","spread":"2ms","dist":"normal","seed":3}`, &lat); code != http.StatusOK || lat.Mean != "4ms" || lat.Dist != "normal" {
		t.Errorf("latency: %d %+v", code, lat)
	}
	if p.Latency().Mean != 4*time.Millisecond {
		t.Errorf("latency set over HTTP is %+v", p.Latency())
	}
	if code := do("DELETE", id, "", nil); code != http.StatusNoContent {
		t.Errorf("delete the rule: %d", code)
	}
	if code := do("POST", "/_proxy/reset", "", nil); code != http.StatusNoContent || p.Latency().Mean != 0 || len(p.Log()) != 0 {
		t.Errorf("reset: %d, latency %+v, log %d", code, p.Latency(), len(p.Log()))
	}

	if code := do("POST", "/_proxy/rules", `{"op":"DescribeLimits","action":"fail"}`, &r); code != http.StatusCreated {
		t.Fatalf("add: %d", code)
	}
	id = "/_proxy/rules/" + strconv.Itoa(r.ID)
	for _, bad := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/_proxy/rules", `{"action":"explode"}`, http.StatusBadRequest},
		{"POST", "/_proxy/rules", `{"action":"late","hold":"soon"}`, http.StatusBadRequest},
		{"POST", "/_proxy/rules", `{"action":"fail","times":3}`, http.StatusBadRequest},
		{"PUT", "/_proxy/latency", `{"mean":"-4ms"}`, http.StatusBadRequest},
		{"POST", "/_proxy/rules/999/release", ``, http.StatusNotFound},
		{"GET", id + "/wait?acted=0", ``, http.StatusBadRequest},
		{"GET", id + "/wait?timeout=forever", ``, http.StatusBadRequest},
		{"GET", "/_proxy/nothing", ``, http.StatusNotFound},
		{"PATCH", "/_proxy/rules", ``, http.StatusMethodNotAllowed},
	} {
		if code := do(bad.method, bad.path, bad.body, nil); code != bad.want {
			t.Errorf("%s %s %s: %d, want %d", bad.method, bad.path, bad.body, code, bad.want)
		}
	}
}
