package wechattest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

// Kinds of group identity, by the mini program call that returns it.
const (
	GroupShareInfo  = "shareInfo"  // wx.getShareInfo: {"openGId"}
	GroupEnterInfo  = "enterInfo"  // wx.getGroupEnterInfo, wx.getChatToolInfo in a group: {"opengid"}
	GroupSingleChat = "singleChat" // wx.getChatToolInfo in a one-to-one chat: {"open_single_roomid"}
)

// Markers msg_sec_check reacts to: content holding RiskyWord is "risky",
// content holding ReviewWord is "review", anything else "pass".
const (
	RiskyWord  = "simrisky"
	ReviewWord = "simreview"
)

// OpenGID is the openGId WeChat would give this app for the group named
// group: the same for every member, different for another app.
func (s *Sim) OpenGID(group string) string {
	h := sha256.Sum256([]byte(s.appID + "\x00" + group))
	return "tG" + base64.RawURLEncoding.EncodeToString(h[:21])
}

// groupPlaintext is the open data of a group, in the shape kind.
func (s *Sim) groupPlaintext(kind, group string, at time.Time) ([]byte, bool) {
	field := map[string]string{GroupShareInfo: "openGId", GroupEnterInfo: "opengid", GroupSingleChat: "open_single_roomid"}[kind]
	if field == "" {
		return nil, false
	}
	b, _ := json.Marshal(map[string]any{
		field:       s.OpenGID(group),
		"watermark": map[string]any{"appid": s.appID, "timestamp": at.Unix()},
	})
	return b, true
}

// GroupData is what the mini program gets for the group named group in the
// shape kind (GroupShareInfo, ...): encryptedData and iv under openid's
// current session key, and a cloudID, watermarked at. It panics if openid
// never logged in or kind is unknown.
func (s *Sim) GroupData(openid, kind, group string, at time.Time) (encryptedData, iv, cloudID string) {
	plain, ok := s.groupPlaintext(kind, group, at)
	if !ok {
		panic("wechattest: unknown group kind " + kind)
	}
	key := s.SessionKey(openid)
	if key == "" {
		panic("wechattest: " + errNotLoggedIn.Error())
	}
	iv = base64.StdEncoding.EncodeToString(randomBytes(16))
	encryptedData, err := crypto.Encrypt(key, iv, plain)
	if err != nil {
		panic("wechattest: " + err.Error())
	}
	return encryptedData, iv, s.issueCloudID(openid, plain)
}

// controlGroup serves POST /_sim/group {"openid","group","kind"} →
// {"encryptedData","iv","cloudID"}: wx.getShareInfo (kind "shareInfo", the
// default), wx.getGroupEnterInfo ("enterInfo") or wx.getChatToolInfo in a
// one-to-one chat ("singleChat") for the group of that name, watermarked
// with the simulator's now.
func (s *Sim) controlGroup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenID string `json:"openid"`
		Group  string `json:"group"`
		Kind   string `json:"kind"`
	}
	if !decodeControl(w, r, &req) {
		return
	}
	if req.Kind == "" {
		req.Kind = GroupShareInfo
	}
	if req.Group == "" {
		controlError(w, http.StatusBadRequest, `give "group", any name: members of one name share one openGId`)
		return
	}
	if _, ok := s.groupPlaintext(req.Kind, req.Group, time.Time{}); !ok {
		controlError(w, http.StatusBadRequest, `"kind" is shareInfo, enterInfo or singleChat`)
		return
	}
	if s.SessionKey(req.OpenID) == "" {
		controlError(w, http.StatusNotFound, errNotLoggedIn.Error()+" (POST /_sim/login)")
		return
	}
	enc, iv, id := s.GroupData(req.OpenID, req.Kind, req.Group, s.clock())
	writeJSON(w, http.StatusOK, map[string]string{"encryptedData": enc, "iv": iv, "cloudID": id})
}

// msgSecCheck serves POST /wxa/msg_sec_check (version 2): 40003 for an
// openid that never logged in, 47001 for a body that is not version 2 with
// a scene 1..4 and content; else result.suggest by the markers above.
func (s *Sim) msgSecCheck(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Content string `json:"content"`
		Version int    `json:"version"`
		Scene   int    `json:"scene"`
		OpenID  string `json:"openid"`
	}
	if !decodePost(w, r, &req) {
		return
	}
	if code := s.tokenError(r.URL.Query().Get("access_token")); code != 0 {
		writeErr(w, code)
		return
	}
	if req.Version != 2 || req.Scene < 1 || req.Scene > 4 || req.Content == "" {
		writeErr(w, 47001)
		return
	}
	if s.SessionKey(req.OpenID) == "" {
		writeErr(w, 40003)
		return
	}
	suggest, label := "pass", 100
	switch {
	case strings.Contains(req.Content, RiskyWord):
		suggest, label = "risky", 20001
	case strings.Contains(req.Content, ReviewWord):
		suggest, label = "review", 21000
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"errcode":  0,
		"errmsg":   "ok",
		"result":   map[string]any{"suggest": suggest, "label": label},
		"detail":   []map[string]any{{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}},
		"trace_id": hex.EncodeToString(randomBytes(12)),
	})
}
