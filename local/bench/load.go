package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/local/bench/stats"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/store"
)

// The load generator of `make load` and of the bench's load section:
// simulated users each log in through the WeChat simulator, get a session,
// sync 31 days of encryptedData and read their steps back through the
// local API, as a mini program would.

// flowRoutes are the API requests of one user's flow, in order; with
// LoadOptions.Setup the flow goes on with socialRoutes.
var (
	flowRoutes   = []string{"POST /v1/session", "POST /v1/werun/decrypt", "GET /v1/steps"}
	socialRoutes = []string{"GET /v1/steps/summary", "GET /v1/groups/{groupId}/board", "GET /v1/friends/board", "GET /v1/groups"}
)

// loadGroup is how many flow users share a group: each user is seeded a
// memberId and profile, a membership of the group of the users i/loadGroup
// and a friendship with user i^1.
const loadGroup = 20

// LoadOptions bound one load run in count (Flows) and time (MaxTime).
type LoadOptions struct {
	API, Sim    string // base URLs
	Flows       int    // users, each one flow
	Concurrency int    // flows in flight at once
	Days        int    // days each user syncs
	MaxTime     time.Duration
	Prefix      string // openid prefix, unique per run
	// Setup, when set, seeds the users' groups and friends straight into
	// the table, and each flow also reads its summary, group board,
	// friends board and groups.
	Setup *store.DynamoStore
}

// LoadResult is what a load run measured; latencies are of API requests
// only (the simulator's control calls stand for the phone's own work).
type LoadResult struct {
	Flows     int
	Wall      time.Duration
	Latencies map[string][]time.Duration // by route key
	Status    map[int]int                // 0: no answer (transport error)
	// Bare counts error answers without the project's envelope (a gateway's
	// own error, a timeout), which a client cannot act on.
	Bare     int
	FlowErrs int // flows cut short (simulator or transport)
	FirstErr string
}

// All is every API request's latency, sorted.
func (r LoadResult) All() []time.Duration {
	var all []time.Duration
	for _, l := range r.Latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all
}

// RPS is API requests answered per second of wall time.
func (r LoadResult) RPS() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(len(r.All())) / r.Wall.Seconds()
}

// ServerErrors counts 5xx answers and requests that got no answer.
func (r LoadResult) ServerErrors() int {
	n := r.Status[0]
	for s, c := range r.Status {
		if s >= 500 {
			n += c
		}
	}
	return n
}

// merge adds o's figures to r's: one target measured in several rounds.
func (r LoadResult) merge(o LoadResult) LoadResult {
	if r.Latencies == nil {
		r.Latencies, r.Status = map[string][]time.Duration{}, map[int]int{}
	}
	r.Flows += o.Flows
	r.Wall += o.Wall
	r.Bare += o.Bare
	r.FlowErrs += o.FlowErrs
	if r.FirstErr == "" {
		r.FirstErr = o.FirstErr
	}
	for route, l := range o.Latencies {
		r.Latencies[route] = append(r.Latencies[route], l...)
		slices.Sort(r.Latencies[route])
	}
	for s, n := range o.Status {
		r.Status[s] += n
	}
	return r
}

