package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"

	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/metrics/emftest"
)

// A function publishes a value with its dimension values, in the order of
// the metric's Dimensions; the line is JSON through slog, which CloudWatch
// Logs reads as EMF.
func ExampleMetric_Add() {
	var log bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&log, nil)))
	defer slog.SetDefault(prev)

	metrics.Requests.Add(context.Background(), 1, "decrypt", metrics.StatusOutcome(200))

	points, err := emftest.Parse(log.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	p := points[0]
	fmt.Println(p.Namespace, p.Name, p.Unit, p.Dimensions, p.Value)
	// Output: werun-sam Requests Count map[Outcome:ok Route:decrypt] 1
}
