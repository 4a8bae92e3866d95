package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// AppID is the AppID the local stack's WeChat simulator answers for: the
// template's placeholder default.
const AppID = "wx0000000000000000"

// localSecret is the simulator's AppSecret: fixed, and the one
// events/env.json gives the functions, so `sam local` in Docker can talk to
// the simulator a running `make local` serves. It guards nothing real.
const localSecret = "local-app-secret-0123456789abcdef"

// RandomKey is a fresh secret for one local run (hex, 64 characters).
func RandomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startSimulator serves the WeChat simulator on host:port (port 0: any
// free one) and returns its base URL and a stop function.
func startSimulator(host string, port int, appID, secret string) (string, func(), error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
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
	url := "http://" + net.JoinHostPort(services.DialHost(host), strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	return url, stop, nil
}

// WeChat decides which WeChat the functions talk to: the one named by
// WECHAT_API_BASE (with WECHAT_APPID and WECHAT_SECRET), or a simulator
// started on host:port. It fills over and returns the simulator's URL (""
// when none was started) and stop function.
func WeChat(over Overrides, host string, port int) (simURL string, stop func(), err error) {
	if base := os.Getenv("WECHAT_API_BASE"); base != "" {
		if os.Getenv("WECHAT_APPID") == "" || os.Getenv("WECHAT_SECRET") == "" {
			return "", nil, fmt.Errorf("WECHAT_API_BASE is set: set WECHAT_APPID and WECHAT_SECRET too (or unset it for the simulator)")
		}
		over["WECHAT_API_BASE"] = base
		return "", func() {}, nil
	}
	url, stop, err := startSimulator(host, port, AppID, localSecret)
	if err != nil {
		return "", nil, err
	}
	over["WECHAT_API_BASE"] = url
	over["WECHAT_APPID"] = AppID
	over["WECHAT_SECRET"] = localSecret
	return url, stop, nil
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

// AttachToLocal points a lone invoke at a running `make local` when nothing
// else is named, the way `sam local invoke -n events/env.json` reaches the
// same ports: its table on 127.0.0.1:8000 and its simulator on 3001 (whose
// AppSecret is the fixed local one). Without one, invoke starts its own.
func AttachToLocal(ctx context.Context) {
	const dynamo, sim = "http://127.0.0.1:8000", "http://127.0.0.1:3001"
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || !services.TableAt(ctx, dynamo, services.TableName) {
		return
	}
	os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamo)
	fmt.Fprintf(os.Stderr, "local: using the running make local's table (%s)\n", dynamo)
	if os.Getenv("WECHAT_API_BASE") == "" && simulatorAt(ctx, sim) {
		os.Setenv("WECHAT_API_BASE", sim)
		os.Setenv("WECHAT_APPID", AppID)
		os.Setenv("WECHAT_SECRET", localSecret)
	}
}
