package template

// The template contract: every function has a Makefile target
// that builds a linux/arm64 bootstrap, every route maps to a function of
// the template's API, docs/openapi.yaml documents exactly the template's
// routes, and every sample event decodes into its function's
// event type (that every variable a function reads is declared is checked
// in local/systest/env_test.go, which runs the functions). Each check is a
// plain function over paths, so broken_test.go can show that it fails on a
// broken copy.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"
)

// checkBootstraps builds each function with `make -f makefile
// build-<LogicalId>` for the default (Lambda) architecture and checks the
// result is a linux/arm64 ELF called bootstrap.
func checkBootstraps(ctx context.Context, makefile string, ids []string, outDir string) error {
	var errs []error
	for _, id := range ids {
		dir := filepath.Join(outDir, id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-s", "-f", makefile, "build-"+id, "ARTIFACTS_DIR="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s: make build-%s: %v\n%s", id, id, err, out))
			continue
		}
		if err := checkLambdaELF(filepath.Join(dir, "bootstrap")); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// checkLambdaELF checks path is a 64-bit ARM Linux executable.
func checkLambdaELF(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
		return fmt.Errorf("%s is %v %v %v, want an arm64 executable", path, f.Class, f.Machine, f.Type)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("%s has OS ABI %v, want Linux", path, f.OSABI)
	}
	return nil
}

// checkRoutes checks every HttpApi event names a path and method, belongs
// to an AWS::Serverless::HttpApi of the template, and no route key is
// served twice; and that want (the contract's routes) are all served.
func checkRoutes(t *Template, want map[string]string) error {
	var errs []error
	seen := map[string]string{}
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		var p struct {
			Events map[string]struct {
				Type       string
				Properties struct {
					ApiId  any
					Method string
					Path   string
				}
			}
		}
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		for name, e := range p.Events {
			if e.Type != "HttpApi" {
				continue
			}
			ep := e.Properties
			if ep.Method == "" || !strings.HasPrefix(ep.Path, "/") {
				errs = append(errs, fmt.Errorf("%s event %s: needs Method and a Path starting with /", id, name))
				continue
			}
			ref, _ := ep.ApiId.(map[string]any)["Ref"].(string)
			if api, ok := t.Resources[ref]; !ok || api.Type != "AWS::Serverless::HttpApi" {
				errs = append(errs, fmt.Errorf("%s event %s: ApiId must !Ref the template's AWS::Serverless::HttpApi, got %v", id, name, ep.ApiId))
			}
			key := strings.ToUpper(ep.Method) + " " + ep.Path
			if other, dup := seen[key]; dup {
				errs = append(errs, fmt.Errorf("route %s is served by both %s and %s", key, other, id))
			}
			seen[key] = id
		}
	}
	for key, fn := range want {
		if got, ok := seen[key]; !ok {
			errs = append(errs, fmt.Errorf("route %s: no function serves it (want %s)", key, fn))
		} else if got != fn {
			errs = append(errs, fmt.Errorf("route %s is served by %s, want %s", key, got, fn))
		}
	}
	return errors.Join(errs...)
}

