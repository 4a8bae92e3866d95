package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/stack"
)

// sessionPool builds SessionFunction natively and puts it under the real
// emulator with the local stack's environment, as `make local` does.
func sessionPool(t *testing.T, max int) *emulator.Pool {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true})
	tmpl, err := template.Load(template.File)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tmpl.Function("SessionFunction")
	if err != nil {
		t.Fatal(err)
	}
	bootstrap, err := emulator.Build(context.Background(), "Makefile", fn.LogicalID, filepath.Join(t.TempDir(), fn.LogicalID))
	if err != nil {
		t.Fatal(err)
	}
	over := stack.Overrides{"TABLE_NAME": env.Table, "SESSION_SIGNING_KEY": stack.RandomKey(), "AWS_ENDPOINT_URL_DYNAMODB": env.DynamoDB}
	_, stopSim, err := stack.WeChat(over, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSim)
	procs := &services.Procs{}
	t.Cleanup(procs.StopAll)
	var log io.Writer = io.Discard
	if testing.Verbose() {
		log = os.Stderr
	}
	pool, err := emulator.NewPool(fn, bootstrap, stack.FunctionVars(tmpl, fn, over), max, procs, log)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestEmulatorRunsTheBuiltFunctionOnItsSampleEvent(t *testing.T) {
	pool := sessionPool(t, 1)
	event, err := os.ReadFile("events/session.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pool.Invoke(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		t.Fatalf("answer %s is no APIGatewayV2HTTPResponse (%v)", out, err)
	}
	if !json.Valid([]byte(resp.Body)) {
		t.Errorf("body %q is not JSON", resp.Body)
	}
}

// An emulator panics on a second concurrent invocation; the pool must
// serialise per emulator and grow up to its size instead.
func TestPoolServesConcurrentRequestsOneAtATimePerEmulator(t *testing.T) {
	pool := sessionPool(t, 2)
	event, err := os.ReadFile("events/session.json")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pool.Invoke(context.Background(), event); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := pool.Started(); n > 2 {
		t.Errorf("pool started %d emulators, want at most 2", n)
	}
}

func TestMain(m *testing.M) {
	if err := template.ChdirRoot(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// The emulator answers a function past its timeout with 200 and "Task timed
// out"; Lambda reports a failed invocation, so the pool must too (the local
// API then answers 500 as API Gateway does), and not reuse that runtime.
func TestATimedOutInvocationIsAFunctionError(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(dir, "bootstrap"), "./local/emulator/testdata/sleeper")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	procs := &services.Procs{}
	t.Cleanup(procs.StopAll)
	fn := template.Function{LogicalID: "Sleeper", Timeout: 1, MemorySize: 128}
	pool, err := emulator.NewPool(fn, filepath.Join(dir, "bootstrap"), nil, 1, procs, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pool.Invoke(context.Background(), []byte(`{}`))
	if !errors.Is(err, emulator.ErrFunction) {
		t.Fatalf("answer %q, %v; want ErrFunction", out, err)
	}
	if n := pool.Started(); n != 0 {
		t.Errorf("%d emulators kept after a timeout, want the timed-out one stopped", n)
	}
}
