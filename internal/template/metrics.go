package template

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// MetricRef is one metric an alarm or a dashboard widget reads: a
// namespace, a name and dimension values (a SEARCH names only the
// dimensions, with empty values). Values that name a resource read
// "ref:<Id>" or "ref:<Id>.<Attr>", so a check can see what they name.
type MetricRef struct {
	Where      string // the alarm (and metric id), or the dashboard and widget title
	Alarm      bool   // read by an alarm, not a widget
	Namespace  string
	Name       string
	Dimensions map[string]string
}

// symbolic resolves Ref and ${Id} of every resource to "ref:<Id>" and
// ${Id.Attr} to "ref:<Id>.<Attr>"; the stack is named "werun-sam-test".
func (t *Template) symbolic() Resolver {
	refs := map[string]string{"AWS::StackName": "werun-sam-test"}
	for id := range t.Resources {
		refs[id] = "ref:" + id
		for _, attr := range []string{"Arn", "QueueName"} {
			refs[id+"."+attr] = "ref:" + id + "." + attr
		}
	}
	return Resolver{Template: t, Refs: refs}
}

// resolveSymbolic is symbolic's Resolve plus Fn::GetAtt, as "ref:<Id>.<Attr>".
func (t *Template) resolveSymbolic(v any) string {
	if m, ok := v.(map[string]any); ok {
		if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			return fmt.Sprintf("ref:%v.%v", ga[0], ga[1])
		}
	}
	return t.symbolic().Resolve(v)
}

// MetricsNamespace is the functions' METRICS_NAMESPACE (from Globals),
// resolved as MetricRefs resolves the alarms' namespaces.
func (t *Template) MetricsNamespace() string {
	return t.resolveSymbolic(t.Globals.Function.Environment.Variables["METRICS_NAMESPACE"])
}

// MetricRefs lists the metrics every alarm and the dashboard read, alarms
// first, in logical-id order.
func (t *Template) MetricRefs() ([]MetricRef, error) {
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
	var refs []MetricRef
	add := func(where string, m metric) {
		ref := MetricRef{Where: where, Alarm: true, Namespace: t.resolveSymbolic(m.Namespace), Name: m.MetricName, Dimensions: map[string]string{}}
		for _, d := range m.Dimensions {
			ref.Dimensions[t.resolveSymbolic(d.Name)] = t.resolveSymbolic(d.Value)
		}
		refs = append(refs, ref)
	}
	var widgets []MetricRef
	for _, id := range ids {
		res := t.Resources[id]
		switch res.Type {
		case "AWS::CloudWatch::Alarm":
			var p struct {
				metric
				Metrics []struct {
					Id         string
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
			body, err := t.DashboardBody(id)
			if err != nil {
				return nil, err
			}
			w, err := widgetRefs(id, body)
			if err != nil {
				return nil, err
			}
			widgets = append(widgets, w...)
		}
	}
	return append(refs, widgets...), nil
}

// DashboardBody is the body of dashboard id, resolved as MetricRefs
// resolves values (an alarm's ARN reads "ref:<Id>.Arn").
func (t *Template) DashboardBody(id string) (string, error) {
	var p struct{ DashboardBody any }
	if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
		return "", fmt.Errorf("%s: %w", id, err)
	}
	return t.resolveSymbolic(p.DashboardBody), nil
}

var searchExpr = regexp.MustCompile(`^SEARCH\('\{([^}]*)\} MetricName="([^"]+)"'`)

// widgetRefs reads a dashboard body's metric widgets: rows of
// [namespace, name, dim, value, ..., {options}], or a SEARCH expression.
func widgetRefs(id, body string) ([]MetricRef, error) {
	var d struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return nil, fmt.Errorf("%s: DashboardBody is not JSON: %w", id, err)
	}
	var refs []MetricRef
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
					ref := MetricRef{Where: where, Namespace: strings.Trim(parts[0], `"`), Name: m[2], Dimensions: map[string]string{}}
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
			ref := MetricRef{Where: where, Namespace: strs[0], Name: strs[1], Dimensions: map[string]string{}}
			for i := 2; i < len(strs); i += 2 {
				ref.Dimensions[strs[i]] = strs[i+1]
			}
			refs = append(refs, ref)
		}
	}
	return refs, nil
}

// FilterMetrics lists the metrics the template's log metric filters
// publish (Where names the filter), namespaces resolved as MetricRefs does.
func (t *Template) FilterMetrics() ([]MetricRef, error) {
	var out []MetricRef
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != "AWS::Logs::MetricFilter" {
			continue
		}
		var p struct {
			MetricTransformations []struct {
				MetricNamespace any
				MetricName      string
			}
		}
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		for _, m := range p.MetricTransformations {
			out = append(out, MetricRef{Where: id, Namespace: t.resolveSymbolic(m.MetricNamespace), Name: m.MetricName})
		}
	}
	return out, nil
}
