package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/api/internal/wire"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/werun"
)

// Error is one answer of the error envelope:
// {"error":{"code":"UPPER_SNAKE","message":"what to do next"}}.
// Its message is written for the mini program developer and never carries
// an internal error string.
type Error = wire.Error

func internal() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "INTERNAL",
		Message: "Something failed on the server; the request changed nothing that a retry would not repair. Retry later."}
}

var (
	errTooLarge     = wire.ErrTooLarge
	errMissingToken = &Error{Status: http.StatusUnauthorized, Code: "MISSING_TOKEN",
		Message: "Send Authorization: Bearer <token>, with the token from POST /v1/session."}
)

const reLogin = "call wx.login and POST /v1/session (or send the new code with the data), then call wx.getWeRunData again"

// known maps the errors of the layers below to answers, first match wins.
var known = []struct {
	err error
	ans Error
}{
	{crypto.ErrTokenExpired, Error{Status: 401, Code: "TOKEN_EXPIRED", Message: "The session token has expired: call wx.login and POST /v1/session for a new one."}},
	{crypto.ErrTokenInvalid, Error{Status: 401, Code: "INVALID_TOKEN", Message: "The session token is not valid: call wx.login and POST /v1/session for a new one."}},
	{crypto.ErrBase64, Error{Status: 400, Code: "INVALID_BASE64", Message: "encryptedData and iv must be the base64 strings wx.getWeRunData returned, sent unchanged in a JSON body."}},
	{crypto.ErrIVSize, Error{Status: 400, Code: "INVALID_IV", Message: "iv must be the 24-character base64 iv that wx.getWeRunData returned with this encryptedData."}},
	{crypto.ErrCiphertextSize, Error{Status: 400, Code: "INVALID_ENCRYPTED_DATA", Message: "encryptedData is not whole AES blocks: send it exactly as wx.getWeRunData returned it."}},
	{werun.ErrNoSessionKey, Error{Status: 422, Code: "NO_SESSION_KEY", Message: "The server holds no session key for this user: " + reLogin + "."}},
	{werun.ErrNoMatchingKey, Error{Status: 422, Code: "DECRYPT_FAILED", Message: "The data does not decrypt with any session key held for this user: " + reLogin + "."}},
	{crypto.ErrDecrypt, Error{Status: 422, Code: "DECRYPT_FAILED", Message: "The data does not decrypt with any session key held for this user: " + reLogin + "."}},
	{crypto.ErrWrongApp, Error{Status: 422, Code: "WRONG_APPID", Message: "The data was issued to another mini program: check that the backend's WECHAT_APPID is this mini program's AppID."}},
	{crypto.ErrStale, Error{Status: 422, Code: "STALE_DATA", Message: "The data is too old (or dated in the future): call wx.getWeRunData again and send the result at once."}},
	{steps.ErrNoSteps, Error{Status: 422, Code: "NO_STEP_DATA", Message: "The data holds no step list: send what wx.getWeRunData returned."}},
	{steps.ErrInvalidSteps, Error{Status: 422, Code: "INVALID_STEP_DATA", Message: "The step list holds days outside the last 31 or impossible counts: call wx.getWeRunData again."}},
	{steps.ErrMalformedPayload, Error{Status: 422, Code: "INVALID_STEP_DATA", Message: "The decrypted data is not a WeRun step list: send what wx.getWeRunData returned."}},
	{werun.ErrInvalidRange, Error{Status: 400, Code: "INVALID_RANGE", Message: "from and to must be dates like 2026-01-31, from not after to, at most 366 days apart."}},
	{werun.ErrBoardDate, Error{Status: 400, Code: "INVALID_RANGE", Message: "date must be a date like 2026-01-31, one of the last 31 days (China Standard Time)."}},
	{werun.ErrInvalidNickname, Error{Status: 400, Code: "INVALID_FIELD", Message: "nickname must be 1 to 32 characters after trimming spaces, without control characters."}},
	{werun.ErrInvalidAvatar, Error{Status: 400, Code: "INVALID_FIELD", Message: "avatarUrl must be empty or an https:// URL of at most 1024 bytes: upload the chosen avatar to your own storage first."}},
	{werun.ErrInvalidCursor, Error{Status: 400, Code: "INVALID_FIELD", Message: "cursor must be the cursor of the previous page, unchanged."}},
	{werun.ErrNicknameRejected, Error{Status: 422, Code: "NICKNAME_REJECTED", Message: "WeChat's content check rejected the nickname: ask the user for another one."}},
	{werun.ErrNoGroupData, Error{Status: 422, Code: "NO_GROUP_DATA", Message: "The data names no group: send what wx.getShareInfo, wx.getGroupEnterInfo or wx.getChatToolInfo returned in a group chat."}},
	{werun.ErrGroupNotFound, Error{Status: 404, Code: "GROUP_NOT_FOUND", Message: "No such group among the caller's groups: join it with POST /v1/groups first."}},
	{werun.ErrFriendNotFound, Error{Status: 404, Code: "FRIEND_NOT_FOUND", Message: "No such friend among the caller's friends."}},
	{werun.ErrInvalidInvite, Error{Status: 422, Code: "INVALID_INVITE", Message: "The invite code is unknown, expired (after 7 days) or the caller's own: ask the friend for a new share card."}},
	{werun.ErrLimitReached, Error{Status: 422, Code: "LIMIT_REACHED", Message: "A limit is reached: a group holds at most 500 members, a user at most 200 groups and 1000 friends. Leave a group or remove a friend first."}},
	{wechat.ErrInvalidCode, Error{Status: 400, Code: "INVALID_CODE", Message: "WeChat refused the code: call wx.login for a new one (a code works once, for about five minutes)."}},
	{wechat.ErrCodeUsed, Error{Status: 400, Code: "INVALID_CODE", Message: "The code was already used: call wx.login for a new one (a code works once)."}},
	{wechat.ErrBlocked, Error{Status: 422, Code: "USER_BLOCKED", Message: "WeChat blocks this user as high-risk (40226); nothing can be synced for them."}},
	{wechat.ErrCloudIDExpired, Error{Status: 422, Code: "CLOUDID_EXPIRED", Message: "The cloudID has expired or is not this user's: call wx.getWeRunData again and send the new cloudID at once (it lives about five minutes)."}},
	{wechat.ErrRateLimited, Error{Status: 429, Code: "RATE_LIMITED", Message: "WeChat is rate-limiting this app: retry in a minute.", RetryAfter: 60}},
	{wechat.ErrBadCredential, Error{Status: 502, Code: "WECHAT_CONFIG", Message: "WeChat refused the backend's credentials: the operator must check WECHAT_APPID, the AppSecret and WeChat's IP whitelist."}},
	{wechat.ErrBadAnswer, Error{Status: 502, Code: "WECHAT_UNAVAILABLE", Message: "WeChat answered without the data asked for; retry in a few seconds, nothing was lost.", RetryAfter: 5}},
	{wechat.ErrTokenRejected, Error{Status: 502, Code: "WECHAT_UNAVAILABLE", Message: "WeChat did not accept the access token; retry in a few seconds.", RetryAfter: 5}},
	{wechat.ErrBusy, Error{Status: 502, Code: "WECHAT_UNAVAILABLE", Message: "WeChat is busy; retry in a few seconds, nothing was lost.", RetryAfter: 5}},
	{wechat.ErrUnavailable, Error{Status: 502, Code: "WECHAT_UNAVAILABLE", Message: "WeChat did not answer; retry in a few seconds, nothing was lost.", RetryAfter: 5}},
	// Last of WeChat's: an errcode no entry above names (48001 "api
	// unauthorized", for one). The function's log has the code.
	{wechat.ErrRefused, Error{Status: 502, Code: "WECHAT_CONFIG", Message: "WeChat refused the backend's request: the operator must check the function's log for WeChat's error code, and the AppID, AppSecret, IP whitelist and API permissions."}},
	{werun.ErrTokenBusy, Error{Status: 503, Code: "UNAVAILABLE", Message: "The server is refreshing its WeChat credentials; retry in a second.", RetryAfter: 1}},
	{store.ErrUnavailable, Error{Status: 503, Code: "UNAVAILABLE", Message: "Storage is busy; retry in a second, nothing acknowledged was lost.", RetryAfter: 1}},
	{context.DeadlineExceeded, Error{Status: 503, Code: "UNAVAILABLE", Message: "The request ran out of time; retry, it is safe to resend.", RetryAfter: 1}},
}

// classify turns any error into its answer; an unknown one is a 500 whose
// message says nothing of the cause.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, k := range known {
		if errors.Is(err, k.err) {
			ans := k.ans
			return &ans
		}
	}
	return internal()
}

func errorResponse(e *Error) events.APIGatewayV2HTTPResponse {
	h := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}
	if e.RetryAfter > 0 {
		h["Retry-After"] = strconv.Itoa(e.RetryAfter)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: e.Status, Headers: h, Body: wire.Envelope(e)}
}
