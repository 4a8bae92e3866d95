package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// execCmd is what `make test` runs: dynalite and moto on free ports, the
// template's table, the command with the endpoints in its environment,
// and everything stopped afterwards, whatever the command's outcome.
func execCmd(ctx context.Context, args []string) (int, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return 2, errors.New("exec: give a command, e.g. go run ./local exec -- go test ./local")
	}
	t, err := LoadTemplate("template.yaml")
	if err != nil {
		return 1, err
	}
	procs := &Procs{}
	defer procs.StopAll()

	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		return 1, err
	}
	logf, err := os.Create(filepath.Join(buildDir, "services.log"))
	if err != nil {
		return 1, err
	}
	defer logf.Close()
	type started struct {
		url string
		err error
	}
	motoc := make(chan started, 1)
	go func() { u, err := startMoto(ctx, procs, newPrefixWriter(logf, "[moto] ")); motoc <- started{u, err} }()
	dynamo, err := startDynalite(ctx, procs, newPrefixWriter(logf, "[dynalite] "), 0)
	if err != nil {
		return 1, err
	}
	if err := createTable(ctx, t, dynamo, localTableName); err != nil {
		return 1, err
	}
	m := <-motoc
	if m.err != nil {
		return 1, m.err
	}
	rie, _ := filepath.Abs(rieBin)
	env := withEnv(os.Environ(), map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": dynamo,
		"AWS_ENDPOINT_URL_SSM":      m.url,
		"TABLE_NAME":                localTableName,
		"AWS_REGION":                "us-east-1",
		"AWS_DEFAULT_REGION":        "us-east-1",
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"WERUN_RIE":                 rie,
	})
	fmt.Fprintf(os.Stderr, "local: dynalite %s, moto %s, table %s\n", dynamo, m.url, localTableName)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The command shares our process group, so Ctrl-C reaches it directly;
	// we wait for it to end and then stop the services.
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if code := exit.ExitCode(); code > 0 {
				return code, nil
			}
			return 1, fmt.Errorf("%s: %v", args[0], err)
		}
		return 1, err
	}
	return 0, nil
}

// withEnv returns env with the given variables set (replacing old values).
func withEnv(env []string, set map[string]string) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
