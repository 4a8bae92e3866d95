// Package api adapts API Gateway HTTP API requests (payload format 2.0) to the
// werun use cases and back: body limits and decoding, the bearer token, the
// error envelope. It holds no business rules.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/api/internal/wire"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/session"
)

// Handler serves one function's routes; the registry in shared/app wraps it
// with lambda.NewHandler for lambda.Start.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// MaxBody is the largest request body accepted. A 31-day WeRun payload is
// under 4 KiB of base64; 64 KiB leaves room and keeps decode cost bounded.
const MaxBody = wire.MaxBody

// Reserve is the time kept from the function's deadline to write the
// answer: the use case must be done, or is abandoned, by the deadline less
// Reserve, so the caller always gets the envelope and never Lambda's
// timeout (a bare gateway error, and a container billed to the limit).
const Reserve = time.Second

// grace is how long past its budget a use case may still deliver its own
// answer (a WeChat or store error that names the cause) before the generic
// 503 is sent; it is part of Reserve.
const grace = 150 * time.Millisecond

type outcome struct {
	status int
	body   any
	err    error
}

// route wraps a use case: it runs it within the time budget, logs one line
// per request (never a body, a header or a secret), turns a returned error
// into the envelope, and never lets a panic reach the runtime as an
// internal error string.
func route(name string, fn func(context.Context, events.APIGatewayV2HTTPRequest) (int, any, error)) Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
		start := time.Now()
		var (
			out  outcome
			code string // the envelope's code, for an error answer
		)
		defer func() {
			slog.InfoContext(ctx, "request", "route", name, "requestId", req.RequestContext.RequestID,
				"status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
			record(ctx, name, resp.StatusCode, code, out.body)
		}()
		budget, cancel := withBudget(ctx)
		defer cancel()
		done := make(chan outcome, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					slog.ErrorContext(ctx, "panic", "route", name, "panic", slog.AnyValue(r))
					done <- outcome{err: errPanic}
				}
			}()
			status, body, err := fn(budget, req)
			done <- outcome{status, body, err}
		}()
		select {
		case out = <-done:
		case <-budget.Done():
			select {
			case out = <-done:
			case <-time.After(grace):
				out.err = fmt.Errorf("%w: %s ran out of its time budget: %w", fault.Unavailable, name, budget.Err())
			}
		}
		if out.err == nil {
			resp, out.err = answer(out.status, out.body)
			if out.err == nil {
				return resp, nil
			}
		}
		e := classify(out.err)
		code = e.Code
		if e.Status >= 500 {
			slog.ErrorContext(ctx, "failed", "route", name, "code", e.Code, "err", out.err.Error())
		} else {
			slog.InfoContext(ctx, "refused", "route", name, "code", e.Code, "err", out.err.Error())
		}
		return errorResponse(e), nil
	}
}

// errPanic stands for a use case that panicked; it answers 500 INTERNAL.
var errPanic = errors.New("api: the use case panicked")

// withBudget is ctx ending Reserve before ctx's own deadline (Lambda's).
func withBudget(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, dl.Add(-Reserve))
}

// MaxResponse is Lambda's limit on a synchronous invocation's response
// payload: past it the caller would get API Gateway's bare 500.
const MaxResponse = 6 << 20

// download is an answer that is a file rather than JSON.
type download struct {
	name, contentType string
	body              []byte
	text              bool
}

// answer is the response for a use case's result: JSON, or a download.
func answer(status int, body any) (events.APIGatewayV2HTTPResponse, error) {
	if f, ok := body.(download); ok {
		return f.response()
	}
	return jsonResponse(status, body), nil
}

// response sends text as is and anything else base64-encoded (payload
// format 2.0's isBase64Encoded, which API Gateway decodes). It refuses with
// fault.ExportTooLarge an answer whose payload, encoded as the runtime
// encodes it, would pass MaxResponse.
func (f download) response() (events.APIGatewayV2HTTPResponse, error) {
	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers: map[string]string{"Content-Type": f.contentType, "Cache-Control": "no-store",
			"Content-Disposition": `attachment; filename="` + f.name + `"`},
	}
	if f.text {
		resp.Body = string(f.body)
	} else {
		resp.Body, resp.IsBase64Encoded = base64.StdEncoding.EncodeToString(f.body), true
	}
	if n := payloadSize(resp); n > MaxResponse {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("%w: a %d-byte answer", fault.ExportTooLarge, n)
	}
	return resp, nil
}

// payloadSize is the size of the JSON the Lambda runtime sends for resp
// (aws-lambda-go encodes without HTML escaping).
func payloadSize(resp events.APIGatewayV2HTTPResponse) int {
	var n counter
	enc := json.NewEncoder(&n)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(resp) // a counter never fails
	return int(n)
}

// counter is a writer that only counts.
type counter int

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

func jsonResponse(status int, body any) events.APIGatewayV2HTTPResponse {
	if status == http.StatusNoContent {
		return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Cache-Control": "no-store"}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return errorResponse(internal())
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}

// decode reads the JSON body into v: 413 past MaxBody, 400 for anything that
// is not a JSON object of the right field types (wire.Decode).
func decode(req events.APIGatewayV2HTTPRequest, v any) error {
	return wire.Decode(req.Body, req.IsBase64Encoded, v)
}

// required answers 400 naming the first empty field.
func required(fields ...[2]string) error { return wire.Required(fields...) }

// bearer returns the token of an "Authorization: Bearer <token>" header.
// API Gateway v2 lower-cases header names.
func bearer(req events.APIGatewayV2HTTPRequest) string {
	h := req.Headers["authorization"]
	if h == "" {
		h = req.Headers["Authorization"]
	}
	return wire.Bearer(h)
}

// authenticate is the caller of the request's bearer token once the
// revocation read has said their account stands: for the routes that
// write, before their use case runs.
func authenticate(ctx context.Context, s *session.Service, req events.APIGatewayV2HTTPRequest) (session.Caller, error) {
	token := bearer(req)
	if token == "" {
		return session.Caller{}, errMissingToken
	}
	return s.Authenticate(ctx, token)
}

// verified is the caller the request's bearer token names, its revocation
// not yet read: for the syncs, whose use case reads it beside its own
// first read and writes nothing before it.
func verified(s *session.Service, req events.APIGatewayV2HTTPRequest) (session.Caller, error) {
	token := bearer(req)
	if token == "" {
		return session.Caller{}, errMissingToken
	}
	return s.Verify(token)
}

// alongside runs a route with no side effects beside the revocation read
// of its caller, so the two first reads take one round trip; the answer is
// the route's only when the account stands (a deleted account's token gets
// 401 whatever the route found). The use case finds the caller, and the
// read to wait for before any write, in ctx (session.Start).
func alongside(ctx context.Context, s *session.Service, req events.APIGatewayV2HTTPRequest,
	fn func(context.Context, session.Caller) (int, any, error)) (int, any, error) {
	token := bearer(req)
	if token == "" {
		return 0, nil, errMissingToken
	}
	ctx, caller, err := s.Start(ctx, token)
	if err != nil {
		return 0, nil, err
	}
	status, body, err := fn(ctx, caller)
	if aerr := session.Authorized(ctx); aerr != nil {
		return 0, nil, aerr
	}
	return status, body, err
}
