package wire

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// The request types of the routes, as package api declares them (api
// imports wire, so wire's tests cannot import api; the field names and
// types are what matter to the decoder).
type sessionRequest struct {
	Code string `json:"code"`
}

type decryptRequest struct {
	EncryptedData string `json:"encryptedData"`
	IV            string `json:"iv"`
	Code          string `json:"code"`
}

type cloudIDRequest struct {
	CloudID string `json:"cloudID"`
}

// FuzzDecodeRequest feeds arbitrary bodies, raw or flagged base64, to the
// decode path of every route's request type, and arbitrary headers to the
// bearer parser. Decode must never panic and must answer either nil or an
// *Error with 400 or 413 whose envelope is valid JSON carrying no decoder
// text. Seeds live in testdata/fuzz/FuzzDecodeRequest, with every crasher
// ever found. (It lives in this small package, not in api, so that each
// input costs microseconds: see the package comment.)
func FuzzDecodeRequest(f *testing.F) {
	b64 := base64.StdEncoding.EncodeToString(make([]byte, 48))
	seeds := []string{
		`{"code":"0a1b2c"}`,
		`{"encryptedData":"` + b64 + `","iv":"r7BXXKkLb8qrSNn05n0qiA=="}`,
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
		var (
			s sessionRequest
			d decryptRequest
			c cloudIDRequest
		)
		targets := []struct {
			name     string
			v        any
			required func() error
		}{
			{"session", &s, func() error { return Required([2]string{"code", s.Code}) }},
			{"decrypt", &d, func() error { return Required([2]string{"encryptedData", d.EncryptedData}, [2]string{"iv", d.IV}) }},
			{"cloudid", &c, func() error { return Required([2]string{"cloudID", c.CloudID}) }},
		}
		for _, tg := range targets {
			err := Decode(string(body), isBase64, tg.v)
			if err == nil {
				// What decoded must then pass or fail the required check
				// without panicking either.
				if err = tg.required(); err == nil {
					continue
				}
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("%s: Decode returned %T %v, want *Error", tg.name, err, err)
			}
			if e.Status != 400 && e.Status != 413 {
				t.Fatalf("%s: status %d for a client's body", tg.name, e.Status)
			}
			env := Envelope(e)
			var got struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal([]byte(env), &got) != nil || got.Error.Code != e.Code || got.Error.Message == "" {
				t.Fatalf("%s: envelope %s is not {\"error\":{\"code\":%q,...}}", tg.name, env, e.Code)
			}
			for _, m := range []string{"json:", "invalid character", "unexpected end", "base64", "Go value"} {
				if strings.Contains(env, m) {
					t.Fatalf("%s: envelope carries decoder text %q: %s", tg.name, m, env)
				}
			}
		}
		if tok := Bearer(auth); tok != strings.TrimSpace(tok) {
			t.Fatalf("bearer kept spaces: %q", tok)
		}
	})
}
