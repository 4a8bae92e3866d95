package ddbproxy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Action is what a rule does to a request it acts on.
type Action string

const (
	// Fail answers 500 InternalServerError, as DynamoDB does, without
	// forwarding.
	Fail Action = "fail"
	// Throttle answers 400 with Rule.Code (ProvisionedThroughputExceededException
	// unless given), without forwarding.
	Throttle Action = "throttle"
	// Late holds the request for Rule.Hold, then forwards it: the write
	// lands after its client may have given up.
	Late Action = "late"
	// Drop holds the request for Rule.Hold (0: not at all), then closes
	// the connection without forwarding or answering.
	Drop Action = "drop"
)

// UntilReleased as Rule.Hold holds each request until Release (or Reset,
// or Close), however long that is.
const UntilReleased = time.Duration(math.MaxInt64)

// The DynamoDB error codes Throttle answers with (the SDK's standard
// retryer retries both).
const (
	CodeProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	CodeThrottling                    = "ThrottlingException"
)

// Rule says which requests to act on and how. A request matches when its
// operation and one of its partition-key values (see Keys) fit; the rule
// lets the first Skip matching requests through, then acts on the next
// Count (0: on every one after). Each HTTP request is one match, so each
// retry of the SDK is another: a Fail with Count 3 fails three attempts,
// and the caller's fourth attempt gets through.
type Rule struct {
	Op        string        // the X-Amz-Target operation, e.g. "PutItem" ("": any)
	KeyPrefix string        // a prefix of a partition-key value, e.g. "GROUP#" ("": any request)
	Skip      int           // matching requests let through first
	Count     int           // matching requests acted on after those (0: all)
	Action    Action        // what to do
	Hold      time.Duration // Late and Drop: how long to hold (UntilReleased: until Release)
	Code      string        // Throttle: CodeProvisionedThroughputExceeded (default) or CodeThrottling
}

// RuleError says what is wrong with a rule.
type RuleError struct {
	Field, Reason string
}

func (e *RuleError) Error() string { return "ddbproxy: rule " + e.Field + ": " + e.Reason }

// ErrRemoved is Handle.Wait's error once its rule is removed.
var ErrRemoved = errors.New("ddbproxy: rule removed")

func (r *Rule) check() error {
	switch {
	case r.Skip < 0:
		return &RuleError{"skip", "must be 0 or more"}
	case r.Count < 0:
		return &RuleError{"count", "must be 0 (every request) or more"}
	case r.Hold < 0:
		return &RuleError{"hold", "must be 0 or more"}
	}
	switch r.Action {
	case Fail:
	case Throttle:
		if r.Code == "" {
			r.Code = CodeProvisionedThroughputExceeded
		}
		if r.Code != CodeProvisionedThroughputExceeded && r.Code != CodeThrottling {
			return &RuleError{"code", fmt.Sprintf("must be %s or %s", CodeProvisionedThroughputExceeded, CodeThrottling)}
		}
	case Late:
		if r.Hold == 0 {
			return &RuleError{"hold", "a late forward needs a hold (a duration, or until released)"}
		}
	case Drop:
	default:
		return &RuleError{"action", fmt.Sprintf("%q is not one of fail, throttle, late, drop", r.Action)}
	}
	if r.Code != "" && r.Action != Throttle {
		return &RuleError{"code", "only a throttle has a code"}
	}
	if r.Hold != 0 && r.Action != Late && r.Action != Drop {
		return &RuleError{"hold", "only late and drop hold a request"}
	}
	return nil
}

func (r *Rule) matches(op string, keys []string) bool {
	if r.Op != "" && r.Op != op {
		return false
	}
	if r.KeyPrefix == "" {
		return true
	}
	for _, k := range keys {
		if strings.HasPrefix(k, r.KeyPrefix) {
			return true
		}
	}
	return false
}

// Handle is an added rule: it signals each request the rule acts on and
// releases the ones it holds.
type Handle struct {
	p       *Proxy
	id      int
	rule    Rule
	arrived chan *Request

	// under p.mu
	seen, acted int
	held        []*Request
}

// arrivedBuffer is how many signals a rule without a Count keeps unread;
// later ones are not signalled (the requests are still acted on).
const arrivedBuffer = 4096

// ID is the rule's number in the control API (/_proxy/rules/{id}).
func (h *Handle) ID() int { return h.id }

// Arrived receives each request the rule acts on, in the order they
// arrive, as soon as the rule has taken it (a held one is held by then).
// It is closed when the rule is removed.
func (h *Handle) Arrived() <-chan *Request { return h.arrived }

// Wait returns the next request the rule acts on (the next unread of
// Arrived), or ctx's error, or ErrRemoved.
func (h *Handle) Wait(ctx context.Context) (*Request, error) {
	select {
	case r, ok := <-h.arrived:
		if !ok {
			return nil, ErrRemoved
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Release lets every request the rule holds now go on: a Late one is
// forwarded, a Drop one is cut off. Requests that arrive later are held
// again.
func (h *Handle) Release() {
	h.p.mu.Lock()
	held := h.held
	h.held = nil
	h.p.mu.Unlock()
	for _, r := range held {
		r.Release()
	}
}

// Remove ends the rule (it matches nothing more) and releases what it
// holds.
func (h *Handle) Remove() { h.p.remove(func(x *Handle) bool { return x == h }) }

// Stats says how many requests the rule has matched, acted on, and holds.
func (h *Handle) Stats() Stats {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	return Stats{h.seen, h.acted, len(h.held)}
}

// Stats are a rule's counts.
type Stats struct {
	Seen, Acted, Holding int
}

// Request is one request a rule acted on.
type Request struct {
	Seq  int      // its place among the requests the proxy received, from 1
	Rule int      // the rule's ID
	Op   string   // its operation
	Keys []string // the partition-key values it names

	p       *Proxy
	release chan struct{}
	done    chan struct{}
	// under p.mu
	outcome  string
	released bool
}

// Release ends the request's hold (nothing for one that is not held, or
// not any more).
func (r *Request) Release() {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	if !r.released {
		r.released = true
		close(r.release)
	}
}

// Done is closed when the proxy is through with the request: answered,
// forwarded late and answered by DynamoDB (the write has landed), or cut
// off.
func (r *Request) Done() <-chan struct{} { return r.done }

// Outcome says what became of the request so far, e.g. "held",
// "forwarded late: 200", "dropped".
func (r *Request) Outcome() string {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	return r.outcome
}
