// Package bench measures the local stack and writes docs/PERFORMANCE.md
// (`make bench`): decrypt-and-parse against a peer SDK, cold starts under
// the Lambda Runtime Interface Emulator, binary sizes, DynamoDB capacity and
// round trips per sync and per social read, and the whole request under
// load, each beside a reference measured in the same run and interleaved
// with it (A, B, A, B, ...), so a busy moment falls on both alike; then the
// packages' own benchmarks the docs cite. It also holds the load generator
// of `make load`.
package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/bench/coldstart"
	"github.com/werun-sam/werun-sam/local/bench/stats"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/store"
)

// injected is the DynamoDB latency of the load's second run: a small
// request's in a region, uniform in 4 ms ± 2.
var injected = ddbproxy.Latency{Mean: 4 * time.Millisecond, Spread: 2 * time.Millisecond, Dist: ddbproxy.Uniform, Seed: 1}

func latencyLabel(l ddbproxy.Latency) string {
	return fmt.Sprintf("%g ms ± %g (%s)", float64(l.Mean)/1e6, float64(l.Spread)/1e6, l.Dist)
}

// Options are the bench's flags.
type Options struct {
	Out         string        // the report to write
	Runs        int           // cold starts per function
	Flows       int           // user flows (3 API requests each) per load run
	Concurrency int           // flows in flight during the load runs
	LoadTime    time.Duration // stop starting flows after this long, per load run
	Pool        int           // emulators per function at most
}

// pairRounds is how many alternating rounds each side of a load
// comparison is split into.
const pairRounds = 5

// coldTarget is the most a function's median init may be, as a multiple of
// hello-world's: package init beyond that would be worth a user's notice.
const coldTarget = 2.0

// Run is `make bench`: it measures everything and writes the report.
func Run(ctx context.Context, o Options) error {
	began := time.Now()
	dir := filepath.Join("build", "bench")
	logf, err := createLog(dir, "stack.log")
	if err != nil {
		return err
	}
	defer logf.Close()
	logw := &services.LockedWriter{W: logf}
	// The handlers section 4 runs in this process log as a function does:
	// into the stack's log, not the terminal.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(logw, nil)))
	steps := []string{
		"building the arm64 bootstraps (sizes) and the native ones (stack)",
		"decrypt-and-parse against github.com/silenceper/wechat/v2, interleaved",
		fmt.Sprintf("cold starts, %d per function, each beside one of hello-world", o.Runs),
		"DynamoDB capacity and round trips per route, through the API handlers",
		fmt.Sprintf("load: %d flows, %d at a time, against the functions and the no-op, alternating in %d rounds; then the functions at DynamoDB latency %s", o.Flows, o.Concurrency, pairRounds, latencyLabel(injected)),
		"the packages' own benchmarks: starting the test services, the refresher's board",
	}
	done := 0
	step := func() {
		fmt.Fprintf(os.Stderr, "bench [%4.0fs] %d/%d %s\n", time.Since(began).Seconds(), done+1, len(steps), steps[done])
		done++
	}
	r := &report{Date: began.UTC(), Machine: machine()}

	step()
	t, err := template.Load(template.File)
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
		r.Sizes, err = measureSizes(ctx, dir, append(logicalIDs(fns), stack.NoopID))
		sizesc <- err
	}()
	st, err := startStack(ctx, o.Pool, true, logw)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := <-sizesc; err != nil {
		return err
	}

	step()
	if r.Peer, err = runPeerBench(ctx, dir); err != nil {
		return err
	}
	step()
	if r.Cold, err = coldstart.Measure(ctx, st, o.Runs, logw); err != nil {
		return err
	}
	step()
	if r.Costs, err = measureRoutes(ctx, st.Proxy, st.DynamoDB, st.Over["TABLE_NAME"]); err != nil {
		return err
	}
	step()
	setup := store.New(services.Client(st.DynamoDB), st.Over["TABLE_NAME"])
	opts := func(api string, n int, maxTime time.Duration) LoadOptions {
		return LoadOptions{API: api, Sim: st.Sim, Flows: n, Concurrency: o.Concurrency, Days: 31, MaxTime: maxTime,
			Prefix: "bench-" + stack.RandomKey()[:8], Setup: setup}
	}
	// A short warm-up of both fills the pools, then both are measured in
	// alternating rounds.
	runLoad(ctx, opts(st.API, o.Concurrency*2, o.LoadTime))
	runLoad(ctx, opts(st.NoopAPI, o.Concurrency*2, o.LoadTime))
	perRound, roundTime := max(o.Flows/pairRounds, 1), o.LoadTime/pairRounds
	for range pairRounds {
		r.Load = r.Load.merge(runLoad(ctx, opts(st.API, perRound, roundTime)))
		r.Noop = r.Noop.merge(runLoad(ctx, opts(st.NoopAPI, perRound, roundTime)))
	}
	// The same flows at DynamoDB's latency in a region: every request the
	// functions send waits injected before it is forwarded.
	if err := st.Proxy.SetLatency(injected); err != nil {
		return err
	}
	for range pairRounds {
		r.Slow = r.Slow.merge(runLoad(ctx, opts(st.API, perRound, roundTime)))
	}
	if err := st.Proxy.SetLatency(ddbproxy.Latency{}); err != nil {
		return err
	}
	r.LoadConc = o.Concurrency
	printLoad(os.Stderr, r.Load)
	printLoad(os.Stderr, r.Noop)
	printLoad(os.Stderr, r.Slow)
	step()
	if r.Packages, err = runPackageBenchmarks(ctx); err != nil {
		return err
	}

	r.Wall = time.Since(began)
	var b bytes.Buffer
	r.write(&b)
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.Out, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench [%4.0fs] wrote %s\n", time.Since(began).Seconds(), o.Out)
	os.Stdout.Write(b.Bytes())
	return nil
}

