package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

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
		event, err = readAll(os.Stdin)
	} else {
		event, err = os.ReadFile(*eventFile)
	}
	if err != nil {
		return err
	}
	t, err := LoadTemplate("template.yaml")
	if err != nil {
		return err
	}
	fn, err := t.Function(*id)
	if err != nil {
		return err
	}
	procs := &Procs{}
	defer procs.StopAll()
	bootstrap, err := buildFunction(ctx, "Makefile", fn.LogicalID, filepath.Join(buildDir, fn.LogicalID))
	if err != nil {
		return err
	}
	attachToLocal(ctx)
	over, _, stopSim, err := backends(ctx, t, procs, "127.0.0.1:0", 0, nil)
	if err != nil {
		return err
	}
	defer stopSim()
	pool, err := NewPool(fn, bootstrap, functionVars(t, fn, over), 1, procs, os.Stderr)
	if err != nil {
		return err
	}
	out, err := pool.Invoke(ctx, event)
	if len(out) > 0 {
		fmt.Println(string(out))
	}
	return err
}

// attachToLocal points a lone invoke at a running `make local` when nothing
// else is named, the way `sam local invoke -n events/env.json` reaches the
// same ports: its table on 127.0.0.1:8000 and its simulator on 3001 (whose
// AppSecret is the fixed local one). Without one, invoke starts its own.
func attachToLocal(ctx context.Context) {
	const dynamo, sim = "http://127.0.0.1:8000", "http://127.0.0.1:3001"
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || !tableAt(ctx, dynamo, localTableName) {
		return
	}
	os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamo)
	fmt.Fprintf(os.Stderr, "local: using the running make local's table (%s)\n", dynamo)
	if os.Getenv("WECHAT_API_BASE") == "" && simulatorAt(ctx, sim) {
		os.Setenv("WECHAT_API_BASE", sim)
		os.Setenv("WECHAT_APPID", localAppID)
		os.Setenv("WECHAT_SECRET", localSecret)
	}
}
