package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// serve is `make local`: dynalite with the template's table, every function
// under the emulator, the WeChat simulator, and the API on 127.0.0.1:port.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	port := fs.Int("port", 3000, "API port on 127.0.0.1")
	simPort := fs.Int("sim-port", 3001, "WeChat simulator port on 127.0.0.1 (when WECHAT_API_BASE is unset)")
	// A fixed port, so `make invoke` can run a function against this table.
	dynamoPort := fs.Int("dynamodb-port", 8000, "dynalite port on 127.0.0.1 (when AWS_ENDPOINT_URL_DYNAMODB is unset)")
	poolSize := fs.Int("pool", 2, "emulators per function at most (concurrent requests per function)")
	verbose := fs.Bool("v", false, "show dynalite's output too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	// Bind the API port first: a taken port fails before anything starts.
	ln, err := listen("127.0.0.1:" + strconv.Itoa(*port))
	if err != nil {
		return err
	}
	defer ln.Close()

	t, err := LoadTemplate("template.yaml")
	if err != nil {
		return err
	}
	fns, err := t.Functions()
	if err != nil {
		return err
	}
	procs := &Procs{}
	defer procs.StopAll()

	// Build while dynalite starts: both take seconds.
	ids := make([]string, len(fns))
	for i, f := range fns {
		ids[i] = f.LogicalID
	}
	type built struct {
		paths map[string]string
		err   error
	}
	builds := make(chan built, 1)
	go func() { p, err := buildAll(ctx, ids); builds <- built{p, err} }()

	var dlog io.Writer
	if *verbose {
		dlog = newPrefixWriter(os.Stderr, "[dynalite] ")
	}
	over, simURL, stopSim, err := backends(ctx, t, procs, "127.0.0.1:"+strconv.Itoa(*simPort), *dynamoPort, dlog)
	if err != nil {
		return err
	}
	defer stopSim()
	b := <-builds
	if b.err != nil {
		return b.err
	}

	invokers := map[string]Invoker{}
	var routes []Route
	for _, f := range fns {
		pool, err := NewPool(f, b.paths[f.LogicalID], functionVars(t, f, over), *poolSize, procs,
			newPrefixWriter(os.Stderr, "["+f.LogicalID+"] "))
		if err != nil {
			return err
		}
		if len(f.Routes) > 0 {
			if err := pool.Warm(ctx); err != nil {
				return err
			}
		}
		invokers[f.LogicalID] = pool
		routes = append(routes, f.Routes...)
	}
	api := &API{Routes: routes, Invoker: invokers, Log: func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "[api] "+format+"\n", a...)
	}}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	fmt.Printf("werun-sam local stack ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Printf("  API        http://127.0.0.1:%d\n", *port)
	for _, r := range routes {
		fmt.Printf("               %-24s -> %s\n", r.Key(), r.Function)
	}
	if simURL != "" {
		fmt.Printf("  WeChat     %s (simulator: POST /_sim/login, /_sim/werun)\n", simURL)
	} else {
		fmt.Printf("  WeChat     %s\n", over["WECHAT_API_BASE"])
	}
	fmt.Printf("  DynamoDB   %s table %s\n", over["AWS_ENDPOINT_URL_DYNAMODB"], over["TABLE_NAME"])
	fmt.Println("  Invoke     make invoke FUNCTION=RefreshFunction EVENT=events/scheduled.json (uses this table)")
	fmt.Println("Ctrl-C stops everything.")

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "\nstopping")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}
