package api

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/werun-sam/werun-sam/shared/fault"
)

// Every outward class has exactly one answer, and every answer belongs to a
// class: a class left out would otherwise be a silent 500.
func TestEveryClassHasOneAnswer(t *testing.T) {
	classes := fault.All()
	for _, c := range classes {
		if _, ok := answers[c]; !ok {
			t.Errorf("class %q has no answer in answers", c)
		}
	}
	for c := range answers {
		if !slices.Contains(classes, c) {
			t.Errorf("answers holds %v, which is not one of fault.All()", c)
		}
	}
}

// A wrapped class is answered with its own envelope, never the 500.
func TestAClassIsAnsweredThroughAWrappedChain(t *testing.T) {
	for _, c := range fault.All() {
		err := fmt.Errorf("handler: %w", fmt.Errorf("%w: cause", c))
		got := classify(err)
		if got.Status == http.StatusInternalServerError || got.Code != answers[c].Code {
			t.Errorf("%v answered %d %s, want %d %s", c, got.Status, got.Code, answers[c].Status, answers[c].Code)
		}
	}
}
