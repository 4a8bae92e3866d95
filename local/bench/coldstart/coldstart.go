// Package coldstart measures the functions' cold starts under the Lambda
// Runtime Interface Emulator (the bench's section 2): each function's init,
// paired with a bare hello-world bootstrap's started just before it, as the
// emulator's INIT REPORT gives them.
package coldstart

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/bench/stats"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/stack"
)

// coldEvents is the events/ file each function is invoked with.
var coldEvents = map[string]string{
	"SessionFunction":   "events/session.json",
	"DecryptFunction":   "events/decrypt.json",
	"OpenDataFunction":  "events/cloudid.json",
	"StepsFunction":     "events/steps.json",
	"SocialFunction":    "events/group-board.json",
	"AccountFunction":   "events/export.json",
	"ChallengeFunction": "events/challenge.json",
	"RefreshFunction":   "events/scheduled.json",
	stack.NoopID:        "events/steps.json",
}

// Result is one function's cold starts, and the hello-world's paired
// with them.
type Result struct {
	ID     string
	Inits  []float64 // ms, sorted
	Hellos []float64 // ms, sorted: the hello-world starts paired with these
}

// Median and P90 are the init durations' percentiles, in ms.
func (c Result) Median() float64 { return stats.Percentile(c.Inits, 50) }
func (c Result) P90() float64    { return stats.Percentile(c.Inits, 90) }

// Ratio is the median init over the median of its paired hello-world's.
func (c Result) Ratio() float64 { return c.Median() / stats.Percentile(c.Hellos, 50) }

// initReport is the emulator's own line for the init phase: from starting
// the bootstrap to its first call for the next invocation.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([\d.]+)\)`)

// Measure starts each bootstrap runs times (after one unmeasured
// run of each, to bring the binaries into the page cache), each start of a
// function right after one of the hello-world, so each function is compared
// with starts measured beside its own; the last result is the hello-world's
// over all its starts.
func Measure(ctx context.Context, st *stack.Stack, runs int, log io.Writer) ([]Result, error) {
	type target struct {
		fn    template.Function
		vars  map[string]string
		event []byte
	}
	var targets []target
	for _, f := range append(slices.Clone(st.Functions), stack.NoopFunction(st.Functions)) {
		file, ok := coldEvents[f.LogicalID]
		if !ok {
			return nil, fmt.Errorf("cold start of %s: no events/ file for it in coldEvents (local/bench/coldstart)", f.LogicalID)
		}
		ev, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("cold start of %s: %w", f.LogicalID, err)
		}
		vars := stack.FunctionVars(st.Template, f, st.Over)
		// The emulator's INIT REPORT is an info line; the stack runs it at warn.
		vars["LOG_LEVEL"] = "info"
		targets = append(targets, target{f, vars, ev})
	}
	fns, hello := targets[:len(targets)-1], targets[len(targets)-1]
	start := func(t target) (float64, error) {
		return coldStart(ctx, t.fn, st.Paths[t.fn.LogicalID], t.vars, t.event, log)
	}
	results := make([]Result, len(fns))
	all := Result{ID: stack.NoopID}
	for run := -1; run < runs; run++ {
		for i, f := range fns {
			h, err := start(hello)
			if err != nil {
				return nil, err
			}
			ms, err := start(f)
			if err != nil {
				return nil, err
			}
			results[i].ID = f.fn.LogicalID
			if run >= 0 {
				results[i].Inits = append(results[i].Inits, ms)
				results[i].Hellos = append(results[i].Hellos, h)
				all.Inits = append(all.Inits, h)
			}
		}
	}
	results = append(results, all)
	for i := range results {
		sort.Float64s(results[i].Inits)
		sort.Float64s(results[i].Hellos)
	}
	return results, nil
}

// coldStart starts one emulator with the bootstrap, invokes it once and
// returns the init duration the emulator reported, in ms.
func coldStart(ctx context.Context, fn template.Function, bootstrap string, vars map[string]string, event []byte, log io.Writer) (float64, error) {
	var buf bytes.Buffer
	out := &services.LockedWriter{W: io.MultiWriter(&buf, log)}
	p, err := emulator.NewPool(fn, bootstrap, vars, 1, &services.Procs{}, out)
	if err != nil {
		return 0, err
	}
	e, err := p.Start(ctx)
	if err != nil {
		return 0, err
	}
	defer e.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(event))
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
		var m [][]byte
		out.Locked(func() { m = initReport.FindSubmatch(buf.Bytes()) })
		if m != nil {
			return strconv.ParseFloat(string(m[1]), 64)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("cold start of %s: no INIT REPORT in the emulator's output", fn.LogicalID)
}

// --- 3. sizes --------------------------------------------------------------------
