package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// bench is `make bench` (issue 8): it measures decrypt-and-parse against a
// peer SDK, cold starts under the Lambda Runtime Interface Emulator, binary
// sizes, DynamoDB capacity and round trips per sync, and the whole request
// under load, each beside a reference measured in the same run, and writes
// the report.
func bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	out := fs.String("out", "docs/PERFORMANCE.md", "report to write")
	runs := fs.Int("runs", 10, "cold starts per function")
	flows := fs.Int("flows", 150, "user flows (3 API requests each) per load run")
	conc := fs.Int("concurrency", 8, "flows in flight during the load runs")
	loadTime := fs.Duration("load-time", 90*time.Second, "stop starting flows after this long, per load run")
	pool := fs.Int("pool", 4, "emulators per function at most")
	if err := fs.Parse(args); err != nil {
		return err
	}
	began := time.Now()
	procs := &Procs{}
	defer procs.StopAll()
	dir := filepath.Join("build", "bench")
	logf, err := createLog(dir, "stack.log")
	if err != nil {
		return err
	}
	defer logf.Close()
	logw := &lockedWriter{w: logf}
	step := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "bench [%4.0fs] %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, a...))
	}
	r := &report{Date: began.UTC(), Machine: machine()}

	step("building the arm64 bootstraps (sizes) and the native ones (stack)")
	t, err := LoadTemplate("template.yaml")
	if err != nil {
		return err
	}
	fns, err := t.Functions()
	if err != nil {
		return err
	}
	sizesc := make(chan error, 1)
	go func() {
		var err error
		r.Sizes, err = measureSizes(ctx, dir, append(logicalIDs(fns), noopID))
		sizesc <- err
	}()
	st, err := startBenchStack(ctx, procs, *pool, true, logw)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := <-sizesc; err != nil {
		return err
	}

	step("1/5 decrypt-and-parse against github.com/silenceper/wechat/v2")
	if r.Peer, err = runPeerBench(ctx); err != nil {
		return err
	}
	step("2/5 cold starts, %d per function", *runs)
	if r.Cold, err = measureColdStarts(ctx, st, *runs, logw); err != nil {
		return err
	}
	step("4/5 DynamoDB capacity and round trips per sync and per social read")
	if r.Costs, err = measureSyncCost(ctx, st.Over["AWS_ENDPOINT_URL_DYNAMODB"], st.Over["TABLE_NAME"]); err != nil {
		return err
	}
	if r.Social, err = measureSocialCost(ctx, st.Over["AWS_ENDPOINT_URL_DYNAMODB"], st.Over["TABLE_NAME"]); err != nil {
		return err
	}
	step("5/5 load: %d flows, %d at a time, against the functions and the no-op", *flows, *conc)
	opts := func(api string, n int) LoadOptions {
		return LoadOptions{API: api, Sim: st.Sim, Flows: n, Concurrency: *conc, Days: 31, MaxTime: *loadTime,
			Prefix: "bench-" + randomKey()[:8]}
	}
	// A short warm-up of both fills the pools, then each is measured.
	runLoad(ctx, opts(st.API, *conc*2))
	runLoad(ctx, opts(st.NoopAPI, *conc*2))
	r.Load = runLoad(ctx, opts(st.API, *flows))
	r.Noop = runLoad(ctx, opts(st.NoopAPI, *flows))
	r.LoadConc = *conc
	printLoad(os.Stderr, r.Load)
	printLoad(os.Stderr, r.Noop)

	r.Wall = time.Since(began)
	var b bytes.Buffer
	r.write(&b)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return err
	}
	step("wrote %s", *out)
	os.Stdout.Write(b.Bytes())
	return nil
}

// lockedWriter serialises writes from many emulators to one log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// --- machine -----------------------------------------------------------------

type machineInfo struct{ CPUs, CPU, Go, Arch string }

