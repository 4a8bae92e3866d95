package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "s3cret-0123456789abcdef0123456789"
)

// newTestClient is a client of sim with fast backoff.
func newTestClient(t *testing.T, baseURL, secret string) *Client {
	t.Helper()
	c := NewClient(baseURL, testAppID, secret, nil)
	c.backoff = time.Millisecond
	return c
}

// fakeClock is a settable simulator clock.
type fakeClock struct{ now atomic.Int64 }

func newFakeClock(sim *wechattest.Server) *fakeClock {
	c := &fakeClock{}
	c.now.Store(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	sim.SetNow(func() time.Time { return time.Unix(0, c.now.Load()) })
	return c
}

func (c *fakeClock) advance(d time.Duration) { c.now.Add(int64(d)) }

func TestNewClientBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                        DefaultBaseURL,
		"http://127.0.0.1:9000/":  "http://127.0.0.1:9000",
		"http://127.0.0.1:9000//": "http://127.0.0.1:9000",
		"http://127.0.0.1:9000":   "http://127.0.0.1:9000",
	} {
		if got := NewClient(in, "a", "s", nil).base; got != want {
			t.Errorf("NewClient(%q).base = %q, want %q", in, got, want)
		}
	}
}

func TestCode2SessionReturnsCurrentSessionKey(t *testing.T) {
	sim := wechattest.NewServer(testAppID, testSecret)
	defer sim.Close()
	c := newTestClient(t, sim.URL+"/", testSecret)

	sim.Login("o-alice")
	code := sim.Login("o-alice") // the second login rotates the key
	s, err := c.Code2Session(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != "o-alice" || s.SessionKey != sim.SessionKey("o-alice") || s.UnionID != "" {
		t.Fatalf("session = %+v, want o-alice with the current key", s)
	}
}

// TestErrorsMapToSentinels drives each WeChat failure through the simulator.
// Non-retryable faults are injected once: were they retried, the second
// try would succeed and the test would see no error.
func TestErrorsMapToSentinels(t *testing.T) {
	type call func(ctx context.Context, sim *wechattest.Server, c *Client) error
	login := func(ctx context.Context, sim *wechattest.Server, c *Client) error {
		_, err := c.Code2Session(ctx, sim.Login("o-bob"))
		return err
	}
	token := func(ctx context.Context, sim *wechattest.Server, c *Client) error {
		_, err := c.StableToken(ctx, false)
		return err
	}
	openData := func(ctx context.Context, sim *wechattest.Server, c *Client) error {
		tok, err := c.StableToken(ctx, false)
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		id := sim.CloudID("o-bob", wechattest.Days(3, time.Now()), time.Now())
		_, err = c.GetOpenData(ctx, tok.Token, "o-bob", []string{id})
		return err
	}
	tests := []struct {
		name   string
		secret string
		setup  func(sim *wechattest.Server)
		call   call
		want   error // nil: success
		code   int
	}{
		{name: "unknown code is invalid", call: func(ctx context.Context, _ *wechattest.Server, c *Client) error {
			_, err := c.Code2Session(ctx, "no-such-code")
			return err
		}, want: ErrInvalidCode, code: 40029},
		{name: "empty code is invalid without a call", call: func(ctx context.Context, _ *wechattest.Server, c *Client) error {
			_, err := c.Code2Session(ctx, "")
			return err
		}, want: ErrInvalidCode, code: 40029},
		{name: "used code", call: func(ctx context.Context, sim *wechattest.Server, c *Client) error {
			code := sim.Login("o-bob")
			if _, err := c.Code2Session(ctx, code); err != nil {
				return fmt.Errorf("first use: %w", err)
			}
			_, err := c.Code2Session(ctx, code)
			return err
		}, want: ErrCodeUsed, code: 40163},
		{name: "expired code is invalid", call: func(ctx context.Context, sim *wechattest.Server, c *Client) error {
			code := sim.Login("o-bob")
			sim.SetNow(func() time.Time { return time.Now().Add(wechattest.CodeTTL) })
			_, err := c.Code2Session(ctx, code)
			return err
		}, want: ErrInvalidCode, code: 40029},
		{name: "wrong secret on login", secret: "wrong", call: login, want: ErrBadCredential, code: 40125},
		{name: "wrong secret on token", secret: "wrong", call: token, want: ErrBadCredential, code: 40125},
		{name: "IP not whitelisted", setup: fail(wechattest.PathStableToken, 40164, 1), call: token, want: ErrBadCredential, code: 40164},
		{name: "rate limit is not retried", setup: fail(wechattest.PathCode2Session, 45011, 1), call: login, want: ErrRateLimited, code: 45011},
		{name: "daily quota is its own class", setup: fail(wechattest.PathStableToken, 45009, 1), call: token, want: ErrQuotaExhausted, code: 45009},
		{name: "blocked user", setup: fail(wechattest.PathCode2Session, 40226, 1), call: login, want: ErrBlocked, code: 40226},
		{name: "busy is retried until success", setup: fail(wechattest.PathCode2Session, -1, 2), call: login},
		{name: "busy on every try", setup: fail(wechattest.PathStableToken, -1, 3), call: token, want: ErrBusy, code: -1},
		{name: "unknown errcode is kept", setup: fail(wechattest.PathStableToken, 40999, 1), call: token, code: 40999, want: errAny},
		{name: "invalid args outside getopendata is no cloudID class", setup: fail(wechattest.PathStableToken, 40097, 1), call: token, code: 40097, want: errAny},
		{name: "open data resolves", call: openData},
		{name: "rejected token is not retried", setup: fail(wechattest.PathGetOpenData, 40001, 1), call: openData, want: ErrTokenRejected, code: 40001},
		{name: "expired token", setup: fail(wechattest.PathGetOpenData, 42001, 1), call: openData, want: ErrTokenRejected, code: 42001},
		{name: "revoked token", call: func(ctx context.Context, sim *wechattest.Server, c *Client) error {
			tok, err := c.StableToken(ctx, false)
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			sim.RevokeTokens()
			_, err = c.GetOpenData(ctx, tok.Token, "o-bob", []string{sim.CloudID("o-bob", nil, time.Now())})
			return err
		}, want: ErrTokenRejected, code: 40001},
		{name: "call-level cloudID expiry", setup: fail(wechattest.PathGetOpenData, -601006, 1), call: openData, want: ErrCloudIDExpired, code: -601006},
		{name: "entry-level cloudID expiry", call: func(ctx context.Context, sim *wechattest.Server, c *Client) error {
			clk := newFakeClock(sim)
			id := sim.CloudID("o-bob", nil, time.Now())
			clk.advance(wechattest.CloudIDTTL)
			tok, err := c.StableToken(ctx, false)
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			_, err = c.GetOpenData(ctx, tok.Token, "o-bob", []string{id})
			return err
		}, want: ErrCloudIDExpired, code: -601006},
		{name: "cloudID of another user", call: func(ctx context.Context, sim *wechattest.Server, c *Client) error {
			tok, err := c.StableToken(ctx, false)
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			_, err = c.GetOpenData(ctx, tok.Token, "o-mallory", []string{sim.CloudID("o-bob", nil, time.Now())})
			return err
		}, want: ErrCloudIDExpired, code: 40097},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := wechattest.NewServer(testAppID, testSecret)
			defer sim.Close()
			secret := testSecret
			if tt.secret != "" {
				secret = tt.secret
			}
			if tt.setup != nil {
				tt.setup(sim)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := tt.call(ctx, sim, newTestClient(t, sim.URL, secret))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("err = %v, want errcode %d", err, tt.code)
			}
			if tt.want != errAny && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.want)
			}
			for _, other := range allSentinels {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("err = %v also matches %v", err, other)
				}
			}
		})
	}
}

