package template

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each contract check must fail on a broken copy of what it checks: a check
// that cannot fail proves nothing.

// brokenCopy writes a copy of the repository file with each old replaced by
// new (each must occur) into a temp dir and returns its path.
func brokenCopy(t *testing.T, file string, edits ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, file))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("%s has no %q to break", file, edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(file))
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMakefileCheckFailsOnBrokenMakefile(t *testing.T) {
	cases := []struct {
		name  string
		id    string
		edits []string
		want  string
	}{
		{"a function without a target", "StepsFunction", []string{"build-StepsFunction:", "build-StepsFunctionX:"}, "build-StepsFunction"},
		{"a target that builds for amd64", "SessionFunction", []string{"GOARCH       := arm64", "GOARCH       := amd64"}, "want an arm64"},
		{"a target that writes no bootstrap", "SessionFunction", []string{"-o $(ARTIFACTS_DIR)/bootstrap", "-o $(ARTIFACTS_DIR)/main"}, "bootstrap"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mk := brokenCopy(t, "Makefile", c.edits...)
			err := checkBootstraps(context.Background(), mk, []string{c.id}, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check passed or said the wrong thing: %v (want %q)", err, c.want)
			}
		})
	}
}

func TestTemplateChecksFailOnBrokenTemplate(t *testing.T) {
	cases := []struct {
		name  string
		edits []string
		check func(*Template) error
		want  string
	}{
		{"a route missing from the template", []string{"Path: /v1/steps/summary", "Path: /v1/steps/summary2"},
			func(t *Template) error { return checkRoutes(t, contractRoutes) }, "GET /v1/steps/summary"},
		{"a route served by the wrong function", []string{"Method: POST\n            Path: /v1/session", "Method: GET\n            Path: /v1/steps"},
			func(t *Template) error { return checkRoutes(t, contractRoutes) }, "served by"},
		{"a route the OpenAPI description lacks", []string{"Path: /v1/steps/summary", "Path: /v1/steps/total"},
			func(t *Template) error { return checkOpenAPIRoutes(t, filepath.Join(repo, "docs", "openapi.yaml")) }, "GET /v1/steps/total is in template.yaml"},
		{"a route on an API the template lacks", []string{"ApiId: !Ref Api\n            Method: POST\n            Path: /v1/session", "ApiId: !Ref Nope\n            Method: POST\n            Path: /v1/session"},
			func(t *Template) error { return checkRoutes(t, contractRoutes) }, "ApiId"},
		{"env.json overriding an undeclared variable", []string{"today's leaderboard.\n      Environment:\n        Variables:\n          SESSION_SIGNING_KEY_PARAM: !Sub /werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n          SESSION_SIGNING_KEY: \"\"", "today's leaderboard.\n      Environment:\n        Variables:\n          SESSION_SIGNING_KEY_PARAM: !Sub /werun-sam/${AWS::StackName}/${SessionSigningKeyParam}\n          SESSION_SIGNING_KEYX: \"\""},
			func(t *Template) error { return checkEvents(t, filepath.Join(repo, "events")) }, "StepsFunction.SESSION_SIGNING_KEY is not declared"},
		{"an alarm on a custom metric the code does not define", []string{"MetricName: TokenRefreshes", "MetricName: TokenRefreshed"},
			checkMetricRefs, "TokenRefreshed is not one"},
		{"an alarm on a custom metric by other dimensions", []string{"Dimensions: [{Name: Errcode, Value: \"45009\"}]", "Dimensions: [{Name: Code, Value: \"45009\"}]"},
			checkMetricRefs, "WeChatErrors by [Code]"},
		{"a widget on an undefined metric", []string{`"Requests",`, `"Request",`}, checkMetricRefs, "Request is not one"},
		{"a SEARCH by other dimensions", []string{`,Code} MetricName=\"Errors\"`, `,Route} MetricName=\"Errors\"`}, checkMetricRefs, "Errors by [Route]"},
		{"an AWS metric misnamed", []string{"MetricName: Throttles", "MetricName: Throttle"}, checkMetricRefs, "no metric Throttle"},
		{"an AWS metric by undocumented dimensions", []string{"Dimensions: [{Name: ApiId, Value: !Ref Api}]", "Dimensions: [{Name: ApiName, Value: !Ref Api}]"},
			checkMetricRefs, "documented by"},
		{"a dimension naming the wrong resource", []string{"Dimensions: [{Name: FunctionName, Value: !Ref RefreshFunction}]", "Dimensions: [{Name: FunctionName, Value: !Ref Table}]"},
			checkMetricRefs, "does not name a AWS::Serverless::Function"},
		{"another namespace", []string{"Namespace: AWS/SQS", "Namespace: AWS/SNS"}, checkMetricRefs, `"AWS/SNS"`},
		{"an alarm that notifies nobody", []string{"      AlarmActions: [!Ref AlarmTopic]\n", "\n"}, checkOperations, "want [!Ref AlarmTopic]"},
		{"an alarm missing from the dashboard", []string{`"${WeChatQuotaAlarm.Arn}",`, ""}, checkOperations, "WeChatQuotaAlarm is not on the dashboard"},
		{"a rollback alarm that does not exist", []string{"- !Ref SessionErrorsAlarm", "- !Ref SessionFunction"}, checkOperations, "SessionFunction] is no alarm"},
		{"eleven rollback alarms", []string{"          - !Ref SessionErrorsAlarm\n", strings.Repeat("          - !Ref SessionErrorsAlarm\n", 7)},
			checkOperations, "11 rollback alarms"},
		{"a log group that never expires", []string{"      LogGroupName: !Sub /werun-sam/${AWS::StackName}/steps\n      RetentionInDays: !Ref LogRetentionDays\n", "      LogGroupName: !Sub /werun-sam/${AWS::StackName}/steps\n"},
			checkOperations, "StepsLogGroup: retention"},
		{"two functions in one log group", []string{"LogGroup: !Ref DecryptLogGroup", "LogGroup: !Ref SessionLogGroup"}, checkOperations, "share the log group"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := Load(brokenCopy(t, "template.yaml", c.edits...))
			if err != nil {
				t.Fatal(err)
			}
			err = c.check(tmpl)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check passed or said the wrong thing: %v (want %q)", err, c.want)
			}
		})
	}
}

