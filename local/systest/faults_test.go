package systest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The time budget, through the built functions under the emulator: whatever
// WeChat or DynamoDB does, each function answers with the envelope and
// Retry-After before its timeout, never with Lambda's "Task timed out".

const (
	faultAppID  = "wx0000000000000000"
	faultSecret = "fault-app-secret"
	faultKey    = "fault-signing-key-0123456789abcdef0123"
)

// builtOnce builds each function once per test binary.
var builtOnce = struct {
	sync.Mutex
	paths map[string]string
}{paths: map[string]string{}}

func builtFunction(t *testing.T, id string) (template.Function, string, *template.Template) {
	t.Helper()
	tmpl := loadRepoTemplate(t)
	fn, err := tmpl.Function(id)
	if err != nil {
		t.Fatal(err)
	}
	builtOnce.Lock()
	defer builtOnce.Unlock()
	if p, ok := builtOnce.paths[id]; ok {
		return fn, p, tmpl
	}
	p, err := emulator.Build(context.Background(), "Makefile", id, filepath.Join(t.TempDir(), id))
	if err != nil {
		t.Fatal(err)
	}
	// t.TempDir is removed with t; keep the binary for the test binary's
	// life, in the ignored build folder, where the next run replaces it.
	keep := filepath.Join(emulator.BuildDir, "faults-"+id)
	if err := os.Rename(p, keep); err != nil {
		t.Fatal(err)
	}
	builtOnce.paths[id] = keep
	return fn, keep, tmpl
}

// faultPool runs function id under the emulator against sim and the given
// DynamoDB endpoint.
func faultPool(t *testing.T, id, simURL, dynamo string) (*emulator.Pool, template.Function) {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true})
	if dynamo == "" {
		dynamo = env.DynamoDB
	}
	procs := &services.Procs{}
	t.Cleanup(procs.StopAll)
	var log io.Writer = io.Discard
	if testing.Verbose() {
		log = os.Stderr
	}
	return functionPool(t, id, stack.Overrides{
		"TABLE_NAME": env.Table, "AWS_ENDPOINT_URL_DYNAMODB": dynamo,
		"WECHAT_API_BASE": simURL, "WECHAT_APPID": faultAppID, "WECHAT_SECRET": faultSecret,
		"SESSION_SIGNING_KEY": faultKey,
	}, procs, log)
}

// functionPool runs the built function id under one warm emulator with the
// template's environment, over winning over the host's; the emulator is
// one of procs and writes to log.
func functionPool(t *testing.T, id string, over stack.Overrides, procs *services.Procs, log io.Writer) (*emulator.Pool, template.Function) {
	t.Helper()
	fn, bootstrap, tmpl := builtFunction(t, id)
	vars := stack.FunctionVars(tmpl, fn, over)
	for k, v := range over { // over the host's, which `local exec` sets
		if _, declared := vars[k]; declared {
			vars[k] = v
		}
	}
	pool, err := emulator.NewPool(fn, bootstrap, vars, 1, procs, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	return pool, fn
}

// stalledListener accepts connections and never answers on them.
func stalledListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

func httpEvent(route, body, token string) []byte {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: route, Body: body, Headers: map[string]string{}}
	if token != "" {
		ev.Headers["authorization"] = "Bearer " + token
	}
	b, _ := json.Marshal(ev)
	return b
}

