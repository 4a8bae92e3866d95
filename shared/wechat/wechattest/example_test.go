package wechattest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The simulator plays both sides: the mini program (Login, WeRunData) and
// WeChat's server API, over HTTP at URL.
func ExampleNewServer() {
	sim := wechattest.NewServer("wx0000000000000000", "app-secret")
	defer sim.Close()

	sim.Login("o-alice") // wx.login: a new session key
	now := time.Now()
	ed, iv := sim.WeRunData("o-alice", wechattest.Days(7, now), now) // wx.getWeRunData
	plain, err := crypto.Decrypt(sim.SessionKey("o-alice"), ed, iv)
	fmt.Println(strings.HasPrefix(string(plain), `{"stepInfoList":[`), err)

	// Fault switches: the next call of jscode2session answers "system busy".
	sim.Fail(wechattest.PathCode2Session, -1, 1)
	resp, err := http.Get(sim.URL + wechattest.PathCode2Session + "?js_code=x")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var answer struct{ ErrCode int }
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	fmt.Println(answer.ErrCode)
	// Output:
	// true <nil>
	// -1
}
