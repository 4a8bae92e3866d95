// Package wire is the request-decoding and error-envelope half of package
// api, kept apart so that it depends on nothing but the standard library's
// encoding packages.
//
// Why a package of its own: `go test -fuzz` instruments every package the
// test binary links, and a fuzz worker resets and scans all of their
// coverage counters for every input. Package api links the AWS SDK's
// DynamoDB client (through werun and store), about 270 packages, which
// made FuzzDecodeRequest cost ~200 µs an input (5,000 execs/s) although
// decoding one body takes a few microseconds. Here the same fuzz target runs
// at the speed of the crypto and steps targets.
package wire

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// MaxBody is the largest request body accepted. A 31-day WeRun payload is
// under 4 KiB of base64; 64 KiB leaves room and keeps decode cost bounded.
const MaxBody = 64 << 10

// Error is one answer of the error envelope:
// {"error":{"code":"UPPER_SNAKE","message":"what to do next"}}.
// Its message is written for the mini program developer and never carries
// an internal error string.
type Error struct {
	Status     int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	RetryAfter int    `json:"-"` // seconds, for 429 and 503
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The codes of the 400 answers Decode and Required give.
const (
	CodeInvalidJSON  = "INVALID_JSON"
	CodeInvalidField = "INVALID_FIELD"
	CodeMissingField = "MISSING_FIELD"
)

// BadRequestCodes is every code Decode and Required answer with.
var BadRequestCodes = []string{CodeInvalidJSON, CodeInvalidField, CodeMissingField}

// BadRequest is a 400 answer.
func BadRequest(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

// ErrTooLarge is the answer to a body past MaxBody.
var ErrTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Code: "PAYLOAD_TOO_LARGE",
	Message: "The body is larger than 64 KiB: send only the fields the route takes."}

// Decode reads a JSON body (base64 when isBase64, as API Gateway flags
// binary bodies) into v: ErrTooLarge past MaxBody, a 400 for anything that
// is not a JSON object of the right field types or that has a field v does
// not declare (names match exactly: encoding/json alone would take
// avatarURL for avatarUrl). A forwarded getWeRunData result (errMsg and
// all) is refused, as docs/openapi.yaml's closed request bodies say.
func Decode(body string, isBase64 bool, v any) error {
	if len(body) > MaxBody*4/3+4 {
		return ErrTooLarge
	}
	if isBase64 {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return BadRequest(CodeInvalidJSON, "The body must be a JSON object.")
		}
		body = string(b)
	}
	if len(body) > MaxBody {
		return ErrTooLarge
	}
	if strings.TrimSpace(body) == "" {
		return BadRequest(CodeInvalidJSON, "The body is empty: send a JSON object.")
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return BadRequest(CodeInvalidField, "Field "+te.Field+" must be a "+te.Type.String()+".")
		}
		return BadRequest(CodeInvalidJSON, "The body must be a JSON object.")
	}
	if dec.More() {
		return BadRequest(CodeInvalidJSON, "The body must be a single JSON object.")
	}
	return onlyDeclared(body, v)
}

// onlyDeclared answers 400 INVALID_FIELD when the object has a key that is
// not exactly one of v's JSON field names. The message lists the names the
// route takes rather than echoing the client's key.
func onlyDeclared(body string, v any) error {
	var keys map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &keys) != nil {
		return nil // not an object (null): the required fields' check answers
	}
	names := fieldNames(reflect.TypeOf(v))
	for k := range keys {
		if !slices.Contains(names, k) {
			return BadRequest(CodeInvalidField, "The body has a field this route does not take (names are case-sensitive): send only "+strings.Join(names, ", ")+".")
		}
	}
	return nil
}

// fieldNames lists the JSON names of the struct t points to.
func fieldNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.IsExported() && !f.Anonymous && name != "-" {
			if name == "" {
				name = f.Name
			}
			names = append(names, name)
		}
	}
	return names
}

// Required answers 400 naming the first empty field of (name, value) pairs.
func Required(fields ...[2]string) error {
	for _, f := range fields {
		if f[1] == "" {
			return BadRequest(CodeMissingField, "Field "+f[0]+" is required.")
		}
	}
	return nil
}

// Bearer returns the token of an Authorization header value
// "Bearer <token>" (any case of the scheme), or "".
func Bearer(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Envelope is e's JSON body: {"error":{"code":...,"message":...}}.
func Envelope(e *Error) string {
	b, _ := json.Marshal(map[string]*Error{"error": e})
	return string(b)
}
