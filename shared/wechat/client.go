// Package wechat is the client of the WeChat server API this backend needs:
// jscode2session (login code → openid + session_key), stable_token (the
// app's access token), getopendata (cloudID → open data) and msg_sec_check
// (the content check of a profile's nickname). It owns the
// wire format, the errcode mapping to errors.Is-able sentinels, and the
// retries of transient failures. It knows nothing of storage or HTTP APIs
// of its own; the caller decides what to cache and when to refresh a token.
package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/shared/metrics"
)

// DefaultBaseURL is WeChat's API host.
const DefaultBaseURL = "https://api.weixin.qq.com"

// maxBody bounds what is read of an answer: WeChat's are a few KiB.
const maxBody = 1 << 20

// Client calls the WeChat server API for one mini program. It is safe for
// concurrent use.
type Client struct {
	base  string
	appID string
	hc    *http.Client

	mu     sync.Mutex
	secret string
	// reload gives the AppSecret again after WeChat refused it (nil: never).
	reload func(context.Context) (string, error)

	attempts int           // tries per call, the first included
	backoff  time.Duration // wait before the second try; doubled after each
	// attemptTimeout bounds one try, so a slow WeChat leaves time for
	// another try, or for the caller to answer, within its deadline.
	attemptTimeout time.Duration
}

// AttemptTimeout bounds each try of a call. WeChat answers in well under a
// second; a try past this is a hung connection, and a second try (when the
// deadline leaves room for a whole one) is the better bet.
const AttemptTimeout = 3 * time.Second

