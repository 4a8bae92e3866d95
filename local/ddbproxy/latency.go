package ddbproxy

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Dist is how per-request delays are spread around the mean.
type Dist string

const (
	Uniform Dist = "uniform" // evenly within Mean ± Spread
	Normal  Dist = "normal"  // Spread is the standard deviation; cut at 0
)

// Latency is a delay added before every forwarded request, e.g. 4 ms ± 2:
// Latency{Mean: 4 * time.Millisecond, Spread: 2 * time.Millisecond}. The
// delays come from a generator seeded with Seed, so the same seed gives
// the same sequence of delays (in the order requests reach the proxy).
// The zero Latency adds none.
type Latency struct {
	Mean   time.Duration
	Spread time.Duration
	Dist   Dist // "" is Uniform
	Seed   uint64
}

// LatencyError says what is wrong with a Latency.
type LatencyError struct{ Reason string }

func (e *LatencyError) Error() string { return "ddbproxy: latency: " + e.Reason }

func (l *Latency) check() error {
	if l.Dist == "" {
		l.Dist = Uniform
	}
	switch {
	case l.Mean < 0 || l.Spread < 0:
		return &LatencyError{"mean and spread must be 0 or more"}
	case l.Dist != Uniform && l.Dist != Normal:
		return &LatencyError{fmt.Sprintf("dist %q is not uniform or normal", l.Dist)}
	}
	return nil
}

// Sampler returns the delays the proxy adds for l, one per call, in order.
// It is not safe for concurrent use.
func (l Latency) Sampler() func() time.Duration {
	rng := rand.New(rand.NewPCG(l.Seed, l.Seed))
	return func() time.Duration {
		var d float64
		switch l.Dist {
		case Normal:
			d = float64(l.Mean) + rng.NormFloat64()*float64(l.Spread)
		default:
			d = float64(l.Mean) + (2*rng.Float64()-1)*float64(l.Spread)
		}
		return time.Duration(max(d, 0))
	}
}

// LatencyState is the latency in force and what it has added so far.
type LatencyState struct {
	Latency
	Delayed int           // requests delayed
	Added   time.Duration // the sum of their delays
}
