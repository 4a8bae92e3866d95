package usersteps_test

// Fault tests: DynamoDB throttling, 5xx, broken connections and hangs are
// injected by an http.RoundTripper under the real DynamoDB client (built
// with config.NewRetryer, as every function builds it), and WeChat busy
// answers, slow answers and rate limits by the simulator's switches. Each
// test shows the sync either succeeds with every day stored, or answers a
// clear 5xx/429 within the deadline, and that a resend then stores
// everything: no day in a 200 answer is ever missing from the table.
//
// DynamoDB's UnprocessedItems does not apply here: the store never calls
// BatchWriteItem. Each day is its own conditional UpdateItem (a batch write
// cannot carry the steps < :new condition, and without it two racing syncs
// could lower a day), so a throttled day is a whole failed request, retried
// by the SDK's retryer like any other, which is what these tests inject.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/api"
	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

const (
	opUpdateItem = "DynamoDB_20120810.UpdateItem"
	opQuery      = "DynamoDB_20120810.Query"
)

type faultKind int

const (
	throttling  faultKind = iota // 400 ThrottlingException
	provisioned                  // 400 ProvisionedThroughputExceededException
	serverError                  // 500 InternalServerError
	connRefused                  // no connection at all
	hang                         // no answer until the request is abandoned
)

// faultTransport answers some DynamoDB requests itself with a fault and
// passes the rest to the real transport. A request is faulted when its
// X-Amz-Target is target, its body contains match (if set), and the budget
// left is not spent (left < 0: every such request).
type faultTransport struct {
	next http.RoundTripper

	mu      sync.Mutex
	target  string
	match   string
	kind    faultKind
	left    int
	seen    map[string]int // requests by target, faulted or not
	faulted int
}

func (f *faultTransport) set(target, match string, kind faultKind, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target, f.match, f.kind, f.left, f.faulted = target, match, kind, n, 0
	f.seen = map[string]int{}
}

func (f *faultTransport) clear() { f.set("", "", 0, 0) }

func (f *faultTransport) counts(target string) (seen, faulted int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[target], f.faulted
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	target := req.Header.Get("X-Amz-Target")
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	f.mu.Lock()
	f.seen[target]++
	fault := f.target != "" && target == f.target && f.left != 0 &&
		(f.match == "" || bytes.Contains(body, []byte(f.match)))
	if fault {
		f.faulted++
		if f.left > 0 {
			f.left--
		}
	}
	kind := f.kind
	f.mu.Unlock()
	if !fault {
		return f.next.RoundTrip(req)
	}
	switch kind {
	case connRefused:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	case hang:
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	status, typ := http.StatusBadRequest, "com.amazon.coral.availability#ThrottlingException"
	switch kind {
	case provisioned:
		typ = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
	case serverError:
		status, typ = http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError"
	}
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": "injected fault"})
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       req,
	}, nil
}

// faultyService is a service whose store reaches DynamoDB through a
// faultTransport; e.Store stays a clean view of the same table.
func faultyService(t *testing.T, e *testenv.Env) (*usecases.Set, *faultTransport) {
	t.Helper()
	ft := &faultTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
	ft.clear()
	cfg := e.Config(t)
	cfg.Store = testenv.Store(t, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: ft}
		o.Retryer = config.NewRetryer()
	})
	return usecases.New(cfg), ft
}

// storedDays is the user's stored window, read through the clean store.
func storedDays(t *testing.T, e *testenv.Env, openid string, now time.Time) map[string]int64 {
	t.Helper()
	days, err := e.Store.Days(context.Background(), openid, steps.FirstDate(now), steps.DateOf(now))
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]int64, len(days))
	for _, d := range days {
		m[d.Date] = d.Steps
	}
	return m
}