// NewClient returns a client for the app appID with its AppSecret. baseURL
// "" means DefaultBaseURL (tests and the local stack point it at
// wechattest); a trailing slash is ignored. hc nil means a client with
// timeouts fit for a Lambda function.
func NewClient(baseURL, appID, secret string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = defaultHTTPClient()
	}
	return &Client{
		base:           strings.TrimRight(baseURL, "/"),
		appID:          appID,
		secret:         secret,
		hc:             hc,
		attempts:       3,
		backoff:        50 * time.Millisecond,
		attemptTimeout: AttemptTimeout,
	}
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 3 * time.Second
	t.ResponseHeaderTimeout = 5 * time.Second
	// Never follow a redirect: WeChat does not send any, and following one
	// would resend the secret-bearing query to wherever it points.
	return &http.Client{
		Transport: t,
		Timeout:   8 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// ReloadSecretWith makes the client ask reload for the AppSecret when WeChat
// refuses the credential (40001, 40125) in jscode2session or stable_token,
// so that a container outlives a reset AppSecret: stable_token is then
// tried again with a changed secret; a login code is not (WeChat may have
// spent it), and the call's error is ErrInvalidCode, asking for a new one.
// reload decides how often it really reads (config.Reread rate-limits).
func (c *Client) ReloadSecretWith(reload func(context.Context) (string, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reload = reload
}

func (c *Client) currentSecret() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.secret
}

// renewSecret reloads the AppSecret after err, which the call made with
// used refused. It reports whether the secret changed. A failed reload
// keeps the secret; the refusal stands.
func (c *Client) renewSecret(ctx context.Context, err error, used string) bool {
	var e *Error
	if !errors.As(err, &e) || e.Code != 40001 && e.Code != 40125 {
		return false
	}
	c.mu.Lock()
	reload := c.reload
	c.mu.Unlock()
	if reload == nil {
		return false
	}
	s, rerr := reload(ctx)
	if rerr != nil || s == "" || s == used {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secret = s
	return true
}

// Session is what jscode2session answers for a login code.
type Session struct {
	OpenID     string
	SessionKey string
	UnionID    string // only when the app is bound to an Open Platform account
}

// Code2Session exchanges a wx.login code for the user's openid and current
// session key. A code is single-use: if a first attempt is lost in transit
// after WeChat consumed the code, the retry answers ErrCodeUsed, and the
// mini program must log in again either way.
func (c *Client) Code2Session(ctx context.Context, code string) (Session, error) {
	const op = "jscode2session"
	if code == "" {
		return Session{}, &Error{Op: op, Code: 40029, Msg: "empty code"}
	}
	secret := c.currentSecret()
	q := url.Values{
		"appid":      {c.appID},
		"secret":     {secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}
	var out struct {
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
		UnionID    string `json:"unionid"`
	}
	if err := c.call(ctx, op, http.MethodGet, "/sns/jscode2session", q, nil, &out, secret, ""); err != nil {
		if c.renewSecret(ctx, err, secret) {
			err.(*Error).renewCode = true
		}
		return Session{}, err
	}
	if out.OpenID == "" || out.SessionKey == "" {
		return Session{}, &Error{Op: op, kind: badAnswer, Msg: "no openid or session_key"}
	}
	return Session{OpenID: out.OpenID, SessionKey: out.SessionKey, UnionID: out.UnionID}, nil
}

// AccessToken is the app's access token and how long it has left.
type AccessToken struct {
	Token     string
	ExpiresIn time.Duration
}

// StableToken fetches the app's access token with stable_token. Normal mode
// (forceRefresh false) returns WeChat's current token, so many holders may
// call it; forceRefresh issues a new one and invalidates the old, and WeChat
// allows it only 20 times a day: use it only after a token was rejected.
// Each call is one token refresh, ok or failed, in the TokenRefreshes metric.
func (c *Client) StableToken(ctx context.Context, forceRefresh bool) (_ AccessToken, err error) {
	defer func() { metrics.TokenRefreshes.Add(ctx, 1, metrics.ErrOutcome(err)) }()
	secret := c.currentSecret()
	tok, err := c.stableToken(ctx, forceRefresh, secret)
	if err != nil && c.renewSecret(ctx, err, secret) {
		return c.stableToken(ctx, forceRefresh, c.currentSecret())
	}
	return tok, err
}

func (c *Client) stableToken(ctx context.Context, forceRefresh bool, secret string) (AccessToken, error) {
	const op = "stable_token"
	body := struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}{"client_credential", c.appID, secret, forceRefresh}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.call(ctx, op, http.MethodPost, "/cgi-bin/stable_token", nil, body, &out, secret, ""); err != nil {
		return AccessToken{}, err
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return AccessToken{}, &Error{Op: op, kind: badAnswer, Msg: "no access_token or expires_in"}
	}
	return AccessToken{Token: out.AccessToken, ExpiresIn: time.Duration(out.ExpiresIn) * time.Second}, nil
}

// OpenData is one resolved cloudID.
type OpenData struct {
	CloudID string
	// Data is the entry's "data" object, for WeRun
	// {"stepInfoList":[...],"watermark":{"appid","timestamp"}}.
	Data json.RawMessage
}

// GetOpenData resolves cloudIDs the mini program got for the user openid,
// answering in the order asked. Any entry that failed fails the call: an
// expired cloudID (for the call or for the entry) is ErrCloudIDExpired, an
// entry missing from the answer is ErrBadAnswer. A rejected token is
// ErrTokenRejected and is not retried: refresh the token and call again.
func (c *Client) GetOpenData(ctx context.Context, accessToken, openid string, cloudIDs []string) ([]OpenData, error) {
	const op = "getopendata"
	if len(cloudIDs) == 0 {
		return nil, nil
	}
	q := url.Values{"access_token": {accessToken}, "openid": {openid}}
	body := struct {
		CloudIDList []string `json:"cloudid_list"`
	}{cloudIDs}
	var out struct {
		DataList []struct {
			CloudID string          `json:"cloud_id"`
			JSON    json.RawMessage `json:"json"`
			ErrCode int             `json:"errcode"`
			ErrMsg  string          `json:"errmsg"`
		} `json:"data_list"`
	}
	secret := c.currentSecret()
	if err := c.call(ctx, op, http.MethodPost, "/wxa/getopendata", q, body, &out, secret, accessToken); err != nil {
		return nil, err
	}
	byID := make(map[string]OpenData, len(out.DataList))
	for _, d := range out.DataList {
		if d.ErrCode != 0 {
			return nil, refusal(ctx, op, d.ErrCode, redact(d.ErrMsg, secret, accessToken))
		}
		inner, err := decodeEntry(d.JSON)
		if err != nil {
			return nil, &Error{Op: op, kind: badAnswer, Msg: "entry: " + err.Error()}
		}
		// WeChat's cloud functions report a failed entry inside it (errCode).
		if inner.ErrCode != 0 {
			return nil, refusal(ctx, op, inner.ErrCode, redact(inner.ErrMsg, secret, accessToken))
		}
		id := d.CloudID
		if id == "" {
			id = inner.CloudID
		}
		if len(inner.Data) == 0 || string(inner.Data) == "null" {
			return nil, &Error{Op: op, kind: badAnswer, Msg: "entry without data"}
		}
		byID[id] = OpenData{CloudID: id, Data: inner.Data}
	}
	res := make([]OpenData, len(cloudIDs))
	for i, id := range cloudIDs {
		d, ok := byID[id]
		if !ok {
			return nil, &Error{Op: op, kind: badAnswer, Msg: "no entry for cloudid_list[" + strconv.Itoa(i) + "]"}
		}
		res[i] = d
	}
	return res, nil
}

// openDataEntry is the content of a data_list entry's "json".
type openDataEntry struct {
	CloudID string          `json:"cloudID"`
	Data    json.RawMessage `json:"data"`
	ErrCode int             `json:"errcode"` // also matches "errCode"
	ErrMsg  string          `json:"errmsg"`
}

// decodeEntry reads an entry's "json": a JSON-encoded string in practice,
// an object in WeChat's docs; both are accepted.
func decodeEntry(raw json.RawMessage) (openDataEntry, error) {
	var e openDataEntry
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return e, errors.New("undecodable json string")
		}
		raw = []byte(s)
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, errors.New("undecodable json object")
	}
	return e, nil
}

