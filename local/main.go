// Command local is the Docker-free local stack of werun-sam: the same
// template.yaml, the same bootstrap binaries and the same AWS Lambda Runtime
// Interface Emulator that `sam local` runs inside Docker, with dynalite for
// DynamoDB, moto for SSM, and the WeChat simulator from shared/wechat/wechattest.
//
//	go run ./local serve  [-port 3000]                  the API, like `sam local start-api`
//	go run ./local invoke -function ID -event FILE      one event, like `sam local invoke`
//	go run ./local exec -- CMD...                       CMD with dynalite, moto and the table (make test)
//	go run ./local sam-local [-serve]                   SAM CLI's own sam local in Docker, checked (make sam-local)
//
// Every process it starts runs in its own process group and is stopped when
// the command ends, on success, failure or Ctrl-C.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  go run ./local serve [-port 3000] [-pool 2]
  go run ./local invoke -function <LogicalId> -event <file>
  go run ./local exec -- <command> [args...]
  go run ./local load [-users 200] [-pool 4]          (make load)
  go run ./local bench [-out docs/PERFORMANCE.md]     (make bench)
  go run ./local sam-local [-serve]                   (make sam-local: sam local in Docker, checked)
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	root, err := repoRoot()
	if err != nil {
		fatal(err)
	}
	if err := os.Chdir(root); err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var code int
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(ctx, args)
	case "invoke":
		err = invoke(ctx, args)
	case "exec":
		code, err = execCmd(ctx, args)
	case "load":
		err = load(ctx, args)
	case "bench":
		err = bench(ctx, args)
	case "sam-local":
		err = samLocal(ctx, args)
	default:
		usage()
		code = 2
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "local:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "local:", err)
	os.Exit(1)
}

// repoRoot is the nearest folder upwards holding template.yaml, so the
// commands work from anywhere in the repository.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("template.yaml not found in this folder or above: run from the repository")
		}
		dir = parent
	}
}
