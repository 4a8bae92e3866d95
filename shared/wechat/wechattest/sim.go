// Package wechattest is a fake WeChat backend, in the spirit of
// net/http/httptest, written from WeChat's public documentation. It serves
// the calls this project makes — /sns/jscode2session,
// /cgi-bin/stable_token, /wxa/getopendata and /wxa/msg_sec_check — with
// WeChat's wire format and errcodes, and plays the mini program's side too:
// it logs users in (codes, rotating session keys) and makes WeRun and group
// encryptedData and cloudIDs. Faults (errcodes, slow answers, revoked tokens) can be
// injected per path. A small JSON control API under /_sim/ lets a developer
// without a WeChat account get data with curl from the local stack.
//
// It is for tests and local runs only; no production path imports it.
package wechattest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// The paths the simulator serves, as given to Fail and Delay.
const (
	PathCode2Session = "/sns/jscode2session"
	PathStableToken  = "/cgi-bin/stable_token"
	PathGetOpenData  = "/wxa/getopendata"
	PathMsgSecCheck  = "/wxa/msg_sec_check"
)

// Lifetimes, on the simulator's clock.
const (
	CodeTTL    = 5 * time.Minute // a login code (WeChat: about five minutes, unverified)
	CloudIDTTL = 5 * time.Minute // a cloudID
	TokenTTL   = 2 * time.Hour   // an access token (expires_in 7200)
	// TokenRenewBefore: normal-mode stable_token hands out a new token
	// this long before the current one expires, as WeChat does.
	TokenRenewBefore = 5 * time.Minute
)

// Sim is the fake WeChat backend as an http.Handler, for serving on any
// listener (the local stack mounts it on its own port). NewServer wraps it
// in an httptest server. All methods are safe for concurrent use.
type Sim struct {
	appID string

	mu           sync.Mutex
	secret       string
	now          func() time.Time
	users        map[string]*user    // by openid
	codes        map[string]*code    // by code
	cloudIDs     map[string]*cloudID // by cloudID
	tokens       map[string]time.Time
	current      string // the token normal-mode stable_token answers
	tokenFetches int
	faults       map[string]*fault
	delays       map[string]time.Duration
}

type user struct{ sessionKey string }

type code struct {
	openid string
	issued time.Time
	used   bool
}

type cloudID struct {
	openid string
	data   json.RawMessage // {"stepInfoList":[...],"watermark":{...}}
	issued time.Time
}

type fault struct{ errcode, times int }

// New returns a simulator for the mini program appID with its AppSecret.
func New(appID, secret string) *Sim {
	return &Sim{
		appID:    appID,
		secret:   secret,
		now:      time.Now,
		users:    map[string]*user{},
		codes:    map[string]*code{},
		cloudIDs: map[string]*cloudID{},
		tokens:   map[string]time.Time{},
		faults:   map[string]*fault{},
		delays:   map[string]time.Duration{},
	}
}

// Server is a Sim served by an httptest server on loopback.
type Server struct {
	*Sim
	URL string // base URL, e.g. http://127.0.0.1:NNNN, for wechat.NewClient
	ts  *httptest.Server
}

// NewServer starts a simulator for appID and secret. Close it when done.
func NewServer(appID, secret string) *Server {
	s := New(appID, secret)
	ts := httptest.NewServer(s)
	return &Server{Sim: s, URL: ts.URL, ts: ts}
}

// Close shuts the server down; later calls fail as a dead WeChat would.
func (s *Server) Close() { s.ts.Close() }

// SetNow sets the simulator's clock (code, cloudID and token lifetimes and
// the default watermark time of the control API); nil restores time.Now.
func (s *Sim) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Login is the user openid calling wx.login: it issues a new random
// session key (16 bytes, base64) — replacing the previous one, as WeChat
// may — and a new single-use code valid for CodeTTL, and returns the code.
func (s *Sim) Login(openid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[openid]
	if u == nil {
		u = &user{}
		s.users[openid] = u
	}
	u.sessionKey = base64.StdEncoding.EncodeToString(randomBytes(16))
	c := "sim" + hex.EncodeToString(randomBytes(13))
	s.codes[c] = &code{openid: openid, issued: s.now()}
	return c
}