// call sends one request, retrying transient failures, and decodes a
// successful answer into out. secret and token are the AppSecret and the
// access token it carries, if any, so that they can be kept out of error
// messages.
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, body, out any, secret, token string) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return &Error{Op: op, kind: unavailable, Msg: "encode request: " + err.Error()}
		}
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var raw []byte
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		raw, retry, err = c.once(ctx, op, method, u, payload, secret, token)
		if err == nil || !retry || attempt >= c.attempts || ctx.Err() != nil {
			break
		}
		wait := c.wait(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+c.attemptTimeout {
			break // a whole try more could not finish in time: answer now
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &Error{Op: op, kind: unavailable, Msg: "undecodable answer"}
	}
	return nil
}

// wait is the backoff before try attempt+1: exponential, with jitter in
// [d/2, d) so that callers failing together do not retry together.
func (c *Client) wait(attempt int) time.Duration {
	d := c.backoff << (attempt - 1)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// once makes one HTTP exchange and reads WeChat's errcode. It returns the
// body of a success (errcode absent or 0), or the failure and whether it
// is worth another try: busy (-1), and every failure to get an answer
// (transport, timeout, 5xx, undecodable body), but never a definite answer
// such as a rejected token or a rate limit.
func (c *Client) once(ctx context.Context, op, method, u string, payload []byte, secret, token string) (body []byte, retry bool, err error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	ctx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		// NewRequest's errors quote the URL: keep only that it failed.
		return nil, false, &Error{Op: op, kind: unavailable, Msg: "invalid base URL"}
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, true, transportError(op, err, secret, token)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, true, transportError(op, err, secret, token)
	}
	if resp.StatusCode != http.StatusOK {
		// WeChat answers errors with 200 and an errcode; another status
		// comes from a gateway on the way. Only 5xx may pass with time.
		e := &Error{Op: op, kind: unavailable, Msg: "HTTP " + strconv.Itoa(resp.StatusCode)}
		return nil, resp.StatusCode >= 500, e
	}
	var st struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, true, &Error{Op: op, kind: unavailable, Msg: "undecodable answer"}
	}
	if st.ErrCode != 0 {
		e := refusal(ctx, op, st.ErrCode, redact(st.ErrMsg, secret, token))
		return nil, st.ErrCode == -1, e
	}
	return raw, false, nil
}

// transportError turns a net/http failure into an Error without the URL:
// *url.Error's message is `Get "https://…?secret=…": …`.
func transportError(op string, err error, secret, token string) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	safe := redact(msg, secret, token)
	e := &Error{Op: op, kind: unavailable, Msg: safe}
	if safe == msg {
		e.cause = err // keep the chain (context.DeadlineExceeded, net.Error) only if it is clean
	}
	return e
}

// redact removes the secret and the token from s, should WeChat or a
// lower layer ever echo them.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