// checkOpenAPIRoutes checks that the OpenAPI description at specPath
// documents exactly the template's HttpApi routes: a route only in one of
// them is either undocumented or a promise nothing keeps.
func checkOpenAPIRoutes(t *Template, specPath string) error {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var spec struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	documented := map[string]bool{}
	for path, item := range spec.Paths {
		for key := range item { // a path item also holds parameters, summary, ...
			if slices.Contains(httpMethods, key) {
				documented[strings.ToUpper(key)+" "+path] = true
			}
		}
	}
	routes, err := t.Routes()
	if err != nil {
		return err
	}
	if len(routes) == 0 {
		return errors.New("the template declares no HttpApi events: no route to compare the OpenAPI description with")
	}
	served := map[string]bool{}
	var errs []error
	for _, r := range routes {
		served[r.Key()] = true
		if !documented[r.Key()] {
			errs = append(errs, fmt.Errorf("route %s is in template.yaml but not in the OpenAPI paths", r.Key()))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(documented)) {
		if !served[key] {
			errs = append(errs, fmt.Errorf("route %s is in the OpenAPI paths but no HttpApi event of template.yaml serves it", key))
		}
	}
	return errors.Join(errs...)
}

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// checkEvents checks every file in dir: env.json names functions and only
// their declared variables; an HTTP event is payload 2.0 for a route of
// the template; a scheduled event is an EventBridge event for a function
// with a schedule. Every function must have at least one event.
func checkEvents(t *Template, dir string) error {
	fns, err := t.Functions()
	if err != nil {
		return err
	}
	byID := map[string]Function{}
	byRoute := map[string]string{}
	for _, f := range fns {
		byID[f.LogicalID] = f
		for _, r := range f.Routes {
			byRoute[r.Key()] = f.LogicalID
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	var errs []error
	covered := map[string]bool{}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name := filepath.Base(path)
		if name == "env.json" {
			errs = append(errs, checkEnvFile(byID, b))
			continue
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(b, &probe); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		switch {
		case probe["routeKey"] != nil:
			var ev events.APIGatewayV2HTTPRequest
			if err := strictish(b, &ev); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			fn, ok := byRoute[ev.RouteKey]
			method, path, _ := strings.Cut(ev.RouteKey, " ")
			params, matched := Route{Path: path}.Match(ev.RawPath)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: routeKey %q is no route of template.yaml", name, ev.RouteKey))
			case ev.Version != "2.0":
				errs = append(errs, fmt.Errorf("%s: version %q, want payload format 2.0", name, ev.Version))
			case !matched || !maps.Equal(params, ev.PathParameters) || ev.RequestContext.HTTP.Path != ev.RawPath || ev.RequestContext.HTTP.Method != method || ev.RequestContext.RouteKey != ev.RouteKey:
				errs = append(errs, fmt.Errorf("%s: rawPath, requestContext.http.method/path and requestContext.routeKey (and pathParameters) must agree with routeKey %q", name, ev.RouteKey))
			case ev.RequestContext.RequestID == "" || ev.Headers == nil:
				errs = append(errs, fmt.Errorf("%s: needs requestContext.requestId and headers", name))
			default:
				covered[fn] = true
			}
		case probe["detail-type"] != nil:
			var ev events.EventBridgeEvent
			if err := strictish(b, &ev); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			if ev.DetailType == "" || ev.Source == "" || ev.Time.IsZero() || ev.ID == "" {
				errs = append(errs, fmt.Errorf("%s: a scheduled event needs id, detail-type, source and time", name))
				continue
			}
			n := 0
			for _, f := range fns {
				if len(f.Schedules) > 0 {
					covered[f.LogicalID] = true
					n++
				}
			}
			if n == 0 {
				errs = append(errs, fmt.Errorf("%s: no function of template.yaml has a schedule", name))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: neither an HTTP API event (routeKey) nor a scheduled event (detail-type)", name))
		}
	}
	for _, f := range fns {
		if !covered[f.LogicalID] {
			errs = append(errs, fmt.Errorf("%s has no sample event in %s", f.LogicalID, dir))
		}
	}
	return errors.Join(errs...)
}

// strictish decodes b into v and rejects fields of the wrong type (AWS
// events carry fields the Go types lack, so unknown fields are allowed).
func strictish(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	return d.Decode(v)
}

// checkEnvFile checks env.json: per-LogicalId overrides of declared variables.
func checkEnvFile(fns map[string]Function, b []byte) error {
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("env.json: want {\"<LogicalId>\": {\"VAR\": \"value\"}}: %w", err)
	}
	var errs []error
	// sam local runs a function with no entry against real AWS (its
	// secrets from SSM), so every function needs one.
	for id := range fns {
		if _, ok := env[id]; !ok {
			errs = append(errs, fmt.Errorf("env.json: %s has no entry, so sam local would read its secrets from AWS", id))
		}
	}
	for id, vars := range env {
		f, ok := fns[id]
		if !ok {
			errs = append(errs, fmt.Errorf("env.json: %s is no function of template.yaml", id))
			continue
		}
		for k := range vars {
			if _, ok := f.Env[k]; !ok {
				errs = append(errs, fmt.Errorf("env.json: %s.%s is not declared in template.yaml, so SAM would ignore it", id, k))
			}
		}
	}
	return errors.Join(errs...)
}
