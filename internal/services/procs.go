// Package services runs what the functions talk to in the local stack and
// the tests, as supervised child processes: dynalite (DynamoDB) with the
// template's table, moto (SSM), each in its own process group on a free
// loopback port, stopped on exit. It also finds the tools `make tools`
// installs, and gives the integration tests the same services, started
// once per test binary unless `make test` already exported them.
package services

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Proc is a child process started in its own process group, so stopping
// it also stops whatever it started (npm's node, the emulator's bootstrap).
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Procs remembers what was started, to stop it all in reverse order.
type Procs struct {
	// DieWithParent has the kernel kill each process when this one ends,
	// however it ends (Linux): a test binary has no hook that runs when
	// `go test` times it out.
	DieWithParent bool

	mu    sync.Mutex
	procs []*Proc
}

// Start runs name with args; its output goes to out (nil: discarded).
func (ps *Procs) Start(label string, env []string, out io.Writer, name string, args ...string) (*Proc, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if ps.DieWithParent {
		dieWithParent(cmd.SysProcAttr)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	p := &Proc{Name: label, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	ps.mu.Lock()
	ps.procs = append(ps.procs, p)
	ps.mu.Unlock()
	return p, nil
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after a grace period.
func (p *Proc) Stop() { p.StopWithin(3 * time.Second) }

// StopWithin is Stop with the given grace period, for a process that
// cleans up on SIGTERM (SAM CLI removing its containers).
func (p *Proc) StopWithin(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// StopAll stops every process started, newest first.
func (ps *Procs) StopAll() {
	ps.mu.Lock()
	procs := ps.procs
	ps.procs = nil
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for i := len(procs) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(p *Proc) { defer wg.Done(); p.Stop() }(procs[i])
	}
	wg.Wait()
}

// FreePort asks the kernel for a free loopback port. Another process could
// take it before ours binds it; on this single-user loopback that is rare,
// and readiness checks report it.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitTCP waits until addr accepts connections, the process exits, or the
// timeout passes.
func WaitTCP(ctx context.Context, p *Proc, addr string, timeout time.Duration) error {
	return waitFor(ctx, p, timeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		return false
	})
}

// WaitHTTP waits until url answers any HTTP status.
func WaitHTTP(ctx context.Context, p *Proc, url string, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	return waitFor(ctx, p, timeout, func() bool {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			return true
		}
		return false
	})
}

func waitFor(ctx context.Context, p *Proc, timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ready() {
			return nil
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited before it was ready: %v", p.Name, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", p.Name, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
