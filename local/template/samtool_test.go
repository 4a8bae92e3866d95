package template

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSAMBuildMakesArm64Bootstraps runs the real AWS SAM CLI (pinned in
// local/requirements.txt, installed by `make tools`) as users run it: the
// makefile builder, in source. It needs neither Docker nor AWS credentials.
func TestSAMBuildMakesArm64Bootstraps(t *testing.T) {
	sam, _ := filepath.Abs("build/venv/bin/sam")
	if _, err := os.Stat(sam); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does)", sam)
	}
	out := t.TempDir()
	cmd := exec.Command(sam, "build", "--build-dir", out, "--template-file", "template.yaml")
	cmd.Env = append(os.Environ(),
		"SAM_CLI_TELEMETRY=0",
		"AWS_DEFAULT_REGION=us-east-1",
		"GOARCH=arm64", // whatever the caller's shell says (the last value wins)
	)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sam build: %v\n%s", err, b)
	}
	for _, id := range functionIDs(t, loadRepoTemplate(t)) {
		if err := checkLambdaELF(filepath.Join(out, id, "bootstrap")); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