// startStack is the local stack as the bench and the load run it: every
// function's routes on one API and, for the bench, the same routes on a
// second one all served by the no-op function; output to log.
func startStack(ctx context.Context, pool int, noop bool, log io.Writer) (*stack.Stack, error) {
	st, err := stack.Start(ctx, stack.Options{Pool: pool, Serve: true, Noop: noop,
		Log: func(string) io.Writer { return log }})
	if err != nil {
		return nil, err
	}
	if st.Sim == "" {
		st.Close()
		return nil, fmt.Errorf("the load needs the WeChat simulator: unset WECHAT_API_BASE")
	}
	return st, nil
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
// go.mod keeps the peer SDK out of the application's), compiled once and
// run one implementation at a time, alternating, three times each: `go test
// -count 3` would run all of one, then all of the other.
func runPeerBench(ctx context.Context, dir string) (peerResult, error) {
	bin, err := filepath.Abs(filepath.Join(dir, "peerbench.test"))
	if err != nil {
		return peerResult{}, err
	}
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin)
	build.Dir = filepath.Join("shared", "crypto", "peerbench")
	if out, err := build.CombinedOutput(); err != nil {
		return peerResult{}, fmt.Errorf("peerbench: %w\n%s", err, out)
	}
	var raw strings.Builder
	samples := map[string][]benchLine{}
	for range 3 {
		for _, impl := range []string{"werun-sam", "silenceper"} {
			cmd := exec.CommandContext(ctx, bin, "-test.run", "^$", "-test.bench", "^BenchmarkDecryptAndParse$/^"+impl+"$", "-test.benchmem")
			cmd.Dir = build.Dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				return peerResult{}, fmt.Errorf("peerbench %s: %w\n%s", impl, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				m := benchRe.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				raw.WriteString(line + "\n")
				ns, _ := strconv.ParseFloat(m[2], 64)
				b, _ := strconv.ParseFloat(m[3], 64)
				a, _ := strconv.ParseFloat(m[4], 64)
				samples[m[1]] = append(samples[m[1]], benchLine{ns, b, a})
			}
		}
	}
	res := peerResult{Raw: raw.String(), Subs: map[string]benchLine{}}
	for name, s := range samples {
		sort.Slice(s, func(i, j int) bool { return s[i].NsOp < s[j].NsOp })
		res.Subs[name] = s[len(s)/2]
	}
	for _, impl := range []string{"werun-sam", "silenceper"} {
		if _, ok := res.Subs[impl]; !ok {
			return res, fmt.Errorf("peerbench: no %s result in:\n%s", impl, res.Raw)
		}
	}
	return res, nil
}

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

