package metrics_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/metrics/emftest"
)

func TestEveryMetricIsOneValidEMFLine(t *testing.T) {
	for _, m := range metrics.All() {
		t.Run(m.Name, func(t *testing.T) {
			buf := emftest.Capture(t)
			dims := make([]string, len(m.Dimensions))
			want := map[string]string{}
			for i, d := range m.Dimensions {
				dims[i] = "v" + d
				want[d] = dims[i]
			}
			m.Add(context.Background(), 7, dims...)
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1: %s", len(lines), buf)
			}
			points, err := emftest.Parse([]byte(lines[0]))
			if err != nil {
				t.Fatalf("%v in %s", err, lines[0])
			}
			wantPoint := emftest.Point{Namespace: metrics.DefaultNamespace, Name: m.Name, Unit: string(m.Unit), Dimensions: want, Value: 7}
			if len(points) != 1 || !reflect.DeepEqual(points[0], wantPoint) {
				t.Errorf("points %+v, want [%+v]", points, wantPoint)
			}
		})
	}
}

func TestAMissingDimensionValueIsPublishedAsOther(t *testing.T) {
	buf := emftest.Capture(t)
	metrics.Requests.Add(context.Background(), 1, "session")
	points, err := emftest.Parse(bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := points[0].Dimensions["Outcome"]; got != metrics.Other {
		t.Errorf("Outcome %q, want %q", got, metrics.Other)
	}
}

func TestSetNamespaceAppliesToLaterLines(t *testing.T) {
	buf := emftest.Capture(t)
	metrics.SetNamespace("werun-sam/prod")
	t.Cleanup(func() { metrics.SetNamespace(metrics.DefaultNamespace) })
	metrics.Requests.Add(context.Background(), 1, "steps", metrics.OK)
	points, err := emftest.Points(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 1 || points[0].Namespace != "werun-sam/prod" {
		t.Errorf("points %+v, want one in werun-sam/prod", points)
	}
}

func TestDefinitionsAreDistinctAndDimensioned(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range metrics.All() {
		if seen[m.Name] {
			t.Errorf("metric %s defined twice", m.Name)
		}
		seen[m.Name] = true
		if len(m.Dimensions) == 0 || len(m.Dimensions) > 30 {
			t.Errorf("metric %s has %d dimensions, want 1 to 30", m.Name, len(m.Dimensions))
		}
	}
}

func TestStatusOutcomeClassesEveryStatus(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   string
	}{
		{http.StatusOK, metrics.OK},
		{http.StatusNoContent, metrics.OK},
		{http.StatusBadRequest, metrics.Refused},
		{http.StatusTooManyRequests, metrics.Refused},
		{http.StatusUnprocessableEntity, metrics.Refused},
		{http.StatusInternalServerError, metrics.Failed},
		{http.StatusServiceUnavailable, metrics.Failed},
		{0, metrics.Failed},
	} {
		if got := metrics.StatusOutcome(tt.status); got != tt.want {
			t.Errorf("StatusOutcome(%d) = %q, want %q", tt.status, got, tt.want)
		}
	}
}

// BenchmarkAdd is the cost of one EMF line, the price of a metric on the
// request path.
func BenchmarkAdd(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	defer slog.SetDefault(prev)
	ctx := context.Background()
	for b.Loop() {
		metrics.Requests.Add(ctx, 1, "decrypt", metrics.OK)
	}
}
