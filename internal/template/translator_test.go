package template

// What CloudFormation would be given: SAM's own translator (samtranslator,
// in build/venv) transforms the template, and the intrinsics of its output
// are resolved here for given parameter values and stack names. Two
// properties of a deploy are checked on that output: every change of
// configuration reaches the `live` alias, and two stacks in one account and
// region name nothing alike.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// baseParams are a deploy's parameter values: the defaults, and the one
// parameter without a default.
var baseParams = map[string]string{"WeChatAppId": "wx0123456789abcdef"}

// otherValues gives each parameter of the template a second valid value.
// A parameter missing here fails the test: say what a change of it does.
var otherValues = map[string]string{
	"WeChatAppId":               "wxfedcba9876543210",
	"WeChatSecretParam":         "wechat-secret-2",
	"SessionSigningKeyParam":    "session-signing-key-2",
	"WeChatApiBase":             "https://api2.weixin.qq.com",
	"DailyGoal":                 "12000",
	"AvatarHosts":               "cdn.example.com",
	"ChallengeConcurrency":      "5",
	"DomainName":                "api.example.com",
	"CertificateArn":            "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-0000-0000-0000-000000000000",
	"LogRetentionDays":          "90",
	"AlarmEmail":                "ops@example.com",
	"DeploymentType":            "AllAtOnce",
	"ApiLatencyP99Ms":           "2000",
	"Tracing":                   "Active",
	"SessionConcurrency":        "5",
	"DecryptConcurrency":        "5",
	"OpenDataConcurrency":       "5",
	"StepsConcurrency":          "5",
	"SocialConcurrency":         "5",
	"AccountConcurrency":        "5",
	"RefreshConcurrency":        "5",
	"ApiThrottlingRateLimit":    "500",
	"ApiThrottlingBurstLimit":   "200",
	"AccountConcurrencyAlarmAt": "400",
	"MonthlyBudget":             "500",
	"DeletionProtection":        "false",
	"TableKmsKeyArn":            "arn:aws:kms:us-east-1:123456789012:key/0123abcd-0000-0000-0000-000000000000",
}

// transformRun is one run of the translator: parameter values and region.
type transformRun struct {
	Parameters map[string]string `json:"parameters"`
	Region     string            `json:"region"`
}

// transformed is the translator's output for one run.
type transformed struct {
	Parameters map[string]struct{ Default any }
	Conditions map[string]any
	Resources  map[string]struct {
		Type       string
		Condition  string
		Properties map[string]any
	}
	Error string
}

// translate runs SAM's translator over the template at path for each run,
// in one Python process.
func translate(t *testing.T, path string, runs []transformRun) []transformed {
	t.Helper()
	py, _ := filepath.Abs("build/venv/bin/python")
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does)", py)
	}
	req, _ := json.Marshal(map[string]any{"template": path, "runs": runs})
	cmd := exec.Command(py, "internal/template/testdata/translate.py")
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("translator: %v\n%s", err, stderr.Bytes())
	}
	var res []transformed
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Error != "" {
			t.Fatalf("the translator refused run %d (%v): %s", i, runs[i], r.Error)
		}
	}
	return res
}

// deploy is a transformed template resolved as CloudFormation would for
// one stack: parameter values, pseudo parameters, conditions.
type deploy struct {
	tr     transformed
	params map[string]string
	stack  string
	region string
}

func (d deploy) partition() string {
	if strings.HasPrefix(d.region, "cn-") {
		return "aws-cn"
	}
	return "aws"
}

var errNoValue = errors.New("AWS::NoValue")

