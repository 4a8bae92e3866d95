package wechattest

import (
	"net/http"
	"testing"
	"time"
)

func TestControlFailFailsTheNextCallsThenClears(t *testing.T) {
	s := NewServer(appID, secret)
	defer s.Close()
	status, a := send(t, http.MethodPost, s.URL+PathControlFail, map[string]any{"path": PathStableToken, "errcode": 45009, "times": 2})
	if status != http.StatusOK {
		t.Fatalf("/_sim/fail: %d %v", status, a)
	}
	for i, want := range []int{45009, 45009, 0} {
		if got := stableToken(t, s, false).errcode(); got != want {
			t.Errorf("stable_token #%d: errcode %d, want %d", i+1, got, want)
		}
	}
}

func TestControlDelayDelaysUntilCleared(t *testing.T) {
	s := NewServer(appID, secret)
	defer s.Close()
	send(t, http.MethodPost, s.URL+PathControlDelay, map[string]any{"path": PathStableToken, "ms": 300})
	start := time.Now()
	stableToken(t, s, false)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("delayed stable_token answered after %s, want >= 300ms", d)
	}
	send(t, http.MethodPost, s.URL+PathControlDelay, map[string]any{"path": PathStableToken, "ms": 0})
	if d := s.delay(PathStableToken); d != 0 {
		t.Errorf("after ms 0 the delay is %s, want none", d)
	}
}

func TestControlFaultsRefuseBadRequests(t *testing.T) {
	s := NewServer(appID, secret)
	defer s.Close()
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"GET", http.MethodGet, PathControlFail, nil, http.StatusMethodNotAllowed},
		{"unknown path", http.MethodPost, PathControlFail, map[string]any{"path": "/nope", "errcode": -1, "times": 1}, http.StatusBadRequest},
		{"no path", http.MethodPost, PathControlDelay, map[string]any{"ms": 10}, http.StatusBadRequest},
		{"not JSON", http.MethodPost, PathControlDelay, "[", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, a := send(t, tc.method, s.URL+tc.path, tc.body); status != tc.want || a.str("error") == "" {
				t.Errorf("status %d %v, want %d with an error", status, a, tc.want)
			}
		})
	}
}
