package wechat

import (
	"strconv"
	"strings"
)

// Error is a failed WeChat call. Code is WeChat's errcode when WeChat
// answered with one; it is 0 when the call failed before WeChat could
// answer (transport, HTTP status, undecodable body) or answered success
// without what the call needs. Use errors.Is with the Err* sentinels
// rather than comparing codes.
//
// Error() names the operation and the code, never the AppSecret, an access
// token, a session key or a request URL: net/http's own errors carry the
// full URL with secret= and access_token=, so the client unwraps them
// before they reach an Error.
type Error struct {
	Op   string // "jscode2session", "stable_token" or "getopendata"
	Code int    // WeChat errcode; 0 when WeChat gave none
	Msg  string // WeChat's errmsg, or what went wrong on the way

	kind  *sentinel // for Code 0: ErrUnavailable or ErrBadAnswer
	cause error     // a sanitized cause (e.g. context.DeadlineExceeded), for errors.Is
	// renewCode: jscode2session was refused with an AppSecret since
	// replaced; the login code may be spent, so it is ErrInvalidCode too.
	renewCode bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wechat: ")
	b.WriteString(e.Op)
	switch {
	case e.Code != 0:
		b.WriteString(": errcode ")
		b.WriteString(strconv.Itoa(e.Code))
	case e.kind != nil:
		b.WriteString(": ")
		b.WriteString(e.kind.name)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Is reports whether target is a sentinel this error belongs to.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	if !ok {
		return false
	}
	if s == refused {
		return e.Code != 0
	}
	if e.renewCode && target == ErrInvalidCode {
		return true
	}
	if e.Code == 0 {
		return e.kind == s
	}
	for _, c := range s.codes {
		if c == e.Code {
			return true
		}
	}
	for _, c := range s.opCodes {
		if c.op == e.Op && c.code == e.Code {
			return true
		}
	}
	return false
}

// Unwrap gives the sanitized cause, so errors.Is(err,
// context.DeadlineExceeded) works on a call cut short by its context.
func (e *Error) Unwrap() error { return e.cause }

// sentinel is a class of failures, matched by (*Error).Is through its
// errcodes (or, for failures without a code, by identity).
type sentinel struct {
	name  string
	codes []int
	// opCodes are errcodes that mean this class only from one operation:
	// WeChat's generic ones take their meaning from the call.
	opCodes []opCode
}

type opCode struct {
	op   string
	code int
}

func (s *sentinel) Error() string { return "wechat: " + s.name }

// Sentinels for errors.Is. One class may cover several errcodes.
var (
	// ErrInvalidCode: the login code is unknown, malformed or expired
	// (40029), or was refused with an AppSecret that has since been
	// reloaded (ReloadSecretWith): a new wx.login code logs in.
	ErrInvalidCode error = &sentinel{name: "invalid code", codes: []int{40029}}
	// ErrCodeUsed: the login code was already exchanged (40163).
	ErrCodeUsed error = &sentinel{name: "code already used", codes: []int{40163}}
	// ErrRateLimited: the per-minute frequency limit is hit (45011). Not retried.
	ErrRateLimited error = &sentinel{name: "rate limited", codes: []int{45011}}
	// ErrQuotaExhausted: the API's daily call quota is spent (45009). Not
	// retried: WeChat does not document when it resets; the operator can
	// reset it with clear_quota.
	ErrQuotaExhausted error = &sentinel{name: "daily quota exhausted", codes: []int{45009}}
	// ErrBlocked: WeChat blocks this user as high-risk (40226).
	ErrBlocked error = &sentinel{name: "user blocked", codes: []int{40226}}
	// ErrBusy: WeChat's "system busy" (-1), still so after the retries.
	ErrBusy error = &sentinel{name: "busy", codes: []int{-1}}
	// ErrTokenRejected: the access token is invalid (40001) or expired
	// (42001). Not retried here: the caller refreshes the token and retries once.
	ErrTokenRejected error = &sentinel{name: "access token rejected", codes: []int{40001, 42001}}
	// ErrCloudIDExpired: the cloudID is past its ~5 minute life (-601006),
	// whether WeChat says so for the call or for the entry. getopendata
	// answers a cloudID it does not know, or one issued to another openid,
	// with "invalid args" (40097): the client sent a cloudID it cannot use.
	ErrCloudIDExpired error = &sentinel{name: "cloudID expired", codes: []int{-601006}, opCodes: []opCode{{"getopendata", 40097}}}
	// ErrBadCredential: the app's own configuration is wrong: invalid appid
	// (40013), invalid secret (40125), caller IP not whitelisted (40164).
	ErrBadCredential error = &sentinel{name: "bad app credential", codes: []int{40013, 40125, 40164}}
	// ErrUnavailable: WeChat could not be reached or gave no usable answer
	// (transport failure, timeout, HTTP 5xx, undecodable body), after retries.
	ErrUnavailable error = unavailable
	// ErrBadAnswer: WeChat answered success without what the call needs (no
	// openid or session_key, no access_token, no entry for a requested cloudID).
	ErrBadAnswer error = badAnswer
	// ErrRefused: any errcode at all. It is the class of last resort, for
	// codes no sentinel above names (48001 "api unauthorized", say), so a
	// caller can tell a refusal from a failure to get an answer.
	ErrRefused error = refused
)

// The kinds of failure that carry no errcode.
var (
	unavailable = &sentinel{name: "unavailable"}
	badAnswer   = &sentinel{name: "incomplete answer"}
	refused     = &sentinel{name: "refused"}
)
