// Package emftest reads CloudWatch Embedded Metric Format lines the way
// CloudWatch Logs does, for tests: it checks a line against the EMF
// specification and returns the data points it defines, and captures what
// slog writes, where the functions' lines come from.
package emftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Point is one value of one metric that a line defines.
type Point struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string // name -> value
	Value      float64
}

// units are the values CloudWatch accepts for a MetricDefinition's Unit.
var units = map[string]bool{}

func init() {
	for _, u := range []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
		"Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits",
		"Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
		"Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
		"Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"} {
		units[u] = true
	}
}

// IsEMF reports whether line is a JSON object with an _aws member: a line
// CloudWatch would try, and fail loudly, to read as EMF.
func IsEMF(line []byte) bool {
	var root map[string]json.RawMessage
	if json.Unmarshal(line, &root) != nil {
		return false
	}
	_, ok := root["_aws"]
	return ok
}

// Parse checks line against the specification and returns its points: one
// per metric, per value, per dimension set.
func Parse(line []byte) ([]Point, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, fmt.Errorf("emf: not a JSON object: %w", err)
	}
	rawMeta, ok := root["_aws"]
	if !ok {
		return nil, errors.New("emf: no _aws member")
	}
	var meta struct {
		Timestamp         *json.Number      `json:"Timestamp"`
		CloudWatchMetrics []json.RawMessage `json:"CloudWatchMetrics"`
	}
	if err := strict(rawMeta, &meta, "Timestamp", "CloudWatchMetrics"); err != nil {
		return nil, fmt.Errorf("emf: _aws: %w", err)
	}
	if meta.Timestamp == nil {
		return nil, errors.New("emf: _aws.Timestamp missing")
	}
	if ts, err := meta.Timestamp.Int64(); err != nil || ts < 0 {
		return nil, fmt.Errorf("emf: _aws.Timestamp %s is not epoch milliseconds", *meta.Timestamp)
	}
	if meta.CloudWatchMetrics == nil {
		return nil, errors.New("emf: _aws.CloudWatchMetrics missing")
	}
	var points []Point
	for i, raw := range meta.CloudWatchMetrics {
		var d struct {
			Namespace  *string `json:"Namespace"`
			Dimensions [][]string
			Metrics    []json.RawMessage
		}
		if err := strict(raw, &d, "Namespace", "Dimensions", "Metrics"); err != nil {
			return nil, fmt.Errorf("emf: directive %d: %w", i, err)
		}
		if d.Namespace == nil || len(*d.Namespace) < 1 || len(*d.Namespace) > 255 {
			return nil, fmt.Errorf("emf: directive %d: Namespace must be 1 to 255 characters", i)
		}
		if d.Dimensions == nil {
			return nil, fmt.Errorf("emf: directive %d: Dimensions missing", i)
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
			return nil, fmt.Errorf("emf: directive %d: Metrics must hold 1 to 100 definitions", i)
		}
		sets := make([]map[string]string, 0, len(d.Dimensions))
		for _, set := range d.Dimensions {
			if len(set) > 30 {
				return nil, fmt.Errorf("emf: directive %d: a dimension set of %d, over 30", i, len(set))
			}
			vals := map[string]string{}
			for _, name := range set {
				var v string
				if err := json.Unmarshal(root[name], &v); err != nil || len(v) < 1 || len(v) > 1024 {
					return nil, fmt.Errorf("emf: dimension %q: the root must hold it as a string of 1 to 1024 characters", name)
				}
				vals[name] = v
			}
			sets = append(sets, vals)
		}
		for _, rawDef := range d.Metrics {
			var m struct {
				Name              string
				Unit              string
				StorageResolution *int
			}
			if err := strict(rawDef, &m, "Name", "Unit", "StorageResolution"); err != nil {
				return nil, fmt.Errorf("emf: directive %d: metric definition: %w", i, err)
			}
			if len(m.Name) < 1 || len(m.Name) > 255 {
				return nil, fmt.Errorf("emf: metric name %q must be 1 to 255 characters", m.Name)
			}
			if m.Unit != "" && !units[m.Unit] {
				return nil, fmt.Errorf("emf: metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
			}
			if r := m.StorageResolution; r != nil && *r != 1 && *r != 60 {
				return nil, fmt.Errorf("emf: metric %s: StorageResolution %d, want 1 or 60", m.Name, *r)
			}
			values, err := metricValues(root[m.Name])
			if err != nil {
				return nil, fmt.Errorf("emf: metric %s: %w", m.Name, err)
			}
			for _, set := range sets {
				for _, v := range values {
					points = append(points, Point{Namespace: *d.Namespace, Name: m.Name, Unit: m.Unit, Dimensions: set, Value: v})
				}
			}
		}
	}
	return points, nil
}

// metricValues reads a metric's target member: a number or an array of at
// most 100 numbers.
func metricValues(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, errors.New("the root holds no member of its name")
	}
	var one float64
	if json.Unmarshal(raw, &one) == nil {
		return check([]float64{one})
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 || len(many) > 100 {
		return nil, errors.New("its value is not a number or an array of 1 to 100 numbers")
	}
	return check(many)
}

func check(vs []float64) ([]float64, error) {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.New("not a finite number")
		}
	}
	return vs, nil
}

// strict decodes an object of the specification, whose members are
// case-sensitive and which "MUST NOT contain any additional members".
// (encoding/json alone matches member names case-insensitively.)
func strict(raw json.RawMessage, v any, members ...string) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return errors.New("not an object")
	}
	for name := range probe {
		if !slices.Contains(members, name) {
			return fmt.Errorf("member %q is not one of %v", name, members)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
