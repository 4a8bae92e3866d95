package wechattest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

// These tests speak WeChat's wire format directly (not through package
// wechat) so that they pin what the simulator sends.

const (
	appID  = "wxsim0000000000001"
	secret = "sim-secret"
)

type answer map[string]any

func (a answer) errcode() int {
	f, _ := a["errcode"].(float64)
	return int(f)
}

func (a answer) str(k string) string { s, _ := a[k].(string); return s }

func send(t *testing.T, method, u string, body any) (int, answer) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, u, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s %s: undecodable answer: %v", method, u, err)
	}
	return resp.StatusCode, a
}

// clock is a settable simulator clock.
type clock struct{ ns atomic.Int64 }

func withClock(s *Server) *clock {
	c := &clock{}
	c.ns.Store(time.Date(2024, 5, 1, 4, 0, 0, 0, time.UTC).UnixNano())
	s.SetNow(func() time.Time { return time.Unix(0, c.ns.Load()) })
	return c
}

func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func code2Session(t *testing.T, s *Server, app, sec, code string) answer {
	t.Helper()
	q := url.Values{"appid": {app}, "secret": {sec}, "js_code": {code}, "grant_type": {"authorization_code"}}
	_, a := send(t, http.MethodGet, s.URL+PathCode2Session+"?"+q.Encode(), nil)
	return a
}

func stableToken(t *testing.T, s *Server, force bool) answer {
	t.Helper()
	_, a := send(t, http.MethodPost, s.URL+PathStableToken, map[string]any{
		"grant_type": "client_credential", "appid": appID, "secret": secret, "force_refresh": force})
	return a
}

func getOpenData(t *testing.T, s *Server, token, openid string, ids ...string) answer {
	t.Helper()
	q := url.Values{"access_token": {token}, "openid": {openid}}
	_, a := send(t, http.MethodPost, s.URL+PathGetOpenData+"?"+q.Encode(), map[string]any{"cloudid_list": ids})
	return a
}

func TestCode2Session(t *testing.T) {
	tests := []struct {
		name string
		run  func(s *Server, c *clock) answer
		want int
	}{
		{"fresh code", func(s *Server, _ *clock) answer {
			return code2Session(t, s, appID, secret, s.Login("o1"))
		}, 0},
		{"used code", func(s *Server, _ *clock) answer {
			code := s.Login("o1")
			code2Session(t, s, appID, secret, code)
			return code2Session(t, s, appID, secret, code)
		}, 40163},
		{"unknown code", func(s *Server, _ *clock) answer {
			return code2Session(t, s, appID, secret, "nope")
		}, 40029},
		{"code just before expiry", func(s *Server, c *clock) answer {
			code := s.Login("o1")
			c.advance(CodeTTL - time.Second)
			return code2Session(t, s, appID, secret, code)
		}, 0},
		{"expired code", func(s *Server, c *clock) answer {
			code := s.Login("o1")
			c.advance(CodeTTL)
			return code2Session(t, s, appID, secret, code)
		}, 40029},
		{"wrong appid", func(s *Server, _ *clock) answer {
			return code2Session(t, s, "wxother", secret, s.Login("o1"))
		}, 40013},
		{"wrong secret", func(s *Server, _ *clock) answer {
			return code2Session(t, s, appID, "guess", s.Login("o1"))
		}, 40125},
		{"wrong credential does not use the code", func(s *Server, _ *clock) answer {
			code := s.Login("o1")
			code2Session(t, s, appID, "guess", code)
			return code2Session(t, s, appID, secret, code)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(appID, secret)
			defer s.Close()
			a := tt.run(s, withClock(s))
			if a.errcode() != tt.want {
				t.Fatalf("answer %v, want errcode %d", a, tt.want)
			}
			if tt.want == 0 && (a.str("openid") != "o1" || a.str("session_key") != s.SessionKey("o1")) {
				t.Fatalf("answer %v, want o1 and its current key", a)
			}
			if _, has := a["errcode"]; tt.want == 0 && has {
				t.Errorf("success carries errcode; WeChat's does not")
			}
		})
	}
}

