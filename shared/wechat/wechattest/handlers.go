package wechattest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// code2Session serves GET /sns/jscode2session. Success carries no errcode,
// as WeChat's does not.
func (s *Sim) code2Session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if code := s.checkApp(q.Get("appid"), q.Get("secret")); code != 0 {
		writeErr(w, code)
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		writeErr(w, 40002)
		return
	}
	s.mu.Lock()
	c := s.codes[q.Get("js_code")]
	var errcode int
	var openid, key string
	switch {
	case c == nil || s.now().Sub(c.issued) >= CodeTTL:
		errcode = 40029
	case c.used:
		errcode = 40163
	default:
		c.used = true
		openid, key = c.openid, s.users[c.openid].sessionKey
	}
	s.mu.Unlock()
	if errcode != 0 {
		writeErr(w, errcode)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"openid": openid, "session_key": key})
}

// checkApp answers 40013 for a wrong appid and 40125 for a wrong secret.
func (s *Sim) checkApp(appid, secret string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case appid != s.appID:
		return 40013
	case secret != s.secret:
		return 40125
	}
	return 0
}

// stableToken serves POST /cgi-bin/stable_token. Normal mode answers the
// current token, renewed TokenRenewBefore its expiry (the old one stays
// valid until its own expiry, as WeChat's does). force_refresh issues a new
// token and invalidates every earlier one at once — the strict reading of
// WeChat's docs, so that holders sharing a token must cope with it.
func (s *Sim) stableToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if !decodePost(w, r, &req) {
		return
	}
	if code := s.checkApp(req.AppID, req.Secret); code != 0 {
		writeErr(w, code)
		return
	}
	if req.GrantType != "client_credential" {
		writeErr(w, 40002)
		return
	}
	s.mu.Lock()
	now := s.now()
	exp, ok := s.tokens[s.current]
	if req.ForceRefresh || !ok || exp.Sub(now) <= TokenRenewBefore {
		if req.ForceRefresh {
			clear(s.tokens)
		}
		// Real tokens are long opaque strings; callers must store >= 512 chars.
		s.current = "simtok_" + base64.RawURLEncoding.EncodeToString(randomBytes(96))
		exp = now.Add(TokenTTL)
		s.tokens[s.current] = exp
	}
	tok, left := s.current, int64(exp.Sub(now)/time.Second)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": left})
}

// decodePost reads a JSON POST body into v, answering WeChat's 43002
// (not POST) or 47001 (bad body) when it cannot.
func decodePost(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		writeErr(w, 43002)
		return false
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(v); err != nil {
		writeErr(w, 47001)
		return false
	}
	return true
}

// tokenError is 41001 without a token, 40001 for one never issued or
// revoked, 42001 for an expired one.
func (s *Sim) tokenError(tok string) int {
	if tok == "" {
		return 41001
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	switch {
	case !ok:
		return 40001
	case !s.now().Before(exp):
		return 42001
	}
	return 0
}

// getOpenData serves POST /wxa/getopendata. Each entry's "json" is a
// JSON-encoded string, as seen in practice. A failed entry carries its
// own errcode: -601006 when expired, 40097 when the cloudID is unknown or
// was issued for another openid.
func (s *Sim) getOpenData(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CloudIDList []string `json:"cloudid_list"`
	}
	if !decodePost(w, r, &req) {
		return
	}
	q := r.URL.Query()
	if code := s.tokenError(q.Get("access_token")); code != 0 {
		writeErr(w, code)
		return
	}
	if len(req.CloudIDList) == 0 {
		writeErr(w, 47001)
		return
	}
	openid := q.Get("openid")
	list := make([]map[string]any, 0, len(req.CloudIDList))
	s.mu.Lock()
	now := s.now()
	for _, id := range req.CloudIDList {
		c := s.cloudIDs[id]
		switch {
		case c == nil || c.openid != openid:
			list = append(list, entryErr(id, 40097))
		case now.Sub(c.issued) >= CloudIDTTL:
			list = append(list, entryErr(id, -601006))
		default:
			inner, _ := json.Marshal(map[string]any{"cloudID": id, "data": c.data})
			list = append(list, map[string]any{"cloud_id": id, "json": string(inner)})
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "data_list": list})
}

func entryErr(id string, code int) map[string]any {
	return map[string]any{"cloud_id": id, "errcode": code, "errmsg": errmsg(code)}
}

// WeRunData is what wx.getWeRunData gives the user openid: list and a
// watermark {appid, at.Unix()} as WeChat's JSON, encrypted with AES-128-CBC
// and PKCS#7 under the user's CURRENT session key and a random IV, both
// base64. It panics if openid never logged in (no session key yet).
func (s *Sim) WeRunData(openid string, list []StepInfo, at time.Time) (encryptedData, iv string) {
	encryptedData, iv, err := s.weRunData(openid, list, at)
	if err != nil {
		panic("wechattest: " + err.Error())
	}
	return encryptedData, iv
}

// CloudID is what wx.getWeRunData gives openid where Cloud Base is on: an
// opaque cloudID that getopendata resolves to list and its watermark for
// that openid only, until CloudIDTTL after now (on the simulator's clock).
func (s *Sim) CloudID(openid string, list []StepInfo, at time.Time) string {
	return s.issueCloudID(openid, s.plaintext(list, at))
}

// issueCloudID makes a cloudID that getopendata resolves to data for openid.
func (s *Sim) issueCloudID(openid string, data []byte) string {
	id := "sim_" + hex.EncodeToString(randomBytes(20))
	s.mu.Lock()
	s.cloudIDs[id] = &cloudID{openid: openid, data: data, issued: s.now()}
	s.mu.Unlock()
	return id
}