// wantStored checks that each day of list is stored at its count.
func wantStored(t *testing.T, e *testenv.Env, openid string, now time.Time, list []wechattest.StepInfo) {
	t.Helper()
	got := storedDays(t, e, openid, now)
	for _, s := range list {
		d := steps.DateOf(time.Unix(s.Timestamp, 0))
		if got[d] != s.Step {
			t.Errorf("%s stored %d, want %d", d, got[d], s.Step)
		}
	}
}

// acknowledgedAreStored checks a 200 answer's days against the table: every
// acknowledged day is there, at least at the count acknowledged.
func acknowledgedAreStored(t *testing.T, e *testenv.Env, openid string, now time.Time, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	var r api.SyncResponse
	if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
		t.Fatal(err)
	}
	got := storedDays(t, e, openid, now)
	for _, d := range r.Days {
		if n, ok := got[d.Date]; !ok || n < d.Steps {
			t.Errorf("acknowledged %s = %d, table has %d (present %v)", d.Date, d.Steps, n, ok)
		}
	}
}

func invoke(t *testing.T, h api.Handler, req events.APIGatewayV2HTTPRequest, deadline time.Duration) (events.APIGatewayV2HTTPResponse, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	resp, err := h(ctx, req)
	if err != nil {
		t.Fatalf("handler returned an error to the runtime: %v", err)
	}
	return resp, time.Since(start)
}

func syncRequest(body, token string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{}
	if token != "" {
		h["authorization"] = "Bearer " + token
	}
	return events.APIGatewayV2HTTPRequest{Body: body, Headers: h}
}

func encryptedBody(e *testenv.Env, openid string, list []wechattest.StepInfo, at time.Time, code string) string {
	ed, iv := e.Sim.WeRunData(openid, list, at)
	b, _ := json.Marshal(api.DecryptRequest{EncryptedData: ed, IV: iv, Code: code})
	return string(b)
}

// errorCode reads the envelope's code and checks the answer may be resent.
func errorCode(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &env); err != nil || env.Error.Code == "" {
		t.Fatalf("status %d body %q is not the error envelope", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Retry-After"] == "" {
		t.Errorf("%d %s without Retry-After", resp.StatusCode, env.Error.Code)
	}
	return env.Error.Code
}

func TestTransientDynamoFaultsAreRetriedAndEveryDayIsStored(t *testing.T) {
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	svc, ft := faultyService(t, e)
	tests := []struct {
		name   string
		target string
		kind   faultKind
		n      int
	}{
		{"throttled day writes", opUpdateItem, throttling, 6},
		{"provisioned throughput exceeded", opUpdateItem, provisioned, 6},
		{"DynamoDB 500s", opUpdateItem, serverError, 6},
		{"refused connections", opUpdateItem, connRefused, 6},
		{"throttled user load", opQuery, throttling, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			openid := testenv.UniqueID("fault")
			e.Login(t, svc, openid)
			list := wechattest.Days(31, now)
			ed, iv := e.Sim.WeRunData(openid, list, now)
			ft.set(tt.target, "", tt.kind, tt.n)
			defer ft.clear()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv})
			if err != nil {
				t.Fatalf("sync under %d transient faults: %v", tt.n, err)
			}
			seen, faulted := ft.counts(tt.target)
			if faulted != tt.n {
				t.Fatalf("%d requests faulted, want %d", faulted, tt.n)
			}
			// Every faulted request was sent again: the retryer, not luck.
			if want := tt.n + map[string]int{opUpdateItem: 31, opQuery: 1}[tt.target]; seen != want {
				t.Errorf("%s sent %d times, want %d (each fault retried once)", tt.target, seen, want)
			}
			if res.Changed != 31 {
				t.Errorf("changed = %d, want 31", res.Changed)
			}
			wantStored(t, e, openid, now, list)
		})
	}
}

