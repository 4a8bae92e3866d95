package api

import (
	"context"
	"net/http"

	"github.com/werun-sam/werun-sam/shared/metrics"
)

// syncRoutes are the routes that take step data; a 422 on them is the data
// being refused (no key, wrong key, stale, not a step list), counted by cause.
var syncRoutes = map[string]bool{"decrypt": true, "cloudid": true}

// record publishes a request's metrics: its outcome by route, its error code,
// and for a sync the days it changed or why its data was refused. Every
// dimension value comes from this package's fixed names and codes.
func record(ctx context.Context, route string, status int, code string, body any) {
	metrics.Requests.Add(ctx, 1, route, metrics.StatusOutcome(status))
	if code != "" {
		metrics.Errors.Add(ctx, 1, code)
		if syncRoutes[route] && status == http.StatusUnprocessableEntity {
			metrics.DecryptFailures.Add(ctx, 1, code)
		}
		return
	}
	if r, ok := body.(SyncResponse); ok && syncRoutes[route] {
		metrics.DaysChanged.Add(ctx, float64(r.Changed), route)
	}
}
