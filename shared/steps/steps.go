// Package steps owns the WeRun domain: the WeRun plaintext
// ({"stepInfoList":[...],"watermark":{...}}), a day in China Standard Time,
// the validation of a step list into days, and the difference between what
// is stored and what came in. It is pure: no I/O, no clock of its own (every
// function that needs "now" takes it).
package steps

import (
	"errors"
	"fmt"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

// CST is China Standard Time: UTC+8 all year, no DST, so a fixed zone needs
// no tzdata in the Lambda image.
var CST = time.FixedZone("UTC+8", cstOffset)

const (
	cstOffset = 8 * 3600
	secPerDay = 24 * 3600

	// WindowDays is how many days WeRun reports: today and the 30 before.
	WindowDays = 31
	// MaxSteps is the most steps believed for one day; more is a forged
	// or broken payload.
	MaxSteps = 200000
)

// Errors of this package.
var (
	ErrMalformedPayload = errors.New("steps: payload is not WeRun JSON")
	ErrInvalidSteps     = errors.New("steps: step list has an invalid entry")
	ErrNoSteps          = errors.New("steps: step list is empty")
)

// Entry is one element of WeRun's stepInfoList: the steps of the day that
// starts (in WeChat's examples, exactly) at Timestamp, Unix seconds.
type Entry struct {
	Timestamp int64 `json:"timestamp"`
	Step      int64 `json:"step"`
}

// Payload is a decrypted WeRun plaintext, or the "data" of a cloudID.
type Payload struct {
	StepInfoList []Entry          `json:"stepInfoList"`
	Watermark    crypto.Watermark `json:"watermark"`
}

// Day is the steps of one calendar day in CST.
type Day struct {
	Date  string `json:"date"` // YYYY-MM-DD in CST
	Steps int64  `json:"steps"`
}

// DateOf is t's calendar date in CST, as YYYY-MM-DD.
func DateOf(t time.Time) string {
	return t.In(CST).Format(time.DateOnly)
}

// FirstDate is the first date of the window that ends today (CST) at now:
// today minus WindowDays-1 days.
func FirstDate(now time.Time) string {
	return formatDays([]int64{dayNumber(now.Unix()) - (WindowDays - 1)})[0]
}

// Validate turns a step list into days: each entry is bucketed by its CST
// date (not trusting it to be aligned to midnight), entries of one date are
// merged by taking the larger count, and the days come back in ascending
// date order. The days are those of the window that ends today, the same
// days FirstDate starts and every read covers: a day one before the window
// is dropped, not refused, since data fetched just before midnight carries
// it after midnight. It refuses the whole list (ErrInvalidSteps) if any
// entry has steps outside 0..MaxSteps or a date after today or older than
// that, and an empty list with ErrNoSteps.
func Validate(entries []Entry, now time.Time) ([]Day, error) {
	if len(entries) == 0 {
		return nil, ErrNoSteps
	}
	today := dayNumber(now.Unix())
	first := today - (WindowDays - 1)
	// One slot per possible date: no map and no sort on the hot path.
	var steps [WindowDays]int64
	var seen [WindowDays]bool
	for i, e := range entries {
		if e.Step < 0 || e.Step > MaxSteps {
			return nil, fmt.Errorf("%w: entry %d has %d steps", ErrInvalidSteps, i, e.Step)
		}
		d := dayNumber(e.Timestamp)
		if d > today || d < first-1 {
			return nil, fmt.Errorf("%w: entry %d is dated outside the last %d days", ErrInvalidSteps, i, WindowDays)
		}
		if d < first {
			continue // the day before the window: past midnight, no longer kept
		}
		k := d - first
		if !seen[k] || e.Step > steps[k] {
			steps[k], seen[k] = e.Step, true
		}
	}
	nums := make([]int64, 0, len(seen))
	for k := range seen {
		if seen[k] {
			nums = append(nums, first+int64(k))
		}
	}
	dates := formatDays(nums)
	days := make([]Day, len(nums))
	for i, d := range nums {
		days[i] = Day{Date: dates[i], Steps: steps[d-first]}
	}
	return days, nil
}

// Diff returns the incoming days that would change what is stored: those
// absent from stored (so a 0-step day is new) or with more steps than
// stored. Step counts only grow within a day; a smaller count is a stale
// payload. The result is nil when nothing changed, and keeps incoming's
// order.
func Diff(stored map[string]int64, incoming []Day) []Day {
	var out []Day
	for _, d := range incoming {
		if s, ok := stored[d.Date]; !ok || d.Steps > s {
			out = append(out, d)
		}
	}
	return out
}

// dayNumber is the number of the CST day holding Unix time ts, counted
// from 1970-01-01 (CST); floored, so it is right before 1970 too.
func dayNumber(ts int64) int64 {
	const maxTS = 1<<63 - 1 - cstOffset
	if ts > maxTS {
		ts = maxTS
	}
	s := ts + cstOffset
	d := s / secPerDay
	if s%secPerDay < 0 {
		d--
	}
	return d
}

// formatDays formats day numbers as YYYY-MM-DD into one shared string, so
// a month of dates costs one allocation instead of thirty-one.
func formatDays(nums []int64) []string {
	out := make([]string, len(nums))
	const n = len(time.DateOnly)
	for _, d := range nums {
		if y, _, _ := civil(d); y < 0 || y > 9999 {
			// Not four digits: only for an absurd clock; let the time
			// package spell it.
			for i, d := range nums {
				out[i] = time.Unix(d*secPerDay, 0).UTC().Format(time.DateOnly)
			}
			return out
		}
	}
	buf := make([]byte, 0, n*len(nums))
	for _, d := range nums {
		y, m, dd := civil(d)
		buf = appendDigits(buf, int(y), 4)
		buf = append(buf, '-')
		buf = appendDigits(buf, m, 2)
		buf = append(buf, '-')
		buf = appendDigits(buf, dd, 2)
	}
	all := string(buf)
	for i := range out {
		out[i] = all[i*n : (i+1)*n]
	}
	return out
}

func appendDigits(b []byte, v, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

// civil converts days since 1970-01-01 into a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(days int64) (year int64, month, day int) {
	z := days + 719468
	era := z / 146097
	if z%146097 < 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, int(m), int(d)
}

// ParseDate reads a CST day written exactly "YYYY-MM-DD" and returns its
// first instant. Every date the API takes is read here.
func ParseDate(date string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, CST)
	if err != nil || d.Format(time.DateOnly) != date {
		return time.Time{}, fmt.Errorf("steps: %q is not a date like 2026-01-31", date)
	}
	return d, nil
}
