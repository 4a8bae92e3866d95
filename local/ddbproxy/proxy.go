// Package ddbproxy is the local stack's DynamoDB fault and latency proxy.
// It sits between the functions (or a test's SDK client) and dynalite and
// forwards DynamoDB's JSON-protocol requests (POST with X-Amz-Target)
// unchanged, answers included. Rules fail, throttle or stall requests
// chosen by operation and partition-key prefix, after a number of them and
// a number of times; a stalled request is forwarded late or dropped, after
// a hold or when a test releases it, so races are widened deterministically.
// A latency mode adds a fixed or distributed delay to every forwarded
// request. Rules and latency are set through the Go API or the control API
// the proxy serves under /_proxy/ (control.go).
package ddbproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proxy forwards to one DynamoDB endpoint.
type Proxy struct {
	// URL is where it listens, e.g. http://127.0.0.1:8000: the endpoint to
	// give the SDK (AWS_ENDPOINT_URL_DYNAMODB).
	URL string

	keys    Keys
	forward *httputil.ReverseProxy
	ctl     *http.ServeMux
	srv     *http.Server

	mu      sync.Mutex
	rules   []*Handle
	nextID  int
	seq     int
	log     []*Request
	latency LatencyState
	sample  func() time.Duration // nil: no latency
}

// logSize bounds the log; older entries go first.
const logSize = 10000

// Start serves a proxy to target (dynalite's URL) on addr (host:port, port
// 0 for any free one), matching key prefixes against keys. Close stops it.
func Start(addr, target string, keys Keys) (*Proxy, error) {
	to, err := url.Parse(target)
	if err != nil || to.Host == "" {
		return nil, errors.New("ddbproxy: target must be a URL such as http://127.0.0.1:8000")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{keys: keys}
	p.ctl = p.controlMux()
	p.forward = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(to)
			r.Out.Host = r.In.Host // as signed
		},
		// Bodies pass as they are: no gzip added by the transport.
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second},
		ErrorLog:  log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				http.Error(w, "ddbproxy: DynamoDB unreachable: "+err.Error(), http.StatusBadGateway)
			}
		},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	host, port, _ := net.SplitHostPort(l.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	p.URL = "http://" + net.JoinHostPort(host, port)
	return p, nil
}

// Close releases every held request and stops the proxy.
func (p *Proxy) Close() error {
	p.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		return p.srv.Close()
	}
	return nil
}

// Add adds a rule after those already there and returns its handle, or a
// *RuleError.
func (p *Proxy) Add(r Rule) (*Handle, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	buf := arrivedBuffer
	if r.Count > 0 {
		buf = r.Count
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	h := &Handle{p: p, id: p.nextID, rule: r, arrived: make(chan *Request, buf)}
	p.rules = append(p.rules, h)
	return h, nil
}

// rule is the handle of the rule with this ID, if it is still there.
func (p *Proxy) rule(id int) (*Handle, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.rules {
		if h.id == id {
			return h, true
		}
	}
	return nil, false
}

// SetLatency sets the delay added to every forwarded request (the zero
// Latency: none) and restarts its count; it returns a *LatencyError for
// a bad one.
func (p *Proxy) SetLatency(l Latency) error {
	if err := l.check(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency, p.sample = LatencyState{Latency: l}, nil
	if l.Mean > 0 || l.Spread > 0 {
		p.sample = l.Sampler()
	}
	return nil
}

// Latency is the latency in force and what it added.
func (p *Proxy) Latency() LatencyState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latency
}

// Reset removes every rule (releasing what they hold), the latency and
// the log.
func (p *Proxy) Reset() {
	p.remove(func(*Handle) bool { return true })
	_ = p.SetLatency(Latency{})
	p.mu.Lock()
	p.log = nil
	p.mu.Unlock()
}

// remove ends the rules that pick chooses and releases what they hold.
func (p *Proxy) remove(pick func(*Handle) bool) {
	p.mu.Lock()
	var gone []*Handle
	kept := p.rules[:0]
	for _, h := range p.rules {
		if pick(h) {
			gone = append(gone, h)
			close(h.arrived)
		} else {
			kept = append(kept, h)
		}
	}
	clear(p.rules[len(kept):])
	p.rules = kept
	p.mu.Unlock()
	for _, h := range gone {
		h.Release()
	}
}

// Log lists the requests rules acted on (and those a rule let through
// while skipping, with Outcome "skipped"), oldest first.
func (p *Proxy) Log() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Entry, len(p.log))
	for i, r := range p.log {
		out[i] = Entry{Seq: r.Seq, Rule: r.Rule, Op: r.Op, Keys: r.Keys, Outcome: r.outcome}
	}
	return out
}

