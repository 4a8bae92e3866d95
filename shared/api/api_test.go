package api

// These tests drive the real handlers over a real usecases.Set: the store is
// DynamoDB (dynalite under make test) and WeChat is the wechattest simulator.
// They prove that every refusal is an envelope with the right status and no
// internal error text, and that one user's token reaches only that user's days.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

const (
	testAppID = "wxapitest0000001"
	// testSecret is distinctive so the log test can search for it.
	testSecret = "api-test-app-secret-7f3a9c41d2"
)

// testSigningKey signs the tokens the service issues; tests sign with it too
// to make expired tokens.
var testSigningKey = []byte("api-test-signing-key-0123456789abcdef")

// apiEnv is one test's world (simulator, real store, a shared clock) and the
// service behind the handlers.
type apiEnv struct {
	*testenv.Env
	svc *usecases.Set
}

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	e := testenv.New(t, testAppID, testSecret, time.Now())
	e.SigningKey = testSigningKey
	return &apiEnv{Env: e, svc: e.Service(t)}
}

// loginUser logs openid in through POST /v1/session and returns the token.
func (e *apiEnv) loginUser(t testing.TB, openid string) string {
	t.Helper()
	resp := call(t, Session(e.svc), postJSON(`{"code":"`+e.Sim.Login(openid)+`"}`, ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", openid, resp.StatusCode, resp.Body)
	}
	var s struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &s); err != nil || s.Token == "" {
		t.Fatalf("login answer %q: %v", resp.Body, err)
	}
	return s.Token
}

// weRun is wx.getWeRunData for openid now: the body of a decrypt request.
func (e *apiEnv) weRun(openid string, list []wechattest.StepInfo, at time.Time) string {
	ed, iv := e.Sim.WeRunData(openid, list, at)
	return decryptBody(ed, iv)
}

func decryptBody(ed, iv string) string {
	b, _ := json.Marshal(DecryptRequest{EncryptedData: ed, IV: iv})
	return string(b)
}

func postJSON(body, token string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{Body: body, Headers: map[string]string{"content-type": "application/json"}}
	if token != "" {
		req.Headers["authorization"] = "Bearer " + token
	}
	return req
}

func getReq(route, token string, q map[string]string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RouteKey: route, QueryStringParameters: q, Headers: map[string]string{}}
	if token != "" {
		req.Headers["authorization"] = "Bearer " + token
	}
	return req
}

// call invokes h as the Lambda runtime would, with a deadline, and fails on
// an error return: the handlers answer every failure in the envelope.
func call(t testing.TB, h Handler, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h(ctx, req)
	if err != nil {
		t.Fatalf("handler returned an error to the runtime: %v", err)
	}
	return resp
}

// leakMarkers are prefixes of this module's and the SDK's error strings, and
// signs of a stack trace; none may reach a client.
var leakMarkers = []string{"werun:", "store:", "wechat:", "crypto:", "steps:", "config:", "api:",
	"goroutine", "panic", ".go:", "runtime error", "DynamoDB", "errcode", "rid:", "http://", "127.0.0.1"}

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// checkEnvelope asserts resp is exactly {"error":{"code","message"}} with
// status and code, JSON, and free of internal text; it returns the message.
func checkEnvelope(t testing.TB, resp events.APIGatewayV2HTTPResponse, status int, code string) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("body %s is not the error envelope: %v", resp.Body, err)
	}
	if !codePattern.MatchString(env.Error.Code) || env.Error.Message == "" {
		t.Fatalf("envelope %s: want an UPPER_SNAKE code and a message", resp.Body)
	}
	if code != "" && env.Error.Code != code {
		t.Fatalf("code = %s, want %s (%s)", env.Error.Code, code, env.Error.Message)
	}
	for _, m := range leakMarkers {
		if strings.Contains(resp.Body, m) {
			t.Errorf("error body carries internal text %q: %s", m, resp.Body)
		}
	}
	return env.Error.Message
}

// tokenParts splits a session token into its decoded payload and MAC.
func tokenParts(t testing.TB, token string) (payload, mac string) {
	t.Helper()
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		t.Fatalf("token %q has no dot", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), m
}

// errCase is one refusal through the real handlers. setup runs with a fresh
// logged-in user (openid, token) and returns the request; it may switch on a
// simulator fault, which the case clears when done.
type errCase struct {
	name       string
	handler    func(*usecases.Set) Handler
	setup      func(t *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest
	status     int
	code       string
	retryAfter string   // the Retry-After header wanted, if any
	msgHas     []string // phrases the message must carry
}

func body(s string) func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
	return func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest { return postJSON(s, "") }
}

