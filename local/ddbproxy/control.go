package ddbproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The control API, served beside the DynamoDB endpoint (DynamoDB's own
// requests are POST /, so nothing collides). JSON in and out; durations
// are Go duration strings ("250ms", "2s"), a hold may be "until-released".
//
//	POST   /_proxy/rules              add a rule: {"op":"PutItem","keyPrefix":"GROUP#","skip":0,"count":1,
//	                                  "action":"fail|throttle|late|drop","hold":"2s","code":"ThrottlingException"}
//	                                  201 with the rule, its "id" and counts
//	GET    /_proxy/rules              the rules with their counts (seen, acted, holding)
//	DELETE /_proxy/rules              remove every rule, releasing what they hold
//	DELETE /_proxy/rules/{id}         remove one
//	POST   /_proxy/rules/{id}/release release what the rule holds now
//	GET    /_proxy/rules/{id}/wait?acted=N&timeout=30s
//	                                  answer once the rule has acted on N requests (default 1);
//	                                  504 when timeout (default 30s) passes first
//	GET    /_proxy/log                the requests rules acted on or skipped (seq, rule, op, keys, outcome)
//	PUT    /_proxy/latency            {"mean":"4ms","spread":"2ms","dist":"uniform|normal","seed":1}
//	GET    /_proxy/latency            the latency and what it added ("delayed", "added")
//	DELETE /_proxy/latency            no added latency
//	POST   /_proxy/reset              no rules, no latency, an empty log
const controlPrefix = "/_proxy/"

// controlMux is the control API of p.
func (p *Proxy) controlMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /_proxy/rules", p.postRule)
	m.HandleFunc("GET /_proxy/rules", p.getRules)
	m.HandleFunc("DELETE /_proxy/rules", func(w http.ResponseWriter, r *http.Request) {
		p.remove(func(*Handle) bool { return true })
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("DELETE /_proxy/rules/{id}", p.withRule(func(h *Handle, w http.ResponseWriter, r *http.Request) {
		h.Remove()
		w.WriteHeader(http.StatusNoContent)
	}))
	m.HandleFunc("POST /_proxy/rules/{id}/release", p.withRule(func(h *Handle, w http.ResponseWriter, r *http.Request) {
		h.Release()
		writeJSON(w, http.StatusOK, h.state())
	}))
	m.HandleFunc("GET /_proxy/rules/{id}/wait", p.withRule(waitRule))
	m.HandleFunc("GET /_proxy/log", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, p.Log())
	})
	m.HandleFunc("PUT /_proxy/latency", p.putLatency)
	m.HandleFunc("GET /_proxy/latency", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, latencyJSONOf(p.Latency()))
	})
	m.HandleFunc("DELETE /_proxy/latency", func(w http.ResponseWriter, r *http.Request) {
		_ = p.SetLatency(Latency{})
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /_proxy/reset", func(w http.ResponseWriter, r *http.Request) {
		p.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return m
}

func (p *Proxy) withRule(f func(h *Handle, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		h, ok := p.rule(id)
		if err != nil || !ok {
			writeError(w, http.StatusNotFound, "no rule "+r.PathValue("id"))
			return
		}
		f(h, w, r)
	}
}

// duration is a time.Duration as a Go duration string in JSON.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) {
	if time.Duration(d) == UntilReleased {
		return json.Marshal("until-released")
	}
	return json.Marshal(time.Duration(d).String())
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration is a string such as "250ms"`)
	}
	if s == "until-released" {
		*d = duration(UntilReleased)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`%q is not a duration such as "250ms"`, s)
	}
	*d = duration(v)
	return nil
}

type ruleJSON struct {
	ID        int      `json:"id,omitempty"`
	Op        string   `json:"op,omitempty"`
	KeyPrefix string   `json:"keyPrefix,omitempty"`
	Skip      int      `json:"skip"`
	Count     int      `json:"count"`
	Action    Action   `json:"action"`
	Hold      duration `json:"hold,omitempty"`
	Code      string   `json:"code,omitempty"`
	Seen      int      `json:"seen"`
	Acted     int      `json:"acted"`
	Holding   int      `json:"holding"`
}

// state is the rule as the control API shows it (it takes p.mu).
func (h *Handle) state() ruleJSON {
	s := h.Stats()
	r := h.rule
	return ruleJSON{ID: h.id, Op: r.Op, KeyPrefix: r.KeyPrefix, Skip: r.Skip, Count: r.Count, Action: r.Action,
		Hold: duration(r.Hold), Code: r.Code, Seen: s.Seen, Acted: s.Acted, Holding: s.Holding}
}

func (p *Proxy) postRule(w http.ResponseWriter, r *http.Request) {
	var in ruleJSON
	if !readJSON(w, r, &in) {
		return
	}
	h, err := p.Add(Rule{Op: in.Op, KeyPrefix: in.KeyPrefix, Skip: in.Skip, Count: in.Count, Action: in.Action, Hold: time.Duration(in.Hold), Code: in.Code})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, h.state())
}

func (p *Proxy) getRules(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	rules := append([]*Handle(nil), p.rules...)
	p.mu.Unlock()
	out := make([]ruleJSON, len(rules))
	for i, h := range rules {
		out[i] = h.state()
	}
	writeJSON(w, http.StatusOK, out)
}

// waitRule polls: a control client has no channel to select on, and a
// rule acts on few requests.
func waitRule(h *Handle, w http.ResponseWriter, r *http.Request) {
	n, timeout := 1, 30*time.Second
	var err error
	if v := r.URL.Query().Get("acted"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "acted must be a number of requests, 1 or more")
			return
		}
	}
	if v := r.URL.Query().Get("timeout"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			writeError(w, http.StatusBadRequest, `timeout must be a duration such as "10s"`)
			return
		}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for h.Stats().Acted < n {
		select {
		case <-deadline.C:
			writeError(w, http.StatusGatewayTimeout, fmt.Sprintf("rule %d acted on %d of %d requests within %s", h.id, h.Stats().Acted, n, timeout))
			return
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
	writeJSON(w, http.StatusOK, h.state())
}

type latencyJSON struct {
	Mean    duration `json:"mean"`
	Spread  duration `json:"spread"`
	Dist    Dist     `json:"dist"`
	Seed    uint64   `json:"seed"`
	Delayed int      `json:"delayed"`
	Added   duration `json:"added"`
}

func latencyJSONOf(s LatencyState) latencyJSON {
	return latencyJSON{duration(s.Mean), duration(s.Spread), s.Dist, s.Seed, s.Delayed, duration(s.Added)}
}

func (p *Proxy) putLatency(w http.ResponseWriter, r *http.Request) {
	var in latencyJSON
	if !readJSON(w, r, &in) {
		return
	}
	if err := p.SetLatency(Latency{Mean: time.Duration(in.Mean), Spread: time.Duration(in.Spread), Dist: in.Dist, Seed: in.Seed}); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, latencyJSONOf(p.Latency()))
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
