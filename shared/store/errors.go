package store

import "github.com/werun-sam/werun-sam/shared/store/ddb"

// ErrUnavailable and ErrInvalidArgument are ddb's: every store package's
// calls fail with them.
var (
	// ErrUnavailable: DynamoDB throttled, failed or timed out beyond the
	// retries; the request may be retried later (HTTP 503).
	ErrUnavailable = ddb.ErrUnavailable
	// ErrInvalidArgument: an empty openid, appid or holder, or a cursor
	// this store did not give.
	ErrInvalidArgument = ddb.ErrInvalidArgument
)
