package layout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxLines is the most non-test lines a package may have: past that a
// package is hard to hold in one's head, and is split by concept.
const maxLines = 2000

// pkg is the part of `go list -json` the checks read.
type pkg struct {
	ImportPath, Dir                          string
	GoFiles, CgoFiles, IgnoredGoFiles        []string
	Imports, Deps, TestImports, XTestImports []string
}

// list runs `go list -json` on every package of the module at dir and
// returns them by import path, with the module's path.
func list(t *testing.T, dir string) (map[string]pkg, string) {
	t.Helper()
	out, err := goCmd(dir, "list", "-m")
	if err != nil {
		t.Fatal(err)
	}
	mod := strings.TrimSpace(string(out))
	out, err = goCmd(dir, "list", "-json", mod+"/...")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]pkg{}
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs, mod
}

func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// oversized names each package whose non-test .go files (for any platform:
// files a build constraint leaves out count too) have more than limit lines.
func oversized(pkgs map[string]pkg, limit int) ([]string, error) {
	var out []string
	for _, path := range slices.Sorted(maps.Keys(pkgs)) {
		p := pkgs[path]
		n := 0
		for _, f := range slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles) {
			if strings.HasSuffix(f, "_test.go") || !strings.HasSuffix(f, ".go") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				return nil, err
			}
			n += bytes.Count(b, []byte("\n"))
		}
		if n > limit {
			out = append(out, fmt.Sprintf("%s has %d non-test lines, over %d: split it by concept", path, n, limit))
		}
	}
	return out, nil
}

// upward names each package under from that reaches a package under to:
// by a direct import of its code or tests, or through their dependencies.
func upward(pkgs map[string]pkg, from, to string) []string {
	under := func(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }
	var out []string
	for _, path := range slices.Sorted(maps.Keys(pkgs)) {
		if !under(path, from) {
			continue
		}
		p := pkgs[path]
		reach := map[string]string{} // package reached -> how
		note := func(paths []string, how string) {
			for _, q := range paths {
				if _, seen := reach[q]; !seen {
					reach[q] = how
				}
			}
		}
		note(p.Imports, "imports")
		note(p.TestImports, "its tests import")
		note(p.XTestImports, "its tests import")
		note(p.Deps, "depends on")
		for _, q := range slices.Concat(p.TestImports, p.XTestImports) {
			note(pkgs[q].Deps, "its tests depend, through "+q+", on")
		}
		for _, q := range slices.Sorted(maps.Keys(reach)) {
			if under(q, to) {
				out = append(out, fmt.Sprintf("%s %s %s", path, reach[q], q))
			}
		}
	}
	return out
}

func TestNoPackageIsOverTheLineLimit(t *testing.T) {
	pkgs, _ := list(t, ".")
	problems, err := oversized(pkgs, maxLines)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func TestSharedNeverReachesLocal(t *testing.T) {
	pkgs, mod := list(t, ".")
	if _, ok := pkgs[mod+"/shared/api"]; !ok {
		t.Fatalf("go list found no %s/shared/api: the check would see nothing", mod)
	}
	for _, p := range upward(pkgs, mod+"/shared", mod+"/local") {
		t.Error(p)
	}
}

// The checks fail on a module built to break them: a package one line over
// the limit, and shared/ reaching local/ each way it can.
func TestChecksFailOnABrokenModule(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                   "module example.com/m\n\ngo 1.26\n",
		"big/big.go":               "package big\n" + strings.Repeat("// a line\n", maxLines),
		"fits/fits.go":             "package fits\n" + strings.Repeat("// a line\n", maxLines-1),
		"fits/fits_test.go":        "package fits\n" + strings.Repeat("// a test line\n", 2*maxLines),
		"local/tool/tool.go":       "package tool\n",
		"local/helper/helper.go":   "package helper\n",
		"local/dep/dep.go":         "package dep\n",
		"internal/mid/mid.go":      "package mid\n\nimport _ \"example.com/m/local/dep\"\n",
		"shared/direct/direct.go":  "package direct\n\nimport _ \"example.com/m/local/tool\"\n",
		"shared/intest/a.go":       "package intest\n",
		"shared/intest/a_test.go":  "package intest\n\nimport _ \"example.com/m/local/helper\"\n",
		"shared/xtest/a.go":        "package xtest\n",
		"shared/xtest/a_test.go":   "package xtest_test\n\nimport _ \"example.com/m/local/helper\"\n",
		"shared/viatest/a.go":      "package viatest\n",
		"shared/viatest/a_test.go": "package viatest\n\nimport _ \"example.com/m/internal/mid\"\n",
		"shared/clean/clean.go":    "package clean\n\nimport _ \"example.com/m/internal/mid2\"\n",
		"internal/mid2/mid2.go":    "package mid2\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pkgs, mod := list(t, dir)

	big, err := oversized(pkgs, maxLines)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"example.com/m/big has 2001 non-test lines, over 2000: split it by concept"}; !slices.Equal(big, want) {
		t.Errorf("oversized = %q, want %q (fits has exactly %d lines and its tests do not count)", big, want, maxLines)
	}

	got := upward(pkgs, mod+"/shared", mod+"/local")
	for _, want := range []string{
		"example.com/m/shared/direct imports example.com/m/local/tool",
		"example.com/m/shared/intest its tests import example.com/m/local/helper",
		"example.com/m/shared/xtest its tests import example.com/m/local/helper",
		"example.com/m/shared/viatest its tests depend, through example.com/m/internal/mid, on example.com/m/local/dep",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("upward misses %q; got:\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, p := range got {
		if strings.Contains(p, "shared/clean") {
			t.Errorf("upward blames a clean package: %s", p)
		}
	}
}
