package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/internal/template"
)

// fakeFunction records the event it got and answers a fixed payload.
type fakeFunction struct {
	got    events.APIGatewayV2HTTPRequest
	answer string
	err    error
}

func (f *fakeFunction) Invoke(_ context.Context, event []byte) ([]byte, error) {
	if err := json.Unmarshal(event, &f.got); err != nil {
		return nil, err
	}
	return []byte(f.answer), f.err
}

func TestAPIServesTheTemplateRoutesAsPayload2(t *testing.T) {
	tmpl, err := template.LoadRepo()
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tmpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	fakes := map[string]*fakeFunction{}
	invokers := map[string]Invoker{}
	for _, r := range routes {
		f := &fakeFunction{answer: `{"statusCode":200,"body":"{}"}`}
		fakes[r.Function], invokers[r.Function] = f, f
	}
	srv := httptest.NewServer(&API{Routes: routes, Invoker: invokers})
	defer srv.Close()

	for _, route := range routes {
		key, fn := route.Key(), route.Function
		t.Run(key, func(t *testing.T) {
			method, path, _ := strings.Cut(key, " ")
			req, _ := http.NewRequest(method, srv.URL+path+"?from=2026-03-01&a=1&a=2", strings.NewReader(`{"code":"x"}`))
			req.Header.Set("Authorization", "Bearer t")
			req.Header.Add("X-Multi", "1")
			req.Header.Add("X-Multi", "2")
			req.Header.Set("Cookie", "a=1; b=2")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ev := fakes[fn].got
			checks := []struct {
				what      string
				got, want any
			}{
				{"status", resp.StatusCode, 200},
				{"version", ev.Version, "2.0"},
				{"routeKey", ev.RouteKey, key},
				{"requestContext.routeKey", ev.RequestContext.RouteKey, key},
				{"rawPath", ev.RawPath, path},
				{"rawQueryString", ev.RawQueryString, "from=2026-03-01&a=1&a=2"},
				{"queryStringParameters.a", ev.QueryStringParameters["a"], "1,2"},
				{"http.method", ev.RequestContext.HTTP.Method, method},
				{"http.path", ev.RequestContext.HTTP.Path, path},
				{"http.sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
				{"lower-cased header", ev.Headers["authorization"], "Bearer t"},
				{"joined header", ev.Headers["x-multi"], "1,2"},
				{"cookies", strings.Join(ev.Cookies, "|"), "a=1|b=2"},
				{"body", ev.Body, `{"code":"x"}`},
				{"isBase64Encoded", ev.IsBase64Encoded, false},
				{"requestId set", ev.RequestContext.RequestID != "", true},
				{"time set", ev.RequestContext.Time != "" && ev.RequestContext.TimeEpoch > 0, true},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestAPIWritesFunctionAnswersAsAPIGatewayDoes(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		path       string
		body       string
		answer     string
		err        error
		wantStatus int
		wantBody   string
		wantHeader [2]string
		// wantEnvelope is the error envelope's code, when the answer is one.
		wantEnvelope string
	}{
		{name: "structured response", method: "POST", path: "/v1/session", answer: `{"statusCode":201,"headers":{"X-A":"b"},"body":"{\"ok\":true}"}`,
			wantStatus: 201, wantBody: `{"ok":true}`, wantHeader: [2]string{"X-A", "b"}},
		{name: "cookies", method: "POST", path: "/v1/session", answer: `{"statusCode":200,"cookies":["s=1; HttpOnly"],"body":""}`,
			wantStatus: 200, wantHeader: [2]string{"Set-Cookie", "s=1; HttpOnly"}},
		{name: "base64 body", method: "POST", path: "/v1/session", answer: `{"statusCode":200,"isBase64Encoded":true,"body":"` + base64.StdEncoding.EncodeToString([]byte("raw")) + `"}`,
			wantStatus: 200, wantBody: "raw"},
		{name: "bare JSON answer", method: "POST", path: "/v1/session", answer: `{"a":1}`,
			wantStatus: 200, wantBody: `{"a":1}`, wantHeader: [2]string{"Content-Type", "application/json"}},
		{name: "function error", method: "POST", path: "/v1/session", err: errors.New("boom"),
			wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "unknown route", method: "GET", path: "/v1/nope",
			wantStatus: 404, wantBody: `{"error":{"code":"NOT_FOUND","message":"no route GET /v1/nope in template.yaml"}}` + "\n"},
		{name: "wrong method", method: "GET", path: "/v1/session", wantStatus: 404},
		{name: "over API Gateway's limit", method: "POST", path: "/v1/session", body: strings.Repeat("x", MaxBody+1), wantStatus: 413, wantEnvelope: "PAYLOAD_TOO_LARGE"},
		{name: "over Lambda's invoke limit", method: "POST", path: "/v1/session", body: strings.Repeat("x", MaxInvokePayload), wantStatus: 413, wantEnvelope: "PAYLOAD_TOO_LARGE"},
		{name: "answer over Lambda's response limit", method: "POST", path: "/v1/session",
			answer:     `{"statusCode":200,"body":"` + strings.Repeat("x", MaxInvokePayload) + `"}`,
			wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "just under Lambda's invoke limit", method: "POST", path: "/v1/session", body: strings.Repeat("x", MaxInvokePayload-4096), answer: `{"a":1}`, wantStatus: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeFunction{answer: c.answer, err: c.err}
			srv := httptest.NewServer(&API{Routes: []template.Route{{Method: "POST", Path: "/v1/session", Function: "F"}}, Invoker: map[string]Invoker{"F": f}})
			defer srv.Close()
			req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.wantStatus {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, c.wantStatus, b)
			}
			if c.wantBody != "" && string(b) != c.wantBody {
				t.Errorf("body %q, want %q", b, c.wantBody)
			}
			if c.wantEnvelope != "" {
				var env struct {
					Error struct{ Code, Message string }
				}
				if json.Unmarshal(b, &env) != nil || env.Error.Code != c.wantEnvelope || env.Error.Message == "" {
					t.Errorf("body %.200s, want the %s envelope", b, c.wantEnvelope)
				}
			}
			if h := c.wantHeader; h[0] != "" && resp.Header.Get(h[0]) != h[1] {
				t.Errorf("header %s = %q, want %q", h[0], resp.Header.Get(h[0]), h[1])
			}
		})
	}
}

func TestBinaryBodiesArriveBase64Encoded(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/session", nil)
	ev := NewHTTPEvent(r, template.Route{Method: "POST", Path: "/v1/session", Function: "F"}, nil, []byte{0xff, 0xfe, 0}, time.Now())
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0}) {
		t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
	}
}
