package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/api/internal/wire"
	"github.com/werun-sam/werun-sam/shared/display"
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

// answers is the one table from werun's outward classes to the envelope.
var answers = []struct {
	class error
	ans   Error
}{
	{werun.ErrTokenExpired, Error{Status: http.StatusUnauthorized, Code: "TOKEN_EXPIRED", Message: "The session token has expired: call wx.login and POST /v1/session for a new one."}},
	{werun.ErrTokenInvalid, Error{Status: http.StatusUnauthorized, Code: "INVALID_TOKEN", Message: "The session token is not valid: call wx.login and POST /v1/session for a new one."}},
	{werun.ErrInvalidBase64, Error{Status: http.StatusBadRequest, Code: "INVALID_BASE64", Message: "encryptedData and iv must be the base64 strings wx.getWeRunData returned, sent unchanged in a JSON body."}},
	{werun.ErrInvalidIV, Error{Status: http.StatusBadRequest, Code: "INVALID_IV", Message: "iv must be the 24-character base64 iv that wx.getWeRunData returned with this encryptedData."}},
	{werun.ErrInvalidEncryptedData, Error{Status: http.StatusBadRequest, Code: "INVALID_ENCRYPTED_DATA", Message: "encryptedData is not whole AES blocks: send it exactly as wx.getWeRunData returned it."}},
	{werun.ErrNoSessionKey, Error{Status: http.StatusUnprocessableEntity, Code: "NO_SESSION_KEY", Message: "The server holds no session key for this user: " + reLogin + "."}},
	{werun.ErrDecryptFailed, Error{Status: http.StatusUnprocessableEntity, Code: "DECRYPT_FAILED", Message: "The data does not decrypt with any session key held for this user: " + reLogin + "."}},
	{werun.ErrWrongApp, Error{Status: http.StatusUnprocessableEntity, Code: "WRONG_APPID", Message: "The data was issued to another mini program: check that the backend's WECHAT_APPID is this mini program's AppID."}},
	{werun.ErrStaleData, Error{Status: http.StatusUnprocessableEntity, Code: "STALE_DATA", Message: "The data is too old (or dated in the future): call wx.getWeRunData again and send the result at once."}},
	{werun.ErrNoStepData, Error{Status: http.StatusUnprocessableEntity, Code: "NO_STEP_DATA", Message: "The data holds no step list: send what wx.getWeRunData returned."}},
	{werun.ErrInvalidStepData, Error{Status: http.StatusUnprocessableEntity, Code: "INVALID_STEP_DATA", Message: "The step data is not a usable WeRun step list (impossible counts or not WeRun data): call wx.getWeRunData again."}},
	{werun.ErrMalformedCode, Error{Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "code must be the code wx.login returned, unchanged: at most 256 letters, digits and - _ . ~ + / = characters."}},
	{werun.ErrMalformedCloudID, Error{Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "cloudID must be the cloudID wx.getWeRunData returned, unchanged: at most 1024 letters, digits and - _ . ~ + / = characters."}},
	{werun.ErrInvalidRange, Error{Status: http.StatusBadRequest, Code: "INVALID_RANGE", Message: "from and to must be dates like 2026-01-31, from not after to, at most 366 days apart."}},
	{werun.ErrBoardDate, Error{Status: http.StatusBadRequest, Code: "INVALID_RANGE", Message: "date must be a date like 2026-01-31, one of the last 31 days (China Standard Time)."}},
	{werun.ErrInvalidNickname, Error{Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "nickname must be 1 to 32 characters after trimming spaces, with no control, invisible or direction-changing character (emoji sequences are fine)."}},
	{werun.ErrInvalidAvatar, Error{Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "avatarUrl must be empty or an https:// link of at most 1024 bytes to a host name (no IP address, port, user name, spaces, quotes or angle brackets): upload the chosen avatar to your own storage first."}},
	{werun.ErrInvalidCursor, Error{Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "cursor must be the cursor of the previous page, unchanged."}},
	{werun.ErrNicknameRejected, Error{Status: http.StatusUnprocessableEntity, Code: "NICKNAME_REJECTED", Message: "WeChat's content check rejected the nickname: ask the user for another one."}},
	{werun.ErrNoGroupData, Error{Status: http.StatusUnprocessableEntity, Code: "NO_GROUP_DATA", Message: "The data names no group: send what wx.getShareInfo, wx.getGroupEnterInfo or wx.getChatToolInfo returned in a group chat."}},
	{werun.ErrGroupNotFound, Error{Status: http.StatusNotFound, Code: "GROUP_NOT_FOUND", Message: "No such group among the caller's groups: join it with POST /v1/groups first."}},
	{werun.ErrFriendNotFound, Error{Status: http.StatusNotFound, Code: "FRIEND_NOT_FOUND", Message: "No such friend among the caller's friends."}},
	{werun.ErrInvalidInvite, Error{Status: http.StatusUnprocessableEntity, Code: "INVALID_INVITE", Message: "The invite code is unknown, expired (after 7 days) or the caller's own: ask the friend for a new share card."}},
	{werun.ErrLimitReached, Error{Status: http.StatusUnprocessableEntity, Code: "LIMIT_REACHED", Message: "A limit is reached: a group holds at most 500 members, a user at most 200 groups and 1000 friends. Leave a group or remove a friend first."}},
	{werun.ErrInvalidCode, Error{Status: http.StatusBadRequest, Code: "INVALID_CODE", Message: "WeChat refused the code (unknown, expired or already used): call wx.login for a new one (a code works once, for about five minutes)."}},
	{werun.ErrUserBlocked, Error{Status: http.StatusUnprocessableEntity, Code: "USER_BLOCKED", Message: "WeChat blocks this user as high-risk (40226); nothing can be synced for them."}},
	{werun.ErrCloudIDExpired, Error{Status: http.StatusUnprocessableEntity, Code: "CLOUDID_EXPIRED", Message: "The cloudID has expired or is not this user's: call wx.getWeRunData again and send the new cloudID at once (it lives about five minutes)."}},
	{werun.ErrRateLimited, Error{Status: http.StatusTooManyRequests, Code: "RATE_LIMITED", Message: "WeChat is rate-limiting this app: retry in a minute.", RetryAfter: 60}},
	{werun.ErrQuotaExhausted, Error{Status: http.StatusServiceUnavailable, Code: "WECHAT_QUOTA_EXHAUSTED", Message: "WeChat's daily quota for this app is spent: retry after Retry-After (an hour); the operator can reset the quota with WeChat's clear_quota.", RetryAfter: 3600}},
	{werun.ErrWeChatConfig, Error{Status: http.StatusBadGateway, Code: "WECHAT_CONFIG", Message: "WeChat refused the backend's request: the operator must check the function's log for WeChat's error code, and the AppID, AppSecret, IP whitelist and API permissions."}},
	{werun.ErrWeChatUnavailable, Error{Status: http.StatusBadGateway, Code: "WECHAT_UNAVAILABLE", Message: "WeChat did not answer usefully; retry in a few seconds, nothing was lost.", RetryAfter: 5}},
	{werun.ErrUnavailable, Error{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: "The server is busy; retry in a second, it is safe to resend and nothing acknowledged was lost.", RetryAfter: 1}},
}

// classify turns any error into its answer; an unknown one is a 500 whose
// message says nothing of the cause.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, a := range answers {
		if errors.Is(err, a.class) {
			ans := a.ans
			// A refused name or link also says which rule it broke; the
			// reason never quotes the value.
			var d *display.Error
			if errors.As(err, &d) {
				ans.Message += " This one: " + d.Error() + "."
			}
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
