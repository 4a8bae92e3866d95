package emftest

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestParseAcceptsTheSpecificationsExample(t *testing.T) {
	line := `{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics",` +
		`"Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},` +
		`"functionVersion":"$LATEST","time":[100,200],"requestId":"989ffbf8"}`
	points, err := Parse([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{
		{"lambda-function-metrics", "time", "Milliseconds", map[string]string{"functionVersion": "$LATEST"}, 100},
		{"lambda-function-metrics", "time", "Milliseconds", map[string]string{"functionVersion": "$LATEST"}, 200},
	}
	if !reflect.DeepEqual(points, want) {
		t.Errorf("points %+v, want %+v", points, want)
	}
}

func TestParseRejectsWhatCloudWatchRejects(t *testing.T) {
	const head = `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[`
	for _, tt := range []struct{ name, line string }{
		{"not JSON", `time=1 level=INFO`},
		{"no _aws", `{"a":1}`},
		{"no timestamp", `{"_aws":{"CloudWatchMetrics":[]}}`},
		{"timestamp as a string", `{"_aws":{"Timestamp":"2026-01-01","CloudWatchMetrics":[]}}`},
		{"fractional timestamp", `{"_aws":{"Timestamp":1.5,"CloudWatchMetrics":[]}}`},
		{"no directives", `{"_aws":{"Timestamp":1}}`},
		{"extra member in _aws", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[],"X":1}}`},
		{"no namespace", head + `{"Dimensions":[],"Metrics":[{"Name":"m"}]}]},"m":1}`},
		{"empty namespace", head + `{"Namespace":"","Dimensions":[],"Metrics":[{"Name":"m"}]}]},"m":1}`},
		{"no dimensions", head + `{"Namespace":"n","Metrics":[{"Name":"m"}]}]},"m":1}`},
		{"no metrics", head + `{"Namespace":"n","Dimensions":[],"Metrics":[]}]}}`},
		{"dimension not in root", head + `{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"m"}]}]},"m":1}`},
		{"dimension a number", head + `{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"m"}]}]},"m":1,"d":2}`},
		{"metric value missing", head + `{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"m"}]}]}}`},
		{"metric value a string", head + `{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"m"}]}]},"m":"1"}`},
		{"unknown unit", head + `{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"m","Unit":"ms"}]}]},"m":1}`},
		{"bad resolution", head + `{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"m","StorageResolution":5}]}]},"m":1}`},
		{"extra member in directive", head + `{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"m"}],"X":1}]},"m":1}`},
		{"extra member in a metric definition", head + `{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"m","X":1}]}]},"m":1}`},
		{"a member in the wrong case", head + `{"namespace":"n","Dimensions":[],"Metrics":[{"Name":"m"}]}]},"m":1}`},
		{"Timestamp in the wrong case", `{"_aws":{"timestamp":1,"CloudWatchMetrics":[]}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.line)); err == nil {
				t.Errorf("accepted %s", tt.line)
			}
		})
	}
}

func TestPointsReadsEveryEMFLineAndSkipsTheRest(t *testing.T) {
	const point = `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"m"}]}]},"d":"%s","m":%d}`
	log := []byte("time=1 level=INFO plain text\n" +
		`{"level":"INFO","msg":"request"}` + "\n" +
		fmt.Sprintf(point, "a", 1) + "\n\n" +
		fmt.Sprintf(point, "b", 2) + "\n")
	points, err := Points(log)
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{"n", "m", "", map[string]string{"d": "a"}, 1}, {"n", "m", "", map[string]string{"d": "b"}, 2}}
	if !reflect.DeepEqual(points, want) {
		t.Errorf("points %+v, want %+v", points, want)
	}
	broken := append(log, `{"_aws":{"Timestamp":1}}`...)
	if _, err := Points(broken); err == nil {
		t.Error("an EMF line without directives was accepted")
	}
}

func TestCaptureReadsWhatSlogWritesUntilTheTestEnds(t *testing.T) {
	prev := slog.Default()
	t.Run("captured", func(t *testing.T) {
		log := Capture(t)
		slog.Info("hello")
		if !strings.Contains(log.String(), `"msg":"hello"`) {
			t.Errorf("captured %q, want the JSON line", log)
		}
	})
	if slog.Default() != prev {
		t.Error("the default logger was not restored")
	}
}
