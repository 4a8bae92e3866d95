// Package template is the model of the SAM template (template.yaml) that the
// local stack, the contract tests and the OpenAPI check read: its one
// parser, the functions with Globals applied, their HttpApi routes, and the
// resolution of intrinsics (!Ref, !Sub) to local values, and the metrics
// its alarms and dashboard read.
package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is the template's name at the repository root.
const File = "template.yaml"

// Root is the nearest folder upwards from the working directory holding
// template.yaml: the repository root, where the Makefile and the tools are.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, File)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New(File + " not found in this folder or above: run from the repository")
		}
		dir = parent
	}
}

// ChdirRoot makes the repository root the working directory: the Makefile,
// go build, the tools and the repository's files are found from there.
func ChdirRoot() error {
	dir, err := Root()
	if err != nil {
		return err
	}
	return os.Chdir(dir)
}

// LoadRepo reads the repository's template.yaml, from anywhere inside it.
func LoadRepo() (*Template, error) {
	dir, err := Root()
	if err != nil {
		return nil, err
	}
	return Load(filepath.Join(dir, File))
}

// Template is the part of template.yaml the local stack and the contract
// tests read. It is parsed from the file itself, so nothing here repeats
// the application's definition.
type Template struct {
	Parameters map[string]struct {
		Type    string `json:"Type"`
		Default any    `json:"Default"`
	} `json:"Parameters"`
	Globals struct {
		Function FunctionProps `json:"Function"`
	} `json:"Globals"`
	Resources map[string]Resource `json:"Resources"`
}

// Resource is one entry of Resources; Properties stay raw until a caller
// knows the type.
type Resource struct {
	Type       string          `json:"Type"`
	Metadata   map[string]any  `json:"Metadata"`
	Properties json.RawMessage `json:"Properties"`
}

// FunctionProps is the subset of AWS::Serverless::Function properties used here.
type FunctionProps struct {
	Runtime       string   `json:"Runtime"`
	Architectures []string `json:"Architectures"`
	Timeout       int      `json:"Timeout"`
	MemorySize    int      `json:"MemorySize"`
	Environment   struct {
		Variables map[string]any `json:"Variables"`
	} `json:"Environment"`
	Events map[string]struct {
		Type       string          `json:"Type"`
		Properties json.RawMessage `json:"Properties"`
	} `json:"Events"`
}

// Function is a function with the Globals applied.
type Function struct {
	LogicalID  string
	Timeout    int
	MemorySize int
	Env        map[string]any // Globals then the function's own; values may be intrinsics
	Metadata   map[string]any
	Routes     []Route
	Schedules  []string // event names of Schedule / ScheduleV2 events
}

// Route is one HttpApi event: "METHOD /path" served by Function.
type Route struct {
	Method, Path, Function string
}

// Key is the route key as API Gateway writes it, e.g. "POST /v1/session".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Match matches a request path against the route's path, whose {name}
// segments match any non-empty segment, and returns the path parameters.
func (r Route) Match(path string) (map[string]string, bool) {
	ps, qs := strings.Split(strings.Trim(r.Path, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(qs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") && qs[i] != "" {
			if params == nil {
				params = map[string]string{}
			}
			params[strings.Trim(p, "{}+")] = qs[i]
			continue
		}
		if p != qs[i] {
			return nil, false
		}
	}
	return params, true
}

// Load reads a SAM template.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses a SAM template. CloudFormation's short tags (!Ref,
// !Sub, !GetAtt, ...) become their long forms ({"Ref": x}, {"Fn::Sub": x}),
// which is what CloudFormation itself does.
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("template: empty")
	}
	v, err := nodeValue(doc.Content[0])
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var t Template
	if err := json.Unmarshal(j, &t); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return &t, nil
}

// nodeValue turns a YAML node into plain Go values, expanding short tags.
func nodeValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
			return v, nil
		}
		v = n.Value
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok { // !GetAtt Res.Attr
			res, attr, _ := strings.Cut(s, ".")
			v = []any{res, attr}
		}
	}
	return map[string]any{"Fn::" + name: v}, nil
}

