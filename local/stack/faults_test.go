package stack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFaultsAnswerTheNextRequestsThenPassThrough(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	f := &Faults{Next: next}
	do := func(method, path, body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		f.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
		return w
	}
	for _, tc := range []struct {
		name, fault, path string
		want              []int // statuses of three requests of path
		wantCode          string
		wantRetryAfter    string
	}{
		{"default 503 twice", `{"times":2,"retryAfter":1}`, "/v1/steps", []int{503, 503, 418}, "UNAVAILABLE", "1"},
		{"other path untouched", `{"times":1,"path":"/v1/session"}`, "/v1/steps", []int{418, 418, 418}, "", ""},
		{"status and code", `{"times":1,"status":401,"code":"TOKEN_EXPIRED"}`, "/v1/steps", []int{401, 418, 418}, "TOKEN_EXPIRED", ""},
		{"raw", `{"times":1,"status":500,"raw":true,"message":"Internal Server Error"}`, "/v1/steps", []int{500, 418, 418}, "", ""},
		{"cleared", `{"times":0}`, "/v1/steps", []int{418, 418, 418}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := do(http.MethodPost, PathFaults, tc.fault); w.Code != http.StatusOK {
				t.Fatalf("switch: %d %s", w.Code, w.Body)
			}
			for i, want := range tc.want {
				w := do(http.MethodGet, tc.path, "")
				if w.Code != want {
					t.Errorf("request %d: %d, want %d", i+1, w.Code, want)
				}
				if i > 0 || want == http.StatusTeapot {
					continue
				}
				var env struct {
					Error   struct{ Code string } `json:"error"`
					Message string                `json:"message"`
				}
				_ = json.Unmarshal(w.Body.Bytes(), &env)
				if env.Error.Code != tc.wantCode || w.Header().Get("Retry-After") != tc.wantRetryAfter {
					t.Errorf("answer %s Retry-After %q, want code %q Retry-After %q", w.Body, w.Header().Get("Retry-After"), tc.wantCode, tc.wantRetryAfter)
				}
				if tc.wantCode == "" && env.Message == "" {
					t.Errorf("raw answer %s has no message", w.Body)
				}
			}
			do(http.MethodPost, PathFaults, `{"times":0}`)
		})
	}
	for _, bad := range []string{`{"times":1,"status":200}`, `[`} {
		if w := do(http.MethodPost, PathFaults, bad); w.Code != http.StatusBadRequest {
			t.Errorf("switch %s: %d, want 400", bad, w.Code)
		}
	}
	if w := do(http.MethodGet, PathFaults, ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET switch: %d, want 405", w.Code)
	}
}