func machine() machineInfo {
	m := machineInfo{CPUs: strconv.Itoa(runtime.NumCPU()), CPU: "unknown", Go: runtime.Version(), Arch: runtime.GOOS + "/" + runtime.GOARCH}
	if out, err := exec.Command("nproc").Output(); err == nil {
		m.CPUs = strings.TrimSpace(string(out))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	return m
}

// --- 1. decrypt-and-parse against the peer -----------------------------------

type peerResult struct {
	Raw  string
	Subs map[string]benchLine // "werun-sam", "silenceper": medians of the counts
}

type benchLine struct{ NsOp, BOp, AllocsOp float64 }

var benchRe = regexp.MustCompile(`^Benchmark\S*?/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+([\d.]+) allocs/op`)

// runPeerBench runs the separate peerbench module's benchmark (its own
// go.mod keeps the peer SDK out of the application's).
func runPeerBench(ctx context.Context) (peerResult, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-bench", ".", "-benchmem", "-count", "3", "-run", "^$")
	cmd.Dir = filepath.Join("shared", "crypto", "peerbench")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return peerResult{}, fmt.Errorf("peerbench: %w\n%s", err, out)
	}
	samples := map[string][]benchLine{}
	for _, line := range strings.Split(string(out), "\n") {
		m := benchRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		b, _ := strconv.ParseFloat(m[3], 64)
		a, _ := strconv.ParseFloat(m[4], 64)
		samples[m[1]] = append(samples[m[1]], benchLine{ns, b, a})
	}
	res := peerResult{Raw: string(out), Subs: map[string]benchLine{}}
	for name, s := range samples {
		sort.Slice(s, func(i, j int) bool { return s[i].NsOp < s[j].NsOp })
		res.Subs[name] = s[len(s)/2]
	}
	if _, ok := res.Subs["werun-sam"]; !ok {
		return res, fmt.Errorf("peerbench: no werun-sam result in:\n%s", out)
	}
	if _, ok := res.Subs["silenceper"]; !ok {
		return res, fmt.Errorf("peerbench: no silenceper result in:\n%s", out)
	}
	return res, nil
}

// --- 2. cold starts ------------------------------------------------------------

// coldEvents is the events/ file each function is invoked with.
var coldEvents = map[string]string{
	"SessionFunction":  "events/session.json",
	"DecryptFunction":  "events/decrypt.json",
	"OpenDataFunction": "events/cloudid.json",
	"StepsFunction":    "events/steps.json",
	"SocialFunction":   "events/group-board.json",
	"RefreshFunction":  "events/scheduled.json",
	noopID:             "events/steps.json",
}

type coldResult struct {
	ID    string
	Inits []float64 // ms, sorted
}

func (c coldResult) median() float64 { return quantile(c.Inits, 50) }
func (c coldResult) p90() float64    { return quantile(c.Inits, 90) }

// quantile is the nearest-rank percentile of sorted values.
func quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// initReport is the emulator's own line for the init phase: from starting
// the bootstrap to its first call for the next invocation.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([\d.]+)\)`)

// measureColdStarts starts each bootstrap runs times (plus one unmeasured
// run to bring the binary into the page cache), round-robin so a noisy
// moment falls on all alike, and reads each start's init duration.
func measureColdStarts(ctx context.Context, st *benchStack, runs int, log io.Writer) ([]coldResult, error) {
	type target struct {
		fn    Function
		path  string
		vars  map[string]string
		event []byte
	}
	var targets []target
	fns := append(append([]Function(nil), st.Functions...), noopFunction(st.Functions))
	for _, f := range fns {
		ev, err := os.ReadFile(coldEvents[f.LogicalID])
		if err != nil {
			return nil, fmt.Errorf("cold start of %s: %w", f.LogicalID, err)
		}
		vars := functionVars(st.Template, f, st.Over)
		// The emulator's INIT REPORT is an info line; the stack runs it at warn.
		vars["LOG_LEVEL"] = "info"
		targets = append(targets, target{f, st.Paths[f.LogicalID], vars, ev})
	}
	results := make([]coldResult, len(targets))
	for run := -1; run < runs; run++ {
		for i, t := range targets {
			ms, err := coldStart(ctx, t.fn, t.path, t.vars, t.event, log)
			if err != nil {
				return nil, err
			}
			results[i].ID = t.fn.LogicalID
			if run >= 0 {
				results[i].Inits = append(results[i].Inits, ms)
			}
		}
	}
	for i := range results {
		sort.Float64s(results[i].Inits)
	}
	return results, nil
}

