package bench

import "time"

// percentile is the nearest-rank percentile p (0..100) of sorted values.
func percentile[T float64 | time.Duration](sorted []T, p float64) T {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
