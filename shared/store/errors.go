package store

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// opError is what every DynamoStore method returns on failure. Its message
// names the operation and DynamoDB's error code only, never the request's
// item values nor the service's free-text message; the cause stays
// reachable with errors.As for debugging.
type opError struct {
	op          string
	err         error
	unavailable bool
}

func (e *opError) Error() string {
	msg := "store: " + e.op + ": "
	var apiErr smithy.APIError
	switch {
	case errors.Is(e.err, context.DeadlineExceeded):
		msg += "deadline exceeded"
	case errors.Is(e.err, context.Canceled):
		msg += "canceled"
	case errors.As(e.err, &apiErr):
		msg += "DynamoDB " + apiErr.ErrorCode()
	default:
		msg += "request failed"
	}
	if e.unavailable {
		msg += " (unavailable, retry later)"
	}
	return msg
}

func (e *opError) Unwrap() []error {
	if e.unavailable {
		return []error{ErrUnavailable, e.err}
	}
	return []error{e.err}
}

var transient = retry.IsErrorRetryables(retry.DefaultRetryables)

// wrap classifies err: anything the standard retryer would have retried
// (throttling, 5xx, transport errors), retries exhausted, and deadlines are
// ErrUnavailable.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var maxAttempts *retry.MaxAttemptsError
	unavailable := errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		errors.As(err, &maxAttempts) ||
		transient.IsErrorRetryable(err) == aws.TrueTernary
	return &opError{op: op, err: err, unavailable: unavailable}
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