// coldStart starts one emulator with the bootstrap, invokes it once and
// returns the init duration the emulator reported, in ms.
func coldStart(ctx context.Context, fn Function, bootstrap string, vars map[string]string, event []byte, log io.Writer) (float64, error) {
	var buf bytes.Buffer
	out := &lockedWriter{w: io.MultiWriter(&buf, log)}
	p, err := NewPool(fn, bootstrap, vars, 1, &Procs{}, out)
	if err != nil {
		return 0, err
	}
	e, err := p.start(ctx)
	if err != nil {
		return 0, err
	}
	defer e.proc.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(event))
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cold start of %s: %w", fn.LogicalID, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The emulator writes the report line before the answer; give its
	// output pipe a moment.
	for range 50 {
		out.mu.Lock()
		m := initReport.FindSubmatch(buf.Bytes())
		out.mu.Unlock()
		if m != nil {
			return strconv.ParseFloat(string(m[1]), 64)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("cold start of %s: no INIT REPORT in the emulator's output", fn.LogicalID)
}

// --- 3. sizes --------------------------------------------------------------------

type sizeResult struct {
	ID    string
	Bytes int64
}

// measureSizes builds every bootstrap for Lambda (linux/arm64, the
// Makefile's own build-<LogicalId> targets) and the hello-world likewise.
func measureSizes(ctx context.Context, dir string, ids []string) ([]sizeResult, error) {
	var out []sizeResult
	for _, id := range ids {
		abs, err := filepath.Abs(filepath.Join(dir, "arm64", id))
		if err != nil {
			return nil, err
		}
		// No GOARCH on the command line: the Makefile's arm64 applies.
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-s", "build-"+id, "ARTIFACTS_DIR="+abs)
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("make build-%s: %w\n%s", id, err, b)
		}
		fi, err := os.Stat(filepath.Join(abs, "bootstrap"))
		if err != nil {
			return nil, err
		}
		out = append(out, sizeResult{id, fi.Size()})
	}
	return out, nil
}

func logicalIDs(fns []Function) []string {
	ids := make([]string, len(fns))
	for i, f := range fns {
		ids[i] = f.LogicalID
	}
	return ids
}

// --- the report --------------------------------------------------------------------

type report struct {
	Date       time.Time
	Wall       time.Duration
	Machine    machineInfo
	Peer       peerResult
	Cold       []coldResult
	Sizes      []sizeResult
	Costs      []SyncCost
	Social     []SyncCost
	Load, Noop LoadResult
	LoadConc   int
}

func holds(ok bool) string {
	if ok {
		return "holds"
	}
	return "**misses**"
}

