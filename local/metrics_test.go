package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/metrics"
)

// metricRef is one metric an alarm or a dashboard widget reads: a
// namespace, a name and dimension values (a SEARCH names only the
// dimensions, with empty values).
type metricRef struct {
	Where      string
	Namespace  string
	Name       string
	Dimensions map[string]string
}

// awsMetrics are the AWS metrics the template may read, with the dimension
// sets AWS documents for them and the resource type each dimension's value
// must reference: AWS/Lambda by FunctionName; AWS/ApiGateway (HTTP APIs)
// by ApiId; AWS/DynamoDB by TableName, for an index with
// GlobalSecondaryIndexName too; AWS/SQS by QueueName.
var awsMetrics = map[string]struct {
	names []string
	sets  [][]string
}{
	"AWS/Lambda":     {[]string{"Errors", "Throttles", "Invocations", "Duration", "ConcurrentExecutions"}, [][]string{{"FunctionName"}}},
	"AWS/ApiGateway": {[]string{"4xx", "5xx", "Count", "Latency", "IntegrationLatency"}, [][]string{{"ApiId"}, {"ApiId", "Stage"}}},
	"AWS/DynamoDB": {[]string{"ReadThrottleEvents", "WriteThrottleEvents", "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"},
		[][]string{{"TableName"}, {"GlobalSecondaryIndexName", "TableName"}}},
	"AWS/SQS": {[]string{"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}, [][]string{{"QueueName"}}},
}

// dimensionTargets is the resource type a dimension's value must name.
var dimensionTargets = map[string]string{
	"FunctionName": "AWS::Serverless::Function",
	"ApiId":        "AWS::Serverless::HttpApi",
	"TableName":    "AWS::DynamoDB::Table",
	"QueueName":    "AWS::SQS::Queue",
}

// refResolver resolves Ref and ${Id} of every resource to "ref:<Id>" and
// ${Id.Attr} to "ref:<Id>.<Attr>", so a check can see what a value names.
func refResolver(t *Template) Resolver {
	refs := map[string]string{"AWS::StackName": "werun-sam-test"}
	for id := range t.Resources {
		refs[id] = "ref:" + id
		for _, attr := range []string{"Arn", "QueueName"} {
			refs[id+"."+attr] = "ref:" + id + "." + attr
		}
	}
	return Resolver{Template: t, Refs: refs}
}

// resolveValue is Resolve plus Fn::GetAtt, as "ref:<Id>.<Attr>".
func resolveValue(r Resolver, v any) string {
	if m, ok := v.(map[string]any); ok {
		if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			return fmt.Sprintf("ref:%v.%v", ga[0], ga[1])
		}
	}
	return r.Resolve(v)
}

// templateMetricRefs lists the metrics every alarm and the dashboard read.
func templateMetricRefs(t *Template) ([]metricRef, error) {
	r := refResolver(t)
	var refs []metricRef
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	type metric struct {
		Namespace  any
		MetricName string
		Dimensions []struct{ Name, Value any }
	}
	add := func(where string, m metric) {
		ref := metricRef{Where: where, Namespace: resolveValue(r, m.Namespace), Name: m.MetricName, Dimensions: map[string]string{}}
		for _, d := range m.Dimensions {
			ref.Dimensions[resolveValue(r, d.Name)] = resolveValue(r, d.Value)
		}
		refs = append(refs, ref)
	}
	for _, id := range ids {
		res := t.Resources[id]
		switch res.Type {
		case "AWS::CloudWatch::Alarm":
			var p struct {
				metric
				Metrics []struct {
					Id         string
					Expression string
					MetricStat *struct{ Metric metric }
				}
			}
			if err := json.Unmarshal(res.Properties, &p); err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			if p.MetricName != "" {
				add(id, p.metric)
			}
			for _, m := range p.Metrics {
				if m.MetricStat != nil {
					add(id+"."+m.Id, m.MetricStat.Metric)
				}
			}
		case "AWS::CloudWatch::Dashboard":
			var p struct{ DashboardBody any }
			if err := json.Unmarshal(res.Properties, &p); err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			w, err := widgetRefs(id, resolveValue(r, p.DashboardBody))
			if err != nil {
				return nil, err
			}
			refs = append(refs, w...)
		}
	}
	return refs, nil
}

var searchExpr = regexp.MustCompile(`^SEARCH\('\{([^}]*)\} MetricName="([^"]+)"'`)

// widgetRefs reads a dashboard body's metric widgets: rows of
// [namespace, name, dim, value, ..., {options}], or a SEARCH expression.
func widgetRefs(id, body string) ([]metricRef, error) {
	var d struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return nil, fmt.Errorf("%s: DashboardBody is not JSON: %w", id, err)
	}
	var refs []metricRef
	for _, w := range d.Widgets {
		where := id + " " + w.Properties.Title
		for _, row := range w.Properties.Metrics {
			var strs []string
			for _, v := range row {
				switch x := v.(type) {
				case string:
					strs = append(strs, x)
				case map[string]any:
					expr, _ := x["expression"].(string)
					if expr == "" {
						continue
					}
					m := searchExpr.FindStringSubmatch(expr)
					if m == nil {
						return nil, fmt.Errorf("%s: expression %q is not a SEARCH of one metric name", where, expr)
					}
					parts := strings.Split(m[1], ",")
					ref := metricRef{Where: where, Namespace: strings.Trim(parts[0], `"`), Name: m[2], Dimensions: map[string]string{}}
					for _, p := range parts[1:] {
						ref.Dimensions[p] = ""
					}
					refs = append(refs, ref)
				}
			}
			if len(strs) == 0 {
				continue
			}
			if len(strs) < 2 || len(strs)%2 != 0 {
				return nil, fmt.Errorf("%s: metric row %v is not namespace, name and dimension pairs", where, row)
			}
			ref := metricRef{Where: where, Namespace: strs[0], Name: strs[1], Dimensions: map[string]string{}}
			for i := 2; i < len(strs); i += 2 {
				ref.Dimensions[strs[i]] = strs[i+1]
			}
			refs = append(refs, ref)
		}
	}
	return refs, nil
}

