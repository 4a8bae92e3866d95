package challenge

import (
	"time"

	dayrules "github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"

	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// day is a CST calendar date as a day number, so date arithmetic is
// integer arithmetic.
type day int

func parseDay(s string) (day, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return 0, false
	}
	return day(t.Unix() / 86400), true
}

func (d day) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

func (s *Service) today() day {
	d, _ := parseDay(steps.DateOf(s.now()))
	return d
}

// span is an event's days.
type span struct{ start, end day }

func spanOf(e eventstore.Event) span {
	a, _ := parseDay(e.Start)
	b, _ := parseDay(e.End)
	return span{a, b}
}

// counted is the last counted day at today, and whether any day counts.
func (p span) counted(today day) (day, bool) {
	last := min(today, p.end)
	return last, last >= p.start
}

// status is the event's status at today.
func (p span) status(today day) string {
	switch {
	case today < p.start:
		return "upcoming"
	case today <= p.end:
		return "running"
	}
	return "ended"
}

// final: the day after endDate still brings the last day's data.
func (p span) final(today day) bool { return today > p.end+1 }

// hide is a mark's hide date: the window start at which the mark is read
// for the last time, on endDate + 1.
func (s *Service) hide(end string) string {
	d, _ := parseDay(end)
	return (d + 1 - day(s.window()-1)).String()
}

func (s *Service) window() int {
	if s.cfg.Window > 0 {
		return s.cfg.Window
	}
	return steps.WindowDays
}

// rules are what credits a day: the event's goal and cap, and the fair
// board's limits.
type rules struct {
	goal, cap int64
	days      dayrules.Rules
}

func (s *Service) rulesOf(goal, cap int64) rules {
	return rules{goal: goal, cap: cap, days: s.cfg.Days}
}

// credit is a day's credited steps and whether it is a goal day. A day kept
// off the boards earns nothing, the cap included.
func (r rules) credit(n, stampedAt int64, date string) (int64, bool) {
	if n <= 0 || !r.days.Plausible(n, stampedAt, date) {
		return 0, false
	}
	if r.cap > 0 {
		n = min(n, r.cap)
	}
	return n, n >= r.goal
}

// creditedDays is the credited steps of each day first..last, from the
// stored days, with their total and goal days. A participant's kept total
// is always what this gives (a recount sets it so, each credit moves it by
// a day's change of credit), and the exports show it day by day.
func (r rules) creditedDays(stored []store.Day, first, last day) (credits []int64, total int64, goalDays int) {
	credits = make([]int64, max(0, int(last-first)+1))
	for _, d := range stored {
		at, ok := parseDay(d.Date)
		if !ok || at < first || at > last {
			continue
		}
		c, met := r.credit(d.Steps, d.SourceTS, d.Date)
		credits[at-first] = c
		total += c
		if met {
			goalDays++
		}
	}
	return credits, total, goalDays
}

// validName is a displayed name by display's rules (NFC, trimmed, no
// character that does not show as itself outside an emoji sequence), or
// false.
func validName(s string, maxLen int) (string, bool) {
	name, err := display.Name(s, maxLen)
	return name, err == nil
}
