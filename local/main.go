// Command local is the Docker-free local stack of werun-sam: the same
// template.yaml, the same bootstrap binaries and the same AWS Lambda Runtime
// Interface Emulator that `sam local` runs inside Docker, with dynalite for
// DynamoDB (behind the fault and latency proxy of package ddbproxy), moto
// for SSM, and the WeChat simulator from shared/wechat/wechattest.
//
//	go run ./local serve  [-port 3000] [-host 127.0.0.1]   the API, like `sam local start-api`
//	go run ./local invoke -function ID -event FILE         one event, like `sam local invoke`
//	go run ./local exec -- CMD...                          CMD with dynalite, moto and the table (make test)
//	go run ./local run -- CMD...                           CMD with the whole stack on free ports (the client's tests)
//	go run ./local load | bench                            make load, make bench
//	go run ./local sam-local [-serve]                      SAM CLI's own sam local in Docker, checked (make sam-local)
//
// This file is only the command line: the stack is assembled by package
// stack, the services by package services, the emulators by package
// emulator, the API by package apigw, the measurements by package bench,
// the SAM CLI's Docker-based runs by package samlocal.
// Every process it starts runs in its own process group and is stopped when
// the command ends, on success, failure or Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/bench"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/samlocal"
	"github.com/werun-sam/werun-sam/local/stack"
)

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  go run ./local serve [-port 3000] [-pool 2] [-host 127.0.0.1]
  go run ./local invoke -function <LogicalId> -event <file>
  go run ./local exec -- <command> [args...]
  go run ./local run [-pool 1] -- <command> [args...]   (WERUN_API_URL, WERUN_SIM_URL, WERUN_DDB_PROXY_URL)
  go run ./local load [-users 200] [-pool 4]          (make load)
  go run ./local bench [-out docs/PERFORMANCE.md]     (make bench)
  go run ./local sam-local [-serve]                   (make sam-local: sam local in Docker, checked)
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	if err := template.ChdirRoot(); err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var (
		code int
		err  error
	)
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(ctx, args)
	case "invoke":
		err = invoke(ctx, args)
	case "exec":
		code, err = execCmd(ctx, args)
	case "run":
		code, err = runCmd(ctx, args)
	case "load":
		err = load(ctx, args)
	case "bench":
		err = benchCmd(ctx, args)
	case "sam-local":
		err = samLocal(ctx, args)
	default:
		usage()
		code = 2
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "local:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "local:", err)
	os.Exit(1)
}

// serve is `make local`: dynalite with the template's table, every function
// under the emulator, the WeChat simulator, and the API on host:port.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "address the API, the WeChat simulator and dynalite listen on (0.0.0.0: every interface)")
	port := fs.Int("port", 3000, "API port")
	simPort := fs.Int("sim-port", 3001, "WeChat simulator port (when WECHAT_API_BASE is unset)")
	// A fixed port, so `make invoke` can run a function against this table.
	dynamoPort := fs.Int("dynamodb-port", 8000, "the functions' DynamoDB port: the fault proxy in front of dynalite")
	poolSize := fs.Int("pool", 2, "emulators per function at most (concurrent requests per function)")
	verbose := fs.Bool("v", false, "show dynalite's output too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	st, err := stack.Start(ctx, stack.Options{
		Host: *host, APIPort: *port, SimPort: *simPort, DynamoPort: *dynamoPort, Pool: *poolSize, Serve: true,
		Log: func(name string) io.Writer {
			if name == "dynalite" && !*verbose {
				return nil
			}
			return services.NewPrefixWriter(os.Stderr, "["+name+"] ")
		},
		APILog: func(format string, a ...any) { fmt.Fprintf(os.Stderr, "[api] "+format+"\n", a...) },
	})
	if err != nil {
		return err
	}
	defer st.Close()

	fmt.Printf("werun-sam local stack ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Printf("  API        http://%s\n", net.JoinHostPort(*host, strconv.Itoa(*port)))
	for _, r := range st.Routes {
		fmt.Printf("               %-24s -> %s\n", r.Key(), r.Function)
	}
	if st.Sim != "" {
		fmt.Printf("  WeChat     %s (simulator: POST /_sim/login, /_sim/werun, /_sim/group; faults: /_sim/fail, /_sim/delay)\n", st.Sim)
	} else {
		fmt.Printf("  WeChat     %s\n", st.Over["WECHAT_API_BASE"])
	}
	fmt.Printf("  DynamoDB   %s table %s (dynalite %s behind the fault proxy)\n", st.Proxy.URL, st.Over["TABLE_NAME"], st.DynamoDB)
	fmt.Printf("  Faults     %s/_proxy/rules, /_proxy/latency, /_proxy/log (README, \"Reproducing an incident\")\n", st.Proxy.URL)
	fmt.Println("  Invoke     make invoke FUNCTION=RefreshFunction EVENT=events/scheduled.json (uses this table)")
	fmt.Println("Ctrl-C stops everything.")

	err = st.Wait(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "\nstopping")
	}
	return err
}

