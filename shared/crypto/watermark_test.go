package crypto

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestWatermarkCheck(t *testing.T) {
	const app = "wx4f4bc4dec97d474b"
	now := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	tests := []struct {
		name   string
		w      Watermark
		appid  string
		maxAge time.Duration
		want   error
	}{
		{"fresh", Watermark{app, at(-time.Minute)}, app, time.Hour, nil},
		{"exactly max age", Watermark{app, at(-time.Hour)}, app, time.Hour, nil},
		{"one second too old", Watermark{app, at(-time.Hour - time.Second)}, app, time.Hour, ErrStale},
		{"zero max age means default", Watermark{app, at(-59 * time.Minute)}, app, 0, nil},
		{"default is an hour", Watermark{app, at(-61 * time.Minute)}, app, 0, ErrStale},
		{"clock skew within five minutes", Watermark{app, at(5 * time.Minute)}, app, time.Hour, nil},
		{"too far in the future", Watermark{app, at(5*time.Minute + time.Second)}, app, time.Hour, ErrStale},
		{"another app", Watermark{"wx0000000000000000", at(0)}, app, time.Hour, ErrWrongApp},
		{"no appid configured", Watermark{"", at(0)}, "", time.Hour, ErrWrongApp},
		{"missing watermark", Watermark{}, app, time.Hour, ErrWrongApp},
		{"timestamp zero", Watermark{app, 0}, app, time.Hour, ErrStale},
		{"timestamp min int", Watermark{app, math.MinInt64}, app, time.Hour, ErrStale},
		{"timestamp max int", Watermark{app, math.MaxInt64}, app, time.Hour, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.w.Check(tt.appid, now, tt.maxAge); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
