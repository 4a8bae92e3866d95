package wechat

import (
	"context"
	"testing"

	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/metrics/emftest"
)

// A refusal is counted by its errcode when a class names it for that
// operation, else as "other": the Errcode dimension stays a fixed set, and
// WeChatQuotaAlarm reads 45009.
func TestRefusalIsCountedByTheErrcodeItsOperationNames(t *testing.T) {
	tests := []struct {
		op   string
		code int
		want string
	}{
		{"jscode2session", 45009, "45009"},
		{"stable_token", 45009, "45009"},
		{"jscode2session", 45011, "45011"},
		{"stable_token", 40125, "40125"},
		{"getopendata", -601006, "-601006"},
		{"getopendata", 40097, "40097"},
		{"stable_token", 40097, metrics.Other},
		{"getopendata", 48001, metrics.Other},
	}
	log := emftest.Capture(t)
	for _, tt := range tests {
		log.Reset()
		e := refusal(context.Background(), tt.op, tt.code, "msg")
		if e.Op != tt.op || e.Code != tt.code {
			t.Errorf("refusal(%s, %d) = %+v", tt.op, tt.code, e)
		}
		points, err := emftest.Points(log.Bytes())
		if err != nil {
			t.Fatalf("%s %d: %v: %s", tt.op, tt.code, err, log.String())
		}
		if len(points) != 1 || points[0].Name != metrics.WeChatErrors.Name || points[0].Dimensions["Errcode"] != tt.want || points[0].Value != 1 {
			t.Errorf("%s errcode %d published %+v, want one WeChatErrors point with Errcode=%s", tt.op, tt.code, points, tt.want)
		}
	}
}
