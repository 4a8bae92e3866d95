package bench

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/werun-sam/werun-sam/local/bench/stats"
)

// --- 7. the packages' own benchmarks -------------------------------------------

// packageBenchmarks are the Go benchmarks whose figures the docs lean on:
// what a test binary pays to start its own dynalite and moto (why plain
// `go test` need not share them), and the refresher's board build rate.
// Named by pattern, not package, so they are found wherever they live.
const (
	packageBenchPattern = "^(BenchmarkStart|BenchmarkRefreshBoard)$"
	packageBenchPkgs    = "./internal/... ./shared/..."
)

// goBench is one result line of `go test -bench`.
type goBench struct {
	Pkg, Name string
	N         int
	NsOp      float64
	Extra     string // custom metrics, e.g. "58913 users/s"
}

var goBenchRe = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(.*)$`)

// runPackageBenchmarks runs them with the go command's defaults, each test
// binary starting the services it needs.
func runPackageBenchmarks(ctx context.Context) ([]goBench, error) {
	args := append([]string{"test", "-run", "^$", "-bench", packageBenchPattern}, strings.Fields(packageBenchPkgs)...)
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	var res []goBench
	pkg := ""
	for _, line := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/werun-sam/werun-sam/")
			continue
		}
		m := goBenchRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		ns, _ := strconv.ParseFloat(m[3], 64)
		res = append(res, goBench{Pkg: pkg, Name: m[1], N: n, NsOp: ns, Extra: strings.Join(strings.Fields(m[4]), " ")})
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("go %s: no benchmark matched:\n%s", strings.Join(args, " "), out)
	}
	return res, nil
}

func (r *report) writePackageBenchmarks(p func(string, ...any)) {
	p("## 7. The packages' own benchmarks")
	p("")
	p("Run as `go test -run '^$' -bench '%s' %s`,", packageBenchPattern, packageBenchPkgs)
	p("each test binary starting its own services. `BenchmarkStart` is what a test binary pays to")
	p("start dynalite with the table, or moto, and stop it again: cheap enough that plain `go test ./...`")
	p("gives each package binary its own. `BenchmarkRefreshBoard` is one refresher run building the")
	p("board of a pre-populated day over dynalite, which is much slower than DynamoDB.")
	p("")
	p("| benchmark | package | runs | per run | reported |")
	p("|---|---|---:|---:|---|")
	for _, b := range r.Packages {
		p("| %s | `%s` | %d | %s | %s |", strings.ReplaceAll(b.Name, "_", " "), b.Pkg, b.N, stats.Ms(time.Duration(b.NsOp)), b.Extra)
	}
	p("")
}
