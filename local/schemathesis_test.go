package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/services"
)

// stBin is schemathesis's CLI in the venv of `make tools`
// (local/requirements.txt pins it).
const stBin = "build/venv/bin/st"

// TestSchemathesis runs schemathesis over docs/openapi.yaml against the
// whole local stack (serve: every function under the emulator, the WeChat
// simulator, the test services' dynalite) and fails on any of its findings:
// a 5xx, an answer not matching its schema, a status or content type the
// description does not list. The authenticated routes get a real session
// token (simulator login, then POST /v1/session), so they are fuzzed past
// the 401. ST_MAX_EXAMPLES sets the examples per operation (`make fuzz`
// raises it); `make test` runs the default.
func TestSchemathesis(t *testing.T) {
	services.ForTests(t, services.Need{DynamoDB: true})
	st, err := filepath.Abs(stBin)
	if err == nil {
		_, err = os.Stat(st)
	}
	if err != nil {
		t.Fatalf("%s is not installed: run `make tools`", stBin)
	}
	examples := 50
	if v := os.Getenv("ST_MAX_EXAMPLES"); v != "" {
		if examples, err = strconv.Atoi(v); err != nil || examples < 1 {
			t.Fatalf("ST_MAX_EXAMPLES=%q: want a positive count", v)
		}
	}
	apiPort, err := services.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	simPort, err := services.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WECHAT_API_BASE", "") // the stack's own simulator
	// The stack logs every request and function line to stderr: to a file
	// here, named on failure, so `make test` stays readable.
	if err := os.MkdirAll(emulator.BuildDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(emulator.BuildDir, "schemathesis-stack.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = logf
	t.Cleanup(func() {
		os.Stderr = stderr
		logf.Close()
		if t.Failed() {
			t.Logf("the local stack's log: %s", logPath)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, []string{"-port", strconv.Itoa(apiPort), "-sim-port", strconv.Itoa(simPort), "-dynamodb-port", "0", "-pool", "2"})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-served:
		case <-time.After(15 * time.Second):
			t.Error("the local stack did not stop")
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(apiPort)
	sim := "http://127.0.0.1:" + strconv.Itoa(simPort)
	// Ready when a route answers (an empty body gets the envelope's 400).
	deadline := time.Now().Add(4 * time.Minute)
	for {
		resp, err := http.Post(base+"/v1/session", "application/json", nil)
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-served:
			t.Fatalf("local stack: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the local stack did not start in 4 minutes")
		}
	}

	var login struct{ Code string }
	postJSONTo(t, sim+"/_sim/login", `{"openid":"schemathesis-user"}`, &login)
	var session struct{ Token string }
	postJSONTo(t, base+"/v1/session", `{"code":"`+login.Code+`"}`, &session)
	if session.Token == "" {
		t.Fatal("no session token")
	}

	sctx, scancel := context.WithTimeout(ctx, 10*time.Minute)
	defer scancel()
	cmd := exec.CommandContext(sctx, st, "run", "docs/openapi.yaml",
		"--url", base,
		"--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
		"-H", "Authorization: Bearer "+session.Token,
		"--max-examples", strconv.Itoa(examples),
		"--phases", "examples,coverage,fuzzing",
		"--generation-database", "none",
		"--workers", "1", // schemathesis 4.32.5 coverage phase can raise a spurious FlakyFailure from hypothesis internals with 2
		"--no-color",
		"--report", "junit", "--report-dir", t.TempDir(),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "SCHEMATHESIS_TELEMETRY=false", "NO_COLOR=1")
	start := time.Now()
	err = cmd.Run()
	t.Logf("schemathesis, %d examples per operation, %s:\n%s", examples, time.Since(start).Round(time.Second), out.String())
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("schemathesis found problems (exit %d): see its report above", exit.ExitCode())
	} else if err != nil {
		t.Fatal(err)
	}
}

func postJSONTo(t *testing.T, url, body string, v any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(fmt.Errorf("POST %s: %w", url, err))
	}
}
