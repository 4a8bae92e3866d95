package systest

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTheREADMEsChallengeWalkthroughAnswersAsShown runs the README's
// "Organize a step challenge" commands as written, but for the stack's
// ports, and finds each answer the README shows (… standing for what
// differs by run) in what they print (curl's answers end without a
// newline, so an answer may share its line with the next).
func TestTheREADMEsChallengeWalkthroughAnswersAsShown(t *testing.T) {
	script, shown := readmeCommands(t, "### Organize a step challenge")
	if len(shown) < 6 {
		t.Fatalf("the walkthrough shows %d answers; the README's layout changed", len(shown))
	}
	st := localStack(t, "readme")
	script = strings.NewReplacer("127.0.0.1:3000", strings.TrimPrefix(st.API, "http://"),
		"127.0.0.1:3001", strings.TrimPrefix(st.Sim, "http://")).Replace(script)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, out)
	}
	printed := strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n")
	for _, want := range shown {
		if !slices.ContainsFunc(printed, want.MatchString) {
			t.Errorf("the README shows %s; the commands printed:\n%s", want, out)
		}
	}
}

// readmeCommands is the first sh block after heading in the README, and
// a pattern for each answer it shows in a comment: a line of JSON or of
// the CSV, with … for any text and the remark after it dropped.
func readmeCommands(t *testing.T, heading string) (string, []*regexp.Regexp) {
	t.Helper()
	f, err := os.Open("README.md") // the tests run from the repository's root (main_test.go)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var script strings.Builder
	var shown []*regexp.Regexp
	remark := regexp.MustCompile(`\s{2,}\(.*\)$`)
	found, in := false, false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case !found:
			found = line == heading
		case !in:
			in = line == "```sh"
		case line == "```":
			return script.String(), shown
		default:
			script.WriteString(line + "\n")
			if answer, ok := strings.CutPrefix(line, "# "); ok && (strings.HasPrefix(answer, "{") || strings.HasPrefix(answer, "…,")) {
				pattern := strings.ReplaceAll(regexp.QuoteMeta(remark.ReplaceAllString(answer, "")), "…", ".*")
				shown = append(shown, regexp.MustCompile(pattern))
			}
		}
	}
	t.Fatalf("README.md has no sh block after %q", heading)
	return "", nil
}