func TestPersistentThrottlingAnswers503AndAResendStoresEverything(t *testing.T) {
	now, e, svc, ft, openid, token, list, body := faultySync(t, "throttled")
	decrypt := api.Decrypt(svc)

	// Today's write stays throttled whatever the retries: the other 30 days
	// are written, but the sync as a whole is not acknowledged.
	today := `"DAY#` + steps.DateOf(now) + `"`
	ft.set(opUpdateItem, today, throttling, -1)
	const deadline = 8 * time.Second
	resp, took := invoke(t, decrypt, syncRequest(body, token), deadline)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, resp) != "UNAVAILABLE" {
		t.Fatalf("persistent throttling: %d %s, want 503 UNAVAILABLE", resp.StatusCode, resp.Body)
	}
	if took >= deadline {
		t.Errorf("answered after %v, past the %v deadline", took, deadline)
	}
	if _, faulted := ft.counts(opUpdateItem); faulted < config.MaxAttempts {
		t.Errorf("only %d throttled attempts: the retryer gave up before MaxAttempts", faulted)
	}
	t.Logf("503 after %v", took)

	// The service itself says ErrUnavailable, also when the deadline, not
	// the attempt bound, ends the retries.
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	_, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: mustField(body, "encryptedData"), IV: mustField(body, "iv")})
	cancel()
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err = %v, want store.ErrUnavailable", err)
	}

	ft.clear()
	resp, _ = invoke(t, decrypt, syncRequest(body, token), deadline)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resend after the fault cleared: %d %s", resp.StatusCode, resp.Body)
	}
	acknowledgedAreStored(t, e, openid, now, resp)
	wantStored(t, e, openid, now, list)
}

// faultySync is a logged-in user of a faulty service, with a 31-day sync
// body ready to send with their token.
func faultySync(t *testing.T, prefix string) (now time.Time, e *testenv.Env, svc *usecases.Set, ft *faultTransport, openid, token string, list []wechattest.StepInfo, body string) {
	t.Helper()
	now = time.Now()
	e = testenv.New(t, appID, secret, now)
	svc, ft = faultyService(t, e)
	openid = testenv.UniqueID(prefix)
	e.Login(t, svc, openid)
	token = e.Token(t, openid)
	list = wechattest.Days(31, now)
	return now, e, svc, ft, openid, token, list, encryptedBody(e, openid, list, now, "")
}

func mustField(body, name string) string {
	var m map[string]string
	_ = json.Unmarshal([]byte(body), &m)
	return m[name]
}

func TestAHungDynamoDBEndsWithTheDeadline(t *testing.T) {
	now, e, svc, ft, openid, token, list, body := faultySync(t, "hung")
	ft.set(opQuery, "", hang, -1)
	const deadline = 600 * time.Millisecond
	resp, took := invoke(t, api.Decrypt(svc), syncRequest(body, token), deadline)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, resp) != "UNAVAILABLE" {
		t.Fatalf("hung DynamoDB: %d %s, want 503", resp.StatusCode, resp.Body)
	}
	if took > deadline+300*time.Millisecond {
		t.Errorf("answered after %v, well past the %v deadline", took, deadline)
	}
	ft.clear()
	resp, _ = invoke(t, api.Decrypt(svc), syncRequest(body, token), 5*time.Second)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resend: %d %s", resp.StatusCode, resp.Body)
	}
	acknowledgedAreStored(t, e, openid, now, resp)
	wantStored(t, e, openid, now, list)
}

