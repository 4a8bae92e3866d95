// Package stats holds the order statistics the bench reports: percentiles
// of measured samples, and durations in milliseconds.
package stats

import (
	"fmt"
	"time"
)

// Percentile is the nearest-rank percentile p (0..100) of sorted values.
func Percentile[T float64 | time.Duration](sorted []T, p float64) T {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Ms formats a duration in milliseconds with one decimal.
func Ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
