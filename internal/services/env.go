package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/werun-sam/werun-sam/internal/template"
)

// Need says which services a run needs.
type Need struct {
	DynamoDB bool // dynalite with the template's table
	SSM      bool // moto
}

// Env is where the services listen; an empty endpoint was not started.
type Env struct {
	DynamoDB, SSM, Table string
}

// Vars is the environment a process needs to use env: the SDK's endpoint
// overrides, the table and the region and dummy credentials the functions
// read (they take them from Lambda's variables, not the SDK's chain).
func (e Env) Vars() map[string]string {
	v := map[string]string{
		"AWS_REGION":            "us-east-1",
		"AWS_DEFAULT_REGION":    "us-east-1",
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
	}
	if e.DynamoDB != "" {
		v["AWS_ENDPOINT_URL_DYNAMODB"], v["TABLE_NAME"] = e.DynamoDB, e.Table
	}
	if e.SSM != "" {
		v["AWS_ENDPOINT_URL_SSM"] = e.SSM
	}
	return v
}

// Start starts what need names, dynalite and moto side by side, and
// creates the template's table; the processes go to ps, their output to
// log, one prefix per service. It is what `go run ./local exec` (make
// test) runs and what ForTests runs when make test did not.
func Start(ctx context.Context, ps *Procs, log io.Writer, need Need) (Env, error) {
	var env Env
	motoc := make(chan error, 1)
	go func() {
		var err error
		if need.SSM {
			env.SSM, err = StartMoto(ctx, ps, NewPrefixWriter(log, "[moto] "))
		}
		motoc <- err
	}()
	var err error
	if need.DynamoDB {
		env.DynamoDB, err = StartTable(ctx, ps, NewPrefixWriter(log, "[dynalite] "), "127.0.0.1", 0)
		env.Table = TableName
	}
	err = errors.Join(err, <-motoc) // env.SSM is written before the send
	return env, err
}

// StartTable starts dynalite on host:port (0: any free port) with the
// template's table, TableName, and returns its endpoint.
func StartTable(ctx context.Context, ps *Procs, log io.Writer, host string, port int) (string, error) {
	t, err := template.LoadRepo()
	if err != nil {
		return "", err
	}
	ep, err := StartDynalite(ctx, ps, log, host, port)
	if err != nil {
		return "", err
	}
	return ep, CreateTable(ctx, t, ep, TableName)
}

// The services of this test binary: started at the first ForTests that
// needs them, ended with the binary (Procs.DieWithParent).
var forTests struct {
	mu  sync.Mutex
	err error
}

// ForTests gives a test the services it needs. Under `make test` they are
// the ones `local exec` started and exported (AWS_ENDPOINT_URL_DYNAMODB and
// TABLE_NAME, AWS_ENDPOINT_URL_SSM); under a plain `go test` they are
// started here, once per test binary, through Start, and exported into this
// process's environment, where config.AWS finds them. A missing tool fails
// the test in one line naming `make tools`.
func ForTests(t testing.TB, need Need) Env {
	t.Helper()
	forTests.mu.Lock()
	defer forTests.mu.Unlock()
	if forTests.err != nil {
		t.Fatal(forTests.err)
	}
	var missing Need
	missing.DynamoDB = need.DynamoDB && (os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" || os.Getenv("TABLE_NAME") == "")
	missing.SSM = need.SSM && os.Getenv("AWS_ENDPOINT_URL_SSM") == ""
	if missing.DynamoDB || missing.SSM {
		ps := &Procs{DieWithParent: true}
		env, err := Start(context.Background(), ps, io.Discard, missing)
		if err != nil {
			ps.StopAll()
			forTests.err = fmt.Errorf("starting the test services: %w", err)
			t.Fatal(forTests.err)
		}
		for k, v := range env.Vars() {
			os.Setenv(k, v)
		}
	}
	return Env{DynamoDB: os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), SSM: os.Getenv("AWS_ENDPOINT_URL_SSM"), Table: os.Getenv("TABLE_NAME")}
}