// errAny in a test table: some *Error, of no sentinel.
var errAny = errors.New("any")

var allSentinels = []error{ErrInvalidCode, ErrCodeUsed, ErrRateLimited, ErrQuotaExhausted, ErrBlocked, ErrBusy,
	ErrTokenRejected, ErrCloudIDExpired, ErrBadCredential, ErrUnavailable, ErrBadAnswer}

func fail(path string, errcode, times int) func(*wechattest.Server) {
	return func(sim *wechattest.Server) { sim.Fail(path, errcode, times) }
}

func TestGetOpenDataReturnsInnerDataInOrder(t *testing.T) {
	sim := wechattest.NewServer(testAppID, testSecret)
	defer sim.Close()
	c := newTestClient(t, sim.URL, testSecret)
	ctx := context.Background()
	at := time.Unix(1714550400, 0)
	list := []wechattest.StepInfo{{Timestamp: 1714492800, Step: 1234}}
	ids := []string{sim.CloudID("o-carol", list, at), sim.CloudID("o-carol", nil, at)}
	tok, err := c.StableToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetOpenData(ctx, tok.Token, "o-carol", ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"stepInfoList":[{"timestamp":1714492800,"step":1234}],"watermark":{"appid":"` + testAppID + `","timestamp":1714550400}}`,
		`{"stepInfoList":[],"watermark":{"appid":"` + testAppID + `","timestamp":1714550400}}`,
	}
	for i := range ids {
		if got[i].CloudID != ids[i] || string(got[i].Data) != want[i] {
			t.Errorf("entry %d = %s %s, want %s %s", i, got[i].CloudID, got[i].Data, ids[i], want[i])
		}
	}
	if none, err := c.GetOpenData(ctx, tok.Token, "o-carol", nil); none != nil || err != nil {
		t.Errorf("no cloudIDs = %v, %v; want nil, nil without a call", none, err)
	}
}

func TestStableTokenIsSharedUntilForced(t *testing.T) {
	sim := wechattest.NewServer(testAppID, testSecret)
	defer sim.Close()
	c := newTestClient(t, sim.URL, testSecret)
	ctx := context.Background()
	a, err := c.StableToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.ExpiresIn != 2*time.Hour || len(a.Token) < 100 {
		t.Errorf("token = %d chars, expires in %v; want a long token for 2h", len(a.Token), a.ExpiresIn)
	}
	b, _ := c.StableToken(ctx, false)
	f, _ := c.StableToken(ctx, true)
	if b.Token != a.Token || f.Token == a.Token {
		t.Errorf("normal mode must repeat the token and force_refresh replace it")
	}
	if n := sim.TokenFetches(); n != 3 {
		t.Errorf("TokenFetches = %d, want 3", n)
	}
}

// rawServer answers each request with the next of answers (the last one
// repeated) and counts the requests.
func rawServer(t *testing.T, answers ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w)
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

func status(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

func ok(body string) func(w http.ResponseWriter) { return status(http.StatusOK, body) }

func TestAnswersWeChatRarelyGives(t *testing.T) {
	const cid = "cid-1"
	getOpenData := func(c *Client) error {
		_, err := c.GetOpenData(context.Background(), "tok", "o", []string{cid})
		return err
	}
	login := func(c *Client) error {
		s, err := c.Code2Session(context.Background(), "code")
		if err == nil && s.UnionID != "u-1" {
			return fmt.Errorf("unionid %q not read", s.UnionID)
		}
		return err
	}
	tests := []struct {
		name    string
		answers []func(http.ResponseWriter)
		call    func(*Client) error
		want    error
		tries   int32
	}{
		{"5xx is retried", []func(http.ResponseWriter){status(502, "bad gateway"), ok(`{"openid":"o","session_key":"k","unionid":"u-1"}`)}, login, nil, 2},
		{"5xx on every try", []func(http.ResponseWriter){status(503, "")}, login, ErrUnavailable, 3},
		{"4xx is not retried", []func(http.ResponseWriter){status(404, "")}, login, ErrUnavailable, 1},
		{"HTML answer", []func(http.ResponseWriter){ok("<html>")}, login, ErrUnavailable, 3},
		{"success without session_key", []func(http.ResponseWriter){ok(`{"openid":"o"}`)}, login, ErrBadAnswer, 1},
		{"explicit errcode 0", []func(http.ResponseWriter){ok(`{"errcode":0,"errmsg":"ok","openid":"o","session_key":"k","unionid":"u-1"}`)}, login, nil, 1},
		{"token without expiry", []func(http.ResponseWriter){ok(`{"access_token":"t"}`)}, func(c *Client) error {
			_, err := c.StableToken(context.Background(), false)
			return err
		}, ErrBadAnswer, 1},
		{"entry json as an object", []func(http.ResponseWriter){ok(`{"errcode":0,"data_list":[{"cloud_id":"cid-1","json":{"cloudID":"cid-1","data":{"stepInfoList":[]}}}]}`)}, getOpenData, nil, 1},
		{"entry without cloud_id", []func(http.ResponseWriter){ok(`{"errcode":0,"data_list":[{"json":"{\"cloudID\":\"cid-1\",\"data\":{}}"}]}`)}, getOpenData, nil, 1},
		{"entry expired inside its json", []func(http.ResponseWriter){ok(`{"errcode":0,"data_list":[{"cloud_id":"cid-1","json":"{\"errCode\":-601006,\"errMsg\":\"cloudID expired.\"}"}]}`)}, getOpenData, ErrCloudIDExpired, 1},
		{"entry missing", []func(http.ResponseWriter){ok(`{"errcode":0,"errmsg":"ok","data_list":[]}`)}, getOpenData, ErrBadAnswer, 1},
		{"entry without data", []func(http.ResponseWriter){ok(`{"errcode":0,"data_list":[{"cloud_id":"cid-1","json":"{\"cloudID\":\"cid-1\"}"}]}`)}, getOpenData, ErrBadAnswer, 1},
		{"entry json undecodable", []func(http.ResponseWriter){ok(`{"errcode":0,"data_list":[{"cloud_id":"cid-1","json":"{oops"}]}`)}, getOpenData, ErrBadAnswer, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, n := rawServer(t, tt.answers...)
			err := tt.call(newTestClient(t, ts.URL, testSecret))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if got := n.Load(); got != tt.tries {
				t.Errorf("tries = %d, want %d", got, tt.tries)
			}
		})
	}
}

// tokenWithin asks c for a token under a deadline d away, and says how long
// it took.
func tokenWithin(c *Client, d time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	_, err := c.StableToken(ctx, false)
	return time.Since(start), err
}

func TestDeadlineIsRespected(t *testing.T) {
	t.Run("slow answer", func(t *testing.T) {
		sim := wechattest.NewServer(testAppID, testSecret)
		defer sim.Close()
		sim.Delay(wechattest.PathStableToken, 2*time.Second)
		took, err := tokenWithin(newTestClient(t, sim.URL, testSecret), 100*time.Millisecond)
		if took > time.Second {
			t.Errorf("took %v past a 100ms deadline", took)
		}
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want ErrUnavailable and context.DeadlineExceeded", err)
		}
	})
	t.Run("a hung try is cut short and retried only when a whole try fits", func(t *testing.T) {
		var tries atomic.Int32
		stop := make(chan struct{})
		hung := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			tries.Add(1)
			<-stop // accepts, never answers while the test runs
		}))
		defer hung.Close()
		defer close(stop)
		c := newTestClient(t, hung.URL, testSecret)
		c.attemptTimeout = 200 * time.Millisecond
		took, err := tokenWithin(c, 500*time.Millisecond)
		// 200 ms, a second try of 200 ms (300 ms left), then no third (100 ms left).
		if tries.Load() != 2 || took >= 500*time.Millisecond {
			t.Errorf("%d tries in %v; want 2, answered before the 500ms deadline", tries.Load(), took)
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("no wait past the deadline", func(t *testing.T) {
		sim := wechattest.NewServer(testAppID, testSecret)
		defer sim.Close()
		sim.Fail(wechattest.PathStableToken, -1, 3)
		c := newTestClient(t, sim.URL, testSecret)
		c.backoff = 10 * time.Second
		took, err := tokenWithin(c, 2*time.Second)
		if took > time.Second {
			t.Errorf("took %v: waited for a retry that could not finish in time", took)
		}
		if !errors.Is(err, ErrBusy) || sim.TokenFetches() != 1 {
			t.Errorf("err = %v after %d tries, want ErrBusy after 1", err, sim.TokenFetches())
		}
	})
}

// TestErrorsHoldNoSecret checks every message in the chain of every kind of
// failure for the AppSecret, the access token and session keys.
func TestErrorsHoldNoSecret(t *testing.T) {
	const token = "tok-SECRET-0123456789abcdef"
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A hostile or buggy peer echoing the request back.
		msg, _ := json.Marshal(r.URL.String())
		fmt.Fprintf(w, `{"errcode":40001,"errmsg":%s}`, msg)
	}))
	defer echo.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/x?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer redirect.Close()
	sim := wechattest.NewServer(testAppID, testSecret)
	defer sim.Close()
	for _, p := range []string{wechattest.PathCode2Session, wechattest.PathStableToken, wechattest.PathGetOpenData} {
		sim.Delay(p, time.Second)
	}
	_ = sim.Login("o-dave")
	sessionKey := sim.SessionKey("o-dave")

	followingClient := &http.Client{} // follows redirects, unlike the default
	bases := map[string]*Client{
		"closed server":         NewClient(closed.URL, testAppID, testSecret, nil),
		"echoing server":        NewClient(echo.URL, testAppID, testSecret, nil),
		"redirect followed":     NewClient(redirect.URL, testAppID, testSecret, followingClient),
		"redirect not followed": NewClient(redirect.URL, testAppID, testSecret, nil),
		"timeout":               NewClient(sim.URL, testAppID, testSecret, &http.Client{Timeout: 50 * time.Millisecond}),
		"bad base URL":          NewClient("http://[::1%zz]:x", testAppID, testSecret, nil),
	}
	for name, c := range bases {
		c.backoff = time.Millisecond
		calls := map[string]func() error{
			"jscode2session": func() error { _, err := c.Code2Session(context.Background(), "code"); return err },
			"stable_token":   func() error { _, err := c.StableToken(context.Background(), true); return err },
			"getopendata": func() error {
				_, err := c.GetOpenData(context.Background(), token, "o", []string{"cid"})
				return err
			},
		}
		for op, call := range calls {
			err := call()
			if err == nil {
				t.Errorf("%s %s: no error", name, op)
				continue
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				msg := e.Error()
				for _, secret := range []string{testSecret, token, sessionKey} {
					if secret != "" && strings.Contains(msg, secret) {
						t.Errorf("%s %s: %q holds %q", name, op, msg, secret)
					}
				}
			}
			if !strings.Contains(err.Error(), op) {
				t.Errorf("%s: %q does not name %s", name, err, op)
			}
		}
	}
}

// After the AppSecret is reset, a client that can reload it recovers:
// stable_token at once, a login with the next code (the refused one may
// be spent).
func TestAClientReloadsARefusedSecret(t *testing.T) {
	const newSecret = "s3cret-new-0123456789abcdef01234567"
	tests := []struct {
		name string
		// reloaded is what the reload gives ("" : the client has none).
		reloaded   string
		wantToken  error // of stable_token after the reset
		wantLogin  error // of the first login after the reset
		wantSecond error // of a login with a new code after that
	}{
		{"reload gives the new secret", newSecret, nil, ErrInvalidCode, nil},
		{"reload still gives the old one (SSM not updated yet)", testSecret, ErrBadCredential, ErrBadCredential, ErrBadCredential},
		{"no reload", "", ErrBadCredential, ErrBadCredential, ErrBadCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := wechattest.NewServer(testAppID, testSecret)
			defer sim.Close()
			c := newTestClient(t, sim.URL, testSecret)
			if tt.reloaded != "" {
				c.ReloadSecretWith(func(context.Context) (string, error) { return tt.reloaded, nil })
			}
			ctx := context.Background()
			sim.ResetSecret(newSecret)
			if _, err := c.StableToken(ctx, false); !errors.Is(err, tt.wantToken) || (tt.wantToken == nil) != (err == nil) {
				t.Errorf("stable_token: %v, want %v", err, tt.wantToken)
			}
			c2 := newTestClient(t, sim.URL, testSecret)
			if tt.reloaded != "" {
				c2.ReloadSecretWith(func(context.Context) (string, error) { return tt.reloaded, nil })
			}
			_, err := c2.Code2Session(ctx, sim.Login("o-rotated"))
			if !errors.Is(err, tt.wantLogin) {
				t.Errorf("first login: %v, want %v", err, tt.wantLogin)
			}
			if tt.wantLogin == ErrBadCredential && errors.Is(err, ErrInvalidCode) {
				t.Errorf("first login: %v is ErrInvalidCode though the secret did not change", err)
			}
			_, err = c2.Code2Session(ctx, sim.Login("o-rotated"))
			if !errors.Is(err, tt.wantSecond) || (tt.wantSecond == nil) != (err == nil) {
				t.Errorf("login with a new code: %v, want %v", err, tt.wantSecond)
			}
			if err != nil && (strings.Contains(err.Error(), newSecret) || strings.Contains(err.Error(), testSecret)) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}
