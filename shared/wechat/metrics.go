package wechat

import (
	"context"
	"strconv"

	"github.com/werun-sam/werun-sam/shared/metrics"
)

// classes are the sentinels that name errcodes; their codes are the fixed
// set the WeChatErrors metric tells apart.
var classes = []error{ErrInvalidCode, ErrCodeUsed, ErrRateLimited, ErrBlocked, ErrBusy,
	ErrTokenRejected, ErrCloudIDExpired, ErrBadCredential}

// errcodeLabel is an errcode as the Errcode dimension: a code a sentinel
// names, else "other", since each distinct value is a billed metric.
func errcodeLabel(code int) string {
	for _, c := range classes {
		for _, k := range c.(*sentinel).codes {
			if k == code {
				return strconv.Itoa(code)
			}
		}
	}
	return metrics.Other
}

// refusal is an errcode WeChat answered: counted, then returned as an Error.
func refusal(ctx context.Context, op string, code int, msg string) *Error {
	metrics.WeChatErrors.Add(ctx, 1, errcodeLabel(code))
	return &Error{Op: op, Code: code, Msg: msg}
}
