package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/internal/template"
)

// The tools' places inside the repository, installed by `make tools`.
const (
	DynaliteBin = "local/node_modules/.bin/dynalite"
	MotoBin     = "build/venv/bin/moto_server"
	RIEBin      = "build/bin/aws-lambda-rie"
	SAMBin      = "build/venv/bin/sam"
)

// ErrMissingTool marks a tool `make tools` installs that is not there.
var ErrMissingTool = errors.New("tool not installed")

var root = sync.OnceValues(template.Root)

// Tool is the absolute path of a tool (one of the constants above), or
// ErrMissingTool saying which command installs it.
func Tool(rel string) (string, error) {
	dir, err := root()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, rel)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s: %w: run `make tools`", rel, ErrMissingTool)
	}
	return path, nil
}

// EnsureDynalite runs `npm ci` in local/ when dynalite is not installed, so
// `go run ./local serve` works without make too. (The tests do not: several
// test binaries installing at once would trip over each other.)
func EnsureDynalite(ctx context.Context) error {
	if _, err := Tool(DynaliteBin); err == nil {
		return nil
	}
	dir, err := root()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "local: installing dynalite (npm ci in local/)")
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = filepath.Join(dir, "local")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in local/: %w (is Node.js installed?)", err)
	}
	return nil
}

// StartDynalite starts an in-memory dynalite on host:port (port 0: any free
// one) and returns its endpoint URL. Table changes take no simulated time.
func StartDynalite(ctx context.Context, ps *Procs, log io.Writer, host string, port int) (string, error) {
	bin, err := Tool(DynaliteBin)
	if err != nil {
		return "", err
	}
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return "", err
		}
	} else if err := PortFree(host, port); err != nil {
		return "", err
	}
	p, err := ps.Start("dynalite", os.Environ(), log, bin, "--host", host, "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort(DialHost(host), strconv.Itoa(port))
	if err := WaitTCP(ctx, p, addr, 30*time.Second); err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

// StartMoto starts moto's server mode (SSM and the rest of AWS, in memory)
// on a free loopback port.
func StartMoto(ctx context.Context, ps *Procs, log io.Writer) (string, error) {
	bin, err := Tool(MotoBin)
	if err != nil {
		return "", err
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	p, err := ps.Start("moto", os.Environ(), log, bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err != nil {
		return "", err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := WaitHTTP(ctx, p, url+"/moto-api/", 60*time.Second); err != nil {
		return "", err
	}
	return url, nil
}

// PortFree says clearly when a fixed port is taken, instead of a tool's
// start-up failure.
func PortFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d on %s is in use (another make local?): stop it or pass another port", port, host)
	}
	return l.Close()
}

// DialHost is where a client on this machine reaches a server bound to
// host: loopback for the wildcard addresses.
func DialHost(host string) string {
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return host
}
