package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// The tools' places inside the repository, installed by `make tools`.
const (
	dynaliteBin = "local/node_modules/.bin/dynalite"
	motoBin     = "build/venv/bin/moto_server"
	rieBin      = "build/bin/aws-lambda-rie"
)

// ensureDynalite runs `npm ci` in local/ when dynalite is not installed, so
// `go run ./local serve` works without make too.
func ensureDynalite(ctx context.Context) error {
	if fileExists(dynaliteBin) {
		return nil
	}
	fmt.Fprintln(os.Stderr, "local: installing dynalite (npm ci in local/)")
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = "local"
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in local/: %w (is Node.js installed?)", err)
	}
	return nil
}

// startDynalite starts an in-memory dynalite on a loopback port (0: any free
// one) and returns its endpoint URL. Table changes take no simulated time.
func startDynalite(ctx context.Context, ps *Procs, log io.Writer, port int) (string, error) {
	if err := ensureDynalite(ctx); err != nil {
		return "", err
	}
	var err error
	if port == 0 {
		if port, err = freePort(); err != nil {
			return "", err
		}
	} else if err := portFree(port); err != nil {
		return "", err
	}
	p, err := ps.Start("dynalite", os.Environ(), log, dynaliteBin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	if err != nil {
		return "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := waitTCP(ctx, p, addr, 30*time.Second); err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

// startMoto starts moto's server mode (SSM and the rest of AWS, in memory)
// on a free loopback port.
func startMoto(ctx context.Context, ps *Procs, log io.Writer) (string, error) {
	if !fileExists(motoBin) {
		return "", fmt.Errorf("%s: %w: run `make tools`", motoBin, errMissingTool)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	bin, _ := filepath.Abs(motoBin)
	p, err := ps.Start("moto", os.Environ(), log, bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err != nil {
		return "", err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHTTP(ctx, p, url+"/moto-api/", 60*time.Second); err != nil {
		return "", err
	}
	return url, nil
}

// portFree says clearly when a fixed port is taken, instead of a tool's
// start-up failure.
func portFree(port int) error {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("port %d on 127.0.0.1 is in use (another make local?): stop it or pass another port", port)
	}
	return l.Close()
}
