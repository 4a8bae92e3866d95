// Package emulator runs the template's functions as Lambda does, without
// Docker: each built natively through the Makefile's own build-<LogicalId>
// target, and run under the AWS Lambda Runtime Interface Emulator, a pool
// of emulators per function.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
)

// Pool runs one function's bootstrap under the AWS Lambda Runtime Interface
// Emulator. An emulator takes one invocation at a time (a second concurrent
// one makes it panic), so the pool hands each emulator one request at a
// time and starts another, up to max, when all are busy: the way Lambda
// scales execution environments.
type Pool struct {
	fn        template.Function
	bootstrap string
	env       []string
	max       int
	procs     *services.Procs
	log       io.Writer
	rie       string

	mu    sync.Mutex
	idle  chan *Emulator
	count int
}

// Emulator is one running emulator with one bootstrap.
type Emulator struct {
	proc *services.Proc
	URL  string // the invocations endpoint
}

// Stop ends the emulator and its bootstrap.
func (e *Emulator) Stop() { e.proc.Stop() }

// NewPool prepares a pool; emulators start on first use (or Warm).
func NewPool(fn template.Function, bootstrap string, env map[string]string, max int, procs *services.Procs, log io.Writer) (*Pool, error) {
	rie, err := services.Tool(services.RIEBin)
	if err != nil {
		return nil, err
	}
	if max < 1 {
		max = 1
	}
	return &Pool{fn: fn, bootstrap: bootstrap, env: lambdaEnv(fn, env), max: max,
		procs: procs, log: log, rie: rie, idle: make(chan *Emulator, max)}, nil
}

// lambdaEnv is the environment of one execution environment: PATH and the
// like from the host, what Lambda itself sets, then the function's own
// resolved variables.
func lambdaEnv(fn template.Function, vars map[string]string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TZ=UTC",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.LogicalID,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(fn.Timeout),
		"LOG_LEVEL=warn",
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// Warm starts one emulator now, so the first request finds it ready.
func (p *Pool) Warm(ctx context.Context) error {
	e, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	p.release(e, true)
	return nil
}

// Start starts one emulator outside the pool (the caller stops it), again
// on fresh ports if it exits before it is ready: a port FreePort found free
// can be taken by another process before the emulator binds it.
func (p *Pool) Start(ctx context.Context) (e *Emulator, err error) {
	for range 3 {
		if e, err = p.startOnce(ctx); err == nil || ctx.Err() != nil {
			return e, err
		}
	}
	return nil, err
}

func (p *Pool) startOnce(ctx context.Context) (*Emulator, error) {
	port, err := services.FreePort()
	if err != nil {
		return nil, err
	}
	inner, err := services.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	proc, err := p.procs.Start("emulator "+p.fn.LogicalID, p.env, p.log, p.rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(inner),
		p.bootstrap)
	if err != nil {
		return nil, err
	}
	if err := services.WaitTCP(ctx, proc, addr, 15*time.Second); err != nil {
		proc.Stop()
		return nil, err
	}
	return &Emulator{proc: proc, URL: "http://" + addr + "/2015-03-31/functions/function/invocations"}, nil
}

func (p *Pool) acquire(ctx context.Context) (*Emulator, error) {
	select {
	case e := <-p.idle:
		return e, nil
	default:
	}
	p.mu.Lock()
	if p.count < p.max {
		p.count++
		p.mu.Unlock()
		e, err := p.Start(ctx)
		if err != nil {
			p.mu.Lock()
			p.count--
			p.mu.Unlock()
		}
		return e, err
	}
	p.mu.Unlock()
	select {
	case e := <-p.idle:
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) release(e *Emulator, healthy bool) {
	if healthy && !e.proc.Exited() {
		p.idle <- e
		return
	}
	e.proc.Stop()
	p.mu.Lock()
	p.count--
	p.mu.Unlock()
}

// ErrFunction marks a function that returned an error or crashed instead of
// answering; the payload is Lambda's {"errorMessage","errorType"}.
var ErrFunction = errors.New("function error")

// Invoke sends one event and returns the function's response payload.
func (p *Pool) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	e, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(p.fn.Timeout)*time.Second+5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(event))
	if err != nil {
		p.release(e, true)
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.release(e, false) // an emulator in an unknown state is not reused
		return nil, fmt.Errorf("%s: invoke: %w", p.fn.LogicalID, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The emulator answers a timeout with 200 and this text, where Lambda
	// reports a failed invocation; the timed-out runtime is not reused.
	timedOut := bytes.HasPrefix(body, []byte("Task timed out"))
	p.release(e, err == nil && !timedOut)
	if err != nil {
		return nil, err
	}
	if timedOut {
		return nil, fmt.Errorf("%s: %w: %s", p.fn.LogicalID, ErrFunction, body)
	}
	if resp.StatusCode != http.StatusOK || isFunctionError(body) {
		return body, fmt.Errorf("%s: %w (HTTP %d): %s", p.fn.LogicalID, ErrFunction, resp.StatusCode, bytes.TrimSpace(body))
	}
	return body, nil
}

// isFunctionError spots Lambda's error payload.
func isFunctionError(b []byte) bool {
	return bytes.Contains(b, []byte(`"errorType"`)) && bytes.Contains(b, []byte(`"errorMessage"`)) &&
		!bytes.Contains(b, []byte(`"statusCode"`))
}