func authedBody(s string) func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
	return func(_ *testing.T, _ *apiEnv, _, token string) events.APIGatewayV2HTTPRequest {
		return postJSON(s, token)
	}
}

// withToken is the user's fresh WeRun data sent with token.
func withToken(token func(t *testing.T, e *apiEnv, openid, token string) string) func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
	return func(t *testing.T, e *apiEnv, openid, tok string) events.APIGatewayV2HTTPRequest {
		now := e.Clock.Now()
		return postJSON(e.weRun(openid, wechattest.Days(3, now), now), token(t, e, openid, tok))
	}
}

func signWith(key string, expiresIn time.Duration) func(*testing.T, *apiEnv, string, string) string {
	return func(t *testing.T, e *apiEnv, openid, _ string) string {
		s, err := crypto.NewSigner([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return s.Sign(crypto.Claims{OpenID: openid, Account: "api", ExpiresAt: e.Clock.Now().Add(expiresIn)})
	}
}

// withPlaintext encrypts a plaintext (a format with %[1]d the clock's unix
// time and %[2]s the app's AppID) under the user's current session key.
func withPlaintext(format string) func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
	return func(t *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
		plain := fmt.Sprintf(format, e.Clock.Now().Unix(), testAppID)
		ed, err := crypto.Encrypt(e.Sim.SessionKey(openid), validIV, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		return postJSON(decryptBody(ed, validIV), token)
	}
}

// putProfile is PUT /v1/me/profile with body s.
func putProfile(s string) func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
	return func(_ *testing.T, _ *apiEnv, _, token string) events.APIGatewayV2HTTPRequest {
		r := postJSON(s, token)
		r.RouteKey = "PUT /v1/me/profile"
		return r
	}
}

func b64(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

const validIV = "r7BXXKkLb8qrSNn05n0qiA=="

func TestHandlersRefuseInTheEnvelope(t *testing.T) {
	e := newAPIEnv(t)
	big := `{"code":"` + strings.Repeat("a", MaxBody) + `"}`
	// Just over MaxBody once decoded, yet short enough encoded to pass the
	// first length check: the decoded size must be checked too.
	bigDecoded := base64.StdEncoding.EncodeToString([]byte(`{"code":"` + strings.Repeat("a", MaxBody-10) + `"}`))
	cases := []errCase{
		// 400: malformed requests.
		{"session body not JSON", Session, body("code=abc"), 400, "INVALID_JSON", "", nil},
		{"session body empty", Session, body("  "), 400, "INVALID_JSON", "", nil},
		{"session body a JSON array", Session, body(`["code"]`), 400, "INVALID_JSON", "", nil},
		{"session body two objects", Session, body(`{"code":"a"}{"code":"b"}`), 400, "INVALID_JSON", "", nil},
		{"session body truncated", Session, body(`{"code":"a"`), 400, "INVALID_JSON", "", nil},
		{"session code a number", Session, body(`{"code":5}`), 400, "INVALID_FIELD", "", []string{"code"}},
		{"decrypt encryptedData an array", Decrypt, authedBody(`{"encryptedData":[1],"iv":"x"}`), 400, "INVALID_FIELD", "", []string{"encryptedData"}},
		{"session without code", Session, body(`{}`), 400, "MISSING_FIELD", "", []string{"code"}},
		{"session code with a space", Session, body(`{"code":"0a3W bz00"}`), 400, "INVALID_FIELD", "", []string{"code", "wx.login"}},
		{"session code a pasted URL", Session, body(`{"code":"https://example.com/?code=abc"}`), 400, "INVALID_FIELD", "", []string{"code"}},
		{"session code too long", Session, body(`{"code":"` + strings.Repeat("a", 257) + `"}`), 400, "INVALID_FIELD", "", []string{"code"}},
		{"stateless decrypt with a malformed code", Decrypt, body(`{"encryptedData":"` + b64(32) + `","iv":"` + validIV + `","code":"a\u0000b"}`), 400, "INVALID_FIELD", "", []string{"code"}},
		{"cloudID too long", CloudID, authedBody(`{"cloudID":"` + strings.Repeat("a", 1025) + `"}`), 400, "INVALID_FIELD", "", []string{"cloudID"}},
		{"cloudID with a quote", CloudID, authedBody(`{"cloudID":"ab\"cd"}`), 400, "INVALID_FIELD", "", []string{"cloudID"}},
		{"decrypt without iv", Decrypt, authedBody(`{"encryptedData":"` + b64(32) + `"}`), 400, "MISSING_FIELD", "", []string{"iv"}},
		{"decrypt without encryptedData", Decrypt, authedBody(`{"iv":"` + validIV + `"}`), 400, "MISSING_FIELD", "", []string{"encryptedData"}},
		{"cloudid without cloudID", CloudID, authedBody(`{"cloudID":""}`), 400, "MISSING_FIELD", "", []string{"cloudID"}},
		{"a field the route does not take", CloudID, authedBody(`{"cloudid_list":["x"]}`), 400, "INVALID_FIELD", "", []string{"send only cloudID"}},
		{"a forwarded getWeRunData result", Decrypt, authedBody(`{"encryptedData":"` + b64(32) + `","iv":"` + validIV + `","errMsg":"getWeRunData:ok"}`), 400, "INVALID_FIELD", "", []string{"encryptedData, iv, code"}},
		{"a declared field in another case", Session, body(`{"Code":"abc"}`), 400, "INVALID_FIELD", "", []string{"case-sensitive", "code"}},
		{"base64 flag on a body that is not base64", Session, func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
			r := postJSON(`{"code":"x"}`, "")
			r.IsBase64Encoded = true
			return r
		}, 400, "INVALID_JSON", "", nil},
		{"encryptedData not base64", Decrypt, authedBody(decryptBody("%%%not base64%%%", validIV)), 400, "INVALID_BASE64", "", nil},
		{"iv of the wrong length", Decrypt, authedBody(decryptBody(b64(32), "AAAA")), 400, "INVALID_IV", "", nil},
		{"ciphertext not whole blocks", Decrypt, authedBody(decryptBody(b64(17), validIV)), 400, "INVALID_ENCRYPTED_DATA", "", nil},
		{"nickname with a zero width space", Social, putProfile(`{"nickname":"alice\u200b"}`), 400, "INVALID_FIELD", "", []string{"nickname", "invisible", "U+200B at position 6"}},
		{"nickname of Hangul fillers", Social, putProfile(`{"nickname":"\u3164\u3164"}`), 400, "INVALID_FIELD", "", []string{"nickname", "U+3164 at position 1"}},
		{"nickname turned around", Social, putProfile(`{"nickname":"abc\u202edcba"}`), 400, "INVALID_FIELD", "", []string{"nickname", "U+202E at position 4"}},
		{"avatarUrl naming 127.0.0.1", Social, putProfile(`{"nickname":"alice","avatarUrl":"https://127.0.0.1/x"}`), 400, "INVALID_FIELD", "", []string{"avatarUrl", "names an IP address instead of a host name"}},
		{"avatarUrl naming the metadata service", Social, putProfile(`{"nickname":"alice","avatarUrl":"https://169.254.169.254/latest/meta-data/"}`), 400, "INVALID_FIELD", "", []string{"avatarUrl", "IP address"}},
		{"avatarUrl with port 99999", Social, putProfile(`{"nickname":"alice","avatarUrl":"https://cdn.example.com:99999/a.png"}`), 400, "INVALID_FIELD", "", []string{"avatarUrl", "port other than 443"}},
		{"avatarUrl breaking out of an attribute", Social, putProfile(`{"nickname":"alice","avatarUrl":"https://cdn.example.com/\"><script>alert(1)</script>"}`), 400, "INVALID_FIELD", "", []string{"avatarUrl", "quote"}},
		{"avatarUrl with a user name", Social, putProfile(`{"nickname":"alice","avatarUrl":"https://cdn.example.com@evil.example/a.png"}`), 400, "INVALID_FIELD", "", []string{"avatarUrl", "user name"}},
		{"steps range reversed", Steps, func(_ *testing.T, _ *apiEnv, _, token string) events.APIGatewayV2HTTPRequest {
			return getReq("GET /v1/steps", token, map[string]string{"from": "2026-02-01", "to": "2026-01-01"})
		}, 400, "INVALID_RANGE", "", nil},
		{"steps date malformed", Steps, func(_ *testing.T, _ *apiEnv, _, token string) events.APIGatewayV2HTTPRequest {
			return getReq("GET /v1/steps", token, map[string]string{"from": "yesterday"})
		}, 400, "INVALID_RANGE", "", nil},
		{"code never issued", Session, body(`{"code":"nosuchcode"}`), 400, "INVALID_CODE", "", []string{"wx.login"}},
		{"code redeemed by another backend", Session, func(t *testing.T, e *apiEnv, openid, _ string) events.APIGatewayV2HTTPRequest {
			code := e.Sim.Login(openid)
			if _, err := wechat.NewClient(e.Sim.URL, testAppID, e.Secret, nil).Code2Session(context.Background(), code); err != nil {
				t.Fatal(err)
			}
			return postJSON(`{"code":"`+code+`"}`, "")
		}, 400, "INVALID_CODE", "", []string{"wx.login"}},

		// 401: no or bad session token.
		{"decrypt without a token", Decrypt, withToken(func(*testing.T, *apiEnv, string, string) string { return "" }), 401, "MISSING_TOKEN", "", nil},
		{"cloudid without a token", CloudID, body(`{"cloudID":"x"}`), 401, "MISSING_TOKEN", "", nil},
		{"steps without a token", Steps, func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
			return getReq("GET /v1/steps", "", nil)
		}, 401, "MISSING_TOKEN", "", nil},
		{"summary without a token", Steps, func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
			return getReq("GET /v1/steps/summary", "", nil)
		}, 401, "MISSING_TOKEN", "", nil},
		{"token under another scheme", Steps, func(_ *testing.T, _ *apiEnv, _, token string) events.APIGatewayV2HTTPRequest {
			return events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/steps", Headers: map[string]string{"authorization": "Basic " + token}}
		}, 401, "MISSING_TOKEN", "", nil},
		{"tampered token naming another user", Decrypt, withToken(func(t *testing.T, _ *apiEnv, _, token string) string {
			payload, mac := tokenParts(t, token)
			forged := strings.Replace(payload, "|api", "|APi", 1)
			if forged == payload {
				t.Fatalf("payload %q: nothing to tamper", payload)
			}
			return base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + mac
		}), 401, "INVALID_TOKEN", "", []string{"wx.login"}},
		{"token with a flipped MAC", Steps, func(t *testing.T, _ *apiEnv, _, token string) events.APIGatewayV2HTTPRequest {
			b := []byte(token)
			if b[len(b)-2] == 'A' {
				b[len(b)-2] = 'B'
			} else {
				b[len(b)-2] = 'A'
			}
			return getReq("GET /v1/steps", string(b), nil)
		}, 401, "INVALID_TOKEN", "", nil},
		{"garbage token", CloudID, func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
			return postJSON(`{"cloudID":"x"}`, "not.a-token")
		}, 401, "INVALID_TOKEN", "", nil},
		{"expired token", Decrypt, withToken(signWith(string(testSigningKey), -time.Minute)), 401, "TOKEN_EXPIRED", "", []string{"wx.login"}},
		{"token signed with another key", Decrypt, withToken(signWith("another-signing-key-0123456789abcdef", time.Hour)), 401, "INVALID_TOKEN", "", nil},
		{"genuine token expiring in ten years", Decrypt, withToken(signWith(string(testSigningKey), 10*365*24*time.Hour)), 401, "INVALID_TOKEN", "", nil},

		// 413: too large, raw or base64-encoded.
		{"session body over 64 KiB", Session, body(big), 413, "PAYLOAD_TOO_LARGE", "", nil},
		{"base64 body over 64 KiB once decoded", Session, func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
			r := postJSON(bigDecoded, "")
			r.IsBase64Encoded = true
			return r
		}, 413, "PAYLOAD_TOO_LARGE", "", nil},
		{"base64 body far over 64 KiB", Session, func(*testing.T, *apiEnv, string, string) events.APIGatewayV2HTTPRequest {
			r := postJSON(base64.StdEncoding.EncodeToString([]byte(big+big)), "")
			r.IsBase64Encoded = true
			return r
		}, 413, "PAYLOAD_TOO_LARGE", "", nil},
		{"decrypt with huge encryptedData", Decrypt, authedBody(decryptBody(b64(MaxBody), validIV)), 413, "PAYLOAD_TOO_LARGE", "", nil},

		// 422: well-formed but unusable.
		{"data under a key the server never held", Decrypt, func(t *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			e.Sim.Login(openid) // a wx.login that never reached this backend
			now := e.Clock.Now()
			return postJSON(e.weRun(openid, wechattest.Days(3, now), now), token)
		}, 422, "DECRYPT_FAILED", "", []string{"wx.login", "wx.getWeRunData"}},
		{"no session key held", Decrypt, func(t *testing.T, e *apiEnv, _, _ string) events.APIGatewayV2HTTPRequest {
			stranger := testenv.UniqueID("api-stranger")
			e.Sim.Login(stranger)
			now := e.Clock.Now()
			token := signWith(string(testSigningKey), time.Hour)(t, e, stranger, "")
			return postJSON(e.weRun(stranger, wechattest.Days(3, now), now), token)
		}, 422, "NO_SESSION_KEY", "", []string{"wx.login"}},
		{"another app's data", Decrypt, func(t *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now().Unix()
			plain := `{"stepInfoList":[{"timestamp":` + strconv.FormatInt(now, 10) + `,"step":5}],"watermark":{"appid":"wxotherapp","timestamp":` + strconv.FormatInt(now, 10) + `}}`
			ed, err := crypto.Encrypt(e.Sim.SessionKey(openid), validIV, []byte(plain))
			if err != nil {
				t.Fatal(err)
			}
			return postJSON(decryptBody(ed, validIV), token)
		}, 422, "WRONG_APPID", "", []string{"WECHAT_APPID"}},
		{"stale data", Decrypt, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now()
			return postJSON(e.weRun(openid, wechattest.Days(3, now), now.Add(-2*time.Hour)), token)
		}, 422, "STALE_DATA", "", []string{"wx.getWeRunData"}},
		{"data dated in the future", Decrypt, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now()
			return postJSON(e.weRun(openid, wechattest.Days(3, now), now.Add(time.Hour)), token)
		}, 422, "STALE_DATA", "", nil},
		{"empty step list", Decrypt, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			return postJSON(e.weRun(openid, []wechattest.StepInfo{}, e.Clock.Now()), token)
		}, 422, "NO_STEP_DATA", "", nil},
		{"impossible step count", Decrypt, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now()
			list := wechattest.Days(2, now)
			list[1].Step = steps.MaxSteps + 1
			return postJSON(e.weRun(openid, list, now), token)
		}, 422, "INVALID_STEP_DATA", "", nil},
		// Content errors once the key is proven (well-formed JSON, this app's
		// watermark) are the data's fault, not the key's: never DECRYPT_FAILED,
		// which would send the client round a login loop.
		{"negative step under the right key", Decrypt, withPlaintext(`{"stepInfoList":[{"timestamp":%[1]d,"step":-5}],"watermark":{"appid":"%[2]s","timestamp":%[1]d}}`), 422, "INVALID_STEP_DATA", "", nil},
		{"fractional step under the right key", Decrypt, withPlaintext(`{"stepInfoList":[{"timestamp":%[1]d,"step":12.5}],"watermark":{"appid":"%[2]s","timestamp":%[1]d}}`), 422, "INVALID_STEP_DATA", "", nil},
		{"step beyond int64 under the right key", Decrypt, withPlaintext(`{"stepInfoList":[{"timestamp":%[1]d,"step":1e30}],"watermark":{"appid":"%[2]s","timestamp":%[1]d}}`), 422, "INVALID_STEP_DATA", "", nil},
		{"string timestamp under the right key", Decrypt, withPlaintext(`{"stepInfoList":[{"timestamp":"%[1]d","step":5}],"watermark":{"appid":"%[2]s","timestamp":%[1]d}}`), 422, "INVALID_STEP_DATA", "", nil},
		{"bad step before the watermark is read", Decrypt, withPlaintext(`{"stepInfoList":[{"step":-1}],"watermark":{"appid":"%[2]s","timestamp":%[1]d}}`), 422, "INVALID_STEP_DATA", "", nil},
		{"bad step under another app's watermark", Decrypt, withPlaintext(`{"stepInfoList":[{"timestamp":%[1]d,"step":-5}],"watermark":{"appid":"wxotherapp","timestamp":%[1]d}}`), 422, "WRONG_APPID", "", nil},
		{"not JSON under the right key", Decrypt, withPlaintext(`{"stepInfoList":[{"timestamp":%[1]d,"step":5}],"watermark":{"appid":"%[2]s","timestamp":%[1]d}`), 422, "DECRYPT_FAILED", "", nil},
		{"expired cloudID", CloudID, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now()
			e.Clock.Set(now.Add(-wechattest.CloudIDTTL - time.Minute)) // issued six minutes ago
			id := e.Sim.CloudID(openid, wechattest.Days(3, now), now)
			e.Clock.Set(now)
			return postJSON(`{"cloudID":"`+id+`"}`, token)
		}, 422, "CLOUDID_EXPIRED", "", []string{"wx.getWeRunData"}},
		{"blocked user", Session, func(_ *testing.T, e *apiEnv, openid, _ string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathCode2Session, 40226, 1)
			return postJSON(`{"code":"`+e.Sim.Login(openid)+`"}`, "")
		}, 422, "USER_BLOCKED", "", nil},

		// 429 and 502: WeChat refuses or fails.
		{"WeChat rate limit on login", Session, func(_ *testing.T, e *apiEnv, openid, _ string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathCode2Session, 45011, 1)
			return postJSON(`{"code":"`+e.Sim.Login(openid)+`"}`, "")
		}, 429, "RATE_LIMITED", "60", nil},
		{"WeChat rate limit on getopendata", CloudID, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now()
			id := e.Sim.CloudID(openid, wechattest.Days(3, now), now)
			e.Sim.Fail(wechattest.PathGetOpenData, 45011, 1)
			return postJSON(`{"cloudID":"`+id+`"}`, token)
		}, 429, "RATE_LIMITED", "60", nil},
		{"WeChat daily quota on getopendata", CloudID, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now()
			id := e.Sim.CloudID(openid, wechattest.Days(3, now), now)
			e.Sim.Fail(wechattest.PathGetOpenData, 45009, 1)
			return postJSON(`{"cloudID":"`+id+`"}`, token)
		}, 503, "WECHAT_QUOTA_EXHAUSTED", "3600", []string{"clear_quota"}},
		{"WeChat daily quota on login", Session, func(_ *testing.T, e *apiEnv, openid, _ string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathCode2Session, 45009, 1)
			return postJSON(`{"code":"`+e.Sim.Login(openid)+`"}`, "")
		}, 503, "WECHAT_QUOTA_EXHAUSTED", "3600", nil},
		{"WeChat busy after the retries", Session, func(_ *testing.T, e *apiEnv, openid, _ string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathCode2Session, -1, 3) // the client tries three times
			return postJSON(`{"code":"`+e.Sim.Login(openid)+`"}`, "")
		}, 502, "WECHAT_UNAVAILABLE", "5", nil},
		{"WeChat refuses the AppSecret", Session, func(_ *testing.T, e *apiEnv, openid, _ string) events.APIGatewayV2HTTPRequest {
			e.Sim.Fail(wechattest.PathCode2Session, 40125, 1)
			return postJSON(`{"code":"`+e.Sim.Login(openid)+`"}`, "")
		}, 502, "WECHAT_CONFIG", "", nil},
		// getopendata outside WeChat's cloud is unverified in public reports:
		// whatever errcode it refuses with must reach the operator, not a 500.
		{"WeChat refuses getopendata with a code no class names", CloudID, func(_ *testing.T, e *apiEnv, openid, token string) events.APIGatewayV2HTTPRequest {
			now := e.Clock.Now()
			id := e.Sim.CloudID(openid, wechattest.Days(3, now), now)
			e.Sim.Fail(wechattest.PathGetOpenData, 48001, 1) // api unauthorized
			return postJSON(`{"cloudID":"`+id+`"}`, token)
		}, 502, "WECHAT_CONFIG", "", []string{"log"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() {
				for _, p := range []string{wechattest.PathCode2Session, wechattest.PathGetOpenData, wechattest.PathStableToken} {
					e.Sim.Fail(p, 0, 0)
				}
			})
			openid := testenv.UniqueID("api-err")
			token := e.loginUser(t, openid)
			resp := call(t, tc.handler(e.svc), tc.setup(t, e, openid, token))
			msg := checkEnvelope(t, resp, tc.status, tc.code)
			if got := resp.Headers["Retry-After"]; got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			for _, p := range tc.msgHas {
				if !strings.Contains(msg, p) {
					t.Errorf("message %q does not mention %q", msg, p)
				}
			}
			if resp.StatusCode >= 400 && resp.StatusCode < 500 && tc.status != 429 {
				// A refused request changed nothing of the user's days.
				days, err := e.Store.Days(context.Background(), openid, "2000-01-01", "2100-01-01")
				if err != nil || len(days) != 0 {
					t.Errorf("a refused request stored %d days (%v)", len(days), err)
				}
			}
		})
	}
}

