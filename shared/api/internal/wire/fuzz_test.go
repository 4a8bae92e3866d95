package api

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzDecodeRequest feeds arbitrary bodies, raw or flagged base64, to the
// decode path of every route's request type, and arbitrary headers to the
// bearer parser. decode must never panic and must answer either nil or an
// *Error with 400 or 413 whose envelope carries no decoder text. It calls the
// unexported decode rather than the handlers so that each input costs
// microseconds, not a DynamoDB round trip; the handler tests cover the rest
// of the path. Seeds live in testdata/fuzz/FuzzDecodeRequest, with every
// crasher ever found.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []string{
		`{"code":"0a1b2c"}`,
		`{"encryptedData":"` + b64(48) + `","iv":"` + validIV + `"}`,
		`{"encryptedData":"x","iv":"y","code":"c","errMsg":"getWeRunData:ok","cloudID":"sim_1"}`,
		`{"cloudID":"sim_abc"}`,
		`{"code":5}`, `{"iv":[1,2]}`, `{"cloudID":{}}`, `[]`, `null`, `""`, `{}{}`, `{"code":"a"} x`,
		`{"code":"\ud800"}`, "\xff\xfe{", "", " ", `{"code":"` + strings.Repeat("a", 100) + `"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false, "Bearer abc.def")
		f.Add([]byte(base64.StdEncoding.EncodeToString([]byte(s))), true, "bearer x")
	}
	f.Fuzz(func(t *testing.T, body []byte, isBase64 bool, auth string) {
		req := events.APIGatewayV2HTTPRequest{Body: string(body), IsBase64Encoded: isBase64,
			Headers: map[string]string{"authorization": auth}}
		targets := []struct {
			name string
			v    any
			req  func() error
		}{
			{"session", &SessionRequest{}, nil},
			{"decrypt", &DecryptRequest{}, nil},
			{"cloudid", &CloudIDRequest{}, nil},
		}
		for _, tg := range targets {
			err := decode(req, tg.v)
			if err == nil {
				// What decoded must then pass or fail the required check
				// without panicking either.
				switch v := tg.v.(type) {
				case *SessionRequest:
					err = required([2]string{"code", v.Code})
				case *DecryptRequest:
					err = required([2]string{"encryptedData", v.EncryptedData}, [2]string{"iv", v.IV})
				case *CloudIDRequest:
					err = required([2]string{"cloudID", v.CloudID})
				}
				if err == nil {
					continue
				}
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("%s: decode returned %T %v, want *Error", tg.name, err, err)
			}
			if e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("%s: status %d for a client's body", tg.name, e.Status)
			}
			if got := classify(err); got != e {
				t.Fatalf("%s: classify changed the answer", tg.name)
			}
			resp := errorResponse(e)
			for _, m := range []string{"json:", "invalid character", "unexpected end", "base64", "Go value"} {
				if strings.Contains(resp.Body, m) {
					t.Fatalf("%s: envelope carries decoder text %q: %s", tg.name, m, resp.Body)
				}
			}
		}
		if tok := bearer(req); tok != strings.TrimSpace(tok) {
			t.Fatalf("bearer kept spaces: %q", tok)
		}
	})
}
