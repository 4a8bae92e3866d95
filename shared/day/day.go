// Package day holds the rules of a stored day of steps: how long it is kept
// (the retention), whether its count may stand on a board (plausibility),
// and which index partition of the app-wide board it falls in (the shard).
// Its dates are steps' CST days.
package day

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Defaults of Rules.
const (
	DefaultRetentionDays     = 400
	DefaultMaxBoardSteps     = 100000
	DefaultMaxStepsPerMinute = 250
)

// Rules are the operator's rules of a stored day; a zero field is its
// default.
type Rules struct {
	// RetentionDays is how long a day is kept after its date; less than the
	// synced window counts as the window (steps.WindowDays), which every
	// sync would write again.
	RetentionDays     int
	MaxBoardSteps     int64 // a day above this is kept off the boards
	MaxStepsPerMinute int64 // ... and one above this many per minute of the day passed
}

// WithDefaults fills each zero field with its default.
func (r Rules) WithDefaults() Rules {
	if r.RetentionDays <= 0 {
		r.RetentionDays = DefaultRetentionDays
	}
	r.RetentionDays = max(r.RetentionDays, steps.WindowDays)
	if r.MaxBoardSteps <= 0 {
		r.MaxBoardSteps = DefaultMaxBoardSteps
	}
	if r.MaxStepsPerMinute <= 0 {
		r.MaxStepsPerMinute = DefaultMaxStepsPerMinute
	}
	return r
}

// Expiry is when a day of date stops being kept: RetentionDays after it.
func (r Rules) Expiry(date string) time.Time {
	d, err := steps.ParseDate(date)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, r.RetentionDays)
}

// Retained drops the days past their expiry at now, which DynamoDB's TTL
// may not have deleted yet (it takes up to two days).
func (r Rules) Retained(days []store.Day, now time.Time) []store.Day {
	return slices.DeleteFunc(days, func(d store.Day) bool { return !now.Before(r.Expiry(d.Date)) })
}

// Plausible says whether a day's count may stand on a board: at most
// MaxBoardSteps, and at most MaxStepsPerMinute for each minute of the day
// (CST) that had passed when WeChat stamped the count.
func (r Rules) Plausible(n, stampedAt int64, date string) bool {
	if n > r.MaxBoardSteps {
		return false
	}
	start, err := steps.ParseDate(date)
	if err != nil {
		return false
	}
	minutes := min(max((stampedAt-start.Unix())/60, 0), 24*60)
	return n <= minutes*r.MaxStepsPerMinute
}

// Shards is how many index partitions one day's board is spread over, so
// that no partition runs hot.
const Shards = 16

// Shard is the index partition key of shard i of date's board.
func Shard(date string, i int) string { return fmt.Sprintf("%s#%02d", date, i) }

// BoardShard is the index partition a user's day falls in.
func BoardShard(openid, date string) string {
	h := fnv.New32a()
	h.Write([]byte(openid))
	return Shard(date, int(h.Sum32()%Shards))
}