// Entry is one line of the log.
type Entry struct {
	Seq     int      `json:"seq"`
	Rule    int      `json:"rule"`
	Op      string   `json:"op"`
	Keys    []string `json:"keys"`
	Outcome string   `json:"outcome"`
}

func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		p.ctl.ServeHTTP(w, r)
		return
	}
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	p.mu.Lock()
	ruled := len(p.rules) > 0
	p.mu.Unlock()
	// Without rules the body streams through. With them it is read first:
	// for its keys, and so a held request can still be forwarded after its
	// client has hung up.
	var keys []string
	if ruled {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client is gone
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		keys = p.keys.partitionKeys(op, body)
	}
	h, req := p.match(op, keys)
	if h == nil {
		p.forwardNow(w, r)
		return
	}
	defer close(req.done)
	switch h.rule.Action {
	case Fail:
		p.answer(req, w, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
	case Throttle:
		msg := "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
		typ := "com.amazonaws.dynamodb.v20120810#" + CodeProvisionedThroughputExceeded
		if h.rule.Code == CodeThrottling {
			msg, typ = "Rate of requests exceeds the allowed throughput.", "com.amazon.coral.availability#"+CodeThrottling
		}
		p.answer(req, w, http.StatusBadRequest, typ, msg)
	case Late:
		p.hold(req, h.rule.Hold, nil)
		// Forwarded whether or not the client is still there: that is the
		// point of a late write.
		rec := &statusRecorder{ResponseWriter: w}
		p.forwardNow(rec, r.WithContext(context.WithoutCancel(r.Context())))
		p.settle(req, "forwarded late: "+strconv.Itoa(rec.status))
	case Drop:
		p.hold(req, h.rule.Hold, r.Context().Done())
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		p.settle(req, "dropped")
	}
}

// match counts the request against every rule it fits and returns the
// earliest rule that acts on it, with the request as logged, or nil.
func (p *Proxy) match(op string, keys []string) (*Handle, *Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	var acting, skipping *Handle
	for _, h := range p.rules {
		if !h.rule.matches(op, keys) {
			continue
		}
		h.seen++
		switch {
		case h.seen <= h.rule.Skip:
			if skipping == nil {
				skipping = h
			}
		case acting == nil && (h.rule.Count == 0 || h.acted < h.rule.Count):
			acting = h
			h.acted++
		}
	}
	if acting == nil && skipping == nil {
		return nil, nil
	}
	req := &Request{Seq: p.seq, Op: op, Keys: keys, p: p, release: make(chan struct{}), done: make(chan struct{})}
	if acting == nil {
		req.Rule, req.outcome = skipping.id, "skipped"
		p.appendLog(req)
		return nil, nil
	}
	req.Rule, req.outcome = acting.id, string(acting.rule.Action)
	if a := acting.rule.Action; a == Late || a == Drop {
		req.outcome = "held"
		acting.held = append(acting.held, req)
	}
	p.appendLog(req)
	select {
	case acting.arrived <- req:
	default: // past arrivedBuffer unread signals
	}
	return acting, req
}

func (p *Proxy) appendLog(r *Request) {
	if len(p.log) == logSize {
		p.log = append(p.log[:0], p.log[1:]...)
	}
	p.log = append(p.log, r)
}

// hold waits until the request is released, d passes, or gone closes.
func (p *Proxy) hold(req *Request, d time.Duration, gone <-chan struct{}) {
	if d == 0 {
		p.unhold(req)
		return
	}
	var timeout <-chan time.Time
	if d != UntilReleased {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-req.release:
	case <-timeout:
	case <-gone:
	}
	p.unhold(req)
}

// unhold takes the request off its rule's held list.
func (p *Proxy) unhold(req *Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.rules {
		if h.id == req.Rule {
			for i, x := range h.held {
				if x == req {
					h.held = append(h.held[:i], h.held[i+1:]...)
					break
				}
			}
		}
	}
}

func (p *Proxy) settle(req *Request, outcome string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req.outcome = outcome
}

// answer writes a DynamoDB error as the service does, its CRC32 included
// (the SDK checks it).
func (p *Proxy) answer(req *Request, w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.Header().Set("X-Amzn-Requestid", "ddbproxy-"+strconv.Itoa(req.Seq))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	p.settle(req, "answered "+strconv.Itoa(status)+" "+typ[strings.IndexByte(typ, '#')+1:])
}

// forwardNow forwards after the latency's delay, if any.
func (p *Proxy) forwardNow(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	var d time.Duration
	if p.sample != nil {
		d = p.sample()
		p.latency.Delayed++
		p.latency.Added += d
	}
	p.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d): // collected once fired or dropped (Go 1.23)
		case <-r.Context().Done():
			return
		}
	}
	p.forward.ServeHTTP(w, r)
}

// statusRecorder remembers the status DynamoDB answered a late request with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