// WeChat faults end in success, or in a 429/5xx with Retry-After after
// which the same request succeeds.
func TestWeChatFaultsEndInSuccessOrAResendableAnswer(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		// fault switches the fault on and returns the request to send twice
		// (a login code is only consumed once WeChat really answers).
		fault    func(e *testenv.Env, openid string) events.APIGatewayV2HTTPRequest
		deadline time.Duration
		first    int    // status of the first answer
		code     string // its error code
	}{
		{"getopendata busy twice is retried", func(e *testenv.Env, openid string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathGetOpenData, -1, 2)
			return cloudReq(e, openid, now)
		}, 5 * time.Second, 200, ""},
		{"getopendata busy beyond the retries", func(e *testenv.Env, openid string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathGetOpenData, -1, 3)
			return cloudReq(e, openid, now)
		}, 5 * time.Second, 502, "WECHAT_UNAVAILABLE"},
		{"getopendata rate limited", func(e *testenv.Env, openid string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathGetOpenData, 45011, 1)
			return cloudReq(e, openid, now)
		}, 5 * time.Second, 429, "RATE_LIMITED"},
		{"getopendata slower than the deadline", func(e *testenv.Env, openid string) events.APIGatewayV2HTTPRequest {
			e.Sim.Delay(wechattest.PathGetOpenData, 3*time.Second)
			return cloudReq(e, openid, now)
		}, 500 * time.Millisecond, 0, ""},
		{"jscode2session slower than the deadline (stateless decrypt)", func(e *testenv.Env, openid string) events.APIGatewayV2HTTPRequest {
			code := e.Sim.Login(openid)
			req := syncRequest(encryptedBody(e, openid, wechattest.Days(31, now), now, code), "")
			e.Sim.Delay(wechattest.PathCode2Session, 3*time.Second)
			return req
		}, 500 * time.Millisecond, 0, ""},
		{"jscode2session busy twice is retried (stateless decrypt)", func(e *testenv.Env, openid string) events.APIGatewayV2HTTPRequest {
			code := e.Sim.Login(openid)
			e.Sim.Fail(wechattest.PathCode2Session, -1, 2)
			return syncRequest(encryptedBody(e, openid, wechattest.Days(31, now), now, code), "")
		}, 5 * time.Second, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testenv.New(t, appID, secret, now)
			svc := e.Service(t)
			openid := testenv.UniqueID("wxfault")
			req := tt.fault(e, openid)
			h := api.Decrypt(svc)
			if strings.Contains(req.Body, "cloudID") {
				h = api.CloudID(svc)
				e.Login(t, svc, openid)
				req.Headers["authorization"] = "Bearer " + e.Token(t, openid)
			}
			resp, took := invoke(t, h, req, tt.deadline)
			if took > tt.deadline+300*time.Millisecond {
				t.Errorf("answered after %v, past the %v deadline", took, tt.deadline)
			}
			switch {
			case tt.first == 200 || resp.StatusCode == 200:
				if resp.StatusCode != 200 {
					t.Fatalf("status %d %s, want 200", resp.StatusCode, resp.Body)
				}
			case tt.first == 0: // a timeout: WeChat or the deadline, either is resendable
				if resp.StatusCode != 502 && resp.StatusCode != 503 {
					t.Fatalf("status %d %s, want 502 or 503", resp.StatusCode, resp.Body)
				}
				errorCode(t, resp)
			default:
				if resp.StatusCode != tt.first || errorCode(t, resp) != tt.code {
					t.Fatalf("status %d %s, want %d %s", resp.StatusCode, resp.Body, tt.first, tt.code)
				}
			}
			if resp.StatusCode != 200 {
				if n := len(storedDays(t, e, openid, now)); n != 0 {
					t.Errorf("a refused sync stored %d days", n)
				}
				for _, p := range []string{wechattest.PathCode2Session, wechattest.PathGetOpenData} {
					e.Sim.Fail(p, 0, 0)
					e.Sim.Delay(p, 0)
				}
				resp, _ = invoke(t, h, req, 5*time.Second)
				if resp.StatusCode != 200 {
					t.Fatalf("resend of the same request: %d %s", resp.StatusCode, resp.Body)
				}
			}
			acknowledgedAreStored(t, e, openid, now, resp)
			wantStored(t, e, openid, now, wechattest.Days(31, now))
		})
	}
}

func cloudReq(e *testenv.Env, openid string, now time.Time) events.APIGatewayV2HTTPRequest {
	b, _ := json.Marshal(api.CloudIDRequest{CloudID: e.Sim.CloudID(openid, wechattest.Days(31, now), now)})
	return syncRequest(string(b), "x")
}
