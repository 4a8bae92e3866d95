package day_test

import (
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

func TestPlausibleCountsStepsPerMinuteOfTheDayPassed(t *testing.T) {
	r := day.Rules{}.WithDefaults()
	start, _ := steps.ParseDate("2026-03-01")
	at := func(h, m int) int64 {
		return start.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).Unix()
	}
	for _, c := range []struct {
		name  string
		n, ts int64
		date  string
		want  bool
	}{
		{"250 a minute after one minute", 250, at(0, 1), "2026-03-01", true},
		{"251 after one minute", 251, at(0, 1), "2026-03-01", false},
		{"the cap late in the day", day.DefaultMaxBoardSteps, at(23, 59), "2026-03-01", true},
		{"over the cap", day.DefaultMaxBoardSteps + 1, at(23, 59), "2026-03-01", false},
		{"stamped the next day counts the whole day", 90000, at(30, 0), "2026-03-01", true},
		{"stamped before the day began", 1, at(-1, 0), "2026-03-01", false},
		{"a malformed date", 1, at(12, 0), "2026-3-1", false},
	} {
		if got := r.Plausible(c.n, c.ts, c.date); got != c.want {
			t.Errorf("%s: Plausible(%d) = %v, want %v", c.name, c.n, got, c.want)
		}
	}
}

func TestRetainedDropsDaysFromTheirExpiryOn(t *testing.T) {
	r := day.Rules{RetentionDays: 40}.WithDefaults()
	exp := r.Expiry("2026-01-01")
	if want := time.Date(2026, 2, 10, 0, 0, 0, 0, steps.CST); !exp.Equal(want) {
		t.Fatalf("Expiry = %v, want %v", exp, want)
	}
	days := []store.Day{{Date: "2026-01-01"}, {Date: "2026-01-02"}}
	got := r.Retained(days, exp)
	if len(got) != 1 || got[0].Date != "2026-01-02" {
		t.Errorf("Retained at the first day's expiry = %v, want only 2026-01-02", got)
	}
}

func TestARetentionShorterThanTheWindowCountsAsTheWindow(t *testing.T) {
	if got := (day.Rules{RetentionDays: 3}).WithDefaults().RetentionDays; got != steps.WindowDays {
		t.Errorf("RetentionDays = %d, want the window %d", got, steps.WindowDays)
	}
}

func TestBoardShardIsStableAndOneOfTheDaysShards(t *testing.T) {
	a := day.BoardShard("o-alice", "2026-03-01")
	if a != day.BoardShard("o-alice", "2026-03-01") {
		t.Fatal("BoardShard is not stable")
	}
	found := false
	for i := range day.Shards {
		found = found || a == day.Shard("2026-03-01", i)
	}
	if !found {
		t.Errorf("BoardShard = %q, not one of the day's %d shards", a, day.Shards)
	}
}
