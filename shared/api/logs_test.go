package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// TestLogsCarryNoSecret runs a full flow through the handlers — logins,
// key rotation, decrypt, the stateless flow, cloudID with token fetch,
// rejection and revocation, reads, summary, and refusals including WeChat
// failures — with slog's default logger (and so the log package) writing
// JSON to a buffer and stdout/stderr captured, then searches everything
// written for the AppSecret, the signing key, every session key WeChat
// issued, every access token the table held and every session token issued.
func TestLogsCarryNoSecret(t *testing.T) {
	e := newAPIEnv(t)
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	output := captureStdio(t)

	secrets := map[string]string{"AppSecret": testSecret, "signing key": string(testSigningKey)}
	keep := func(what, v string) {
		if v != "" {
			secrets[what+" "+v[:4]] = v
		}
	}
	now := e.Clock.Now()
	accessToken := func() {
		tok, found, err := e.Store.GetAccessToken(context.Background(), testAppID)
		if err != nil || !found || tok.Token == "" {
			t.Fatalf("no access token in the table: %v", err)
		}
		keep("access token", tok.Token)
	}
	send := func(h Handler, req events.APIGatewayV2HTTPRequest, status int) string {
		t.Helper()
		resp := call(t, h, req)
		if resp.StatusCode != status {
			t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
		}
		var s struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal([]byte(resp.Body), &s)
		keep("session token", s.Token)
		if s.Token != "" {
			_, mac := tokenParts(t, s.Token)
			keep("token MAC", mac)
		}
		return s.Token
	}
	login := func(openid string, status int) string {
		code := e.Sim.Login(openid)
		keep("session key", e.Sim.SessionKey(openid))
		return send(Session(e.svc), postJSON(`{"code":"`+code+`"}`, ""), status)
	}

	a, b := testenv.UniqueID("api-log-a"), testenv.UniqueID("api-log-b")
	tokA := login(a, 200)
	stale := e.weRun(a, wechattest.Days(31, now), now) // fetched before a re-login
	login(a, 200)
	send(Decrypt(e.svc), postJSON(stale, tokA), 200)

	// Stateless flow: a code beside the data, a token in the answer.
	code := e.Sim.Login(b)
	keep("session key", e.Sim.SessionKey(b))
	ed, iv := e.Sim.WeRunData(b, wechattest.Days(5, now), now)
	bb, _ := json.Marshal(DecryptRequest{EncryptedData: ed, IV: iv, Code: code})
	tokB := send(Decrypt(e.svc), postJSON(string(bb), ""), 200)

	cloud := func(openid, token string, status int) {
		id := e.Sim.CloudID(openid, wechattest.Days(31, now), now)
		send(CloudID(e.svc), postJSON(`{"cloudID":"`+id+`"}`, token), status)
	}
	cloud(a, tokA, 200)
	accessToken()
	e.Sim.Fail(wechattest.PathGetOpenData, 40001, 1) // the token is refused once
	cloud(b, tokB, 200)
	accessToken()
	e.Sim.RevokeTokens()
	cloud(a, tokA, 200)
	accessToken()

	send(Steps(e.svc), getReq("GET /v1/steps", tokA, nil), 200)
	send(Steps(e.svc), getReq("GET /v1/steps/summary", tokB, nil), 200)

	// Refusals and failures, each of which logs its cause.
	e.Sim.Fail(wechattest.PathCode2Session, -1, 3)
	login(a, 502)
	e.Sim.Fail(wechattest.PathCode2Session, 45011, 1)
	login(b, 429)
	e.Sim.Fail(wechattest.PathCode2Session, 40125, 1)
	login(b, 502)
	e.Sim.Fail(wechattest.PathGetOpenData, 45011, 1)
	cloud(a, tokA, 429)
	e.Sim.Fail(wechattest.PathGetOpenData, -1, 3)
	cloud(a, tokA, 502)
	e.Sim.Delay(wechattest.PathGetOpenData, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	if resp, _ := CloudID(e.svc)(ctx, postJSON(`{"cloudID":"`+e.Sim.CloudID(a, wechattest.Days(3, now), now)+`"}`, tokA)); resp.StatusCode < 500 {
		t.Errorf("slow getopendata: status %d", resp.StatusCode)
	}
	cancel()
	e.Sim.Delay(wechattest.PathGetOpenData, 0)
	e.Sim.Login(a) // a key this server never saw
	send(Decrypt(e.svc), postJSON(e.weRun(a, wechattest.Days(3, now), now), tokA), 422)
	send(Decrypt(e.svc), postJSON(stale, tokA+"x"), 401)
	send(Steps(e.svc), getReq("GET /v1/steps", strings.Replace(tokB, tokB[:5], "AAAAA", 1), nil), 401)
	send(Decrypt(e.svc), postJSON(decryptBody("%%%", validIV), tokA), 400)
	send(Session(e.svc), postJSON(`{"code":"`+code+`"}`, ""), 200) // a retried code: the same user
	send(Session(e.svc), postJSON(`{"code":"`+strings.Repeat("x", 300)+`"}`, ""), 400)

	written := logs.String() + output()
	if !strings.Contains(written, `"msg":"request"`) || !strings.Contains(written, `"msg":"failed"`) {
		t.Fatalf("the capture saw no request logs: %q", written)
	}
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets collected: the flow did not run", len(secrets))
	}
	for what, v := range secrets {
		if strings.Contains(written, v) {
			t.Errorf("the logs carry the %s", what)
		}
	}
	t.Logf("%d log bytes searched for %d secrets", len(written), len(secrets))
}

// captureStdio points os.Stdout and os.Stderr at pipes until the returned
// function is called, which restores them and returns what was written.
func captureStdio(t *testing.T) func() string {
	t.Helper()
	oldOut, oldErr := os.Stdout, os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout, os.Stderr = w, w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	var out *string
	restore := func() string {
		if out == nil {
			os.Stdout, os.Stderr = oldOut, oldErr
			w.Close()
			s := <-done
			out = &s
		}
		return *out
	}
	t.Cleanup(func() { restore() })
	return restore
}
