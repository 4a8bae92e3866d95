package wechat

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

func TestMsgSecCheckAnswersWeChatsSuggestion(t *testing.T) {
	sim := wechattest.NewServer(testAppID, testSecret)
	defer sim.Close()
	c := newTestClient(t, sim.URL, testSecret)
	ctx := context.Background()
	tok, err := c.StableToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	sim.Login("o-alice")
	for content, want := range map[string]string{
		"小明":                         SuggestPass,
		"a " + wechattest.ReviewWord: SuggestReview,
		"a " + wechattest.RiskyWord:  SuggestRisky,
	} {
		got, err := c.MsgSecCheck(ctx, tok.Token, "o-alice", SceneProfile, content)
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", content, got, err, want)
		}
	}
	if _, err := c.MsgSecCheck(ctx, tok.Token, "o-nobody", SceneProfile, "x"); !errors.Is(err, ErrRefused) {
		t.Errorf("unknown openid: %v, want a refusal", err)
	}
	sim.RevokeTokens()
	_, err = c.MsgSecCheck(ctx, tok.Token, "o-alice", SceneProfile, "x")
	if !errors.Is(err, ErrTokenRejected) || strings.Contains(err.Error(), tok.Token) {
		t.Errorf("revoked token: %v, want ErrTokenRejected without the token", err)
	}
}
