package emftest

import (
	"bytes"
	"log/slog"
	"testing"
)

// Capture points slog's default logger at a buffer, as JSON, the way the
// functions log, until t ends.
func Capture(t testing.TB) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// Points returns the points of every EMF line in log (one JSON object a
// line); other lines are skipped, and an EMF line that breaks the
// specification is an error.
func Points(log []byte) ([]Point, error) {
	var all []Point
	for line := range bytes.Lines(log) {
		line = bytes.TrimSpace(line)
		if !IsEMF(line) {
			continue
		}
		points, err := Parse(line)
		if err != nil {
			return nil, err
		}
		all = append(all, points...)
	}
	return all, nil
}
