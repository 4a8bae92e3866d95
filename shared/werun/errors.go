package werun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// The outward classes of failure. Every error a Service method returns
// matches at most one of them with errors.Is, and still wraps its cause for
// the log; an error that matches none is a fault of the server itself. Each
// class is one thing the caller can do next, so package api maps each to
// exactly one answer.
var (
	// ErrTokenExpired: the session token is past its expiry.
	ErrTokenExpired = errors.New("werun: session token expired")
	// ErrTokenInvalid: the session token is malformed or not ours.
	ErrTokenInvalid = errors.New("werun: session token invalid")
	// ErrInvalidBase64: encryptedData or iv is not base64.
	ErrInvalidBase64 = errors.New("werun: encryptedData or iv is not base64")
	// ErrInvalidIV: the iv is not 16 bytes.
	ErrInvalidIV = errors.New("werun: iv is not 16 bytes")
	// ErrInvalidEncryptedData: encryptedData is not whole AES blocks.
	ErrInvalidEncryptedData = errors.New("werun: encryptedData is not whole AES blocks")
	// ErrNoSessionKey: the server holds no session key for the user, so
	// encryptedData cannot be opened until the mini program logs in again.
	ErrNoSessionKey = errors.New("werun: no session key held for the user")
	// ErrDecryptFailed: none of the held session keys opens the data.
	ErrDecryptFailed = errors.New("werun: no held session key decrypts the data")
	// ErrWrongApp: the watermark names another mini program.
	ErrWrongApp = errors.New("werun: data issued to another app")
	// ErrStaleData: the watermark is too old, or dated in the future.
	ErrStaleData = errors.New("werun: data too old")
	// ErrNoStepData: the plaintext holds no step list.
	ErrNoStepData = errors.New("werun: no step list")
	// ErrInvalidStepData: the plaintext is not a usable WeRun step list.
	ErrInvalidStepData = errors.New("werun: invalid step list")
	// ErrMalformedCode: the login code cannot be one wx.login gave (length
	// or characters); WeChat is not asked.
	ErrMalformedCode = errors.New("werun: malformed login code")
	// ErrMalformedCloudID: the cloudID cannot be one WeChat gave.
	ErrMalformedCloudID = errors.New("werun: malformed cloudID")
	// ErrInvalidRange: a date range that is malformed, reversed or too long.
	ErrInvalidRange = errors.New("werun: invalid date range")
	// ErrInvalidNickname: a nickname package display refuses (empty, too
	// long, or holding a character not shown as itself); the
	// *display.Error saying why is wrapped.
	ErrInvalidNickname = errors.New("werun: invalid nickname")
	// ErrInvalidAvatar: an avatarUrl package display refuses (not an
	// https:// link to a public or allowed host, or too long); the
	// *display.Error saying why is wrapped.
	ErrInvalidAvatar = errors.New("werun: invalid avatarUrl")
	// ErrNicknameRejected: WeChat's content check judged the nickname risky.
	ErrNicknameRejected = errors.New("werun: nickname rejected by the content check")
	// ErrNoGroupData: the open data names no group (openGId, opengid or
	// open_single_roomid).
	ErrNoGroupData = errors.New("werun: no group identity in the data")
	// ErrGroupNotFound: no such group, or the caller is not a member.
	ErrGroupNotFound = errors.New("werun: group not found")
	// ErrFriendNotFound: the memberId is not one of the caller's friends.
	ErrFriendNotFound = errors.New("werun: friend not found")
	// ErrInvalidInvite: an unknown, expired or own invite code.
	ErrInvalidInvite = errors.New("werun: invalid invite")
	// ErrLimitReached: a group, a user's groups or a user's friends are full.
	ErrLimitReached = errors.New("werun: limit reached")
	// ErrBoardDate: a board's date that is malformed or outside the window.
	ErrBoardDate = errors.New("werun: invalid board date")
	// ErrInvalidCursor: a cursor this API did not give.
	ErrInvalidCursor = errors.New("werun: invalid cursor")
	// ErrInvalidCode: WeChat refused the login code (unknown, expired, used).
	ErrInvalidCode = errors.New("werun: login code refused")
	// ErrUserBlocked: WeChat blocks the user as high-risk.
	ErrUserBlocked = errors.New("werun: user blocked by WeChat")
	// ErrCloudIDExpired: the cloudID is expired or not the caller's.
	ErrCloudIDExpired = errors.New("werun: cloudID expired")
	// ErrRateLimited: WeChat's per-minute limit for the app is spent.
	ErrRateLimited = errors.New("werun: WeChat rate limit")
	// ErrQuotaExhausted: WeChat's daily quota of an API is spent; it resets
	// at a time WeChat does not document, or when the operator clears it.
	ErrQuotaExhausted = errors.New("werun: WeChat daily quota exhausted")
	// ErrWeChatConfig: WeChat refused the backend itself (AppSecret, IP
	// whitelist, API permission); only the operator can fix it.
	ErrWeChatConfig = errors.New("werun: WeChat refused the backend")
	// ErrWeChatUnavailable: WeChat did not give a usable answer in time.
	ErrWeChatUnavailable = errors.New("werun: WeChat unavailable")
	// ErrUnavailable: storage, or the shared access token, is busy or slow.
	ErrUnavailable = errors.New("werun: temporarily unavailable")
)

