package steps

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// cst builds a time in China Standard Time.
func cst(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, CST)
}

func TestDateOf(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"WeChat example midnight", time.Unix(1571673600, 0), "2019-10-22"},
		{"last second of a CST day", cst(2019, 10, 21, 23, 59, 59), "2019-10-21"},
		{"first second of the next", cst(2019, 10, 22, 0, 0, 0), "2019-10-22"},
		{"15:59:59 UTC is still that CST day", time.Date(2019, 10, 21, 15, 59, 59, 0, time.UTC), "2019-10-21"},
		{"16:00 UTC is the next CST day", time.Date(2019, 10, 21, 16, 0, 0, 0, time.UTC), "2019-10-22"},
		{"zone of the argument does not matter", time.Date(2019, 10, 21, 12, 0, 0, 0, time.FixedZone("PDT", -7*3600)), "2019-10-22"},
		{"leap day", cst(2024, 2, 29, 12, 0, 0), "2024-02-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DateOf(tt.t); got != tt.want {
				t.Fatalf("DateOf = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFirstDate(t *testing.T) {
	tests := []struct {
		now  time.Time
		want string
	}{
		{cst(2019, 10, 22, 0, 0, 0), "2019-09-22"},
		{cst(2019, 10, 22, 23, 59, 59), "2019-09-22"},
		{time.Date(2024, 3, 1, 15, 59, 59, 0, time.UTC), "2024-01-31"}, // 23:59:59 CST on Mar 1, leap year
		{time.Date(2024, 3, 1, 16, 0, 0, 0, time.UTC), "2024-02-01"},   // Mar 2 in CST
	}
	for _, tt := range tests {
		if got := FirstDate(tt.now); got != tt.want {
			t.Errorf("FirstDate(%v) = %s, want %s", tt.now, got, tt.want)
		}
	}
}

func TestFormatDaysAgreesWithTimePackage(t *testing.T) {
	var nums []int64
	for d := int64(-800_000); d < 2_950_000; d += 997 {
		nums = append(nums, d)
	}
	nums = append(nums, -719528, 2932896, -719529, 2932897) // 0000-01-01, 9999-12-31 and one past each
	got := formatDays(nums)
	for i, d := range nums {
		if want := time.Unix(d*secPerDay, 0).UTC().Format(time.DateOnly); got[i] != want {
			t.Fatalf("day %d: %s, want %s", d, got[i], want)
		}
	}
}

func TestValidate(t *testing.T) {
	now := cst(2019, 10, 22, 9, 30, 0)
	midnight := func(y int, m time.Month, d int) int64 { return cst(y, m, d, 0, 0, 0).Unix() }
	tests := []struct {
		name    string
		entries []Entry
		want    []Day
		err     error
	}{
		{"aligned midnights", []Entry{{midnight(2019, 10, 21), 5000}, {midnight(2019, 10, 22), 300}},
			[]Day{{"2019-10-21", 5000}, {"2019-10-22", 300}}, nil},
		{"unaligned timestamps bucket by CST date", []Entry{
			{cst(2019, 10, 20, 23, 59, 59).Unix(), 1},
			{cst(2019, 10, 21, 0, 0, 0).Unix(), 2},
			{cst(2019, 10, 21, 13, 7, 5).Unix(), 3},
		}, []Day{{"2019-10-20", 1}, {"2019-10-21", 3}}, nil},
		{"16:00 UTC starts the next CST day", []Entry{
			{time.Date(2019, 10, 20, 15, 59, 59, 0, time.UTC).Unix(), 10},
			{time.Date(2019, 10, 20, 16, 0, 0, 0, time.UTC).Unix(), 20},
		}, []Day{{"2019-10-20", 10}, {"2019-10-21", 20}}, nil},
		{"duplicates merged by max whatever the order", []Entry{
			{midnight(2019, 10, 22), 900}, {midnight(2019, 10, 22), 1200}, {midnight(2019, 10, 22), 1000},
		}, []Day{{"2019-10-22", 1200}}, nil},
		{"sorted ascending", []Entry{{midnight(2019, 10, 22), 3}, {midnight(2019, 9, 30), 1}, {midnight(2019, 10, 5), 2}},
			[]Day{{"2019-09-30", 1}, {"2019-10-05", 2}, {"2019-10-22", 3}}, nil},
		{"zero and max steps", []Entry{{midnight(2019, 10, 21), 0}, {midnight(2019, 10, 22), MaxSteps}},
			[]Day{{"2019-10-21", 0}, {"2019-10-22", MaxSteps}}, nil},
		{"30 days before today is the oldest kept", []Entry{{midnight(2019, 9, 22), 7}},
			[]Day{{"2019-09-22", 7}}, nil},
		{"31 days before today is accepted and dropped", []Entry{{midnight(2019, 9, 21), 7}, {midnight(2019, 10, 22), 8}},
			[]Day{{"2019-10-22", 8}}, nil},
		{"32 days before today is refused", []Entry{{midnight(2019, 9, 20), 7}}, nil, ErrInvalidSteps},
		{"last second of today", []Entry{{cst(2019, 10, 22, 23, 59, 59).Unix(), 7}},
			[]Day{{"2019-10-22", 7}}, nil},

		{"empty", nil, nil, ErrNoSteps},
		{"tomorrow", []Entry{{midnight(2019, 10, 23), 1}}, nil, ErrInvalidSteps},
		{"32 days before today", []Entry{{cst(2019, 9, 20, 23, 59, 59).Unix(), 1}}, nil, ErrInvalidSteps},
		{"negative steps", []Entry{{midnight(2019, 10, 22), -1}}, nil, ErrInvalidSteps},
		{"over max steps", []Entry{{midnight(2019, 10, 22), MaxSteps + 1}}, nil, ErrInvalidSteps},
		{"milliseconds instead of seconds", []Entry{{midnight(2019, 10, 22) * 1000, 1}}, nil, ErrInvalidSteps},
		{"one bad entry refuses the list", []Entry{{midnight(2019, 10, 21), 1}, {midnight(2019, 10, 23), 1}}, nil, ErrInvalidSteps},
		{"timestamp near max int", []Entry{{1<<63 - 1, 1}}, nil, ErrInvalidSteps},
		{"timestamp near min int", []Entry{{-1 << 63, 1}}, nil, ErrInvalidSteps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Validate(tt.entries, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateFixture(t *testing.T) {
	p, err := ParsePayload(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	days, err := Validate(p.StepInfoList, time.Unix(p.Watermark.Timestamp, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != WindowDays || days[0].Date != "2019-09-22" || days[30].Date != "2019-10-22" {
		t.Fatalf("days = %v", days)
	}
	if days[0].Date != FirstDate(time.Unix(p.Watermark.Timestamp, 0)) {
		t.Fatalf("a full WeRun list should start at FirstDate")
	}
}

func TestDiff(t *testing.T) {
	incoming := []Day{{"2019-10-20", 0}, {"2019-10-21", 5000}, {"2019-10-22", 300}}
	tests := []struct {
		name   string
		stored map[string]int64
		want   []Day
	}{
		{"nothing stored: all new, a 0-step day too", nil, incoming},
		{"same counts: nothing", map[string]int64{"2019-10-20": 0, "2019-10-21": 5000, "2019-10-22": 300}, nil},
		{"only grown days", map[string]int64{"2019-10-20": 0, "2019-10-21": 4000, "2019-10-22": 300},
			[]Day{{"2019-10-21", 5000}}},
		{"stored larger: stale payload writes nothing", map[string]int64{"2019-10-20": 10, "2019-10-21": 9000, "2019-10-22": 301}, nil},
		{"absent day among stored", map[string]int64{"2019-10-21": 5000, "2019-10-22": 300},
			[]Day{{"2019-10-20", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(tt.stored, incoming); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzValidate(f *testing.F) {
	now := cst(2019, 10, 22, 9, 30, 0)
	f.Add(int64(1571673600), int64(100), int64(1571587200), int64(200), int64(0))
	f.Add(int64(-1<<63), int64(-1), int64(1<<63-1), int64(MaxSteps+1), int64(86400))
	f.Fuzz(func(t *testing.T, ts1, s1, ts2, s2, shift int64) {
		entries := []Entry{{ts1, s1}, {ts2, s2}, {ts1 + shift%(40*secPerDay), s2}}
		days, err := Validate(entries, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidSteps) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		first, today := FirstDate(now), DateOf(now)
		for i, d := range days {
			if d.Steps < 0 || d.Steps > MaxSteps || d.Date < first || d.Date > today {
				t.Fatalf("bad day %v", d)
			}
			if i > 0 && days[i-1].Date >= d.Date {
				t.Fatalf("not strictly ascending: %v", days)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	p, err := ParsePayload(readFixture(b))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(p.Watermark.Timestamp, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(p.StepInfoList, now); err != nil {
			b.Fatal(err)
		}
	}
}
