package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// localAppID is the AppID the local stack's WeChat simulator answers for:
// the template's placeholder default.
const localAppID = "wx0000000000000000"

// localSecret is the simulator's AppSecret: fixed, and the one
// events/env.json gives the functions, so `sam local` in Docker can talk to
// the simulator a running `make local` serves. It guards nothing real.
const localSecret = "local-app-secret-0123456789abcdef"

// Overrides are the local stack's values for declared variables: they
// replace the template's own values, and the host environment replaces
// them in turn (WECHAT_API_BASE, TABLE_NAME, ...), as `sam local invoke -n`
// does, only for variables the template declares.
type Overrides map[string]string

// functionVars resolves a function's declared environment for a local run.
func functionVars(t *Template, fn Function, over Overrides) map[string]string {
	r := Resolver{Template: t, Refs: map[string]string{"Table": over["TABLE_NAME"]}}
	vars := make(map[string]string, len(fn.Env))
	for k, v := range fn.Env {
		vars[k] = r.Resolve(v)
		if o, ok := over[k]; ok {
			vars[k] = o
		}
		if h := os.Getenv(k); h != "" {
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

// randomKey is a fresh secret for one local run (hex, 64 characters).
func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startSimulator serves the WeChat simulator on addr ("127.0.0.1:0" for any
// port) and returns its base URL and a stop function.
func startSimulator(addr, appID, secret string) (string, func(), error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("WeChat simulator: %w", err)
	}
	srv := &http.Server{Handler: wechattest.New(appID, secret), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + l.Addr().String(), stop, nil
}

// wechatConfig decides which WeChat the functions talk to: the one named by
// WECHAT_API_BASE (with WECHAT_APPID and WECHAT_SECRET), or a simulator
// started here. It fills over and returns the simulator's stop function.
func wechatConfig(over Overrides, simAddr string) (simURL string, stop func(), err error) {
	if base := os.Getenv("WECHAT_API_BASE"); base != "" {
		if os.Getenv("WECHAT_APPID") == "" || os.Getenv("WECHAT_SECRET") == "" {
			return "", nil, fmt.Errorf("WECHAT_API_BASE is set: set WECHAT_APPID and WECHAT_SECRET too (or unset it for the simulator)")
		}
		over["WECHAT_API_BASE"] = base
		return "", func() {}, nil
	}
	secret := localSecret
	url, stop, err := startSimulator(simAddr, localAppID, secret)
	if err != nil {
		return "", nil, err
	}
	over["WECHAT_API_BASE"] = url
	over["WECHAT_APPID"] = localAppID
	over["WECHAT_SECRET"] = secret
	return url, stop, nil
}

// backends starts what the functions talk to for serve and invoke: the
// WeChat simulator (unless WECHAT_API_BASE names a server) and dynalite
// with the template's table (unless AWS_ENDPOINT_URL_DYNAMODB names one,
// whose table must then exist). It returns the local values of the
// declared variables, the simulator's URL ("" when not started) and a stop
// function for the simulator; processes go to procs.
func backends(ctx context.Context, t *Template, procs *Procs, simAddr string, dynamoPort int, dynamoLog io.Writer) (Overrides, string, func(), error) {
	over := Overrides{"TABLE_NAME": localTableName, "SESSION_SIGNING_KEY": randomKey()}
	simURL, stopSim, err := wechatConfig(over, simAddr)
	if err != nil {
		return nil, "", nil, err
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); ep != "" {
		over["AWS_ENDPOINT_URL_DYNAMODB"] = ep
		return over, simURL, stopSim, nil
	}
	ep, err := startDynalite(ctx, procs, dynamoLog, dynamoPort)
	if err == nil {
		err = createTable(ctx, t, ep, over["TABLE_NAME"])
	}
	if err != nil {
		stopSim()
		return nil, "", nil, err
	}
	over["AWS_ENDPOINT_URL_DYNAMODB"] = ep
	return over, simURL, stopSim, nil
}

// prefixWriter writes each line with a prefix, for interleaved logs.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(p.buf[:i]), "\r")
		p.buf = p.buf[i+1:]
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, line); err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

// simulatorAt says whether a WeChat simulator answers at base: its control
// API refuses a GET of /_sim/login with 405, which no real WeChat does.
func simulatorAt(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_sim/login", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusMethodNotAllowed
}
