package template

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSAMBuildMakesArm64BootstrapsInSource runs the real AWS SAM CLI (pinned
// in local/requirements.txt, installed by `make tools`) as users run it, with
// no build flag: samconfig.toml must turn on the in-source build, since SAM
// ignores the template's BuildInSource and would otherwise copy the whole
// folder (build/venv included) once per function. It needs neither Docker
// nor AWS credentials.
func TestSAMBuildMakesArm64BootstrapsInSource(t *testing.T) {
	sam, _ := filepath.Abs("build/venv/bin/sam")
	if _, err := os.Stat(sam); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does)", sam)
	}
	out := t.TempDir()
	// --debug prints the options SAM resolved from the command line and
	// samconfig.toml, as the command line it runs.
	cmd := exec.Command(sam, "build", "--debug", "--build-dir", out, "--template-file", "template.yaml")
	cmd.Env = append(os.Environ(),
		"SAM_CLI_TELEMETRY=0",
		"AWS_DEFAULT_REGION=us-east-1",
		"GOARCH=arm64", // whatever the caller's shell says (the last value wins)
	)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sam build: %v\n%s", err, b)
	}
	if !bytes.Contains(b, []byte(" --build_in_source ")) {
		t.Errorf("sam build did not build in source (set build_in_source = true in samconfig.toml); its resolved options:\n%s", resolvedOptions(b))
	}
	for _, id := range functionIDs(t, loadRepoTemplate(t)) {
		if err := checkLambdaELF(filepath.Join(out, id, "bootstrap")); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

// resolvedOptions is the line of `sam build --debug` output that lists the
// options SAM runs with (the whole output when there is none).
func resolvedOptions(out []byte) []byte {
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.Contains(line, []byte("--template_file=")) {
			return line
		}
	}
	return out
}