// checkMetricRefs: each metric an alarm or widget reads is one the code
// defines in shared/metrics (by name and dimension names, in the stack's
// METRICS_NAMESPACE), or an AWS metric by its documented name and
// dimensions whose values name a resource of the template.
func checkMetricRefs(t *Template) error {
	refs, err := templateMetricRefs(t)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return errors.New("no alarm or widget reads a metric")
	}
	r := refResolver(t)
	ns := r.Resolve(t.Globals.Function.Environment.Variables["METRICS_NAMESPACE"])
	if ns == "" {
		return errors.New("Globals declares no METRICS_NAMESPACE")
	}
	defs := map[string]metrics.Metric{}
	for _, m := range metrics.All() {
		defs[m.Name] = m
	}
	var problems []string
	for _, ref := range refs {
		dims := make([]string, 0, len(ref.Dimensions))
		for d := range ref.Dimensions {
			dims = append(dims, d)
		}
		sort.Strings(dims)
		if ref.Namespace == ns {
			def, ok := defs[ref.Name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: metric %s is not one shared/metrics defines", ref.Where, ref.Name))
				continue
			}
			want := slices.Sorted(slices.Values(def.Dimensions))
			if !slices.Equal(dims, want) {
				problems = append(problems, fmt.Sprintf("%s: %s by %v, the code publishes it by %v", ref.Where, ref.Name, dims, want))
			}
			continue
		}
		aws, ok := awsMetrics[ref.Namespace]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: namespace %q is neither the stack's (%s) nor a known AWS one", ref.Where, ref.Namespace, ns))
			continue
		}
		if !slices.Contains(aws.names, ref.Name) {
			problems = append(problems, fmt.Sprintf("%s: %s has no metric %s", ref.Where, ref.Namespace, ref.Name))
		}
		if !slices.ContainsFunc(aws.sets, func(s []string) bool { return slices.Equal(s, dims) }) {
			problems = append(problems, fmt.Sprintf("%s: %s %s by %v, documented by %v", ref.Where, ref.Namespace, ref.Name, dims, aws.sets))
		}
		for d, v := range ref.Dimensions {
			typ, ok := dimensionTargets[d]
			if !ok {
				continue
			}
			target, _, _ := strings.Cut(strings.TrimPrefix(v, "ref:"), ".")
			if !strings.HasPrefix(v, "ref:") || t.Resources[target].Type != typ {
				problems = append(problems, fmt.Sprintf("%s: %s=%q does not name a %s of the template", ref.Where, d, v, typ))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func TestAlarmsAndWidgetsReadMetricsThatExist(t *testing.T) {
	if err := checkMetricRefs(loadRepoTemplate(t)); err != nil {
		t.Error(err)
	}
}

func TestMetricCheckFailsOnBrokenTemplate(t *testing.T) {
	checkFailsOnBrokenTemplates(t, checkMetricRefs, []brokenTemplate{
		{"a custom metric the code does not define", []string{"MetricName: TokenRefreshes", "MetricName: TokenRefreshed"}, "TokenRefreshed is not one"},
		{"a custom metric by other dimensions", []string{"Dimensions: [{Name: Errcode, Value: \"45009\"}]", "Dimensions: [{Name: Code, Value: \"45009\"}]"}, "WeChatErrors by [Code]"},
		{"a widget on an undefined metric", []string{`"Requests",`, `"Request",`}, "Request is not one"},
		{"a SEARCH by other dimensions", []string{`,Code} MetricName=\"Errors\"`, `,Route} MetricName=\"Errors\"`}, "Errors by [Route]"},
		{"an AWS metric misnamed", []string{"MetricName: Throttles", "MetricName: Throttle"}, "no metric Throttle"},
		{"an AWS metric by undocumented dimensions", []string{"Dimensions: [{Name: ApiId, Value: !Ref Api}]", "Dimensions: [{Name: ApiName, Value: !Ref Api}]"}, "documented by"},
		{"a dimension naming the wrong resource", []string{"Dimensions: [{Name: FunctionName, Value: !Ref RefreshFunction}]", "Dimensions: [{Name: FunctionName, Value: !Ref Table}]"}, "does not name a AWS::Serverless::Function"},
		{"another namespace", []string{"Namespace: AWS/SQS", "Namespace: AWS/SNS"}, `"AWS/SNS"`},
	})
}