// A body of exactly MaxBody bytes is not too large: it reaches WeChat.
func TestBodyAtTheLimitIsAccepted(t *testing.T) {
	e := newAPIEnv(t)
	pad := `{"code":"nosuchcode"`
	b := pad + strings.Repeat(" ", MaxBody-len(pad)-1) + `}`
	if len(b) != MaxBody {
		t.Fatalf("body is %d bytes", len(b))
	}
	checkEnvelope(t, call(t, Session(e.svc), postJSON(b, "")), 400, "INVALID_CODE")
	r := postJSON(base64.StdEncoding.EncodeToString([]byte(b)), "")
	r.IsBase64Encoded = true
	checkEnvelope(t, call(t, Session(e.svc), r), 400, "INVALID_CODE")
}

func TestWeChatBusyIsRetriedBeforeAnswering(t *testing.T) {
	e := newAPIEnv(t)
	e.Sim.Fail(wechattest.PathCode2Session, -1, 2) // two busy answers, then the real one
	resp := call(t, Session(e.svc), postJSON(`{"code":"`+e.Sim.Login(testenv.UniqueID("api-busy"))+`"}`, ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s: busy answers were not retried", resp.StatusCode, resp.Body)
	}
}

// A panic inside a use case becomes a 500 envelope, not a crash or a stack.
func TestPanicNeverEscapes(t *testing.T) {
	// No WeChat client: Login dereferences nil.
	resp := call(t, Session(usecases.New(usecases.Config{AppID: testAppID})), postJSON(`{"code":"abc"}`, ""))
	checkEnvelope(t, resp, http.StatusInternalServerError, "INTERNAL")
	signer, _ := crypto.NewSigner(testSigningKey)
	// Authenticates, then the nil store panics.
	broken := usecases.New(usecases.Config{AppID: testAppID, Signer: signer})
	token := signer.Sign(crypto.Claims{OpenID: "api-panic", Account: "api", ExpiresAt: time.Now().Add(time.Hour)})
	checkEnvelope(t, call(t, Steps(broken), getReq("GET /v1/steps", token, nil)), http.StatusInternalServerError, "INTERNAL")
	checkEnvelope(t, call(t, Decrypt(broken), postJSON(decryptBody(b64(32), validIV), token)), http.StatusInternalServerError, "INTERNAL")
}

// stepList is n days ending today with counts base+i, so two users' days differ.
func stepList(now time.Time, n int, base int64) []wechattest.StepInfo {
	list := wechattest.Days(n, now)
	for i := range list {
		list[i].Step = base + int64(i)
	}
	return list
}

func daysOf(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]int64 {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	var r DaysResponse
	if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, d := range r.Days {
		m[d.Date] = d.Steps
	}
	return m
}

func TestOneUsersTokenReachesOnlyTheirDays(t *testing.T) {
	e := newAPIEnv(t)
	now := e.Clock.Now()
	a, b := testenv.UniqueID("api-a"), testenv.UniqueID("api-b")
	tokA, tokB := e.loginUser(t, a), e.loginUser(t, b)
	listA, listB := stepList(now, 10, 1000), stepList(now, 31, 50000)
	for _, u := range []struct {
		openid, token string
		list          []wechattest.StepInfo
	}{{a, tokA, listA}, {b, tokB, listB}} {
		if r := call(t, Decrypt(e.svc), postJSON(e.weRun(u.openid, u.list, now), u.token)); r.StatusCode != 200 {
			t.Fatalf("sync %s: %d %s", u.openid, r.StatusCode, r.Body)
		}
	}
	wantA := map[string]int64{}
	for _, s := range listA {
		wantA[steps.DateOf(time.Unix(s.Timestamp, 0))] = s.Step
	}
	bDays := func() map[string]int64 { return daysOf(t, call(t, Steps(e.svc), getReq("GET /v1/steps", tokB, nil))) }
	beforeB := bDays()
	if len(beforeB) != 31 {
		t.Fatalf("B has %d days stored, want 31", len(beforeB))
	}

	t.Run("read returns only the caller's days", func(t *testing.T) {
		got := daysOf(t, call(t, Steps(e.svc), getReq("GET /v1/steps", tokA, map[string]string{"from": steps.FirstDate(now), "to": steps.DateOf(now)})))
		if len(got) != len(wantA) {
			t.Fatalf("A reads %d days, want A's %d", len(got), len(wantA))
		}
		for d, n := range wantA {
			if got[d] != n {
				t.Errorf("A's %s = %d, want %d", d, got[d], n)
			}
		}
	})

	// Each attempt sends B's data (higher counts than anything stored) with
	// A's token; none may land anywhere.
	higherB := stepList(now, 31, 90000)
	attempts := []struct {
		name string
		req  func() (Handler, events.APIGatewayV2HTTPRequest)
		code string
	}{
		{"B's encryptedData with A's token", func() (Handler, events.APIGatewayV2HTTPRequest) {
			return Decrypt(e.svc), postJSON(e.weRun(b, higherB, now), tokA)
		}, "DECRYPT_FAILED"},
		{"B's encryptedData and B's login code with A's token", func() (Handler, events.APIGatewayV2HTTPRequest) {
			code := e.Sim.Login(b) // B's fresh code; the data is under B's new key
			ed, iv := e.Sim.WeRunData(b, higherB, now)
			bb, _ := json.Marshal(DecryptRequest{EncryptedData: ed, IV: iv, Code: code})
			return Decrypt(e.svc), postJSON(string(bb), tokA)
		}, "DECRYPT_FAILED"},
		{"B's cloudID with A's token", func() (Handler, events.APIGatewayV2HTTPRequest) {
			return CloudID(e.svc), postJSON(`{"cloudID":"`+e.Sim.CloudID(b, higherB, now)+`"}`, tokA)
		}, "CLOUDID_EXPIRED"},
		{"a cloudID WeChat never issued", func() (Handler, events.APIGatewayV2HTTPRequest) {
			return CloudID(e.svc), postJSON(`{"cloudID":"sim_forged"}`, tokA)
		}, "CLOUDID_EXPIRED"},
	}
	for _, at := range attempts {
		t.Run("write refused: "+at.name, func(t *testing.T) {
			h, req := at.req()
			resp := call(t, h, req)
			checkEnvelope(t, resp, resp.StatusCode, at.code)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("status %d, want a 4xx refusal", resp.StatusCode)
			}
			afterB := bDays()
			for d, n := range beforeB {
				if afterB[d] != n {
					t.Errorf("B's %s changed from %d to %d", d, n, afterB[d])
				}
			}
			gotA := daysOf(t, call(t, Steps(e.svc), getReq("GET /v1/steps", tokA, nil)))
			for d, n := range gotA {
				if n != wantA[d] {
					t.Errorf("A's %s became %d: B's data landed in A's days", d, n)
				}
			}
		})
	}
}