func (r *report) write(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("# Performance")
	p("")
	p("Written by `make bench` (`go run ./local bench`) from what it measured in one run; every figure")
	p("stands beside its reference measured in the same run. Rerun it to refresh this page.")
	p("")
	p("| | |")
	p("|---|---|")
	p("| date | %s |", r.Date.Format("2006-01-02 15:04 MST"))
	p("| machine | %s CPUs (nproc), %s, %s |", r.Machine.CPUs, r.Machine.CPU, r.Machine.Arch)
	p("| Go | %s |", r.Machine.Go)
	p("| bench wall time | %s |", r.Wall.Round(time.Second))
	p("")

	ours, peer := r.Peer.Subs["werun-sam"], r.Peer.Subs["silenceper"]
	nsRatio, allocRatio := ours.NsOp/peer.NsOp, ours.AllocsOp/peer.AllocsOp
	hello := r.coldOf(noopID).median()
	worstCold := 0.0
	for _, c := range r.Cold {
		if c.ID != noopID {
			worstCold = max(worstCold, c.median()/hello)
		}
	}
	repeat, resend := r.cost("repeat"), r.cost("resend")
	p("## Targets")
	p("")
	p("| target | measured | |")
	p("|---|---|---|")
	p("| decrypt-and-parse time ≤ 0.5× silenceper/wechat | %.2f× | %s |", nsRatio, holds(nsRatio <= 0.5))
	p("| decrypt-and-parse allocations ≤ 0.5× silenceper/wechat | %.2f× | %s |", allocRatio, holds(allocRatio <= 0.5))
	p("| cold start (median init) ≤ 1.5× hello-world, every function | worst %.2f× | %s |", worstCold, holds(worstCold <= 1.5))
	p("| repeat sync, only today changed: ≤ 2 write units | %g WCU | %s |", repeat.BilledWCU(), holds(repeat.BilledWCU() <= 2))
	p("| repeat sync, only today changed: ≤ 2 sequential DynamoDB round trips | %d | %s |", repeat.Waves, holds(repeat.Waves <= 2))
	p("| resend of unchanged data: 0 writes | %d write requests, %g WCU | %s |", resend.WriteRequests, resend.BilledWCU(), holds(resend.WriteRequests == 0 && resend.BilledWCU() == 0))
	p("| load: no 5xx | %d 5xx or unanswered | %s |", r.Load.ServerErrors(), holds(r.Load.ServerErrors() == 0))
	r.socialTargets(p)
	p("")

	p("## 1. Decrypt-and-parse of a 31-day payload")
	p("")
	p("`cd shared/crypto/peerbench && go test -bench . -benchmem -count 3 -run '^$'`: AES-128-CBC decrypt,")
	p("PKCS#7, JSON parse of `stepInfoList` and the watermark, against `github.com/silenceper/wechat/v2`'s")
	p("`GetWeRunData`. Median of the three counts (by ns/op).")
	p("")
	p("| implementation | ns/op | B/op | allocs/op |")
	p("|---|---:|---:|---:|")
	p("| werun-sam | %.0f | %.0f | %.0f |", ours.NsOp, ours.BOp, ours.AllocsOp)
	p("| silenceper/wechat/v2 | %.0f | %.0f | %.0f |", peer.NsOp, peer.BOp, peer.AllocsOp)
	p("| ratio | %.2f× | %.2f× | %.2f× |", nsRatio, ours.BOp/peer.BOp, allocRatio)
	p("")

	p("## 2. Cold start under the Lambda Runtime Interface Emulator")
	p("")
	p("Each bootstrap built natively (%s) with the Makefile's flags (`-tags lambda.norpc -trimpath", r.Machine.Arch)
	p("-ldflags \"-s -w -buildid=\"`, CGO off), started %d times under `build/bin/aws-lambda-rie`", len(r.coldOf(noopID).Inits))
	p("(round-robin, after one unmeasured start each) with the template's resolved local environment,")
	p("dynalite and the WeChat simulator, and invoked once with its `events/` file. The figure is the")
	p("emulator's `INIT REPORT(durationMs)`: from starting the bootstrap to its first call for work")
	p("(this emulator's `REPORT ... Init Duration` field reads about 0.02 ms whatever runs, so it is not")
	p("used). The reference is `local/hello`: `lambda.Start` of a handler returning an empty")
	p("`APIGatewayV2HTTPResponse`, built the same way.")
	p("")
	p("| function | median | p90 | median ÷ hello-world | ≤ 1.5× |")
	p("|---|---:|---:|---:|---|")
	for _, c := range r.Cold {
		ratio := c.median() / hello
		mark := holds(ratio <= 1.5)
		if c.ID == noopID {
			mark = "reference"
		}
		p("| %s | %.2f ms | %.2f ms | %.2f× | %s |", label(c.ID), c.median(), c.p90(), ratio, mark)
	}
	p("")
	p("What a function adds to hello-world is mostly package initialisation (`GODEBUG=inittrace=1`")
	p("on a bootstrap shows it). Three choices keep it small: `shared/config` builds the AWS")
	p("configuration from the environment Lambda sets rather than `config.LoadDefaultConfig` (whose")
	p("credential chain of profiles, SSO, STS and IMDS is never used in Lambda), reads SSM with one")
	p("signed request rather than the SDK's SSM client, and `go.mod` holds `service/dynamodb` at")
	p("v1.68.0, the last release before schema-based serialisation, whose package init alone costs")
	p("about 0.8 ms. Building the service itself (`shared/app`) takes about 0.1 ms.")
	p("")

	p("## 3. Binary size (linux/arm64, stripped)")
	p("")
	p("`make build-<LogicalId> ARTIFACTS_DIR=...`, as `sam build` runs it; the hello-world through the same recipe.")
	p("")
	p("| bootstrap | bytes | MiB | ÷ hello-world |")
	p("|---|---:|---:|---:|")
	var helloSize int64
	for _, s := range r.Sizes {
		if s.ID == noopID {
			helloSize = s.Bytes
		}
	}
	for _, s := range r.Sizes {
		p("| %s | %d | %.1f | %.2f× |", label(s.ID), s.Bytes, float64(s.Bytes)/(1<<20), float64(s.Bytes)/float64(helloSize))
	}
	p("")

	p("## 4. DynamoDB capacity and round trips per sync")
	p("")
	p("`werun.Service` with the real `DynamoStore` over dynalite and the WeChat simulator in-process")
	p("(`local/capacity.go`). Every DynamoDB request carries `ReturnConsumedCapacity=INDEXES` (a smithy")
	p("middleware) and an HTTP transport records each request's operation (`X-Amz-Target`), start and end.")
	p("Round trips are sequential waves: a request that starts after every request of the current")
	p("wave has ended begins the next. Write units: dynalite's reported table units; dynalite reports")
	p("no index units, so the ActiveIndex writes are computed from the written items (each item read")
	p("back; one unit per started KB of its projection plus 100 bytes), and the table units are")
	p("checked against the same computation. Read units are dynalite's report (strongly consistent Query).")
	p("")
	p("| scenario | days changed | requests | round trips | RCU | WCU table (reported / computed) | WCU index (computed) | WCU billed |")
	p("|---|---:|---|---:|---:|---:|---:|---:|")
	for _, c := range r.Costs {
		p("| %s | %d | %s | %d | %g | %g / %g | %g | %g |", c.Scenario, c.Changed, countsString(c.Requests, "%d %s"), c.Waves,
			c.ReportedRCU, c.ReportedWCU, c.ComputedWCU, c.ComputedGSI, c.BilledWCU())
	}
	p("")

	p("## 5. The whole request under load, through the local API")
	p("")
	p("Each flow is one user: `/_sim/login` → `POST /v1/session` → `/_sim/werun` (31 days) →")
	p("`POST /v1/werun/decrypt` → `GET /v1/steps`, %d flows in flight, %d flows per run (bounded in", r.LoadConc, r.Load.Flows)
	p("time too), on loopback through the local stack's router and emulator pools. The reference runs")
	p("the same requests against the hello-world bootstrap mounted behind the same router and pools")
	p("(every route to it), so the difference is the functions' own work. Latency is of the API")
	p("requests only; requests/s counts API requests.")
	p("")
	p("| target | requests | requests/s | p50 | p99 | statuses |")
	p("|---|---:|---:|---:|---:|---|")
	for _, row := range []struct {
		name string
		r    LoadResult
	}{{"werun-sam functions", r.Load}, {"no-op function (reference)", r.Noop}} {
		all := row.r.All()
		p("| %s | %d | %.1f | %s | %s | %s |", row.name, len(all), row.r.RPS(), ms(percentile(all, 50)), ms(percentile(all, 99)), countsString(row.r.Status, "%d×%d"))
	}
	p("")
	p("Per route (werun-sam functions; no-op in parentheses):")
	p("")
	p("| route | p50 | p99 |")
	p("|---|---:|---:|")
	for _, route := range flowRoutes {
		l, n := r.Load.Latencies[route], r.Noop.Latencies[route]
		p("| `%s` | %s (%s) | %s (%s) |", route, ms(percentile(l, 50)), ms(percentile(n, 50)), ms(percentile(l, 99)), ms(percentile(n, 99)))
	}
	p("")
	p("`make load` runs 200 users at once the same way and fails on any 5xx.")
	p("")
	r.writeSocial(p)
}

func (r *report) coldOf(id string) coldResult {
	for _, c := range r.Cold {
		if c.ID == id {
			return c
		}
	}
	return coldResult{}
}

func (r *report) cost(prefix string) SyncCost {
	for _, c := range r.Costs {
		if strings.HasPrefix(c.Scenario, prefix) {
			return c
		}
	}
	return SyncCost{}
}

func label(id string) string {
	if id == noopID {
		return "hello-world (reference)"
	}
	return id
}

// countsString writes counts as "n label" (or n×label) in key order.
func countsString[K cmp.Ordered](counts map[K]int, format string) string {
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf(format, counts[k], k)
	}
	return strings.Join(parts, ", ")
}

// createLog creates dir/name for the stack's processes' output.
func createLog(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dir, name))
}
