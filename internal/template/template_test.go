package template

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// contractRoutes is the HTTP API as the README and docs/openapi.yaml give it.
var contractRoutes = map[string]string{
	"POST /v1/session":               "SessionFunction",
	"POST /v1/werun/decrypt":         "DecryptFunction",
	"POST /v1/werun/cloudid":         "OpenDataFunction",
	"GET /v1/steps":                  "StepsFunction",
	"GET /v1/steps/summary":          "StepsFunction",
	"PUT /v1/me/profile":             "SocialFunction",
	"GET /v1/me/profile":             "SocialFunction",
	"POST /v1/groups":                "SocialFunction",
	"GET /v1/groups":                 "SocialFunction",
	"GET /v1/groups/{groupId}/board": "SocialFunction",
	"DELETE /v1/groups/{groupId}":    "SocialFunction",
	"POST /v1/friends/invites":       "SocialFunction",
	"POST /v1/friends":               "SocialFunction",
	"GET /v1/friends":                "SocialFunction",
	"GET /v1/friends/board":          "SocialFunction",
	"DELETE /v1/friends/{friendId}":  "SocialFunction",
	"GET /v1/me/export":              "AccountFunction",
	"DELETE /v1/me":                  "AccountFunction",
}

// repo is the repository root: TestMain changes into it, as the Makefile
// and go build expect.
const repo = "."

func loadRepoTemplate(t *testing.T) *Template {
	t.Helper()
	tmpl, err := Load(filepath.Join(repo, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func functionIDs(t *testing.T, tmpl *Template) []string {
	t.Helper()
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(fns))
	for i, f := range fns {
		ids[i] = f.LogicalID
	}
	return ids
}

func TestTemplateContract(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	ids := functionIDs(t, tmpl)
	if len(ids) != 8 {
		t.Errorf("template has functions %v, want the eight of the contract", ids)
	}
	makefile, _ := filepath.Abs(filepath.Join(repo, "Makefile"))
	cases := []struct {
		name  string
		check func() error
	}{
		{"every function builds a linux/arm64 bootstrap with its Makefile target", func() error {
			return checkBootstraps(context.Background(), makefile, ids, t.TempDir())
		}},
		{"every route maps to a function of the template's HttpApi", func() error { return checkRoutes(tmpl, contractRoutes) }},
		{"docs/openapi.yaml documents exactly the template's routes", func() error {
			return checkOpenAPIRoutes(tmpl, filepath.Join(repo, "docs", "openapi.yaml"))
		}},
		{"every sample event decodes into its function's event type", func() error {
			return checkEvents(tmpl, filepath.Join(repo, "events"))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestTemplateFunctionsHaveMakefileBuilderInSource(t *testing.T) {
	for _, id := range functionIDs(t, loadRepoTemplate(t)) {
		f, _ := loadRepoTemplate(t).Function(id)
		if f.Metadata["BuildMethod"] != "makefile" || f.Metadata["BuildInSource"] != true {
			t.Errorf("%s: Metadata %v, want BuildMethod makefile and BuildInSource true", id, f.Metadata)
		}
	}
}

func TestShortTagsBecomeLongForms(t *testing.T) {
	tmpl, err := Parse([]byte(`
Parameters:
  P: {Type: String, Default: dflt}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          A: !Ref P
          B: !Sub "x-${P}-${AWS::Region}"
          C: !GetAtt T.Arn
          D: plain
          E: 7
`))
	if err != nil {
		t.Fatal(err)
	}
	f, err := tmpl.Function("F")
	if err != nil {
		t.Fatal(err)
	}
	r := Resolver{Template: tmpl}
	for k, want := range map[string]string{"A": "dflt", "B": "x-dflt-us-east-1", "C": "", "D": "plain", "E": "7"} {
		if got := r.Resolve(f.Env[k]); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got, _ := f.Env["C"].(map[string]any)["Fn::GetAtt"].([]any); len(got) != 2 || got[0] != "T" {
		t.Errorf("!GetAtt T.Arn = %v, want [T Arn]", f.Env["C"])
	}
}

func TestMain(m *testing.M) {
	if err := ChdirRoot(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
