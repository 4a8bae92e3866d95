package systest

// Every variable a function reads is declared for it in template.yaml (or
// set by Lambda itself): SAM ignores local overrides of undeclared
// variables, and Lambda would not have them. Learned by running each
// function's initialisation, not by reading its source.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/shared/app"
	"github.com/werun-sam/werun-sam/shared/config"
)

// providedByLambda are variables the Lambda runtime sets itself.
var providedByLambda = regexp.MustCompile(`^(AWS_REGION|AWS_DEFAULT_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_.*|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR|_HANDLER|_X_AMZN_TRACE_ID|TZ)$`)

// The environment of the child processes in which functionReads runs one
// function's initialisation.
const (
	initFunctionVar = "WERUN_INIT_FUNCTION"
	initSecret      = "contract-app-secret"
	initSigningKey  = "contract-signing-key-0123456789abcdef"
)

// initFunction is the child's side of functionReads (called from TestMain):
// build the function's handler as its main does, then print the variables
// shared/config looked up.
func initFunction(id string) {
	if _, err := app.Handler(context.Background(), id); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(config.Read())
	os.Exit(0)
}

// functionReads runs each registry function's initialisation in a child
// process of this test binary, with only the environment Lambda would give
// it (the template's declared variables and Lambda's own), twice: the local
// shape (secrets given directly) and the deployed one (their SSM names, read
// from moto). It returns what each looked up, by LogicalId.
func functionReads(t *testing.T, tmpl *template.Template) map[string][]string {
	t.Helper()
	env := services.ForTests(t, services.Need{SSM: true})
	r := template.Resolver{Template: tmpl}
	cfg, err := config.AWS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	session, err := tmpl.Function("SessionFunction")
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{r.Resolve(session.Env["WECHAT_SECRET_PARAM"]): initSecret, r.Resolve(session.Env["SESSION_SIGNING_KEY_PARAM"]): initSigningKey} {
		if _, err := ssm.NewFromConfig(cfg).PutParameter(context.Background(), &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		}); err != nil {
			t.Fatal(err)
		}
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string][]string{}
	for _, f := range fns {
		for _, deployed := range []bool{false, true} {
			vars := []string{
				initFunctionVar + "=" + f.LogicalID, "PATH=" + os.Getenv("PATH"),
				"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
			}
			for k, v := range f.Env {
				value := r.Resolve(v)
				switch {
				case k == "TABLE_NAME":
					value = "contract"
				case k == "WECHAT_APPID":
					value = "wx0123456789abcdef" // the parameter has no default
				case k == "AWS_ENDPOINT_URL_SSM" && deployed:
					value = env.SSM
				case !deployed && k == "WECHAT_SECRET":
					value = initSecret
				case !deployed && k == "SESSION_SIGNING_KEY":
					value = initSigningKey
				case !deployed && strings.HasSuffix(k, "_PARAM"):
					value = ""
				}
				vars = append(vars, k+"="+value)
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = vars
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s (deployed %v): initialisation failed: %v\n%s", f.LogicalID, deployed, err, stderr.Bytes())
			}
			var names []string
			if err := json.Unmarshal(out, &names); err != nil {
				t.Fatalf("%s: %q: %v", f.LogicalID, out, err)
			}
			for _, n := range names {
				if !slices.Contains(reads[f.LogicalID], n) {
					reads[f.LogicalID] = append(reads[f.LogicalID], n)
				}
			}
		}
	}
	return reads
}

// checkEnvDeclared checks every variable a function looked up is declared
// in the template for that function (its Environment or Globals) or set by
// Lambda itself: SAM ignores local overrides of undeclared variables, and
// Lambda would not have them.
func checkEnvDeclared(t *template.Template, reads map[string][]string) error {
	fns, err := t.Functions()
	if err != nil {
		return err
	}
	var missing []string
	for _, f := range fns {
		for _, name := range reads[f.LogicalID] {
			if _, declared := f.Env[name]; !declared && !providedByLambda.MatchString(name) {
				missing = append(missing, f.LogicalID+" reads "+name)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return fmt.Errorf("read but not declared in template.yaml: %s", strings.Join(missing, ", "))
	}
	return nil
}

func TestEveryVariableAFunctionReadsIsDeclaredForIt(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	reads := functionReads(t, tmpl)
	if err := checkEnvDeclared(tmpl, reads); err != nil {
		t.Error(err)
	}
	// The check fails on a template that no longer declares what a
	// function reads.
	raw, err := os.ReadFile(template.File)
	if err != nil {
		t.Fatal(err)
	}
	broken, err := template.Parse([]byte(strings.ReplaceAll(string(raw), "WATERMARK_MAX_AGE: 1h", "WATERMARK_MAX_AGEX: 1h")))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkEnvDeclared(broken, reads); err == nil || !strings.Contains(err.Error(), "DecryptFunction reads WATERMARK_MAX_AGE") {
		t.Errorf("the check on a template without WATERMARK_MAX_AGE: %v", err)
	}
}
