package steps

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

func readFixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/werun_31days.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePayloadFixtureMatchesEncodingJSON(t *testing.T) {
	b := readFixture(t)
	got, err := ParsePayload(b)
	if err != nil {
		t.Fatalf("ParsePayload: %v", err)
	}
	var want Payload
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if len(got.StepInfoList) != 31 || got.Watermark.AppID != "wx4f4bc4dec97d474b" {
		t.Fatalf("unexpected fixture decode: %d entries, %+v", len(got.StepInfoList), got.Watermark)
	}
}

func TestParsePayload(t *testing.T) {
	wm := crypto.Watermark{AppID: "wx1", Timestamp: 1571720000}
	one := []Entry{{Timestamp: 1571673600, Step: 1200}}
	tests := []struct {
		name string
		in   string
		want Payload
		err  error
	}{
		{"typical", `{"stepInfoList":[{"timestamp":1571673600,"step":1200}],"watermark":{"timestamp":1571720000,"appid":"wx1"}}`,
			Payload{one, wm}, nil},
		{"whitespace everywhere", " {\n\t\"stepInfoList\" : [ { \"timestamp\" : 1571673600 , \"step\" : 1200 } ] ,\r\n \"watermark\" : { \"appid\" : \"wx1\" , \"timestamp\" : 1571720000 } } \n",
			Payload{one, wm}, nil},
		{"unknown fields of every kind skipped", `{"x":{"a":[1,2.5e3,{"b":null}],"c":"\"}"},"stepInfoList":[{"timestamp":1571673600,"extra":[true,false],"step":1200}],"watermark":{"appid":"wx1","timestamp":1571720000,"y":-0.5},"z":null}`,
			Payload{one, wm}, nil},
		{"escaped appid", `{"stepInfoList":[],"watermark":{"appid":"w\u0078\/1","timestamp":1}}`,
			Payload{[]Entry{}, crypto.Watermark{AppID: "wx/1", Timestamp: 1}}, nil},
		{"invalid UTF-8 in appid replaced as encoding/json does", "{\"watermark\":{\"appid\":\"wx\xff\"}}",
			Payload{Watermark: crypto.Watermark{AppID: "wx\uFFFD"}}, nil},
		{"escaped key", `{"step\u0049nfoList":[{"timestamp":1571673600,"step":1200}]}`, Payload{StepInfoList: one}, nil},
		{"whole step written as a float", `{"stepInfoList":[{"timestamp":1571673600,"step":1200.0}]}`, Payload{StepInfoList: one}, nil},
		{"whole step with an exponent", `{"stepInfoList":[{"timestamp":1571673600,"step":1.2e3}]}`, Payload{StepInfoList: one}, nil},
		{"negative zero step", `{"stepInfoList":[{"timestamp":1571673600,"step":-0}]}`, Payload{StepInfoList: []Entry{{1571673600, 0}}}, nil},
		{"zero with a huge exponent", `{"stepInfoList":[{"timestamp":1571673600,"step":-0.0e999999999999}]}`, Payload{StepInfoList: []Entry{{1571673600, 0}}}, nil},
		{"exponent step past 2^53 read exactly", `{"stepInfoList":[{"timestamp":1571673600,"step":10000000000001E5}]}`, Payload{StepInfoList: []Entry{{1571673600, 1000000000000100000}}}, nil},
		{"exponent step of 19 significant digits", `{"stepInfoList":[{"timestamp":1571673600,"step":9.223372036854775807e18}]}`, Payload{StepInfoList: []Entry{{1571673600, 9223372036854775807}}}, nil},
		{"later duplicate key wins", `{"stepInfoList":[],"stepInfoList":[{"timestamp":1571673600,"step":1200}]}`, Payload{StepInfoList: one}, nil},
		{"empty object", `{}`, Payload{}, nil},
		{"null list and watermark", `{"stepInfoList":null,"watermark":null}`, Payload{}, nil},

		{"fractional step", `{"stepInfoList":[{"timestamp":1571673600,"step":1.5}]}`, Payload{}, ErrInvalidSteps},
		{"negative step", `{"stepInfoList":[{"timestamp":1571673600,"step":-1}]}`, Payload{}, ErrInvalidSteps},
		{"step beyond int64", `{"stepInfoList":[{"timestamp":1571673600,"step":99999999999999999999}]}`, Payload{}, ErrInvalidSteps},
		{"huge float step", `{"stepInfoList":[{"timestamp":1571673600,"step":1e300}]}`, Payload{}, ErrInvalidSteps},
		{"exponent step just past int64", `{"stepInfoList":[{"timestamp":1571673600,"step":9.223372036854775808e18}]}`, Payload{}, ErrInvalidSteps},
		{"fraction hidden by a small exponent", `{"stepInfoList":[{"timestamp":1571673600,"step":1.25e1}]}`, Payload{}, ErrInvalidSteps},
		{"tiny exponent", `{"stepInfoList":[{"timestamp":1571673600,"step":1e-999999999999}]}`, Payload{}, ErrInvalidSteps},
		{"timestamp as a string", `{"stepInfoList":[{"timestamp":"1571673600","step":1}]}`, Payload{}, ErrInvalidSteps},
		{"entry not an object", `{"stepInfoList":[1]}`, Payload{}, ErrInvalidSteps},
		{"syntax error wins over a bad step", `{"stepInfoList":[{"timestamp":1571673600,"step":-1}]`, Payload{}, ErrMalformedPayload},

		{"empty input", ``, Payload{}, ErrMalformedPayload},
		{"top level array", `[]`, Payload{}, ErrMalformedPayload},
		{"trailing data", `{} {}`, Payload{}, ErrMalformedPayload},
		{"truncated", `{"stepInfoList":[{"timestamp":15716`, Payload{}, ErrMalformedPayload},
		{"trailing comma", `{"stepInfoList":[{"timestamp":1,"step":1},]}`, Payload{}, ErrMalformedPayload},
		{"step as a string", `{"stepInfoList":[{"timestamp":1571673600,"step":"1200"}]}`, Payload{}, ErrInvalidSteps},
		{"step null", `{"stepInfoList":[{"timestamp":1571673600,"step":null}]}`, Payload{}, ErrInvalidSteps},
		{"missing step", `{"stepInfoList":[{"timestamp":1571673600}]}`, Payload{}, ErrInvalidSteps},
		{"missing timestamp", `{"stepInfoList":[{"step":1}]}`, Payload{}, ErrInvalidSteps},
		{"fractional timestamp", `{"stepInfoList":[{"timestamp":1571673600.5,"step":1}]}`, Payload{}, ErrInvalidSteps},
		{"timestamp beyond int64", `{"stepInfoList":[{"timestamp":9223372036854775808,"step":1}]}`, Payload{}, ErrInvalidSteps},
		{"list is an object", `{"stepInfoList":{}}`, Payload{}, ErrInvalidSteps},
		{"appid is a number", `{"watermark":{"appid":1}}`, Payload{}, ErrMalformedPayload},
		{"leading zero", `{"stepInfoList":[{"timestamp":01571673600,"step":1}]}`, Payload{}, ErrMalformedPayload},
		{"bad escape", `{"x":"\q"}`, Payload{}, ErrMalformedPayload},
		{"control character in string", "{\"x\":\"a\x01\"}", Payload{}, ErrMalformedPayload},
		{"single quotes", `{'x':1}`, Payload{}, ErrMalformedPayload},
		{"nesting too deep", `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, Payload{}, ErrMalformedPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePayload([]byte(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if err == nil && !json.Valid([]byte(tt.in)) {
				t.Fatalf("accepted invalid JSON")
			}
		})
	}
}

func FuzzParsePayload(f *testing.F) {
	f.Add(readFixture(f))
	f.Add([]byte(`{"stepInfoList":[{"timestamp":1571673600,"step":1.5e0}],"watermark":{"appid":"a\u00e9","timestamp":-1}}`))
	f.Add([]byte(`{"x":[[[{"y":"\\"}]]],"stepInfoList":null}`))
	f.Add([]byte(`{"stepInfoList":[{"timestamp":-9223372036854775808,"step":-0.0}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePayload(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrInvalidSteps) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		for _, e := range p.StepInfoList {
			if e.Step < 0 {
				t.Fatalf("accepted a negative step")
			}
		}
		// What it decoded survives a trip through encoding/json.
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := ParsePayload(again)
		if err != nil || !reflect.DeepEqual(p, p2) {
			t.Fatalf("re-parse of %s = %+v, %v", again, p2, err)
		}
	})
}

func BenchmarkParsePayload(b *testing.B) {
	data := readFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePayload(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePayloadEncodingJSON(b *testing.B) {
	data := readFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		var p Payload
		if err := json.Unmarshal(data, &p); err != nil {
			b.Fatal(err)
		}
	}
}
