package wechat

import (
	"context"
	"errors"
	"strconv"

	"github.com/werun-sam/werun-sam/shared/metrics"
)

// classes are the sentinels that name errcodes; the codes they name are the
// fixed set the WeChatErrors metric tells apart.
var classes = []error{ErrInvalidCode, ErrCodeUsed, ErrRateLimited, ErrQuotaExhausted, ErrBlocked,
	ErrBusy, ErrTokenRejected, ErrCloudIDExpired, ErrBadCredential}

// errcodeLabel is e's errcode as the Errcode dimension: a code a sentinel
// names for e's operation, else "other", since each distinct value is a
// billed metric.
func errcodeLabel(e *Error) string {
	for _, c := range classes {
		if errors.Is(e, c) {
			return strconv.Itoa(e.Code)
		}
	}
	return metrics.Other
}

// refusal is an errcode WeChat answered: counted, then returned as an Error.
func refusal(ctx context.Context, op string, code int, msg string) *Error {
	e := &Error{Op: op, Code: code, Msg: msg}
	metrics.WeChatErrors.Add(ctx, 1, errcodeLabel(e))
	return e
}