// invoke is `make invoke`: one event through one function under the
// emulator, the answer on stdout, like `sam local invoke`.
func invoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	id := fs.String("function", "", "LogicalId of the function, e.g. SessionFunction")
	eventFile := fs.String("event", "", "event file, e.g. events/session.json (- for stdin)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == "" || *eventFile == "" {
		return errors.New("invoke: give -function <LogicalId> and -event <file>")
	}
	var event []byte
	var err error
	if *eventFile == "-" {
		event, err = io.ReadAll(os.Stdin)
	} else {
		event, err = os.ReadFile(*eventFile)
	}
	if err != nil {
		return err
	}
	stack.AttachToLocal(ctx)
	st, err := stack.Start(ctx, stack.Options{Functions: []string{*id}, Pool: 1,
		Log: func(name string) io.Writer {
			if name == "dynalite" {
				return nil
			}
			return os.Stderr
		}})
	if err != nil {
		return err
	}
	defer st.Close()
	out, err := st.Pools[*id].Invoke(ctx, event)
	if len(out) > 0 {
		fmt.Println(string(out))
	}
	return err
}

// execCmd is what `make test` runs: dynalite and moto on free ports, the
// template's table, the command with the endpoints in its environment,
// and everything stopped afterwards, whatever the command's outcome.
func execCmd(ctx context.Context, args []string) (int, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return 2, errors.New("exec: give a command, e.g. go run ./local exec -- go test ./local/systest")
	}
	procs := &services.Procs{}
	defer procs.StopAll()
	if err := os.MkdirAll(emulator.BuildDir, 0o755); err != nil {
		return 1, err
	}
	logf, err := os.Create(filepath.Join(emulator.BuildDir, "services.log"))
	if err != nil {
		return 1, err
	}
	defer logf.Close()
	env, err := services.Start(ctx, procs, logf, services.Need{DynamoDB: true, SSM: true})
	if err != nil {
		return 1, err
	}
	fmt.Fprintf(os.Stderr, "local: dynalite %s, moto %s, table %s\n", env.DynamoDB, env.SSM, env.Table)
	return runWith(args, env.Vars())
}

// runCmd starts the whole stack as serve does, but on free ports and with
// the fault switch (stack.PathFaults), and runs the command with the API's,
// the WeChat simulator's and the DynamoDB fault proxy's URLs in
// WERUN_API_URL, WERUN_SIM_URL and WERUN_DDB_PROXY_URL; the stack stops
// when the command ends.
func runCmd(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	poolSize := fs.Int("pool", 1, "emulators per function at most")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	args = fs.Args()
	if len(args) == 0 {
		return 2, errors.New("run: give a command, e.g. go run ./local run -- npm --prefix client test")
	}
	if err := os.MkdirAll(emulator.BuildDir, 0o755); err != nil {
		return 1, err
	}
	// The functions' logs go to a file, so the command's output stays its own.
	logPath := filepath.Join(emulator.BuildDir, "run.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return 1, err
	}
	defer logf.Close()
	start := time.Now()
	st, err := stack.Start(ctx, stack.Options{Serve: true, Faults: true, Pool: *poolSize,
		Log: func(name string) io.Writer {
			if name == "dynalite" {
				return nil
			}
			return services.NewPrefixWriter(logf, "["+name+"] ")
		}})
	if err != nil {
		return 1, err
	}
	defer st.Close()
	if st.Sim == "" {
		return 1, errors.New("run: WECHAT_API_BASE is set; the command needs the simulator (unset it)")
	}
	fmt.Fprintf(os.Stderr, "local: stack ready in %s: API %s, WeChat simulator %s, function logs in %s\n",
		time.Since(start).Round(100*time.Millisecond), st.API, st.Sim, logPath)
	return runWith(args, map[string]string{"WERUN_API_URL": st.API, "WERUN_SIM_URL": st.Sim, "WERUN_DDB_PROXY_URL": st.Proxy.URL})
}

// runWith runs the command with vars added to the environment and returns
// its exit code.
func runWith(args []string, vars map[string]string) (int, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v) // the last value of a name wins
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The command shares our process group, so Ctrl-C reaches it directly;
	// we wait for it to end and then stop the services.
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if code := exit.ExitCode(); code > 0 {
				return code, nil
			}
			return 1, fmt.Errorf("%s: %v", args[0], err)
		}
		return 1, err
	}
	return 0, nil
}

// load is `make load`.
func load(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var c bench.LoadConfig
	fs.IntVar(&c.Users, "users", 200, "simulated users, all syncing at once")
	fs.IntVar(&c.Pool, "pool", 4, "emulators per function at most; requests beyond queue")
	fs.IntVar(&c.Days, "days", 31, "days each user syncs")
	fs.DurationVar(&c.MaxTime, "max-time", 5*time.Minute, "stop starting users after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return bench.Load(ctx, c)
}

// benchCmd is `make bench`.
func benchCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o bench.Options
	fs.StringVar(&o.Out, "out", "docs/PERFORMANCE.md", "report to write")
	fs.IntVar(&o.Runs, "runs", 10, "cold starts per function (each paired with one of hello-world)")
	fs.IntVar(&o.Flows, "flows", 150, "user flows (7 API requests each) per load target")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "flows in flight during the load runs")
	fs.DurationVar(&o.LoadTime, "load-time", 90*time.Second, "stop starting flows after this long, per load target")
	fs.IntVar(&o.Pool, "pool", 4, "emulators per function at most")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return bench.Run(ctx, o)
}

// samLocal is `make sam-local`.
func samLocal(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sam-local", flag.ContinueOnError)
	var o samlocal.Options
	fs.BoolVar(&o.Serve, "serve", false, "no checks: keep the stack up for `sam local` by hand, until Ctrl-C")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return samlocal.Run(ctx, o)
}