func TestOpenAPIRoutesCheckFailsOnBrokenDescription(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	cases := []struct {
		name  string
		edits []string
		want  string
	}{
		{"a route missing from the description", []string{"  /v1/steps/summary:", "  /v1/steps/total:"}, "GET /v1/steps/summary is in template.yaml"},
		{"a route nothing serves", []string{"  /v1/steps/summary:", "  /v1/steps/total:"}, "GET /v1/steps/total is in the OpenAPI paths"},
		{"a method changed", []string{"  /v1/me/export:\n    get:", "  /v1/me/export:\n    post:"}, "POST /v1/me/export is in the OpenAPI paths"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkOpenAPIRoutes(tmpl, brokenCopy(t, filepath.Join("docs", "openapi.yaml"), c.edits...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check passed or said the wrong thing: %v (want %q)", err, c.want)
			}
		})
	}
}

func TestEventsCheckFailsOnBrokenEvents(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"an unknown route", "session.json", `"routeKey": "POST /v1/session"`, `"routeKey": "POST /v1/login"`, "no route"},
		{"not payload 2.0", "steps.json", `"version": "2.0"`, `"version": "1.0"`, "2.0"},
		{"a method that disagrees with the route", "decrypt.json", `"method": "POST"`, `"method": "GET"`, "agree"},
		{"a field of the wrong type", "summary.json", `"timeEpoch": 1772353800000`, `"timeEpoch": "soon"`, "timeEpoch"},
		{"a scheduled event without time", "scheduled.json", `"time": "2026-03-01T16:15:00Z"`, `"time": "0001-01-01T00:00:00Z"`, "time"},
		{"an override SAM would ignore", "env.json", `"TABLE_NAME"`, `"UNDECLARED_VAR": "x", "TABLE_NAME"`, "UNDECLARED_VAR is not declared"},
		{"a function without an entry in env.json", "env.json", `"ChallengeFunction"`, `"ChallengeFunctionX"`, "ChallengeFunction has no entry"},
		{"a function without an event", "cloudid.json", `"routeKey": "POST /v1/werun/cloudid"`, `"detail-type": "x", "routeKey2": "POST /v1/werun/cloudid"`, "OpenDataFunction has no sample event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files, _ := filepath.Glob(filepath.Join(repo, "events", "*.json"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				s := string(b)
				if filepath.Base(f) == c.file {
					if !strings.Contains(s, c.old) {
						t.Fatalf("%s has no %s", c.file, c.old)
					}
					s = strings.Replace(s, c.old, c.new, 1)
				}
				if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := checkEvents(loadRepoTemplate(t), dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check passed or said the wrong thing: %v (want %q)", err, c.want)
			}
		})
	}
}
