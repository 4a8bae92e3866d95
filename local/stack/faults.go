package stack

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// PathFaults is the local API's fault switch (only with Options.Faults):
// POST {"times":N,"status":503,"code":"UNAVAILABLE","retryAfter":1,"path":"/v1/..."}
// makes the next N API requests (of path, or of any route when path is
// empty) answer status with that code in the envelope and Retry-After,
// without reaching a function; "raw":true answers API Gateway's own
// {"message":...} instead of the envelope. times 0 clears. It lets a
// client's tests provoke what no local dependency fails at on demand.
const PathFaults = "/_local/fail"

// Faults wraps an API with the fault switch.
type Faults struct {
	Next http.Handler

	mu    sync.Mutex
	fault *apiFault
}

type apiFault struct {
	Times      int    `json:"times"`
	Status     int    `json:"status"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retryAfter"`
	Path       string `json:"path"`
	Raw        bool   `json:"raw"`
}

func (f *Faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathFaults {
		f.control(w, r)
		return
	}
	if a := f.take(r.URL.Path); a != nil {
		// Drain the body, as a function would have read it.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		if a.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(a.RetryAfter))
		}
		var body any = map[string]any{"error": map[string]string{"code": a.Code, "message": a.Message}}
		if a.Raw {
			body = map[string]string{"message": a.Message}
		}
		writeJSON(w, a.Status, body)
		return
	}
	f.Next.ServeHTTP(w, r)
}

// take counts one request against the fault and returns it, or nil.
func (f *Faults) take(path string) *apiFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.fault
	if a == nil || (a.Path != "" && a.Path != path) {
		return nil
	}
	if a.Times--; a.Times <= 0 {
		f.fault = nil
	}
	return a
}

func (f *Faults) control(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST with a JSON body"})
		return
	}
	a := &apiFault{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: "Injected by " + PathFaults + ": resend after Retry-After."}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(a); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON: " + err.Error()})
		return
	}
	if a.Status < 400 || a.Status > 599 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `"status" must be an error status (400..599)`})
		return
	}
	f.mu.Lock()
	f.fault = nil
	if a.Times > 0 {
		f.fault = a
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, a)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