func TestLoginRotatesTheSessionKey(t *testing.T) {
	s := New(appID, secret)
	if s.SessionKey("o1") != "" {
		t.Fatal("a key before any login")
	}
	seen := map[string]bool{}
	for range 3 {
		s.Login("o1")
		k := s.SessionKey("o1")
		if raw, err := base64.StdEncoding.DecodeString(k); err != nil || len(raw) != 16 || seen[k] {
			t.Fatalf("key %q: want a new base64 16-byte key per login", k)
		}
		seen[k] = true
	}
	// Two logins of one user give two different codes (the calls are
	// distinct, which staticcheck's SA4000 cannot see in a == of calls).
	if c1, c2 := s.Login("o1"), s.Login("o1"); c1 == c2 {
		t.Error("codes repeat")
	}
}

func TestWeRunDataIsWeChatsPlaintextUnderTheCurrentKey(t *testing.T) {
	s := New(appID, secret)
	s.Login("o1")
	old := s.SessionKey("o1")
	s.Login("o1")
	at := time.Unix(1714550400, 0)
	enc, iv := s.WeRunData("o1", []StepInfo{{Timestamp: 1714492800, Step: 8000}}, at)
	got, err := crypto.Decrypt(s.SessionKey("o1"), enc, iv)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"stepInfoList":[{"timestamp":1714492800,"step":8000}],"watermark":{"appid":"` + appID + `","timestamp":1714550400}}`
	if string(got) != want {
		t.Errorf("plaintext\n%s\nwant\n%s", got, want)
	}
	if p, err := crypto.Decrypt(old, enc, iv); err == nil && bytes.Equal(p, got) {
		t.Error("the previous key decrypts data made after a new login")
	}
	if _, iv2 := s.WeRunData("o1", nil, at); iv2 == iv {
		t.Error("IV reused")
	}
}

func TestWeRunDataBeforeLoginPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New(appID, secret).WeRunData("nobody", nil, time.Now())
}

func TestDaysEndTodayAtMidnightCST(t *testing.T) {
	now := time.Date(2024, 5, 1, 17, 30, 0, 0, time.UTC) // 2024-05-02 01:30 UTC+8
	list := Days(31, now)
	if len(list) != 31 {
		t.Fatalf("%d days, want 31", len(list))
	}
	last := time.Unix(list[30].Timestamp, 0).In(cst)
	if last.Format("2006-01-02 15:04") != "2024-05-02 00:00" {
		t.Errorf("last day %v, want 2024-05-02 00:00 UTC+8", last)
	}
	if list[0].Timestamp != list[30].Timestamp-30*86400 {
		t.Error("days not consecutive, oldest first")
	}
	if again := Days(2, now.Add(time.Hour)); again[1] != list[30] {
		t.Error("the same day gets other steps")
	}
	if Days(0, now) == nil || len(Days(-1, now)) != 0 {
		t.Error("no days should be an empty list")
	}
}

func TestCloudID(t *testing.T) {
	s := NewServer(appID, secret)
	defer s.Close()
	c := withClock(s)
	tok := stableToken(t, s, false).str("access_token")
	list := []StepInfo{{Timestamp: 1714492800, Step: 5}}
	id := s.CloudID("o1", list, time.Unix(1714550400, 0))

	a := getOpenData(t, s, tok, "o1", id)
	entries, _ := a["data_list"].([]any)
	if a.errcode() != 0 || len(entries) != 1 {
		t.Fatalf("answer %v", a)
	}
	e := entries[0].(map[string]any)
	js, isString := e["json"].(string)
	if e["cloud_id"] != id || !isString {
		t.Fatalf("entry %v: want cloud_id and json as a string", e)
	}
	want := `{"cloudID":"` + id + `","data":{"stepInfoList":[{"timestamp":1714492800,"step":5}],"watermark":{"appid":"` + appID + `","timestamp":1714550400}}}`
	if js != want {
		t.Errorf("json\n%s\nwant\n%s", js, want)
	}

	entryCode := func(a answer) int {
		entries, _ := a["data_list"].([]any)
		if len(entries) != 1 {
			t.Fatalf("answer %v", a)
		}
		return answer(entries[0].(map[string]any)).errcode()
	}
	if code := entryCode(getOpenData(t, s, tok, "o2", id)); code != 40097 {
		t.Errorf("another openid: entry errcode %d, want 40097", code)
	}
	if code := entryCode(getOpenData(t, s, tok, "o1", "made-up")); code != 40097 {
		t.Errorf("unknown cloudID: entry errcode %d, want 40097", code)
	}
	c.advance(CloudIDTTL - time.Second)
	if code := entryCode(getOpenData(t, s, tok, "o1", id)); code != 0 {
		t.Errorf("just before expiry: entry errcode %d", code)
	}
	c.advance(time.Second)
	if code := entryCode(getOpenData(t, s, tok, "o1", id)); code != -601006 {
		t.Errorf("expired: entry errcode %d, want -601006", code)
	}
	if a := getOpenData(t, s, tok, "o1"); a.errcode() != 47001 {
		t.Errorf("empty cloudid_list: %v, want 47001", a)
	}
}

func TestAccessTokens(t *testing.T) {
	s := NewServer(appID, secret)
	defer s.Close()
	c := withClock(s)
	id := s.CloudID("o1", nil, time.Now())
	valid := func(tok string) int { return getOpenData(t, s, tok, "o1", id).errcode() }

	first := stableToken(t, s, false)
	tok := first.str("access_token")
	if first["expires_in"] != 7200.0 || len(tok) < 100 {
		t.Fatalf("answer %v: want a long token for 7200s", first)
	}
	c.advance(TokenTTL - TokenRenewBefore - time.Second)
	if again := stableToken(t, s, false); again.str("access_token") != tok || again["expires_in"] != 301.0 {
		t.Errorf("before renewal: %v, want the same token with 301s left", again)
	}
	c.advance(time.Second)
	renewed := stableToken(t, s, false).str("access_token")
	if renewed == tok || valid(tok) != 0 || valid(renewed) != 0 {
		t.Error("renewal must issue a new token and keep the old one until it expires")
	}
	c.advance(TokenRenewBefore)
	if code := valid(tok); code != 42001 {
		t.Errorf("expired token: errcode %d, want 42001", code)
	}
	forced := stableToken(t, s, true).str("access_token")
	if forced == renewed || valid(renewed) != 40001 || valid(forced) != 0 {
		t.Error("force_refresh must issue a new token and reject the previous one")
	}
	s.RevokeTokens()
	if code := valid(forced); code != 40001 {
		t.Errorf("revoked token: errcode %d, want 40001", code)
	}
	if code := valid(""); code != 41001 {
		t.Errorf("no token: errcode %d, want 41001", code)
	}
	if next := stableToken(t, s, false).str("access_token"); valid(next) != 0 {
		t.Error("no valid token after a revocation")
	}
	if n := s.TokenFetches(); n != 5 {
		t.Errorf("TokenFetches = %d, want 5", n)
	}
	_, a := send(t, http.MethodPost, s.URL+PathStableToken, map[string]any{"grant_type": "client_credential", "appid": appID, "secret": "x"})
	if a.errcode() != 40125 {
		t.Errorf("wrong secret: %v, want 40125", a)
	}
	if _, a := send(t, http.MethodGet, s.URL+PathStableToken, nil); a.errcode() != 43002 {
		t.Errorf("GET: %v, want 43002", a)
	}
}

func TestFaults(t *testing.T) {
	s := NewServer(appID, secret)
	defer s.Close()
	s.Fail(PathCode2Session, -1, 2)
	code := s.Login("o1")
	for i, want := range []int{-1, -1, 0, 40163} {
		if got := code2Session(t, s, appID, secret, code).errcode(); got != want {
			t.Errorf("call %d: errcode %d, want %d", i+1, got, want)
		}
	}
	s.Fail(PathStableToken, 45011, 1)
	if a := stableToken(t, s, false); a.errcode() != 45011 || !strings.HasPrefix(a.str("errmsg"), "api minute-quota") {
		t.Errorf("rate limit: %v", a)
	}
	if s.TokenFetches() != 1 {
		t.Error("a faulted fetch is not counted")
	}
	s.Fail(PathStableToken, 45011, 5)
	s.Fail(PathStableToken, 0, 0)
	if a := stableToken(t, s, false); a.errcode() != 0 {
		t.Errorf("cleared fault still answered: %v", a)
	}

	s.Delay(PathStableToken, 150*time.Millisecond)
	start := time.Now()
	stableToken(t, s, false)
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("delayed answer came after %v", took)
	}
	s.Delay(PathStableToken, 0)
	start = time.Now()
	stableToken(t, s, false)
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("cleared delay: answer after %v", took)
	}
}

func TestControlAPI(t *testing.T) {
	s := NewServer(appID, secret)
	defer s.Close()
	status, a := send(t, http.MethodPost, s.URL+"/_sim/login", map[string]any{"openid": "o-dev"})
	if status != 200 || code2Session(t, s, appID, secret, a.str("code")).str("openid") != "o-dev" {
		t.Fatalf("login: %d %v", status, a)
	}
	status, a = send(t, http.MethodPost, s.URL+"/_sim/werun", map[string]any{"openid": "o-dev", "days": 31})
	if status != 200 {
		t.Fatalf("werun: %d %v", status, a)
	}
	plain, err := crypto.Decrypt(s.SessionKey("o-dev"), a.str("encryptedData"), a.str("iv"))
	var data struct{ StepInfoList []StepInfo }
	if err != nil || json.Unmarshal(plain, &data) != nil || len(data.StepInfoList) != 31 {
		t.Fatalf("werun data does not decrypt to 31 days: %v %s", err, plain)
	}
	tok := stableToken(t, s, false).str("access_token")
	if a := getOpenData(t, s, tok, "o-dev", a.str("cloudID")); a.errcode() != 0 {
		t.Errorf("cloudID from werun: %v", a)
	}
	list := []StepInfo{{Timestamp: 1714492800, Step: 42}}
	status, a = send(t, http.MethodPost, s.URL+"/_sim/werun", map[string]any{"openid": "o-dev", "stepInfoList": list})
	plain, _ = crypto.Decrypt(s.SessionKey("o-dev"), a.str("encryptedData"), a.str("iv"))
	if status != 200 || !bytes.Contains(plain, []byte(`"stepInfoList":[{"timestamp":1714492800,"step":42}]`)) {
		t.Errorf("werun with a list: %d %s", status, plain)
	}

	for _, tt := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"no openid", http.MethodPost, "/_sim/login", map[string]any{}, 400},
		{"not JSON", http.MethodPost, "/_sim/login", "x", 400},
		{"GET", http.MethodGet, "/_sim/login", nil, 405},
		{"neither days nor list", http.MethodPost, "/_sim/werun", map[string]any{"openid": "o-dev"}, 400},
		{"never logged in", http.MethodPost, "/_sim/werun", map[string]any{"openid": "o-new", "days": 3}, 404},
	} {
		status, a := send(t, tt.method, s.URL+tt.path, tt.body)
		if status != tt.want || a.str("error") == "" {
			t.Errorf("%s: %d %v, want %d with an error", tt.name, status, a, tt.want)
		}
	}
	if _, a := send(t, http.MethodGet, s.URL+"/cgi-bin/unknown", nil); a.errcode() != 40066 {
		t.Errorf("unknown path: %v, want 40066", a)
	}
}
