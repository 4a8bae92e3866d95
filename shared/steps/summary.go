package steps

import "time"

// Summary is what a mini program shows beside the history: it is computed
// from the stored window at read time, so it is right across a day boundary
// without anything having to rewrite it.
type Summary struct {
	Date       string `json:"date"` // today, China Standard Time
	Today      int64  `json:"today"`
	Yesterday  int64  `json:"yesterday"`
	Last7      int64  `json:"last7"`  // today and the six days before
	Last30     int64  `json:"last30"` // today and the 29 days before
	Average7   int64  `json:"average7"`
	Average30  int64  `json:"average30"`
	Goal       int64  `json:"goal"`
	Streak     int    `json:"streak"` // days in a row at or above Goal, ending today (or yesterday, while today is short)
	BestDay    *Day   `json:"bestDay"`
	LastSyncAt string `json:"lastSyncAt,omitempty"` // RFC 3339, when a sync last changed a day
}

// Summarize computes the summary of days (any order, at most one per date)
// as of now.
func Summarize(days []Day, now time.Time, goal int64) Summary {
	today := DateOf(now)
	byDate := make(map[string]int64, len(days))
	for _, d := range days {
		byDate[d.Date] = d.Steps
	}
	s := Summary{Date: today, Goal: goal}
	t := now.In(CST)
	for i := 0; i < 30; i++ {
		n := byDate[DateOf(t.AddDate(0, 0, -i))]
		if i == 0 {
			s.Today = n
		}
		if i == 1 {
			s.Yesterday = n
		}
		if i < 7 {
			s.Last7 += n
		}
		s.Last30 += n
	}
	s.Average7, s.Average30 = s.Last7/7, s.Last30/30
	start := 0
	if s.Today < goal {
		start = 1 // today is not over: a short day so far does not break the streak
	}
	for i := start; ; i++ {
		n, ok := byDate[DateOf(t.AddDate(0, 0, -i))]
		if !ok || n < goal {
			break
		}
		s.Streak++
	}
	for _, d := range days {
		if s.BestDay == nil || d.Steps > s.BestDay.Steps || (d.Steps == s.BestDay.Steps && d.Date > s.BestDay.Date) {
			best := d
			s.BestDay = &best
		}
	}
	return s
}