// runLoad runs opts.Flows user flows, opts.Concurrency at a time, and stops
// starting new ones after opts.MaxTime.
func runLoad(ctx context.Context, opts LoadOptions) LoadResult {
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: opts.Concurrency * 2, MaxIdleConnsPerHost: opts.Concurrency * 2,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
	defer hc.CloseIdleConnections()
	res := LoadResult{Latencies: map[string][]time.Duration{}, Status: map[int]int{}}
	var mu sync.Mutex
	record := func(route string, d time.Duration, status int, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		res.Status[status]++
		if status >= 400 && !isEnvelope(body) {
			res.Bare++
		}
		if status != 0 {
			res.Latencies[route] = append(res.Latencies[route], d)
		}
	}
	var groups []string
	if opts.Setup != nil {
		var err error
		if groups, err = seedLoad(ctx, opts.Setup, opts.Prefix, opts.Flows); err != nil {
			res.FlowErrs, res.FirstErr = 1, "seeding: "+err.Error()
			return res
		}
	}
	deadline := time.Now().Add(opts.MaxTime)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := 0; i < opts.Flows && time.Now().Before(deadline); i++ {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				u := loadUser{hc: hc, opts: opts, openid: loadOpenID(opts.Prefix, i), record: record}
				if groups != nil {
					u.group = groups[i/loadGroup]
				}
				err := u.flow(ctx)
				mu.Lock()
				res.Flows++
				if err != nil {
					res.FlowErrs++
					if res.FirstErr == "" {
						res.FirstErr = err.Error()
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Wall = time.Since(start)
	for _, l := range res.Latencies {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	return res
}

type loadUser struct {
	hc     *http.Client
	opts   LoadOptions
	openid string
	group  string // "" without Setup
	record func(route string, d time.Duration, status int, body []byte)
}

func loadOpenID(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) }

// seedLoad gives the users prefix-0..n-1 a memberId and profile, groups of
// loadGroup, and a friend each, 16 at a time; it returns the groups.
func seedLoad(ctx context.Context, st *store.DynamoStore, prefix string, n int) ([]string, error) {
	now := time.Now()
	groups := make([]string, (n+loadGroup-1)/loadGroup)
	for g := range groups {
		groups[g] = crypto.NewID()
	}
	mids := make([]string, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			openid := loadOpenID(prefix, i)
			mid, err := st.MemberID(gctx, openid, crypto.NewID())
			if err != nil {
				return err
			}
			mids[i] = mid
			if err := st.PutProfile(gctx, store.Profile{MemberID: mid, OpenID: openid, Nickname: fmt.Sprintf("runner %d", i)}); err != nil {
				return err
			}
			return st.Join(gctx, store.Membership{GroupID: groups[i/loadGroup], MemberID: mid, OpenID: openid, JoinedAt: now,
				ExpiresAt: now.AddDate(0, 0, social.DefaultMembershipDays)})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// A group's context ends with its Wait: the friendships take another.
	f, fctx := errgroup.WithContext(ctx)
	f.SetLimit(16)
	for i := 0; i+1 < n; i += 2 {
		a, b := store.Friend{MemberID: mids[i], OpenID: loadOpenID(prefix, i)}, store.Friend{MemberID: mids[i+1], OpenID: loadOpenID(prefix, i+1)}
		f.Go(func() error { return st.Befriend(fctx, a, b, now) })
	}
	return groups, f.Wait()
}

// flow is one user: wx.login, POST /v1/session, wx.getWeRunData, POST
// /v1/werun/decrypt, GET /v1/steps. Against the no-op function the answers
// carry no token; the flow goes on with an empty one, so the same requests
// are made.
func (u loadUser) flow(ctx context.Context) error {
	var login struct{ Code string }
	if err := u.sim(ctx, "/_sim/login", map[string]any{"openid": u.openid}, &login); err != nil {
		return err
	}
	var sess struct{ Token string }
	if _, err := u.api(ctx, flowRoutes[0], "", map[string]any{"code": login.Code}, &sess); err != nil {
		return err
	}
	var data struct{ EncryptedData, IV string }
	if err := u.sim(ctx, "/_sim/werun", map[string]any{"openid": u.openid, "days": u.opts.Days}, &data); err != nil {
		return err
	}
	if _, err := u.api(ctx, flowRoutes[1], sess.Token, map[string]any{"encryptedData": data.EncryptedData, "iv": data.IV}, nil); err != nil {
		return err
	}
	if _, err := u.api(ctx, flowRoutes[2], sess.Token, nil, nil); err != nil || u.group == "" {
		return err
	}
	for _, route := range socialRoutes {
		if _, err := u.api(ctx, route, sess.Token, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// api makes one timed API request for route ("METHOD /path").
func (u loadUser) api(ctx context.Context, route, token string, body any, out any) (int, error) {
	method, path, _ := strings.Cut(route, " ")
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	path = strings.Replace(path, "{groupId}", u.group, 1)
	req, err := http.NewRequestWithContext(ctx, method, u.opts.API+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := u.hc.Do(req)
	if err != nil {
		u.record(route, 0, 0, nil)
		return 0, fmt.Errorf("%s: %w", route, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		u.record(route, 0, 0, nil)
		return 0, fmt.Errorf("%s: %w", route, err)
	}
	u.record(route, d, resp.StatusCode, b)
	if out != nil && resp.StatusCode == http.StatusOK {
		_ = json.Unmarshal(b, out) // the no-op function answers an empty body
	}
	return resp.StatusCode, nil
}

// sim calls the WeChat simulator's control API (the phone's side).
func (u loadUser) sim(ctx context.Context, path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.opts.Sim+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.hc.Do(req)
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("simulator %s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// LoadConfig are the flags of `make load`.
type LoadConfig struct {
	Users   int           // simulated users, all syncing at once
	Pool    int           // emulators per function at most; requests beyond queue
	Days    int           // days each user syncs
	MaxTime time.Duration // stop starting users after this long
}

// Load is `make load`: users syncing at once through the local API; any
// 5xx fails it.
func Load(ctx context.Context, c LoadConfig) error {
	logf, err := createLog(emulator.BuildDir, "load.log")
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(os.Stderr, "local: starting the stack (pool %d per function; logs in %s)\n", c.Pool, logf.Name())
	st, err := startStack(ctx, c.Pool, false, logf)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(os.Stderr, "local: %d users syncing at once through %s\n", c.Users, st.API)
	r := runLoad(ctx, LoadOptions{API: st.API, Sim: st.Sim, Flows: c.Users, Concurrency: c.Users, Days: c.Days,
		MaxTime: c.MaxTime, Prefix: "load-" + stack.RandomKey()[:8]})
	printLoad(os.Stdout, r)
	if n := r.ServerErrors(); n > 0 || r.Bare > 0 || r.FlowErrs > 0 {
		return fmt.Errorf("load: %d 5xx or unanswered requests, %d error answers without the envelope, %d users cut short (first: %s)", n, r.Bare, r.FlowErrs, r.FirstErr)
	}
	return nil
}

// printLoad writes a load run's figures.
func printLoad(w io.Writer, r LoadResult) {
	all := r.All()
	fmt.Fprintf(w, "%d users, %d API requests in %s: %.1f requests/s\n", r.Flows, len(all), r.Wall.Round(time.Millisecond), r.RPS())
	fmt.Fprintf(w, "  %-24s %8s %8s %8s\n", "route", "n", "p50", "p99")
	for _, route := range append(flowRoutes, socialRoutes...) {
		l := r.Latencies[route]
		if len(l) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-24s %8d %8s %8s\n", route, len(l), stats.Ms(stats.Percentile(l, 50)), stats.Ms(stats.Percentile(l, 99)))
	}
	fmt.Fprintf(w, "  %-24s %8d %8s %8s\n", "all", len(all), stats.Ms(stats.Percentile(all, 50)), stats.Ms(stats.Percentile(all, 99)))
	fmt.Fprintf(w, "  status   %s (0: no answer)\n", countsString(r.Status, "%[2]d: %[1]d"))
	fmt.Fprintf(w, "  errors without the envelope: %d\n", r.Bare)
}

// isEnvelope reports whether an error answer is the project's envelope,
// {"error":{"code":"...","message":"..."}}.
func isEnvelope(body []byte) bool {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error.Code != "" && e.Error.Message != ""
}
