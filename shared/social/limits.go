package social

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Admissions hold the limits under races without transactions. Every write
// that may add a member to a limited set (a group's members, a user's
// groups or friends) is first admitted on the set's tally: the set is
// counted (a strongly consistent Query), and the tally raised to the larger
// of that count and the last admission's promise, plus one, by a
// conditional UpdateItem; at the limit, it is refused. A promise counts for
// PromiseWindow after it was made, longer than a request lives, so an
// admitted write still in flight is counted by its promise, and a write
// admitted longer ago by the Query. A renewal of a current membership adds
// nobody and is not admitted: it is written only over a membership still
// current (store.Renew).
const (
	// PromiseWindow is how long an admission's promise counts: a request
	// lives at most 10 s (the functions' timeout), and the rest covers a
	// write in flight and the clocks of two containers.
	PromiseWindow = 30 * time.Second
	// admitTries bounds the reads and conditional writes of one admission:
	// only admissions that find no recent promise can lose to each other,
	// and the first winner's promise sends the others the way that cannot.
	admitTries = 4
)

// limited is one set an admission grows.
type limited struct {
	set   store.Limited
	limit int
	what  string // the set, for a refusal: "the group's members"
	// count reads the set's current members at now, but the caller's own
	// item: the write re-creates that one, and the admission counts it.
	count func(ctx context.Context, now time.Time) (int, error)
}

// full refuses when counted members leave no place.
func (l limited) full(counted int) error {
	if counted >= l.limit {
		return fmt.Errorf("%w: %s are %d, at most %d", fault.LimitReached, l.what, counted, l.limit)
	}
	return nil
}

// admit promises set one more member than counted, which was read after t0,
// or refuses with fault.LimitReached; after admitTries lost races it gives
// up with fault.Unavailable.
func (s *Service) admit(ctx context.Context, l limited, counted int, t0 time.Time) error {
	for try := 1; ; try++ {
		if err := l.full(counted); err != nil {
			return err
		}
		tally, err := s.store.Tally(ctx, l.set)
		if err != nil {
			return err
		}
		var won bool
		// A promise made before t0 minus the window is in the count: its
		// write has landed or never will.
		if tally.Version != 0 && tally.At.After(t0.Add(-PromiseWindow)) && tally.Promised >= counted {
			if tally.Promised >= l.limit {
				return fmt.Errorf("%w: %s are promised %d, at most %d", fault.LimitReached, l.what, tally.Promised, l.limit)
			}
			won, err = s.store.RaiseTally(ctx, l.set, l.limit, s.now())
		} else {
			won, err = s.store.ResetTally(ctx, l.set, tally, counted+1, s.now())
		}
		if err != nil || won {
			return err
		}
		if try == admitTries {
			return fmt.Errorf("%w: %s: %d admissions lost to racing ones", fault.Unavailable, l.what, try)
		}
		t0 = s.now()
		if counted, err = l.count(ctx, t0); err != nil {
			return err
		}
	}
}

// admitAll runs the admissions at once; each was counted after t0. A set
// full by its count is refused before any admission writes; when one is
// refused later, the others' promises stay, each holding a place until
// its window ends.
func (s *Service) admitAll(ctx context.Context, t0 time.Time, sets []limited, counted []int) error {
	for i, l := range sets {
		if err := l.full(counted[i]); err != nil {
			return err
		}
	}
	var g errgroup.Group
	for i, l := range sets {
		g.Go(func() error { return s.admit(ctx, l, counted[i], t0) })
	}
	return g.Wait()
}

// without is n less the caller's own item when present.
func without(n int, present bool) int {
	if present {
		return n - 1
	}
	return n
}