func logicalIDs(fns []template.Function) []string {
	ids := make([]string, len(fns))
	for i, f := range fns {
		ids[i] = f.LogicalID
	}
	return ids
}

// --- the report --------------------------------------------------------------------

type report struct {
	Date    time.Time
	Wall    time.Duration
	Machine machineInfo
	Peer    peerResult
	Cold    []coldstart.Result
	Sizes   []sizeResult
	Costs   []Cost
	// Load and Noop are at loopback speed, Slow with injected latency on
	// every DynamoDB request.
	Load, Noop, Slow LoadResult
	LoadConc         int
	Packages         []goBench
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
	worstCold := 0.0
	for _, c := range r.Cold {
		if c.ID != stack.NoopID {
			worstCold = max(worstCold, c.Ratio())
		}
	}
	repeat, resend := r.cost("sync (encryptedData), only today changed"), r.cost("sync (encryptedData), resend")
	p("## Targets")
	p("")
	p("| target | measured | |")
	p("|---|---|---|")
	p("| decrypt-and-parse time ≤ 0.5× silenceper/wechat | %.2f× | %s |", nsRatio, holds(nsRatio <= 0.5))
	p("| decrypt-and-parse allocations ≤ 0.5× silenceper/wechat | %.2f× | %s |", allocRatio, holds(allocRatio <= 0.5))
	p("| cold start (median init) ≤ %g× hello-world, every function | worst %.2f× | %s |", coldTarget, worstCold, holds(worstCold <= coldTarget))
	for _, t := range roundTripTargets {
		c := r.cost(t.scenario)
		p("| %s: sequential DynamoDB round trips through the API, authentication included, ≤ %d | %d | %s |", t.label, t.most, c.Waves, holds(c.Waves > 0 && c.Waves <= t.most))
	}
	p("| sync (encryptedData), only today changed: ≤ 2 write units | %g WCU | %s |", repeat.BilledWCU(), holds(repeat.BilledWCU() <= 2))
	p("| resend of unchanged data: 0 writes | %d write requests, %g WCU | %s |", resend.WriteRequests, resend.BilledWCU(), holds(resend.WriteRequests == 0 && resend.BilledWCU() == 0))
	p("| load: no 5xx, at loopback speed and at DynamoDB latency %s | %d 5xx or unanswered | %s |", latencyLabel(injected),
		r.Load.ServerErrors()+r.Slow.ServerErrors(), holds(r.Load.ServerErrors()+r.Slow.ServerErrors() == 0))
	r.socialTargets(p)
	r.challengeTargets(p)
	p("")
	p("A round trip is a DynamoDB request the answer waits for, counted as in section 4. WeChat's")
	p("`msgSecCheck` (on `PUT /v1/me/profile`, which has no round-trip target) is an HTTPS call to")
	p("WeChat, not a DynamoDB round trip, and is not counted. A container's read of WeChat's shared")
	p("access token (one GetItem of `APP#<appid>`, on its first cloudID sync or profile write, then")
	p("kept in memory until it nears its expiry) is a DynamoDB round trip and is counted where it")
	p("happens: section 4 shows it on its own row; the targets are for a warm container. A sync with a")
	p("login code redeems the code with WeChat and writes the login first, and is exempt.")
	p("")
	p("## 1. Decrypt-and-parse of a 31-day payload")
	p("")
	p("The benchmark of `shared/crypto/peerbench` (`go test -bench . -benchmem`): AES-128-CBC decrypt,")
	p("PKCS#7, JSON parse of `stepInfoList` and the watermark, against `github.com/silenceper/wechat/v2`'s")
	p("`GetWeRunData`. The test binary is built once and run three times per implementation,")
	p("alternating (werun-sam, silenceper, werun-sam, ...); median of the three (by ns/op).")
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
	p("-ldflags \"-s -w -buildid=\"`, CGO off), started %d times under `build/bin/aws-lambda-rie`", len(r.Cold[0].Inits))
	p("(after one unmeasured start each), each start right after one of the hello-world, with the")
	p("template's resolved local environment, dynalite and the WeChat simulator, and invoked once with")
	p("its `events/` file; each function is compared with the hello-world starts paired with its own.")
	p("The figure is the emulator's `INIT REPORT(durationMs)`: from starting the bootstrap to its first call for work")
	p("(this emulator's `REPORT ... Init Duration` field reads about 0.02 ms whatever runs, so it is not")
	p("used). The reference is `local/hello`: `lambda.Start` of a handler returning an empty")
	p("`APIGatewayV2HTTPResponse`, built the same way.")
	p("")
	p("| function | median | p90 | its hello-world's median | median ÷ hello-world | ≤ %g× |", coldTarget)
	p("|---|---:|---:|---:|---:|---|")
	for _, c := range r.Cold {
		if c.ID == stack.NoopID {
			p("| %s | %.2f ms | %.2f ms | | | reference, all %d starts |", label(c.ID), c.Median(), c.P90(), len(c.Inits))
			continue
		}
		p("| %s | %.2f ms | %.2f ms | %.2f ms | %.2f× | %s |", label(c.ID), c.Median(), c.P90(), stats.Percentile(c.Hellos, 50), c.Ratio(), holds(c.Ratio() <= coldTarget))
	}
	p("")
	p("What a function adds to hello-world is mostly package initialisation (`GODEBUG=inittrace=1`")
	p("on a bootstrap shows it). Two choices keep it small: `shared/config` builds the AWS")
	p("configuration from the environment Lambda sets rather than `config.LoadDefaultConfig` (whose")
	p("credential chain of profiles, SSO, STS and IMDS is never used in Lambda), and reads SSM with")
	p("one signed request rather than the SDK's SSM client. Every module is at its newest release;")
	p("`service/dynamodb`'s schema-based serialisation is a small part of that package init, not worth")
	p("holding the module back for.")
	p("")

	p("## 3. Binary size (linux/arm64, stripped)")
	p("")
	p("`make build-<LogicalId> ARTIFACTS_DIR=...`, as `sam build` runs it; the hello-world through the same recipe.")
	p("")
	p("| bootstrap | bytes | MiB | ÷ hello-world |")
	p("|---|---:|---:|---:|")
	var helloSize int64
	for _, s := range r.Sizes {
		if s.ID == stack.NoopID {
			helloSize = s.Bytes
		}
	}
	for _, s := range r.Sizes {
		p("| %s | %d | %.1f | %.2f× |", label(s.ID), s.Bytes, float64(s.Bytes)/(1<<20), float64(s.Bytes)/float64(helloSize))
	}
	p("")

	p("## 4. DynamoDB capacity and round trips per route, through the API handlers")
	p("")
	p("Each request goes through the route's API handler (`shared/api`) as the function runs it: the bearer")
	p("token is verified, its revocation read, the use case run, over the real `DynamoStore` and dynalite")
	p("with the WeChat simulator in-process (`local/bench/routes.go`). Every DynamoDB request carries")
	p("`ReturnConsumedCapacity=INDEXES` (a smithy middleware) and an HTTP transport records each request's")
	p("operation (`X-Amz-Target`), start and end; the recorded client goes through the stack's DynamoDB")
	p("proxy, which delays every request %s, so requests that run beside each other overlap clearly", stats.Ms(countLatency))
	p("and requests that wait for another start after it has ended. Round trips are the longest chain of")
	p("requests each of which started after the one before it had ended: a pool of 8 parallel writes")
	p("that writes 31 days is 4 round trips, not one. Write units: dynalite's reported table units;")
	p("dynalite reports no index units, so the ActiveIndex writes are computed from the written items (each")
	p("item read back; one unit per started KB of its projection plus 100 bytes), and the table units are")
	p("checked against the same computation. Read units are dynalite's report. \"before\" is the count")
	p("from the code and `make bench` of %s, authentication included.", beforeDate)
	p("")
	p("| scenario | route | days changed | requests | round trips | before | RCU | WCU table (reported / computed) | WCU index (computed) | WCU billed |")
	p("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, c := range r.Costs {
		before := ""
		if n, ok := beforeWaves[c.Scenario]; ok {
			before = strconv.Itoa(n)
		}
		p("| %s | `%s` | %d | %s | %d | %s | %g | %g / %g | %g | %g |", c.Scenario, c.Route, c.Changed, countsString(c.Requests, "%d %s"), c.Waves, before,
			c.ReportedRCU, c.ReportedWCU, c.ComputedWCU, c.ComputedGSI, c.BilledWCU())
	}
	p("")

	p("## 5. The whole request under load, through the local API")
	p("")
	p("Each flow is one user: `/_sim/login` → `POST /v1/session` → `/_sim/werun` (31 days) →")
	p("`POST /v1/werun/decrypt` → `GET /v1/steps` → `GET /v1/steps/summary` → their group's board →")
	p("their friends board → `GET /v1/groups`; each user is first given a memberId, a profile, a group of")
	p("%d flow users and one friend, written straight to the table. %d flows in flight, %d flows per", loadGroup, r.LoadConc, r.Load.Flows)
	p("target in %d rounds (bounded in time too), on loopback through the local stack's router and", pairRounds)
	p("emulator pools. The reference runs the same requests against the hello-world bootstrap mounted")
	p("behind the same router and pools (every route to it), so the difference is the functions' own")
	p("work; the rounds alternate (functions, reference, functions, ...). Then the functions run the same")
	p("flows with the stack's DynamoDB proxy delaying every request %s: DynamoDB's latency", latencyLabel(injected))
	p("for a small request in a region, where dynalite on loopback answers in about a millisecond. At that")
	p("latency p50 is the figure that counts, and section 4's round trips explain it. Latency is of the")
	p("API requests only; requests/s counts API requests over the rounds' wall time.")
	p("")
	p("| target | requests | requests/s | p50 | p99 | statuses |")
	p("|---|---:|---:|---:|---:|---|")
	for _, row := range []struct {
		name string
		r    LoadResult
	}{{"werun-sam functions, loopback", r.Load}, {"werun-sam functions, DynamoDB " + latencyLabel(injected), r.Slow}, {"no-op function (reference)", r.Noop}} {
		all := row.r.All()
		p("| %s | %d | %.1f | %s | %s | %s |", row.name, len(all), row.r.RPS(), stats.Ms(stats.Percentile(all, 50)), stats.Ms(stats.Percentile(all, 99)), countsString(row.r.Status, "%d×%d"))
	}
	p("")
	p("Per route, p50 / p99: the functions at loopback speed and at the injected latency, the no-op, and the")
	p("functions' figures of %s (loopback, before this change). Those came from flows of the first three", beforeLoadDate)
	p("requests only, on a quieter machine, with no social route measured: they are kept for the record,")
	p("not as a measure of this change, which shows in the round trips (section 4) and in what the")
	p("injected latency adds to each route here.")
	p("")
	p("| route | loopback | DynamoDB %s | no-op | before, loopback (%s) |", latencyLabel(injected), beforeLoadDate)
	p("|---|---:|---:|---:|---:|")
	for _, route := range append(slices.Clone(flowRoutes), socialRoutes...) {
		l, sl, n := r.Load.Latencies[route], r.Slow.Latencies[route], r.Noop.Latencies[route]
		before := ""
		if b, ok := beforeLoad[route]; ok {
			before = b
		}
		p("| `%s` | %s / %s | %s / %s | %s / %s | %s |", route, stats.Ms(stats.Percentile(l, 50)), stats.Ms(stats.Percentile(l, 99)),
			stats.Ms(stats.Percentile(sl, 50)), stats.Ms(stats.Percentile(sl, 99)), stats.Ms(stats.Percentile(n, 50)), stats.Ms(stats.Percentile(n, 99)), before)
	}
	p("")
	p("`make load` runs 200 users at once the same way (without the social routes) and fails on any 5xx.")
	p("")
	r.writeSocial(p)
	r.writePackageBenchmarks(p)
}

func (r *report) cost(prefix string) Cost {
	for _, c := range r.Costs {
		if strings.HasPrefix(c.Scenario, prefix) {
			return c
		}
	}
	return Cost{}
}

func label(id string) string {
	if id == stack.NoopID {
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
