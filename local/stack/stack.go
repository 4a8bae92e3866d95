// Package stack assembles the local stack once for every command of
// `go run ./local` (serve, invoke, exec's callers, bench, load): the
// template's functions built natively and run in emulator pools, dynalite
// with the table behind the DynamoDB fault proxy (local/ddbproxy), the
// WeChat simulator (or the WeChat WECHAT_API_BASE names), and the
// template's API over them, each function given the environment the
// template declares with local values.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/apigw"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/local/emulator"
)

// Overrides are the local stack's values for declared variables: they
// replace the template's own values, and the host environment replaces
// them in turn (WECHAT_API_BASE, TABLE_NAME, ...), as `sam local invoke -n`
// does, only for variables the template declares. The one exception is
// AWS_ENDPOINT_URL_DYNAMODB: the host's is what the stack's fault proxy
// forwards to, so an override (the proxy) stays.
type Overrides map[string]string

// FunctionVars resolves a function's declared environment for a local run.
func FunctionVars(t *template.Template, fn template.Function, over Overrides) map[string]string {
	r := template.Resolver{Template: t, Refs: map[string]string{"Table": over["TABLE_NAME"]}}
	vars := make(map[string]string, len(fn.Env))
	for k, v := range fn.Env {
		vars[k] = r.Resolve(v)
		if o, ok := over[k]; ok {
			vars[k] = o
		}
		if h := os.Getenv(k); h != "" && (k != "AWS_ENDPOINT_URL_DYNAMODB" || over[k] == "") {
			vars[k] = h
		}
	}
	// A secret given directly wins over its SSM name in shared/config;
	// clear the name too, so nothing local tries to reach SSM for it.
	for _, s := range []string{"WECHAT_SECRET", "SESSION_SIGNING_KEY"} {
		if _, ok := vars[s+"_PARAM"]; ok && vars[s] != "" && os.Getenv(s+"_PARAM") == "" {
			vars[s+"_PARAM"] = ""
		}
	}
	return vars
}

// NoopID is the LogicalId of the bench's reference function: the bare
// hello-world bootstrap (local/hello), built by the Makefile's
// build-BenchHello target with the functions' flags. It is not in
// template.yaml.
const NoopID = "BenchHello"

// NoopFunction is the reference function as the stack runs it: the
// settings and environment of the first HTTP function, so only the work
// differs.
func NoopFunction(fns []template.Function) template.Function {
	for _, f := range fns {
		if len(f.Routes) > 0 {
			f.LogicalID, f.Routes = NoopID, nil
			return f
		}
	}
	return template.Function{LogicalID: NoopID, Timeout: 10, MemorySize: 128}
}

// Options say what to start and where.
type Options struct {
	Host       string   // bind address of the API, the simulator and the DynamoDB proxy ("": 127.0.0.1; dynalite binds 127.0.0.1)
	APIPort    int      // with Serve: the API's port (0: any free one)
	SimPort    int      // the simulator's port (0: any free one), when WECHAT_API_BASE is unset
	DynamoPort int      // the functions' DynamoDB port, the fault proxy's (0: any free one)
	Pool       int      // emulators per function at most
	Functions  []string // LogicalIds to build and run (nil: every function of the template; empty: none, only what they talk to)
	Serve      bool     // serve the template's routes (the emulators of routed functions start warm)
	Noop       bool     // also serve every route by the reference function (NoopAPI)
	Faults     bool     // serve the fault switch PathFaults on the API
	// Log gives the writer for a process's output: "dynalite" or a
	// LogicalId (nil: discarded).
	Log    func(name string) io.Writer
	APILog func(format string, args ...any) // one line per API request (nil: none)
}

// Stack is the running local stack.
type Stack struct {
	Template  *template.Template
	Functions []template.Function       // the ones it runs, sorted by LogicalId
	Paths     map[string]string         // LogicalId (and NoopID) -> native bootstrap
	Over      Overrides                 // the local values of declared variables
	Sim       string                    // the simulator's URL ("" when WECHAT_API_BASE names a WeChat)
	Pools     map[string]*emulator.Pool // by LogicalId
	Routes    []template.Route
	API       string // base URLs ("" when not served)
	NoopAPI   string
	// Proxy is the DynamoDB fault and latency proxy every function's
	// AWS_ENDPOINT_URL_DYNAMODB names; it starts with no rule and no added
	// latency. DynamoDB is what it forwards to (the stack's dynalite, or
	// the AWS_ENDPOINT_URL_DYNAMODB it was started with): read the table
	// there to look past the rules.
	Proxy    *ddbproxy.Proxy
	DynamoDB string

	procs *services.Procs
	stop  []func()
	errc  chan error
}

