package fault_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// Every error the layers below export has an outward class, so none can
// surface as a 500; and a wrapped cause keeps its class.
func TestEveryLowerErrorHasOneOutwardClass(t *testing.T) {
	lower := []error{
		crypto.ErrTokenExpired, crypto.ErrTokenInvalid, crypto.ErrBase64, crypto.ErrIVSize,
		crypto.ErrCiphertextSize, crypto.ErrDecrypt, crypto.ErrWrongApp, crypto.ErrStale,
		steps.ErrNoSteps, steps.ErrInvalidSteps, steps.ErrMalformedPayload,
		store.ErrUnavailable, store.ErrLeaseLost,
		wechat.ErrInvalidCode, wechat.ErrCodeUsed, wechat.ErrRateLimited, wechat.ErrQuotaExhausted,
		wechat.ErrBlocked, wechat.ErrBusy, wechat.ErrTokenRejected, wechat.ErrCloudIDExpired,
		wechat.ErrBadCredential, wechat.ErrUnavailable, wechat.ErrBadAnswer, wechat.ErrRefused,
		context.DeadlineExceeded,
	}
	for _, cause := range lower {
		t.Run(cause.Error(), func(t *testing.T) {
			err := fmt.Errorf("somewhere: %w", cause)
			fault.Classify(&err)
			n := 0
			for _, c := range fault.All() {
				if errors.Is(err, c) {
					n++
				}
			}
			if n != 1 || !errors.Is(err, cause) {
				t.Errorf("%v: %d outward classes, cause kept %v; want exactly one and the cause", err, n, errors.Is(err, cause))
			}
		})
	}
}

func TestClassifyKeepsAClassAlreadyGiven(t *testing.T) {
	err := fmt.Errorf("%w: and then %w", fault.GroupNotFound, store.ErrUnavailable)
	fault.Classify(&err)
	if got := fault.Of(err); got != fault.GroupNotFound {
		t.Errorf("class %v, want GroupNotFound", got)
	}
}

func TestAnErrorOfNoClassStaysUnclassed(t *testing.T) {
	err := errors.New("a bug")
	fault.Classify(&err)
	if got := fault.Of(err); got != nil {
		t.Errorf("class %v, want none", got)
	}
}
