package steps

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	now := time.Date(2031, 3, 10, 15, 0, 0, 0, CST)
	ago := func(n int) string { return DateOf(now.AddDate(0, 0, -n)) }
	day := func(n int, steps int64) Day { return Day{Date: ago(n), Steps: steps} }
	const goal = 10000
	tests := []struct {
		name string
		days []Day
		want Summary // Date and Goal are filled in; BestDay compared apart
		best *Day
	}{
		{"no days", nil, Summary{}, nil},
		{"totals and averages over 7 and 30 days",
			[]Day{day(0, 7000), day(1, 3000), day(6, 1000), day(7, 500), day(29, 200), day(30, 50)},
			Summary{Today: 7000, Yesterday: 3000, Last7: 11000, Average7: 1571, Last30: 11700, Average30: 390},
			&Day{ago(0), 7000}},
		{"today short does not break the streak",
			[]Day{day(0, 10), day(1, 10000), day(2, 12000), day(3, 9999)},
			Summary{Today: 10, Yesterday: 10000, Last7: 32009, Average7: 4572, Last30: 32009, Average30: 1066, Streak: 2},
			&Day{ago(2), 12000}},
		{"today at the goal counts",
			[]Day{day(0, 10000), day(1, 10000)},
			Summary{Today: 10000, Yesterday: 10000, Last7: 20000, Average7: 2857, Last30: 20000, Average30: 666, Streak: 2},
			&Day{ago(0), 10000}},
		{"a missing day ends the streak",
			[]Day{day(0, 11000), day(2, 11000), day(3, 11000)},
			Summary{Today: 11000, Last7: 33000, Average7: 4714, Last30: 33000, Average30: 1100, Streak: 1},
			&Day{ago(0), 11000}},
		{"a missing yesterday with today short: no streak",
			[]Day{day(0, 5), day(2, 11000)},
			Summary{Today: 5, Last7: 11005, Average7: 1572, Last30: 11005, Average30: 366},
			&Day{ago(2), 11000}},
		{"best day tie goes to the latest date, in any order",
			[]Day{day(2, 8000), day(0, 100), day(5, 8000)},
			Summary{Today: 100, Last7: 16100, Average7: 2300, Last30: 16100, Average30: 536},
			&Day{ago(2), 8000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.days, now, goal)
			if (got.BestDay == nil) != (tt.best == nil) || (got.BestDay != nil && *got.BestDay != *tt.best) {
				t.Errorf("best day = %+v, want %+v", got.BestDay, tt.best)
			}
			got.BestDay = nil
			want := tt.want
			want.Date, want.Goal = "2031-03-10", goal
			if got != want {
				t.Errorf("Summarize =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestSummarizeUsesChinaStandardTimeForToday(t *testing.T) {
	// 17:00 UTC on the 9th is 01:00 on the 10th in China.
	now := time.Date(2031, 3, 9, 17, 0, 0, 0, time.UTC)
	got := Summarize([]Day{{"2031-03-10", 42}, {"2031-03-09", 7}}, now, 10000)
	if got.Date != "2031-03-10" || got.Today != 42 || got.Yesterday != 7 {
		t.Errorf("Summarize at 01:00 CST = date %s, today %d, yesterday %d", got.Date, got.Today, got.Yesterday)
	}
}