// Start builds and starts it all; Close stops it. A taken API port fails
// before anything starts.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	logOf := func(name string) io.Writer {
		if o.Log == nil {
			return nil
		}
		return o.Log(name)
	}
	s = &Stack{procs: &services.Procs{}, Pools: map[string]*emulator.Pool{}, errc: make(chan error, 2)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var api net.Listener
	if o.Serve {
		if api, err = listen(net.JoinHostPort(o.Host, strconv.Itoa(o.APIPort))); err != nil {
			return nil, err
		}
		s.stop = append(s.stop, func() { api.Close() })
	}
	if s.Template, err = template.Load(template.File); err != nil {
		return nil, err
	}
	all, err := s.Template.Functions()
	if err != nil {
		return nil, err
	}
	for _, id := range o.Functions {
		f, err := s.Template.Function(id)
		if err != nil {
			return nil, err
		}
		s.Functions = append(s.Functions, f)
	}
	if o.Functions == nil {
		s.Functions = all
	}
	ids := make([]string, len(s.Functions))
	for i, f := range s.Functions {
		ids[i] = f.LogicalID
	}
	if o.Noop {
		ids = append(ids, NoopID)
	}

	// Build while dynalite starts: both take seconds.
	type built struct {
		paths map[string]string
		err   error
	}
	builds := make(chan built, 1)
	go func() { p, err := emulator.BuildAll(ctx, ids); builds <- built{p, err} }()
	berr := s.backends(ctx, o, logOf("dynalite"))
	b := <-builds
	if err := errors.Join(berr, b.err); err != nil {
		return nil, err
	}
	s.Paths = b.paths

	for _, f := range s.Functions {
		pool, err := emulator.NewPool(f, s.Paths[f.LogicalID], FunctionVars(s.Template, f, s.Over), o.Pool, s.procs, logOf(f.LogicalID))
		if err != nil {
			return nil, err
		}
		if o.Serve && len(f.Routes) > 0 {
			if err := pool.Warm(ctx); err != nil {
				return nil, err
			}
		}
		s.Pools[f.LogicalID] = pool
		s.Routes = append(s.Routes, f.Routes...)
	}
	if !o.Serve {
		return s, nil
	}
	invokers := map[string]apigw.Invoker{}
	for id, p := range s.Pools {
		invokers[id] = p
	}
	var h http.Handler = &apigw.API{Routes: s.Routes, Invoker: invokers, Log: o.APILog}
	if o.Faults {
		h = &Faults{Next: h}
	}
	s.API = s.serve(api, h)
	if !o.Noop {
		return s, nil
	}
	hello := NoopFunction(all)
	p, err := emulator.NewPool(hello, s.Paths[NoopID], FunctionVars(s.Template, hello, s.Over), o.Pool, s.procs, logOf(NoopID))
	if err == nil {
		err = p.Warm(ctx)
	}
	if err != nil {
		return nil, err
	}
	noopRoutes := make([]template.Route, len(s.Routes))
	for i, r := range s.Routes {
		noopRoutes[i] = template.Route{Method: r.Method, Path: r.Path, Function: NoopID}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(o.Host, "0"))
	if err != nil {
		return nil, err
	}
	s.NoopAPI = s.serve(l, &apigw.API{Routes: noopRoutes, Invoker: map[string]apigw.Invoker{NoopID: p}})
	return s, nil
}

// backends starts what the functions talk to: the WeChat simulator (unless
// WECHAT_API_BASE names a server), dynalite with the template's table
// (unless AWS_ENDPOINT_URL_DYNAMODB names one, whose table must then
// exist) and the fault proxy in front of it, and sets the local values of
// the declared variables.
func (s *Stack) backends(ctx context.Context, o Options, dynamoLog io.Writer) error {
	s.Over = Overrides{"TABLE_NAME": services.TableName, "SESSION_SIGNING_KEY": RandomKey()}
	sim, stopSim, err := WeChat(s.Over, o.Host, o.SimPort)
	if err != nil {
		return err
	}
	s.Sim = sim
	s.stop = append(s.stop, stopSim)
	if o.DynamoPort != 0 {
		if err := services.PortFree(o.Host, o.DynamoPort); err != nil {
			return err
		}
	}
	keys, err := ddbproxy.KeysOf(s.Template)
	if err != nil {
		return err
	}
	if s.DynamoDB = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); s.DynamoDB == "" {
		if err := services.EnsureDynalite(ctx); err != nil {
			return err
		}
		// Only the proxy talks to it.
		if s.DynamoDB, err = services.StartTable(ctx, s.procs, dynamoLog, "127.0.0.1", 0); err != nil {
			return err
		}
	}
	if s.Proxy, err = ddbproxy.Start(net.JoinHostPort(o.Host, strconv.Itoa(o.DynamoPort)), s.DynamoDB, keys); err != nil {
		return fmt.Errorf("DynamoDB fault proxy: %w", err)
	}
	s.stop = append(s.stop, func() { _ = s.Proxy.Close() })
	s.Over["AWS_ENDPOINT_URL_DYNAMODB"] = s.Proxy.URL
	return nil
}

// serve serves h on l and returns its base URL.
func (s *Stack) serve(l net.Listener, h http.Handler) string {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			s.errc <- err
		}
	}()
	s.stop = append(s.stop, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	host, port, _ := net.SplitHostPort(l.Addr().String())
	return "http://" + net.JoinHostPort(services.DialHost(host), port)
}

// Wait waits until ctx ends or an API server fails.
func (s *Stack) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.errc:
		return err
	}
}

// Close stops the API, the simulator and every process, newest first.
func (s *Stack) Close() {
	for _, stop := range slices.Backward(s.stop) {
		stop()
	}
	s.stop = nil
	s.procs.StopAll()
}

// listen binds the API port, with a clear message when it is taken.
func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return nil, fmt.Errorf("%s is in use (another `make local`?): use -port: %w", addr, err)
		}
		return nil, err
	}
	return l, nil
}
