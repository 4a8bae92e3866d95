package fault

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

// causes maps the errors of the layers below to their class; first match
// wins, so the specific WeChat classes come before wechat.ErrRefused, which
// matches every errcode.
var causes = []struct {
	cause error
	class *Class
}{
	{crypto.ErrTokenExpired, TokenExpired},
	{crypto.ErrTokenInvalid, TokenInvalid},
	{crypto.ErrBase64, InvalidBase64},
	{crypto.ErrIVSize, InvalidIV},
	{crypto.ErrCiphertextSize, InvalidEncryptedData},
	{crypto.ErrDecrypt, DecryptFailed},
	{crypto.ErrWrongApp, WrongApp},
	{crypto.ErrStale, StaleData},
	{steps.ErrNoSteps, NoStepData},
	{steps.ErrInvalidSteps, InvalidStepData},
	{steps.ErrMalformedPayload, InvalidStepData},
	{wechat.ErrInvalidCode, InvalidCode},
	{wechat.ErrCodeUsed, InvalidCode},
	{wechat.ErrBlocked, UserBlocked},
	{wechat.ErrCloudIDExpired, CloudIDExpired},
	{wechat.ErrRateLimited, RateLimited},
	{wechat.ErrQuotaExhausted, QuotaExhausted},
	{wechat.ErrBadCredential, WeChatConfig},
	{wechat.ErrBadAnswer, WeChatUnavailable},
	{wechat.ErrTokenRejected, WeChatUnavailable},
	{wechat.ErrBusy, WeChatUnavailable},
	{wechat.ErrUnavailable, WeChatUnavailable},
	{wechat.ErrRefused, WeChatConfig},
	{store.ErrUnavailable, Unavailable},
	{store.ErrLeaseLost, Unavailable},
	{context.DeadlineExceeded, Unavailable},
}

// Of returns err's class, or nil for an error of no class.
func Of(err error) *Class {
	var c *Class
	if errors.As(err, &c) {
		return c
	}
	return nil
}

// Classify gives *errp its outward class, keeping the cause wrapped. A use
// case defers it over its named error result.
func Classify(errp *error) {
	err := *errp
	if err == nil || Of(err) != nil {
		return
	}
	for _, c := range causes {
		if errors.Is(err, c.cause) {
			*errp = fmt.Errorf("%w: %w", c.class, err)
			if c.class == QuotaExhausted {
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
