package wechattest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

func TestGroupDataDecryptsToEachShapeOfTheSameGroup(t *testing.T) {
	s := New("wxapp", "secret")
	s.Login("o-alice")
	at := time.Unix(1700000000, 0)
	for kind, field := range map[string]string{GroupShareInfo: "openGId", GroupEnterInfo: "opengid", GroupSingleChat: "open_single_roomid"} {
		ed, iv, cloudID := s.GroupData("o-alice", kind, "family", at)
		plain, err := crypto.Decrypt(s.SessionKey("o-alice"), ed, iv)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(plain, &got); err != nil || got[field] != s.OpenGID("family") || len(got) != 2 {
			t.Errorf("%s: %s %v", kind, plain, err)
		}
		if wm, _ := got["watermark"].(map[string]any); wm["appid"] != "wxapp" || wm["timestamp"] != float64(at.Unix()) {
			t.Errorf("%s: watermark %v", kind, got["watermark"])
		}
		if cloudID == "" {
			t.Errorf("%s: no cloudID", kind)
		}
	}
	if s.OpenGID("family") == s.OpenGID("work") || s.OpenGID("family") == New("wxother", "x").OpenGID("family") {
		t.Error("openGIds collide across groups or apps")
	}
}

func TestControlGroupRefusesWhatItCannotMake(t *testing.T) {
	srv := NewServer("wxapp", "secret")
	defer srv.Close()
	srv.Login("o-alice")
	for body, want := range map[string]int{
		`{"openid":"o-alice","group":"g"}`:               http.StatusOK,
		`{"openid":"o-alice","group":"g","kind":"nope"}`: http.StatusBadRequest,
		`{"openid":"o-alice"}`:                           http.StatusBadRequest,
		`{"openid":"o-bob","group":"g"}`:                 http.StatusNotFound,
	} {
		status, _ := send(t, http.MethodPost, srv.URL+"/_sim/group", json.RawMessage(body))
		if status != want {
			t.Errorf("%s: %d, want %d", body, status, want)
		}
	}
}
