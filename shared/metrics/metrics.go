// Package metrics owns the operational metrics the functions publish and
// their wire format, CloudWatch's Embedded Metric Format (EMF): each data
// point is one JSON log line that CloudWatch Logs turns into a metric, so
// publishing costs no API call and no time on the request path.
//
// AWS's EMF client libraries cover Node.js, Python, Java and .NET, and
// Powertools has none for Go; the Go packages that exist are community ones
// AWS does not maintain. So the lines are written through log/slog (the
// functions' logger) and checked against the specification by emftest.
//
// Every dimension value is drawn from a fixed set (route names, outcome
// classes, error codes, a fixed list of WeChat errcodes plus "other"):
// each combination is a billed custom metric, so no caller may pass a
// user's data or a free-form string as a dimension value.
package metrics

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// DefaultNamespace is the CloudWatch namespace until SetNamespace; the
// functions set their METRICS_NAMESPACE (shared/app), one per stack.
const DefaultNamespace = "werun-sam"

// Unit is a CloudWatch unit.
type Unit string

// The units used here.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric is one metric: its name, unit and its one dimension set.
// Alarms and the dashboard in template.yaml name these and nothing else.
type Metric struct {
	Name       string
	Unit       Unit
	Dimensions []string
}

// The metrics the functions publish.
var (
	// Requests counts API requests by route name and Outcome.
	Requests = Metric{"Requests", Count, []string{"Route", "Outcome"}}
	// Errors counts error answers by their envelope code (WECHAT_CONFIG, ...).
	Errors = Metric{"Errors", Count, []string{"Code"}}
	// DaysChanged is, per successful sync, the number of days it changed.
	DaysChanged = Metric{"DaysChanged", Count, []string{"Route"}}
	// DecryptFailures counts syncs refused for their data, by error code.
	DecryptFailures = Metric{"DecryptFailures", Count, []string{"Cause"}}
	// WeChatErrors counts errcodes WeChat answered, by Errcode (a fixed set
	// of codes, else "other").
	WeChatErrors = Metric{"WeChatErrors", Count, []string{"Errcode"}}
	// TokenRefreshes counts access-token fetches from WeChat by Outcome.
	TokenRefreshes = Metric{"TokenRefreshes", Count, []string{"Outcome"}}
	// RefreshUsers is, per scheduled run, the users on today's board.
	RefreshUsers = Metric{"RefreshUsers", Count, []string{"Outcome"}}
	// RefreshDuration is how long a scheduled run took.
	RefreshDuration = Metric{"RefreshDuration", Milliseconds, []string{"Outcome"}}
)

// All lists every metric the functions publish.
func All() []Metric {
	return []Metric{Requests, Errors, DaysChanged, DecryptFailures, WeChatErrors, TokenRefreshes, RefreshUsers, RefreshDuration}
}

// Outcome values: of a request by its status class, or of an operation.
const (
	OK      = "ok"      // 2xx, or an operation that succeeded
	Refused = "refused" // 4xx: the caller must change something
	Failed  = "failed"  // 5xx, or an operation that failed
	Other   = "other"   // a value outside a dimension's fixed set
)

// StatusOutcome classes an HTTP status.
func StatusOutcome(status int) string {
	switch {
	case status >= 500 || status < 200:
		return Failed
	case status >= 400:
		return Refused
	default:
		return OK
	}
}

// ErrOutcome is OK for a nil error, else Failed.
func ErrOutcome(err error) string {
	if err != nil {
		return Failed
	}
	return OK
}

var namespace atomic.Pointer[string]

// SetNamespace sets the CloudWatch namespace of every metric published
// after it; a function sets its METRICS_NAMESPACE once, at start.
func SetNamespace(ns string) { namespace.Store(&ns) }

func currentNamespace() string {
	if ns := namespace.Load(); ns != nil {
		return *ns
	}
	return DefaultNamespace
}

// directive is an EMF MetricDirective.
type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// Add publishes one value of m, with the dimension values in the order of
// m.Dimensions, as one EMF line through slog's default logger (JSON on
// stdout in the functions). Missing dimension values are published as
// Other, so a caller's mistake cannot yield an invalid line.
func (m Metric) Add(ctx context.Context, value float64, dims ...string) {
	attrs := make([]slog.Attr, 0, len(m.Dimensions)+2)
	attrs = append(attrs, slog.Group("_aws",
		slog.Int64("Timestamp", time.Now().UnixMilli()),
		slog.Any("CloudWatchMetrics", []directive{{
			Namespace:  currentNamespace(),
			Dimensions: [][]string{m.Dimensions},
			Metrics:    []definition{{m.Name, m.Unit}},
		}}),
	))
	for i, d := range m.Dimensions {
		v := Other
		if i < len(dims) && dims[i] != "" {
			v = dims[i]
		}
		attrs = append(attrs, slog.String(d, v))
	}
	attrs = append(attrs, slog.Float64(m.Name, value))
	// At Info: a LoggingConfig.ApplicationLogLevel above INFO would make
	// Lambda drop the lines, and with them the metrics.
	slog.LogAttrs(ctx, slog.LevelInfo, "metric", attrs...)
}