// errTokenBusy: another container holds the refresh lease and has not
// published a token within the caller's deadline.
var errTokenBusy = errors.New("werun: access token refresh in progress elsewhere")

var outwardClasses = []error{
	ErrTokenExpired, ErrTokenInvalid, ErrInvalidBase64, ErrInvalidIV, ErrInvalidEncryptedData,
	ErrNoSessionKey, ErrDecryptFailed, ErrWrongApp, ErrStaleData, ErrNoStepData, ErrInvalidStepData,
	ErrMalformedCode, ErrMalformedCloudID, ErrInvalidRange, ErrInvalidCode, ErrUserBlocked, ErrCloudIDExpired, ErrRateLimited, ErrQuotaExhausted,
	ErrWeChatConfig, ErrWeChatUnavailable, ErrUnavailable,
	ErrInvalidNickname, ErrInvalidAvatar, ErrNicknameRejected, ErrNoGroupData, ErrGroupNotFound,
	ErrFriendNotFound, ErrInvalidInvite, ErrLimitReached, ErrBoardDate, ErrInvalidCursor,
}

// causes maps the errors of the layers below to their class; first match
// wins, so the specific WeChat classes come before ErrRefused, which matches
// every errcode.
var causes = []struct{ cause, class error }{
	{crypto.ErrTokenExpired, ErrTokenExpired},
	{crypto.ErrTokenInvalid, ErrTokenInvalid},
	{crypto.ErrBase64, ErrInvalidBase64},
	{crypto.ErrIVSize, ErrInvalidIV},
	{crypto.ErrCiphertextSize, ErrInvalidEncryptedData},
	{crypto.ErrDecrypt, ErrDecryptFailed},
	{crypto.ErrWrongApp, ErrWrongApp},
	{crypto.ErrStale, ErrStaleData},
	{steps.ErrNoSteps, ErrNoStepData},
	{steps.ErrInvalidSteps, ErrInvalidStepData},
	{steps.ErrMalformedPayload, ErrInvalidStepData},
	{wechat.ErrInvalidCode, ErrInvalidCode},
	{wechat.ErrCodeUsed, ErrInvalidCode},
	{wechat.ErrBlocked, ErrUserBlocked},
	{wechat.ErrCloudIDExpired, ErrCloudIDExpired},
	{wechat.ErrRateLimited, ErrRateLimited},
	{wechat.ErrQuotaExhausted, ErrQuotaExhausted},
	{wechat.ErrBadCredential, ErrWeChatConfig},
	{wechat.ErrBadAnswer, ErrWeChatUnavailable},
	{wechat.ErrTokenRejected, ErrWeChatUnavailable},
	{wechat.ErrBusy, ErrWeChatUnavailable},
	{wechat.ErrUnavailable, ErrWeChatUnavailable},
	{wechat.ErrRefused, ErrWeChatConfig},
	{errTokenBusy, ErrUnavailable},
	{store.ErrUnavailable, ErrUnavailable},
	{store.ErrLeaseLost, ErrUnavailable},
	{context.DeadlineExceeded, ErrUnavailable},
}

// classify gives *errp its outward class, keeping the cause wrapped. A
// Service method defers it over its named error result.
func classify(errp *error) {
	err := *errp
	if err == nil {
		return
	}
	for _, c := range outwardClasses {
		if errors.Is(err, c) {
			return
		}
	}
	for _, c := range causes {
		if errors.Is(err, c.cause) {
			*errp = fmt.Errorf("%w: %w", c.class, err)
			if c.class == ErrQuotaExhausted {
				logQuotaExhausted(err)
			}
			return
		}
	}
}

// logQuotaExhausted tells the operator which API ran out: every call of it
// fails until the quota resets, and only the operator can reset it early.
func logQuotaExhausted(err error) {
	var we *wechat.Error
	api := "unknown"
	if errors.As(err, &we) {
		api = we.Op
	}
	slog.Error("WeChat daily quota exhausted: every call of this API fails until WeChat resets it; the operator can reset it with clear_quota (see README)",
		"api", api, "errcode", 45009)
}