// Functions returns the template's AWS::Serverless::Function resources,
// sorted by LogicalId, with Globals merged in.
func (t *Template) Functions() ([]Function, error) {
	var out []Function
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		var p FunctionProps
		if len(r.Properties) > 0 {
			if err := json.Unmarshal(r.Properties, &p); err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
		}
		g := t.Globals.Function
		f := Function{LogicalID: id, Timeout: firstNonZero(p.Timeout, g.Timeout, 3),
			MemorySize: firstNonZero(p.MemorySize, g.MemorySize, 128), Env: map[string]any{}, Metadata: r.Metadata}
		for k, v := range g.Environment.Variables {
			f.Env[k] = v
		}
		for k, v := range p.Environment.Variables {
			f.Env[k] = v
		}
		for name, e := range p.Events {
			switch e.Type {
			case "HttpApi":
				var hp struct{ Method, Path any }
				if err := json.Unmarshal(e.Properties, &hp); err != nil {
					return nil, fmt.Errorf("%s event %s: %w", id, name, err)
				}
				r := Resolver{Template: t}
				method, path := strings.ToUpper(r.Resolve(hp.Method)), r.Resolve(hp.Path)
				if method == "" && path == "" {
					method, path = "ANY", "$default" // an HttpApi event without both is the catch-all route
				}
				f.Routes = append(f.Routes, Route{Method: method, Path: path, Function: id})
			case "Schedule", "ScheduleV2":
				f.Schedules = append(f.Schedules, name)
			}
		}
		sort.Slice(f.Routes, func(i, j int) bool { return f.Routes[i].Key() < f.Routes[j].Key() })
		sort.Strings(f.Schedules)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out, nil
}

// Function returns one function by LogicalId.
func (t *Template) Function(id string) (Function, error) {
	fns, err := t.Functions()
	if err != nil {
		return Function{}, err
	}
	for _, f := range fns {
		if f.LogicalID == id {
			return f, nil
		}
	}
	names := make([]string, len(fns))
	for i, f := range fns {
		names[i] = f.LogicalID
	}
	return Function{}, fmt.Errorf("no function %q in template.yaml (have %s)", id, strings.Join(names, ", "))
}

// Routes returns every HttpApi route of every function.
func (t *Template) Routes() ([]Route, error) {
	fns, err := t.Functions()
	if err != nil {
		return nil, err
	}
	var rs []Route
	for _, f := range fns {
		rs = append(rs, f.Routes...)
	}
	return rs, nil
}

// LocalStackName is AWS::StackName in a local run.
const LocalStackName = "werun-sam-local"

// Resolver gives values to intrinsics for a local run.
type Resolver struct {
	Template *Template
	Refs     map[string]string // logical ids and parameters given locally (e.g. Table -> local table name)
}

// Resolve turns a template value (a literal or an intrinsic) into a string:
// Ref to a parameter is its default unless Refs overrides it; pseudo
// parameters get local values; anything else it cannot know becomes "".
func (r Resolver) Resolve(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool, int, float64:
		return fmt.Sprint(x)
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			return r.ref(ref)
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			return r.sub(sub)
		}
	}
	return ""
}

func (r Resolver) ref(name string) string {
	if v, ok := r.Refs[name]; ok {
		return v
	}
	switch name {
	case "AWS::StackName":
		return LocalStackName
	case "AWS::Region":
		return "us-east-1"
	case "AWS::AccountId":
		return "123456789012"
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	}
	if p, ok := r.Template.Parameters[name]; ok && p.Default != nil {
		return fmt.Sprint(p.Default)
	}
	return ""
}

func (r Resolver) sub(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(r.ref(s[i+2 : i+j]))
		s = s[i+j+1:]
	}
}

func firstNonZero(v ...int) int {
	for _, x := range v {
		if x != 0 {
			return x
		}
	}
	return 0
}
