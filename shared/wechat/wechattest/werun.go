package wechattest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

// StepInfo is one day of WeRun data as WeChat writes it: Timestamp is the
// day's 00:00 in China Standard Time, in Unix seconds.
type StepInfo struct {
	Timestamp int64 `json:"timestamp"`
	Step      int64 `json:"step"`
}

// cst is China Standard Time (UTC+8, no DST).
var cst = time.FixedZone("UTC+8", 8*3600)

// Days makes n days of steps ending with today (in UTC+8, as of now), each
// stamped 00:00 UTC+8, oldest first, as WeChat lists them. Steps are made
// from the date alone, so the same day always has the same count.
func Days(n int, now time.Time) []StepInfo {
	t := now.In(cst)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, cst)
	list := make([]StepInfo, 0, max(n, 0))
	for i := n - 1; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		list = append(list, StepInfo{Timestamp: day.Unix(), Step: 2000 + (day.Unix()/86400*7919)%14000})
	}
	return list
}

// plaintext is WeRun's open data as WeChat encodes it:
// {"stepInfoList":[...],"watermark":{"appid":...,"timestamp":...}}.
func (s *Sim) plaintext(list []StepInfo, at time.Time) []byte {
	if list == nil {
		list = []StepInfo{}
	}
	type watermark struct {
		AppID     string `json:"appid"`
		Timestamp int64  `json:"timestamp"`
	}
	b, _ := json.Marshal(struct {
		StepInfoList []StepInfo `json:"stepInfoList"`
		Watermark    watermark  `json:"watermark"`
	}{list, watermark{s.appID, at.Unix()}})
	return b
}

var errNotLoggedIn = errors.New("openid has no session key: log in first")

func (s *Sim) weRunData(openid string, list []StepInfo, at time.Time) (encryptedData, iv string, err error) {
	key := s.SessionKey(openid)
	if key == "" {
		return "", "", errNotLoggedIn
	}
	iv = base64.StdEncoding.EncodeToString(randomBytes(16))
	encryptedData, err = crypto.Encrypt(key, iv, s.plaintext(list, at))
	return encryptedData, iv, err
}

// controlLogin serves POST /_sim/login {"openid"} → {"code"}: wx.login.
func (s *Sim) controlLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenID string `json:"openid"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"code": s.Login(req.OpenID)})
}

// controlWeRun serves POST /_sim/werun {"openid","days":N} or
// {"openid","stepInfoList":[...]} → {"encryptedData","iv","cloudID"}:
// wx.getWeRunData, watermarked with the simulator's now. The openid must
// have logged in (its session key encrypts the data).
func (s *Sim) controlWeRun(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenID       string     `json:"openid"`
		Days         int        `json:"days"`
		StepInfoList []StepInfo `json:"stepInfoList"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.StepInfoList == nil {
		if req.Days <= 0 || req.Days > 366 {
			controlError(w, http.StatusBadRequest, "give stepInfoList or days (1..366)")
			return
		}
		req.StepInfoList = Days(req.Days, s.clock())
	}
	at := s.clock()
	enc, iv, err := s.weRunData(req.OpenID, req.StepInfoList, at)
	if err != nil {
		controlError(w, http.StatusNotFound, err.Error()+" (POST /_sim/login)")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"encryptedData": enc,
		"iv":            iv,
		"cloudID":       s.CloudID(req.OpenID, req.StepInfoList, at),
	})
}

func (s *Sim) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// decodeControl reads a control request: POST, JSON, with an openid.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		controlError(w, http.StatusMethodNotAllowed, "use POST with a JSON body")
		return false
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	var probe struct {
		OpenID string `json:"openid"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &probe)
	}
	if err != nil || probe.OpenID == "" {
		controlError(w, http.StatusBadRequest, `body must be JSON with a non-empty "openid"`)
		return false
	}
	return true
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