// resolve gives a template value its deployed form: a Ref to a resource is
// "ref:<id>", a GetAtt "ref:<id>.<attr>" (the same in every stack, as the
// physical ids behind them are CloudFormation's own).
func (d deploy) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			r, err := d.resolve(e)
			if errors.Is(err, errNoValue) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return d.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := d.resolve(e)
			if errors.Is(err, errNoValue) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func (d deploy) intrinsic(fn string, arg any) (any, error) {
	str := func(v any) (string, error) {
		r, err := d.resolve(v)
		if err != nil {
			return "", err
		}
		switch r.(type) {
		case string, float64, bool:
			return fmt.Sprint(r), nil
		}
		return "", fmt.Errorf("%s: %v is not a string", fn, r)
	}
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		return d.ref(arg.(string))
	case "Fn::GetAtt":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt %v", arg)
		}
		return fmt.Sprintf("ref:%v.%v", args[0], args[1]), nil
	case "Fn::Sub":
		s, vars := arg, map[string]any{}
		if len(args) == 2 {
			s, vars = args[0], args[1].(map[string]any)
		}
		return d.sub(s.(string), vars)
	case "Fn::Join":
		parts, err := d.resolve(args[1])
		if err != nil {
			return nil, err
		}
		var ss []string
		for _, p := range parts.([]any) {
			ss = append(ss, fmt.Sprint(p))
		}
		return strings.Join(ss, args[0].(string)), nil
	case "Fn::If":
		ok, err := d.condition(args[0].(string))
		if err != nil {
			return nil, err
		}
		if ok {
			return d.resolve(args[1])
		}
		return d.resolve(args[2])
	case "Condition":
		return d.condition(arg.(string))
	case "Fn::Equals":
		a, err := str(args[0])
		if err != nil {
			return nil, err
		}
		b, err := str(args[1])
		return a == b, err
	case "Fn::Not", "Fn::And", "Fn::Or":
		var bs []bool
		for _, a := range args {
			r, err := d.resolve(a)
			if err != nil {
				return nil, err
			}
			bs = append(bs, r.(bool))
		}
		switch fn {
		case "Fn::Not":
			return !bs[0], nil
		case "Fn::And":
			return !slices.Contains(bs, false), nil
		}
		return slices.Contains(bs, true), nil
	}
	return nil, fmt.Errorf("no resolution for %s here", fn)
}

func (d deploy) ref(name string) (any, error) {
	switch name {
	case "AWS::NoValue":
		return nil, errNoValue
	case "AWS::StackName":
		return d.stack, nil
	case "AWS::Region":
		return d.region, nil
	case "AWS::AccountId":
		return "123456789012", nil
	case "AWS::Partition":
		return d.partition(), nil
	case "AWS::URLSuffix":
		if d.partition() == "aws-cn" {
			return "amazonaws.com.cn", nil
		}
		return "amazonaws.com", nil
	}
	if v, ok := d.params[name]; ok {
		return v, nil
	}
	if p, ok := d.tr.Parameters[name]; ok && p.Default != nil {
		return fmt.Sprint(p.Default), nil
	}
	if _, ok := d.tr.Resources[name]; ok {
		return "ref:" + name, nil
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

func (d deploy) sub(s string, vars map[string]any) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}")
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		var v any
		var err error
		if local, ok := vars[name]; ok {
			v, err = d.resolve(local)
		} else if res, attr, isAtt := strings.Cut(name, "."); isAtt {
			v = "ref:" + res + "." + attr
		} else {
			v, err = d.ref(name)
		}
		if err != nil {
			return "", err
		}
		fmt.Fprint(&b, v)
		s = s[i+j+1:]
	}
}

func (d deploy) condition(name string) (bool, error) {
	c, ok := d.tr.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	r, err := d.resolve(c)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	return r.(bool), nil
}

// resource is one resource CloudFormation would create, resolved.
type resource struct {
	Type       string
	Properties map[string]any
}

// resources resolves every resource whose condition holds.
func (d deploy) resources() (map[string]resource, error) {
	out := map[string]resource{}
	for id, r := range d.tr.Resources {
		if r.Condition != "" {
			ok, err := d.condition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			if !ok {
				continue
			}
		}
		p, err := d.resolve(r.Properties)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		props, _ := p.(map[string]any)
		out[id] = resource{Type: r.Type, Properties: props}
	}
	return out, nil
}

// publication is what decides an aliased function's published version: its
// version-level configuration, and the version resource the alias points at
// (a new logical id is a new version; so is a changed Description, as
// CloudFormation replaces a version whose Description changed).
type publication struct {
	config      map[string]any
	versionID   string
	description any
}