// SessionKey is the user's current session key, "" before any Login.
func (s *Sim) SessionKey(openid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[openid]; u != nil {
		return u.sessionKey
	}
	return ""
}

// TokenFetches counts the stable_token requests received (faulted ones
// included), to check that callers share and cache the token.
func (s *Sim) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenFetches
}

// Fail makes the next times calls of path (PathCode2Session, ...) answer
// errcode with WeChat's errmsg for it, before anything else is checked
// (no code is consumed). E.g. -1 busy, 45011 rate limit, 40001 token
// rejected, -601006 cloudID expired for the whole call. times <= 0 clears.
func (s *Sim) Fail(path string, errcode, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times <= 0 {
		delete(s.faults, path)
		return
	}
	s.faults[path] = &fault{errcode: errcode, times: times}
}

// Delay makes every answer on path wait d first (or until the request is
// abandoned), to test timeouts and deadlines. d <= 0 clears.
func (s *Sim) Delay(path string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.delays, path)
		return
	}
	s.delays[path] = d
}

// ResetSecret is the admin console's AppSecret reset: from now on only
// secret is accepted.
func (s *Sim) ResetSecret(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secret = secret
}

// RevokeTokens makes every access token issued so far invalid (40001), as
// when another holder force-refreshed it; the next stable_token issues a
// new one.
func (s *Sim) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
	s.current = ""
}

// ServeHTTP serves WeChat's paths and the /_sim/ control API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := s.delay(r.URL.Path); d > 0 {
		// Read the body first: until it is read, net/http cannot see the
		// client hang up, and the wait below would outlive the request.
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch r.URL.Path {
	case PathCode2Session, PathStableToken, PathGetOpenData, PathMsgSecCheck:
		if r.URL.Path == PathStableToken {
			s.mu.Lock()
			s.tokenFetches++
			s.mu.Unlock()
		}
		if code, ok := s.fault(r.URL.Path); ok {
			writeErr(w, code)
			return
		}
	}
	switch r.URL.Path {
	case PathCode2Session:
		s.code2Session(w, r)
	case PathStableToken:
		s.stableToken(w, r)
	case PathGetOpenData:
		s.getOpenData(w, r)
	case PathMsgSecCheck:
		s.msgSecCheck(w, r)
	case "/_sim/login":
		s.controlLogin(w, r)
	case "/_sim/werun":
		s.controlWeRun(w, r)
	case "/_sim/group":
		s.controlGroup(w, r)
	case PathControlFail:
		s.controlFail(w, r)
	case PathControlDelay:
		s.controlDelay(w, r)
	default:
		// WeChat answers unknown paths with 200 and an errcode.
		writeErr(w, 40066)
	}
}

func (s *Sim) delay(path string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delays[path]
}

func (s *Sim) fault(path string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults[path]
	if f == nil {
		return 0, false
	}
	if f.times--; f.times <= 0 {
		delete(s.faults, path)
	}
	return f.errcode, true
}

// errmsgs are WeChat's messages for the codes the simulator answers.
var errmsgs = map[int]string{
	-1:      "system error",
	-601006: "cloudID expired.",
	40001:   "invalid credential, access_token is invalid or not latest",
	40002:   "invalid grant_type",
	40003:   "invalid openid",
	40013:   "invalid appid",
	40029:   "invalid code",
	40066:   "invalid url",
	40097:   "invalid args",
	40125:   "invalid appsecret",
	40163:   "code been used",
	40226:   "high risk user",
	41001:   "access_token missing",
	42001:   "access_token expired",
	43002:   "require POST method",
	45009:   "reach max api daily quota limit",
	45011:   "api minute-quota reach limit  mustslower  retry next minute",
	47001:   "data format error",
}

func errmsg(code int) string {
	m, ok := errmsgs[code]
	if !ok {
		m = "simulated error"
	}
	return fmt.Sprintf("%s rid: %s", m, hex.EncodeToString(randomBytes(6)))
}

// writeErr answers like WeChat: HTTP 200 with errcode and errmsg.
func writeErr(w http.ResponseWriter, code int) {
	writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "errmsg": errmsg(code)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}