func TestSlowOrStalledDependenciesAnswerBeforeTheTimeout(t *testing.T) {
	signer, err := crypto.NewStackSigner(template.LocalStackName, []byte(faultKey))
	if err != nil {
		t.Fatal(err)
	}
	token := func(openid string) string {
		return signer.Sign(crypto.Claims{OpenID: openid, Account: "faults", ExpiresAt: time.Now().Add(time.Hour)})
	}
	tests := []struct {
		name     string
		function string
		// prepare sets the fault and returns the event and the DynamoDB
		// endpoint ("" for the test table).
		prepare    func(t *testing.T, sim *wechattest.Server) ([]byte, string)
		wantStatus int
		wantCode   string
	}{
		{"WeChat answers login after 6 s", "SessionFunction", func(t *testing.T, sim *wechattest.Server) ([]byte, string) {
			code := sim.Login("o-slow")
			sim.Delay(wechattest.PathCode2Session, 6*time.Second)
			return httpEvent("POST /v1/session", `{"code":"`+code+`"}`, ""), ""
		}, http.StatusBadGateway, "WECHAT_UNAVAILABLE"},
		{"WeChat never answers the stateless decrypt's login", "DecryptFunction", func(t *testing.T, sim *wechattest.Server) ([]byte, string) {
			code := sim.Login("o-hung")
			ed, iv := sim.WeRunData("o-hung", wechattest.Days(3, time.Now()), time.Now())
			sim.Delay(wechattest.PathCode2Session, time.Hour)
			b, _ := json.Marshal(map[string]string{"code": code, "encryptedData": ed, "iv": iv})
			return httpEvent("POST /v1/werun/decrypt", string(b), ""), ""
		}, http.StatusBadGateway, "WECHAT_UNAVAILABLE"},
		{"WeChat answers getopendata after 6 s", "OpenDataFunction", func(t *testing.T, sim *wechattest.Server) ([]byte, string) {
			id := sim.CloudID("o-cloud", wechattest.Days(3, time.Now()), time.Now())
			sim.Delay(wechattest.PathGetOpenData, 6*time.Second)
			return httpEvent("POST /v1/werun/cloudid", `{"cloudID":"`+id+`"}`, token("o-cloud")), ""
		}, http.StatusBadGateway, "WECHAT_UNAVAILABLE"},
		{"WeChat answers the nickname's content check after 6 s", "SocialFunction", func(t *testing.T, sim *wechattest.Server) ([]byte, string) {
			sim.Login("o-nickname")
			sim.Delay(wechattest.PathMsgSecCheck, 6*time.Second)
			return httpEvent("PUT /v1/me/profile", `{"nickname":"Slow"}`, token("o-nickname")), ""
		}, http.StatusBadGateway, "WECHAT_UNAVAILABLE"},
		{"DynamoDB accepts and never answers a read", "StepsFunction", func(t *testing.T, _ *wechattest.Server) ([]byte, string) {
			return httpEvent("GET /v1/steps", "", token("o-reader")), stalledListener(t)
		}, http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"DynamoDB throttles every try of a read", "StepsFunction", func(t *testing.T, _ *wechattest.Server) ([]byte, string) {
			p := ddbproxy.ForTests(t)
			if _, err := p.Add(ddbproxy.Rule{Op: "Query", Action: ddbproxy.Throttle}); err != nil {
				t.Fatal(err)
			}
			return httpEvent("GET /v1/steps", "", token("o-throttled")), p.URL
		}, http.StatusServiceUnavailable, "UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := wechattest.NewServer(faultAppID, faultSecret)
			t.Cleanup(sim.Close)
			event, dynamo := tt.prepare(t, sim)
			pool, fn := faultPool(t, tt.function, sim.URL, dynamo)
			start := time.Now()
			out, err := pool.Invoke(context.Background(), event)
			took := time.Since(start)
			// The emulator judges the deadline as Lambda does: an answer
			// past the function's timeout is its "Task timed out", which the
			// pool reports as emulator.ErrFunction. The wall clock here also
			// counts this busy machine's queueing, so it is only logged.
			if errors.Is(err, emulator.ErrFunction) {
				t.Fatalf("no answer within the function's %d s timeout (after %v): %v", fn.Timeout, took, err)
			}
			if err != nil {
				t.Fatalf("after %v: %v", took, err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("answer %s: %v", out, err)
			}
			var env struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal([]byte(resp.Body), &env)
			if resp.StatusCode != tt.wantStatus || env.Error.Code != tt.wantCode || env.Error.Message == "" {
				t.Errorf("answer %d %s, want %d %s in the envelope", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantCode)
			}
			if resp.Headers["Retry-After"] == "" {
				t.Errorf("no Retry-After in %v", resp.Headers)
			}
			t.Logf("%d %s after %v", resp.StatusCode, env.Error.Code, took.Round(time.Millisecond))
		})
	}
}
