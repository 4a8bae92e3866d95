package samlocal

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/werun-sam/werun-sam/internal/template"
)

func TestMain(m *testing.M) {
	if err := template.ChdirRoot(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// make sam-local runs these under Docker; here they are checked without it.

func TestSAMLocalHasAnExpectedAnswerForEveryEventAndFunction(t *testing.T) {
	tmpl, err := template.Load(template.File)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, file := range sampleEvents() {
		if invokeWant[filepath.Base(file)] == nil {
			t.Errorf("%s: no expected answer in invokeWant", file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		id, err := eventFunction(fns, b)
		if err != nil {
			t.Errorf("%s: %v", file, err)
		}
		covered[id] = true
	}
	for _, f := range fns {
		if !covered[f.LogicalID] {
			t.Errorf("%s: no events/ file invokes it", f.LogicalID)
		}
	}
}

func TestEventFunction(t *testing.T) {
	fns := []template.Function{
		{LogicalID: "A", Routes: []template.Route{{Method: "GET", Path: "/a", Function: "A"}}},
		{LogicalID: "Cron", Schedules: []string{"Every15Minutes"}},
	}
	for _, tc := range []struct {
		event, want string
		fails       bool
	}{
		{`{"routeKey":"GET /a"}`, "A", false},
		{`{"detail-type":"Scheduled Event"}`, "Cron", false},
		{`{"routeKey":"GET /b"}`, "", true},
		{`{}`, "", true},
		{`not json`, "", true},
	} {
		got, err := eventFunction(fns, []byte(tc.event))
		if (err != nil) != tc.fails || got != tc.want {
			t.Errorf("eventFunction(%s) = %q, %v; want %q (fails: %v)", tc.event, got, err, tc.want, tc.fails)
		}
	}
}

func TestWriteEnvFileRepointsOnlyTheGivenVariables(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "env.json")
	set := map[string]string{
		"WECHAT_API_BASE":           "http://host.docker.internal:40001",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://host.docker.internal:40002",
	}
	if err := writeEnvFile("events/env.json", dst, set); err != nil {
		t.Fatal(err)
	}
	var src, got map[string]map[string]string
	for path, v := range map[string]*map[string]map[string]string{"events/env.json": &src, dst: &got} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(src) {
		t.Fatalf("%d functions, want %d", len(got), len(src))
	}
	for fn, vars := range src {
		for k, v := range vars {
			want := v
			if s, ok := set[k]; ok {
				want = s
			}
			if got[fn][k] != want {
				t.Errorf("%s %s = %q, want %q", fn, k, got[fn][k], want)
			}
		}
		if len(got[fn]) != len(vars) {
			t.Errorf("%s: %d variables, want %d (none added)", fn, len(got[fn]), len(vars))
		}
	}
}

func TestStandInImageFiles(t *testing.T) {
	rie := []byte("emulator")
	for _, tc := range []struct {
		name    string
		rie     []byte
		wantRIE bool
	}{{"base", nil, false}, {"rapid", rie, true}} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := standInFS(tc.rie)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := standInFS(tc.rie)
			if !bytes.Equal(b, again) {
				t.Error("two builds differ: the image label would change every run")
			}
			entries := map[string]*tar.Header{}
			contents := map[string][]byte{}
			tr := tar.NewReader(bytes.NewReader(b))
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				entries[h.Name] = h
				contents[h.Name], _ = io.ReadAll(tr)
			}
			for _, d := range []string{"var/task/", "var/runtime/", "opt/", "tmp/"} {
				if h := entries[d]; h == nil || h.Typeflag != tar.TypeDir {
					t.Errorf("no folder %s", d)
				}
			}
			if h := entries["tmp/"]; h != nil && h.Mode != 0o1777 {
				t.Errorf("tmp mode %o, want 1777", h.Mode)
			}
			if h := entries["usr/local/bin/bootstrap"]; h == nil || h.Linkname != "/var/task/bootstrap" {
				t.Error("no bootstrap on PATH pointing at /var/task/bootstrap")
			}
			h := entries["var/rapid/aws-lambda-rie"]
			if (h != nil) != tc.wantRIE {
				t.Fatalf("emulator present: %v, want %v", h != nil, tc.wantRIE)
			}
			if h != nil && (h.Mode != 0o755 || !bytes.Equal(contents[h.Name], rie)) {
				t.Errorf("emulator mode %o, content %q", h.Mode, contents[h.Name])
			}
		})
	}
}
