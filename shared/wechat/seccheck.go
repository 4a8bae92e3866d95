package wechat

import (
	"context"
	"net/http"
	"net/url"
)

// Suggestions of msg_sec_check v2, result.suggest.
const (
	SuggestPass   = "pass"
	SuggestReview = "review"
	SuggestRisky  = "risky"
)

// SceneProfile is msg_sec_check's scene 1: a user's profile (nickname).
const SceneProfile = 1

// MsgSecCheck asks WeChat's content-security check (msg_sec_check, version
// 2) about text the user openid wrote for scene, and returns result.suggest:
// SuggestPass, SuggestReview or SuggestRisky. WeChat requires the user to
// have opened the mini program in the last two hours. A rejected token is
// ErrTokenRejected and is not retried: refresh the token and call again.
func (c *Client) MsgSecCheck(ctx context.Context, accessToken, openid string, scene int, content string) (string, error) {
	const op = "msg_sec_check"
	q := url.Values{"access_token": {accessToken}}
	body := struct {
		Content string `json:"content"`
		Version int    `json:"version"`
		Scene   int    `json:"scene"`
		OpenID  string `json:"openid"`
	}{content, 2, scene, openid}
	var out struct {
		Result struct {
			Suggest string `json:"suggest"`
		} `json:"result"`
	}
	if err := c.call(ctx, op, http.MethodPost, "/wxa/msg_sec_check", q, body, &out, c.currentSecret(), accessToken); err != nil {
		return "", err
	}
	switch out.Result.Suggest {
	case SuggestPass, SuggestReview, SuggestRisky:
		return out.Result.Suggest, nil
	}
	return "", &Error{Op: op, kind: badAnswer, Msg: "no result.suggest"}
}
