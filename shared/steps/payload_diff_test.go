package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"testing"
)

// FuzzParsePayloadAgreesWithEncodingJSON is the differential check of the
// hand-written decoder: whatever ParsePayload accepts, encoding/json accepts
// too, and decoding it into a map (keys matched exactly, the last of a
// repeated key winning, null as the zero value) gives the same step entries
// and watermark. Where ParsePayload finds the JSON well-formed but the step
// list unusable, encoding/json reads the same watermark.
func FuzzParsePayloadAgreesWithEncodingJSON(f *testing.F) {
	f.Add(readFixture(f))
	for _, s := range []string{
		`{"stepInfoList":[{"timestamp":1571673600,"step":1.2e3}],"watermark":{"appid":"a\u00e9","timestamp":-1}}`,
		`{"watermark":{"appid":"x","timestamp":5},"watermark":{"timestamp":6}}`,
		`{"watermark":{"appid":"x","appid":null}}`,
		`{"stepInfoList":[{"timestamp":1,"step":2,"Step":3,"timestamp":4}],"stepInfoList":null}`,
		`{"stepInfoList":[{"timestamp":-9223372036854775808,"step":9223372036854775807}]}`,
		"{\"watermark\":{\"appid\":\"\xff\"}}",
		`{"stepInfoList":[{"timestamp":"1","step":-1}],"watermark":{"appid":"wx1","timestamp":7}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParsePayload(b)
		if errors.Is(err, ErrMalformedPayload) {
			return
		}
		want, listErr, jsonErr := decodeByMap(b)
		if jsonErr != nil {
			t.Fatalf("ParsePayload found %q well-formed (%v), encoding/json: %v", b, err, jsonErr)
		}
		if got.Watermark != want.Watermark {
			t.Fatalf("%q: watermark %+v, encoding/json %+v", b, got.Watermark, want.Watermark)
		}
		if err != nil {
			return
		}
		if listErr != nil {
			t.Fatalf("ParsePayload accepted %q, its list by encoding/json: %v", b, listErr)
		}
		if fmt.Sprint(got.StepInfoList) != fmt.Sprint(want.StepInfoList) {
			t.Fatalf("%q:\nParsePayload %+v\nencoding/json %+v", b, got, want)
		}
	})
}

// decodeByMap reads a payload the way a reader with encoding/json and no
// struct would: jsonErr when it is not one JSON object or its watermark is
// unreadable, listErr when the step list is unusable.
func decodeByMap(b []byte) (p Payload, listErr, jsonErr error) {
	var top map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&top); err != nil {
		return Payload{}, nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return Payload{}, nil, fmt.Errorf("trailing data")
	}
	if wm, ok := top["watermark"].(map[string]any); ok {
		p.Watermark.AppID, _ = wm["appid"].(string)
		if wm["timestamp"] != nil {
			ts, ok := integer(wm["timestamp"])
			if !ok {
				return Payload{}, nil, fmt.Errorf("watermark timestamp %v", wm["timestamp"])
			}
			p.Watermark.Timestamp = ts
		}
	}
	if list, ok := top["stepInfoList"].([]any); ok {
		for i, v := range list {
			m, _ := v.(map[string]any)
			ts, ok1 := integer(m["timestamp"])
			st, ok2 := integer(m["step"])
			if !ok1 || !ok2 {
				return p, fmt.Errorf("entry %d: %v", i, v), nil
			}
			p.StepInfoList = append(p.StepInfoList, Entry{Timestamp: ts, Step: st})
		}
	}
	return p, nil, nil
}

// integer is a JSON number's exact value when it is a whole number in int64.
func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}
