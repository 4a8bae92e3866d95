// Package apigw is API Gateway's HTTP API as the local stack serves it: the
// router over the template's routes and the payload format 2.0 adapter
// (request to event, function answer to response), like `sam local
// start-api`.
package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/internal/template"
)

// MaxBody is API Gateway's payload limit.
const MaxBody = 10 << 20

// MaxInvokePayload is Lambda's limit on a synchronous invocation's request
// payload and on its response: an event over it never reaches the
// function, and an answer over it never reaches the caller.
const MaxInvokePayload = 6 << 20

// Invoker runs one event through a function and returns its payload.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
}

// API serves the template's HttpApi routes as payload format 2.0 events,
// like `sam local start-api` and API Gateway itself.
type API struct {
	Routes  []template.Route
	Invoker map[string]Invoker // by LogicalId
	Log     func(format string, args ...any)
}

func (a *API) match(method, path string) (template.Route, map[string]string, bool) {
	for _, r := range a.Routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		if params, ok := r.Match(path); ok {
			return r, params, true
		}
	}
	return template.Route{}, nil, false
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	route, params, ok := a.match(r.Method, r.URL.Path)
	if !ok {
		writeEnvelope(w, http.StatusNotFound, "NOT_FOUND", "no route "+r.Method+" "+r.URL.Path+" in template.yaml")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		writeEnvelope(w, http.StatusBadRequest, "BAD_REQUEST", "could not read the request body")
		return
	}
	if len(body) > MaxBody {
		writeEnvelope(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "The body is over API Gateway's 10 MB limit: send only the fields the route takes.")
		return
	}
	ev := NewHTTPEvent(r, route, params, body, start)
	payload, _ := json.Marshal(ev)
	if len(payload) > MaxInvokePayload {
		// What a deployed API answers here cannot be seen without AWS; the
		// local stack answers as the function would have for a large body.
		writeEnvelope(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "The request is over Lambda's 6 MB invoke limit: send only the fields the route takes.")
		return
	}
	out, err := a.Invoker[route.Function].Invoke(r.Context(), payload)
	if err != nil {
		a.logf("%s %s -> %s: %v", r.Method, r.URL.Path, route.Function, err)
		integrationFailed(w)
		return
	}
	if len(out) > MaxInvokePayload {
		// Lambda refuses a response past its limit.
		a.logf("%s %s -> %s: a %d-byte response is over Lambda's limit", r.Method, r.URL.Path, route.Function, len(out))
		integrationFailed(w)
		return
	}
	status := writeResponse(w, out)
	a.logf("%s %s -> %s %d (%s)", r.Method, r.URL.RequestURI(), route.Function, status, time.Since(start).Round(time.Millisecond))
}

// integrationFailed is what API Gateway answers when the function failed
// or its answer could not be delivered.
func integrationFailed(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, `{"message":"Internal Server Error"}`)
}

func (a *API) logf(format string, args ...any) {
	if a.Log != nil {
		a.Log(format, args...)
	}
}

// NewHTTPEvent is the payload format 2.0 event API Gateway sends for r.
func NewHTTPEvent(r *http.Request, route template.Route, params map[string]string, body []byte, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, v := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var cookies []string
	for _, c := range r.Header.Values("Cookie") {
		for _, part := range strings.Split(c, ";") {
			if part = strings.TrimSpace(part); part != "" {
				cookies = append(cookies, part)
			}
		}
	}
	var query map[string]string
	for k, v := range r.URL.Query() {
		if query == nil {
			query = map[string]string{}
		}
		query[k] = strings.Join(v, ",")
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.Key(),
		RawPath:               r.URL.Path,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.Key(),
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    requestID(),
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeResponse writes a function's payload as API Gateway does for payload
// format 2.0: a structured response when it has statusCode, else the
// payload itself as a 200 JSON body.
func writeResponse(w http.ResponseWriter, payload []byte) int {
	var probe map[string]json.RawMessage
	var resp events.APIGatewayV2HTTPResponse
	if json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil || json.Unmarshal(payload, &resp) != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
		return http.StatusOK
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeEnvelope(w, http.StatusBadGateway, "BAD_RESPONSE", "the function's body is not valid base64")
			return http.StatusBadGateway
		}
		body = b
	}
	if w.Header().Get("Content-Type") == "" && json.Valid(body) && len(body) > 0 {
		w.Header().Set("Content-Type", "application/json")
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// writeEnvelope writes the project's error envelope.
func writeEnvelope(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
