package fault_test

import (
	"errors"
	"fmt"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
)

func leaveGroup() (err error) {
	defer fault.Classify(&err)
	return fmt.Errorf("reading the membership: %w", store.ErrUnavailable)
}

func ExampleClassify() {
	err := leaveGroup()
	fmt.Println(fault.Of(err) == fault.Unavailable, errors.Is(err, store.ErrUnavailable))
	// Output: true true
}
