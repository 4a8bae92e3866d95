package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// A login code becomes the user's openid and session key; a failure is
// classified with errors.Is, never by comparing errcodes.
func ExampleClient_Code2Session() {
	sim := wechattest.NewServer("wx0000000000000000", "app-secret")
	defer sim.Close()
	c := wechat.NewClient(sim.URL, "wx0000000000000000", "app-secret", nil)
	ctx := context.Background()

	code := sim.Login("o-alice") // what wx.login gives the mini program
	s, err := c.Code2Session(ctx, code)
	fmt.Println(s.OpenID, s.SessionKey == sim.SessionKey("o-alice"), err)

	_, err = c.Code2Session(ctx, code) // a code works once
	fmt.Println(errors.Is(err, wechat.ErrCodeUsed))
	// Output:
	// o-alice true <nil>
	// true
}

// getopendata resolves a cloudID with the shared access token.
func ExampleClient_GetOpenData() {
	sim := wechattest.NewServer("wx0000000000000000", "app-secret")
	defer sim.Close()
	c := wechat.NewClient(sim.URL, "wx0000000000000000", "app-secret", nil)
	ctx := context.Background()

	tok, _ := c.StableToken(ctx, false)
	cloudID := sim.CloudID("o-alice", wechattest.Days(7, time.Now()), time.Now())
	list, err := c.GetOpenData(ctx, tok.Token, "o-alice", []string{cloudID})
	fmt.Println(len(list), list[0].CloudID == cloudID, err)
	// Output:
	// 1 true <nil>
}
