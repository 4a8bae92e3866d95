package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

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
	var dash struct{ DashboardBody any }
	_ = json.Unmarshal(t.Resources["Dashboard"].Properties, &dash)
	body := refResolver(t).Resolve(dash.DashboardBody)
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

func TestAlarmsNotifyShowAndRollBackDeploysAndLogsExpire(t *testing.T) {
	if err := checkOperations(loadRepoTemplate(t)); err != nil {
		t.Error(err)
	}
}

func TestOperationsCheckFailsOnBrokenTemplate(t *testing.T) {
	checkFailsOnBrokenTemplates(t, checkOperations, []brokenTemplate{
		{"an alarm that notifies nobody", []string{"      AlarmActions: [!Ref AlarmTopic]\n", "\n"}, "want [!Ref AlarmTopic]"},
		{"an alarm missing from the dashboard", []string{`"${WeChatQuotaAlarm.Arn}",`, ""}, "WeChatQuotaAlarm is not on the dashboard"},
		{"a rollback alarm that does not exist", []string{"- !Ref SessionErrorsAlarm", "- !Ref SessionFunction"}, "SessionFunction] is no alarm"},
		{"eleven rollback alarms", []string{"          - !Ref SessionErrorsAlarm\n", strings.Repeat("          - !Ref SessionErrorsAlarm\n", 7)}, "11 rollback alarms"},
		{"a log group that never expires", []string{"      LogGroupName: !Sub /werun-sam/${AWS::StackName}/steps\n      RetentionInDays: !Ref LogRetentionDays\n", "      LogGroupName: !Sub /werun-sam/${AWS::StackName}/steps\n"}, "StepsLogGroup: retention"},
		{"two functions in one log group", []string{"LogGroup: !Ref DecryptLogGroup", "LogGroup: !Ref SessionLogGroup"}, "share the log group"},
	})
}

// brokenTemplate is template.yaml with edits (old, new, ...) that check must
// fail on, saying want.
type brokenTemplate struct {
	name  string
	edits []string
	want  string
}

func checkFailsOnBrokenTemplates(t *testing.T, check func(*Template) error, cases []brokenTemplate) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := LoadTemplate(brokenCopy(t, "template.yaml", c.edits...))
			if err != nil {
				t.Fatal(err)
			}
			err = check(tmpl)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check passed or said the wrong thing: %v (want %q)", err, c.want)
			}
		})
	}
}