// publications finds each function with a `live` alias and what it publishes.
func publications(res map[string]resource) (map[string]publication, error) {
	out := map[string]publication{}
	for id, r := range res {
		if r.Type != "AWS::Lambda::Alias" {
			continue
		}
		fn := strings.TrimPrefix(fmt.Sprint(r.Properties["FunctionName"]), "ref:")
		version, _, _ := strings.Cut(strings.TrimPrefix(fmt.Sprint(r.Properties["FunctionVersion"]), "ref:"), ".")
		if res[fn].Type != "AWS::Lambda::Function" || res[version].Type != "AWS::Lambda::Version" {
			return nil, fmt.Errorf("alias %s points at %v, version %v", id, r.Properties["FunctionName"], r.Properties["FunctionVersion"])
		}
		cfg := maps.Clone(res[fn].Properties)
		// Reserved concurrency is the function's, not a version's.
		delete(cfg, "ReservedConcurrentExecutions")
		out[fn] = publication{config: cfg, versionID: version, description: res[version].Properties["Description"]}
	}
	if len(out) == 0 {
		return nil, errors.New("no function has an alias")
	}
	return out, nil
}

// checkPublishes compares the deploy of base with one of changed, the same
// stack: every aliased function whose configuration changed must publish a
// new version, and every other must keep its version.
func checkPublishes(base, changed deploy) error {
	var problems []string
	pubs := [2]map[string]publication{}
	for i, d := range []deploy{base, changed} {
		res, err := d.resources()
		if err != nil {
			return err
		}
		if pubs[i], err = publications(res); err != nil {
			return err
		}
	}
	for _, fn := range slices.Sorted(maps.Keys(pubs[0])) {
		a, b := pubs[0][fn], pubs[1][fn]
		newVersion := a.versionID != b.versionID || !reflect.DeepEqual(a.description, b.description)
		switch configChanged := !reflect.DeepEqual(a.config, b.config); {
		case configChanged && !newVersion:
			problems = append(problems, fn+"'s configuration changed and its version did not: `live` keeps the old one")
		case !configChanged && newVersion:
			problems = append(problems, fn+"'s configuration is the same and a new version is published")
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// physicalNames are the properties that name a resource in its account and
// region, by type; nil lists a type that has none (or names it only inside
// another resource of the stack). A type missing here fails the check.
var physicalNames = map[string][]string{
	"AWS::ApiGatewayV2::Api":           nil, // names need not be unique
	"AWS::ApiGatewayV2::ApiMapping":    nil,
	"AWS::ApiGatewayV2::DomainName":    nil, // the operator's domain
	"AWS::ApiGatewayV2::Stage":         nil, // within its API
	"AWS::CloudWatch::Alarm":           {"AlarmName"},
	"AWS::CloudWatch::Dashboard":       {"DashboardName"},
	"AWS::CodeDeploy::Application":     {"ApplicationName"},
	"AWS::CodeDeploy::DeploymentGroup": nil, // within its application
	"AWS::DynamoDB::Table":             {"TableName"},
	"AWS::IAM::Role":                   {"RoleName"},
	"AWS::Lambda::Alias":               nil, // within its function
	"AWS::Lambda::EventInvokeConfig":   nil,
	"AWS::Lambda::Function":            {"FunctionName"},
	"AWS::Lambda::Permission":          nil,
	"AWS::Lambda::Version":             nil,
	"AWS::Logs::LogGroup":              {"LogGroupName"},
	"AWS::SNS::Subscription":           nil,
	"AWS::SNS::Topic":                  {"TopicName"},
	"AWS::SQS::Queue":                  {"QueueName"},
	"AWS::Scheduler::Schedule":         {"Name"},
	"AWS::Budgets::Budget":             {"Budget.BudgetName"},
	"AWS::Logs::MetricFilter":          nil, // within its log group
	"AWS::SNS::TopicPolicy":            nil,
}

// checkNoCollision resolves one transformed template for two stack names in
// one account and region: every physical name must be absent (CloudFormation
// makes one up) or differ between the two.
func checkNoCollision(a, b deploy) error {
	ra, err := a.resources()
	if err != nil {
		return err
	}
	rb, err := b.resources()
	if err != nil {
		return err
	}
	var problems []string
	for _, id := range slices.Sorted(maps.Keys(ra)) {
		names, known := physicalNames[ra[id].Type]
		if !known {
			problems = append(problems, fmt.Sprintf("%s: type %s: say which of its properties name it (physicalNames)", id, ra[id].Type))
			continue
		}
		for _, p := range names {
			if v, ok := lookup(ra[id].Properties, p); ok && reflect.DeepEqual(v, first(lookup(rb[id].Properties, p))) {
				problems = append(problems, fmt.Sprintf("%s: %s %v is the same in stacks %s and %s", id, p, v, a.stack, b.stack))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// lookup finds a property by its dotted path ("Budget.BudgetName").
func lookup(props map[string]any, path string) (any, bool) {
	var v any = props
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func first(v any, _ bool) any { return v }

// with returns params with name set to value.
func with(params map[string]string, name, value string) map[string]string {
	p := maps.Clone(params)
	p[name] = value
	return p
}

// changeRuns are the translator runs of the publication check: the base
// values, then each parameter changed alone.
func changeRuns(t *testing.T, path string) ([]transformRun, []string) {
	t.Helper()
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(tmpl.Parameters))
	runs := []transformRun{{baseParams, "us-east-1"}}
	for _, n := range names {
		v, ok := otherValues[n]
		if !ok {
			t.Fatalf("parameter %s has no other value in otherValues", n)
		}
		runs = append(runs, transformRun{with(baseParams, n, v), "us-east-1"})
	}
	return runs, names
}

// parameterChanges runs checkPublishes for each parameter of the template
// at path changed alone, and the base against itself.
func parameterChanges(t *testing.T, path string) []error {
	t.Helper()
	runs, names := changeRuns(t, path)
	tr := translate(t, path, runs)
	at := func(i int) deploy { return deploy{tr[i], runs[i].Parameters, "werun-dev", "us-east-1"} }
	var errs []error
	if err := checkPublishes(at(0), at(0)); err != nil {
		errs = append(errs, fmt.Errorf("nothing changed: %w", err))
	}
	for i, n := range names {
		if err := checkPublishes(at(0), at(i+1)); err != nil {
			errs = append(errs, fmt.Errorf("%s changed: %w", n, err))
		}
	}
	return errs
}

// collisions checks two stacks of the template at path, with the default
// values and with every other value, in each region of the lint list.
func collisions(t *testing.T, path string) []error {
	t.Helper()
	all := maps.Clone(baseParams)
	for n, v := range otherValues {
		all[n] = v
	}
	var runs []transformRun
	for _, region := range []string{"us-east-1", "cn-north-1"} {
		runs = append(runs, transformRun{baseParams, region}, transformRun{all, region})
	}
	tr := translate(t, path, runs)
	var errs []error
	for i, r := range runs {
		if err := checkNoCollision(deploy{tr[i], r.Parameters, "werun-dev", r.Region}, deploy{tr[i], r.Parameters, "werun-prod", r.Region}); err != nil {
			errs = append(errs, fmt.Errorf("%s, parameters %v: %w", r.Region, sortedKeys(r.Parameters), err))
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	k := slices.Collect(maps.Keys(m))
	sort.Strings(k)
	return k
}

// Each check holds for the repository's template and fails on a broken copy.
func TestTheTranslatedTemplate(t *testing.T) {
	cases := []struct {
		name     string
		check    func(*testing.T, string) []error
		old, new string // the broken copy's edit (of the first occurrence)
		want     string // what the check says of it
	}{
		{"every configuration change publishes a new version and no other does", parameterChanges,
			",${DailyGoal}", "", "DailyGoal changed: SessionFunction's configuration changed and its version did not"},
		{"two stacks in one account and region name nothing alike", collisions,
			"OmitName: true", "Name: werun-refresh", "RefreshFunctionEvery15Minutes: Name werun-refresh is the same in stacks werun-dev and werun-prod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range c.check(t, "template.yaml") {
				t.Error(err)
			}
			errs := c.check(t, brokenCopy(t, "template.yaml", c.old, c.new))
			if err := errors.Join(errs...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("on a copy with %q for %q: %v, want %q", c.new, c.old, err, c.want)
			}
		})
	}
}