func TestBearerParsing(t *testing.T) {
	for _, tc := range []struct {
		headers map[string]string
		want    string
	}{
		{map[string]string{"authorization": "Bearer abc"}, "abc"},
		{map[string]string{"Authorization": "bearer  abc "}, "abc"},
		{map[string]string{"authorization": "Basic abc"}, ""},
		{map[string]string{"authorization": "Bearer"}, ""},
		{map[string]string{"authorization": "abc"}, ""},
		{nil, ""},
	} {
		if got := bearer(events.APIGatewayV2HTTPRequest{Headers: tc.headers}); got != tc.want {
			t.Errorf("bearer(%v) = %q, want %q", tc.headers, got, tc.want)
		}
	}
}

// A use case that overruns its budget, even one that ignores its context,
// is answered 503 with Retry-After before the function's deadline, keeping
// Reserve to write the answer.
func TestAUseCaseOverrunningItsBudgetIsAnswered503InTime(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuck := route("stuck", func(context.Context, events.APIGatewayV2HTTPRequest) (int, any, error) {
		<-release
		return http.StatusOK, nil, nil
	})
	const deadline = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	resp, err := stuck(ctx, events.APIGatewayV2HTTPRequest{})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, resp, http.StatusServiceUnavailable, "UNAVAILABLE")
	if resp.Headers["Retry-After"] == "" {
		t.Errorf("no Retry-After: %v", resp.Headers)
	}
	if took > deadline-Reserve+grace+100*time.Millisecond {
		t.Errorf("answered after %v; the budget ends %v before the %v deadline", took, Reserve, deadline)
	}
}

// A nickname is answered and read back in the form the content check saw:
// NFC, trimmed, its emoji sequence whole.
func TestAProfileIsAnsweredAsStored(t *testing.T) {
	e := newAPIEnv(t)
	token := e.loginUser(t, testenv.UniqueID("api-profile"))
	const want = "José 👨\u200d👩\u200d👧"
	put := call(t, Social(e.svc), putProfile(`{"nickname":" Jose\u0301 👨\u200d👩\u200d👧 ","avatarUrl":"https://cdn.example.com/a.png"}`)(t, e, "", token))
	get := call(t, Social(e.svc), getReq("GET /v1/me/profile", token, nil))
	for _, resp := range []events.APIGatewayV2HTTPResponse{put, get} {
		var p social.Profile
		if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || resp.StatusCode != http.StatusOK || p.Nickname != want {
			t.Errorf("%d %s: nickname %+q, want %+q", resp.StatusCode, resp.Body, p.Nickname, want)
		}
	}
}
