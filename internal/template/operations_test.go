package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/metrics"
)

// awsMetrics are the AWS metrics the template may read, with the dimension
// sets AWS documents for them: AWS/Lambda by FunctionName, or none for the
// account's (ConcurrentExecutions); AWS/ApiGateway
// (HTTP APIs) by ApiId; AWS/DynamoDB by TableName, for an index with
// GlobalSecondaryIndexName too; AWS/SQS by QueueName.
var awsMetrics = map[string]struct {
	names []string
	sets  [][]string
}{
	"AWS/Lambda":     {[]string{"Errors", "Throttles", "Invocations", "Duration", "ConcurrentExecutions"}, [][]string{{"FunctionName"}, {}}},
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

// checkMetricRefs: each metric an alarm or widget reads is one the code
// defines in shared/metrics (by name and dimension names, in the stack's
// METRICS_NAMESPACE), or an AWS metric by its documented name and
// dimensions whose values name a resource of the template.
func checkMetricRefs(t *Template) error {
	refs, err := t.MetricRefs()
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return errors.New("no alarm or widget reads a metric")
	}
	ns := t.MetricsNamespace()
	if ns == "" {
		return errors.New("Globals declares no METRICS_NAMESPACE")
	}
	defs := map[string]metrics.Metric{}
	for _, m := range metrics.All() {
		defs[m.Name] = m
	}
	filtered, err := t.FilterMetrics()
	if err != nil {
		return err
	}
	for _, m := range filtered {
		if m.Namespace != ns {
			return fmt.Errorf("metric filter %s publishes into %q, not the stack's namespace %s", m.Name, m.Namespace, ns)
		}
		defs[m.Name] = metrics.Metric{Name: m.Name}
	}
	var problems []string
	for _, ref := range refs {
		dims := slices.Sorted(maps.Keys(ref.Dimensions))
		if ref.Namespace == ns {
			def, ok := defs[ref.Name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: metric %s is not one shared/metrics defines", ref.Where, ref.Name))
				continue
			}
			if want := slices.Sorted(slices.Values(def.Dimensions)); !slices.Equal(dims, want) {
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

// maxRollbackAlarms is CodeDeploy's limit of alarms per deployment group.
const maxRollbackAlarms = 10

// checkOperations: every alarm notifies the alarm topic and shows on the
// dashboard; every deployment preference rolls back on at most ten alarms
// of the template; every function logs to a log group of its own whose
// retention is the LogRetentionDays parameter.
func checkOperations(t *Template) error {
	var problems []string
	var alarms []string
	for id, r := range t.Resources {
		if r.Type == "AWS::CloudWatch::Alarm" {
			alarms = append(alarms, id)
		}
	}
	sort.Strings(alarms)
	if len(alarms) == 0 {
		problems = append(problems, "the template has no alarm")
	}
	body, err := t.DashboardBody("Dashboard")
	if err != nil {
		return err
	}
	for _, id := range alarms {
		var p struct{ AlarmActions []any }
		_ = json.Unmarshal(t.Resources[id].Properties, &p)
		if len(p.AlarmActions) != 1 || fmt.Sprint(p.AlarmActions[0]) != "map[Ref:AlarmTopic]" {
			problems = append(problems, fmt.Sprintf("%s: AlarmActions %v, want [!Ref AlarmTopic]", id, p.AlarmActions))
		}
		if !strings.Contains(body, `"ref:`+id+`.Arn"`) {
			problems = append(problems, fmt.Sprintf("%s is not on the dashboard's alarm widget", id))
		}
	}
	fns, err := t.Functions()
	if err != nil {
		return err
	}
	groups := map[string]string{}
	for _, f := range fns {
		var p struct {
			DeploymentPreference *struct{ Alarms []map[string]string }
			LoggingConfig        struct{ LogGroup map[string]string }
		}
		if err := json.Unmarshal(t.Resources[f.LogicalID].Properties, &p); err != nil {
			return fmt.Errorf("%s: %w", f.LogicalID, err)
		}
		if d := p.DeploymentPreference; d != nil {
			if len(d.Alarms) == 0 || len(d.Alarms) > maxRollbackAlarms {
				problems = append(problems, fmt.Sprintf("%s: %d rollback alarms, want 1 to %d", f.LogicalID, len(d.Alarms), maxRollbackAlarms))
			}
			for _, a := range d.Alarms {
				if t.Resources[a["Ref"]].Type != "AWS::CloudWatch::Alarm" {
					problems = append(problems, fmt.Sprintf("%s: rollback alarm %v is no alarm of the template", f.LogicalID, a))
				}
			}
		}
		g := p.LoggingConfig.LogGroup["Ref"]
		var lg struct{ RetentionInDays map[string]string }
		_ = json.Unmarshal(t.Resources[g].Properties, &lg)
		switch {
		case t.Resources[g].Type != "AWS::Logs::LogGroup":
			problems = append(problems, fmt.Sprintf("%s: LoggingConfig.LogGroup %v is no log group of the template", f.LogicalID, p.LoggingConfig.LogGroup))
		case groups[g] != "":
			problems = append(problems, fmt.Sprintf("%s and %s share the log group %s", groups[g], f.LogicalID, g))
		case lg.RetentionInDays["Ref"] != "LogRetentionDays":
			problems = append(problems, fmt.Sprintf("%s: retention %v, want !Ref LogRetentionDays", g, lg.RetentionInDays))
		}
		groups[g] = f.LogicalID
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// lateNamespaces publish datapoints minutes after their period: EMF lines
// (the stack's namespace) and DynamoDB.
func lateMetric(ref MetricRef, stackNS string) bool {
	return ref.Namespace == stackNS || ref.Namespace == "AWS/DynamoDB"
}

// checkMOfN: an alarm that reads a late metric, or fills a missing
// datapoint (FILL), evaluates more than one period, so that a datapoint
// arriving late still counts instead of the fill value.
func checkMOfN(t *Template) error {
	refs, err := t.MetricRefs()
	if err != nil {
		return err
	}
	late := map[string]bool{}
	for _, r := range refs {
		if r.Alarm && lateMetric(r, t.MetricsNamespace()) {
			id, _, _ := strings.Cut(r.Where, ".")
			late[id] = true
		}
	}
	var problems []string
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if t.Resources[id].Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		var p struct {
			EvaluationPeriods int
			Metrics           []struct{ Expression string }
		}
		if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		fills := slices.ContainsFunc(p.Metrics, func(m struct{ Expression string }) bool { return strings.Contains(m.Expression, "FILL(") })
		if (late[id] || fills) && p.EvaluationPeriods < 2 {
			problems = append(problems, fmt.Sprintf("%s reads late or filled data over %d period: a late datapoint is lost", id, p.EvaluationPeriods))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func TestAlarmsOnLateOrFilledDataEvaluateSeveralPeriods(t *testing.T) {
	if err := checkMOfN(loadRepoTemplate(t)); err != nil {
		t.Error(err)
	}
	broken, err := Load(brokenCopy(t, "template.yaml", "      # DynamoDB's metrics arrive late: 1 of 3 periods.\n      EvaluationPeriods: 3", "      EvaluationPeriods: 1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkMOfN(broken); err == nil || !strings.Contains(err.Error(), "DynamoDBThrottleAlarm") {
		t.Errorf("the check on a 1-of-1 DynamoDB alarm: %v", err)
	}
}

func TestAlarmsAndWidgetsReadMetricsThatExist(t *testing.T) {
	if err := checkMetricRefs(loadRepoTemplate(t)); err != nil {
		t.Error(err)
	}
}

func TestAlarmsNotifyShowAndRollBackDeploysAndLogsExpire(t *testing.T) {
	if err := checkOperations(loadRepoTemplate(t)); err != nil {
		t.Error(err)
	}
}
