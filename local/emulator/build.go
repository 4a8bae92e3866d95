package emulator

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// BuildDir holds the native builds of the local stack.
const BuildDir = "build/local"

// Build builds one function for this machine (linux, the host's
// architecture) through the Makefile's own build-<LogicalId> target, so
// the local stack runs what `sam build` builds, only native.
func Build(ctx context.Context, makefile, id, outDir string) (string, error) {
	abs, err := filepath.Abs(outDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-s", "-f", makefile, "build-"+id,
		"ARTIFACTS_DIR="+abs, "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("make build-%s: %w\n%s", id, err, out)
	}
	return filepath.Join(abs, "bootstrap"), nil
}

// BuildAll builds the functions two at a time (the Go build cache makes
// the later ones cheap) and returns LogicalId -> bootstrap path.
func BuildAll(ctx context.Context, ids []string) (map[string]string, error) {
	var (
		mu    sync.Mutex
		paths = map[string]string{}
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 2)
	)
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := Build(ctx, "Makefile", id, filepath.Join(BuildDir, id))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			paths[id] = p
		}(id)
	}
	wg.Wait()
	return paths, first
}
