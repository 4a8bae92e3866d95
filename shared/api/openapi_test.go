package api

// These tests keep docs/openapi.yaml true: its request and answer schemas
// have the Go types' JSON fields, and its error code enum holds every code
// this package can answer (that its routes are template.yaml's is a template
// contract test, in internal/template). Each check is a plain function
// returning the problems it found, so the last test can feed it deliberately
// broken documents and prove it notices.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/werun-sam/werun-sam/shared/account"
	"github.com/werun-sam/werun-sam/shared/api/internal/wire"
	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/usersteps"
)

const openAPIPath = "../../docs/openapi.yaml"

// openAPITypes names the Go types each route decodes and answers with 200.
// A route with no body has a nil request. Add one line per new route or type.
var openAPITypes = []struct {
	route   string
	request any
	answer  any
}{
	{"POST /v1/session", SessionRequest{}, session.Session{}},
	{"POST /v1/werun/decrypt", DecryptRequest{}, SyncResponse{}},
	{"POST /v1/werun/cloudid", CloudIDRequest{}, SyncResponse{}},
	{"GET /v1/steps", nil, DaysResponse{}},
	{"GET /v1/steps/summary", nil, usersteps.UserSummary{}},
	{"PUT /v1/me/profile", ProfileRequest{}, social.Profile{}},
	{"GET /v1/me/profile", nil, social.MyProfile{}},
	{"POST /v1/groups", GroupRequest{}, social.Joined{}},
	{"GET /v1/groups", nil, social.GroupList{}},
	{"GET /v1/groups/{groupId}/board", nil, social.MemberBoard{}},
	{"DELETE /v1/groups/{groupId}", nil, nil},
	{"POST /v1/friends/invites", nil, social.InviteCode{}},
	{"POST /v1/friends", AcceptRequest{}, social.FriendAdded{}},
	{"GET /v1/friends", nil, social.FriendList{}},
	{"GET /v1/friends/board", nil, social.MemberBoard{}},
	{"DELETE /v1/friends/{friendId}", nil, nil},
	{"GET /v1/me/export", nil, account.Export{}},
	{"DELETE /v1/me", nil, nil},
	{"POST /v1/events", EventRequest{}, challenge.Event{}},
	{"GET /v1/events", nil, challenge.List{}},
	{"POST /v1/events/join", JoinEventRequest{}, challenge.Event{}},
	{"GET /v1/events/{eventId}", nil, challenge.Event{}},
	{"DELETE /v1/events/{eventId}", nil, nil},
	{"GET /v1/events/{eventId}/participants", nil, challenge.ParticipantList{}},
	{"POST /v1/events/{eventId}/joinCode", nil, challenge.JoinCode{}},
	{"DELETE /v1/events/{eventId}/participants/{memberId}", nil, nil},
	{"GET /v1/events/{eventId}/board", nil, challenge.Board{}},
	{"GET /v1/events/{eventId}/teams", nil, challenge.Teams{}},
	{"GET /v1/events/{eventId}/export", nil, files{challenge.CSVType, challenge.XLSXType}},
}

// files is the answer of a route that sends a file: the Content-Types it
// may carry, each of which the spec's 200 must list as a string.
type files []string

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	spec := loadOpenAPI(t, mustRead(t, openAPIPath))
	for _, tc := range openAPITypes {
		t.Run(tc.route, func(t *testing.T) {
			for _, p := range checkRouteTypes(spec, tc.route, tc.request, tc.answer) {
				t.Error(p)
			}
		})
	}
}

func TestOpenAPIErrorCodes(t *testing.T) {
	spec := loadOpenAPI(t, mustRead(t, openAPIPath))
	codes := goErrorCodes(t)
	for _, p := range checkErrorCodes(spec, codes) {
		t.Error(p)
	}
}

// TestOpenAPICheckersCatchDrift proves each check fails on a broken copy of
// the real documents, so a passing run means something.
func TestOpenAPICheckersCatchDrift(t *testing.T) {
	raw := mustRead(t, openAPIPath)
	codes := goErrorCodes(t)
	tests := []struct {
		name   string
		mutate func(spec map[string]any) // breaks a fresh copy of the spec
		check  func(spec map[string]any) []string
		want   string // a substring of some problem
	}{
		{
			name: "request field renamed",
			mutate: func(s map[string]any) {
				renameKey(get(s, "components", "schemas", "DecryptRequest", "properties"), "iv", "IV")
			},
			check: typesCheck,
			want:  `"iv"`,
		},
		{
			name: "nested answer field renamed",
			mutate: func(s map[string]any) {
				renameKey(get(s, "components", "schemas", "Day", "properties"), "steps", "step")
			},
			check: typesCheck,
			want:  `.days[]: Go steps.Day has JSON field "steps"`,
		},
		{
			name: "optional answer field marked required",
			mutate: func(s map[string]any) {
				m := get(s, "components", "schemas", "Sync").(map[string]any)
				m["required"] = append(m["required"].([]any), "token")
			},
			check: typesCheck,
			want:  "required",
		},
		{
			name: "nullable answer field not nullable",
			mutate: func(s map[string]any) {
				delete(get(s, "components", "schemas", "Summary", "properties", "rank").(map[string]any), "nullable")
			},
			check: typesCheck,
			want:  `"rank"`,
		},
		{
			name: "file media type dropped",
			mutate: func(s map[string]any) {
				delete(get(s, "paths", "/v1/events/{eventId}/export", "get", "responses", "200", "content").(map[string]any), "text/csv")
			},
			check: typesCheck,
			want:  "no text/csv string",
		},
		{
			name: "field type changed",
			mutate: func(s map[string]any) {
				get(s, "components", "schemas", "Sync", "properties", "changed").(map[string]any)["type"] = "string"
			},
			check: typesCheck,
			want:  "changed",
		},
		{
			name: "error code missing from the enum",
			mutate: func(s map[string]any) {
				m := get(s, "components", "schemas", "Error", "properties", "error", "properties", "code").(map[string]any)
				m["enum"] = slices.DeleteFunc(m["enum"].([]any), func(v any) bool { return v == "STALE_DATA" })
			},
			check: func(s map[string]any) []string { return checkErrorCodes(s, codes) },
			want:  "STALE_DATA",
		},
		{
			name: "code listed under the wrong status",
			mutate: func(s map[string]any) {
				m := get(s, "components", "responses", "Unavailable", "content", "application/json", "schema", "allOf").([]any)
				code := get(m[1], "properties", "error", "properties", "code").(map[string]any)
				code["enum"] = append(code["enum"].([]any), "INVALID_JSON")
			},
			check: func(s map[string]any) []string { return checkErrorCodes(s, codes) },
			want:  "INVALID_JSON",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := loadOpenAPI(t, raw)
			if tc.mutate != nil {
				tc.mutate(spec)
			}
			problems := tc.check(spec)
			if len(problems) == 0 {
				t.Fatalf("the check passed a broken document; want a problem naming %s", tc.want)
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Fatalf("no problem names %s; got:\n%s", tc.want, strings.Join(problems, "\n"))
			}
		})
	}
}

func typesCheck(spec map[string]any) []string {
	var out []string
	for _, tc := range openAPITypes {
		out = append(out, checkRouteTypes(spec, tc.route, tc.request, tc.answer)...)
	}
	return out
}

// --- documents

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		abs, _ := filepath.Abs(path)
		t.Fatalf("read %s: %v (the OpenAPI check compares docs/openapi.yaml with the Go types)", abs, err)
	}
	return b
}

// loadOpenAPI decodes the spec into plain maps, with every map key a string
// (YAML would make an unquoted 200 an int).
func loadOpenAPI(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	m, ok := stringKeys(v).(map[string]any)
	if !ok {
		t.Fatal("docs/openapi.yaml: not a YAML mapping")
	}
	if s, _ := m["openapi"].(string); !strings.HasPrefix(s, "3.") {
		t.Fatalf("docs/openapi.yaml: openapi version %q, want 3.x", m["openapi"])
	}
	return m
}

func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = stringKeys(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = stringKeys(e)
		}
		return v
	}
	return v
}

// get walks keys down nested maps; nil if any step is missing.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func renameKey(v any, from, to string) {
	m := v.(map[string]any)
	m[to] = m[from]
	delete(m, from)
}

// resolve follows a local $ref ("#/a/b") until it reaches a schema,
// response or other object that is not a reference.
func resolve(spec map[string]any, v any) map[string]any {
	for range 16 {
		m, _ := v.(map[string]any)
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		v = get(spec, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
	}
	return nil
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func specRoutes(spec map[string]any) []string {
	var out []string
	paths, _ := spec["paths"].(map[string]any)
	for path, item := range paths {
		for _, m := range httpMethods {
			if get(item, m) != nil {
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// --- schemas against Go types

func operation(spec map[string]any, route string) (map[string]any, error) {
	method, path, _ := strings.Cut(route, " ")
	op, ok := get(spec, "paths", path, strings.ToLower(method)).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: no such operation in docs/openapi.yaml", route)
	}
	return op, nil
}

func checkRouteTypes(spec map[string]any, route string, request, answer any) []string {
	op, err := operation(spec, route)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	body := get(resolve(spec, op["requestBody"]), "content", "application/json", "schema")
	switch {
	case request == nil && body != nil:
		out = append(out, route+": the spec has a request body but the handler reads none")
	case request != nil && body == nil:
		out = append(out, fmt.Sprintf("%s: the handler decodes %T but the spec has no application/json request body", route, request))
	case request != nil:
		out = append(out, compareSchema(spec, route+" request", reflect.TypeOf(request), body, "", false)...)
	}
	if answer == nil {
		// A route that answers 204 No Content.
		if get(op, "responses", "204") == nil {
			out = append(out, route+": the handler answers 204 but the spec lists no 204")
		}
		return out
	}
	if types, isFile := answer.(files); isFile {
		for _, ct := range types {
			media, _, _ := strings.Cut(ct, ";")
			schema := get(resolve(spec, get(op, "responses", "200")), "content", media, "schema")
			if get(schema, "type") != "string" {
				out = append(out, fmt.Sprintf("%s: the handler answers %s but the spec's 200 has no %s string", route, ct, media))
			}
		}
		return out
	}
	ok := get(resolve(spec, get(op, "responses", "200")), "content", "application/json", "schema")
	if ok == nil {
		// A route that creates something answers 201.
		ok = get(resolve(spec, get(op, "responses", "201")), "content", "application/json", "schema")
	}
	if ok == nil {
		return append(out, route+": no 200 or 201 application/json answer in the spec")
	}
	return append(out, compareSchema(spec, route+" answer", reflect.TypeOf(answer), ok, "", true)...)
}

// flatten resolves a schema and merges its allOf members, so properties,
// required and type can be read from one map.
func flatten(spec map[string]any, v any) map[string]any {
	s := resolve(spec, v)
	all, _ := s["allOf"].([]any)
	if len(all) == 0 {
		return s
	}
	own := map[string]any{}
	for k, v := range s {
		if k != "allOf" {
			own[k] = v
		}
	}
	out := map[string]any{}
	props := map[string]any{}
	var req []any
	for _, part := range append(slices.Clone(all), any(own)) {
		p := flatten(spec, part)
		for k, v := range p {
			switch k {
			case "properties":
				for pk, pv := range v.(map[string]any) {
					props[pk] = pv
				}
			case "required":
				req = append(req, v.([]any)...)
			case "allOf":
			default:
				out[k] = v
			}
		}
	}
	if len(props) > 0 {
		out["properties"] = props
	}
	if len(req) > 0 {
		out["required"] = req
	}
	return out
}

// jsonFields lists a struct's JSON names, as encoding/json sees them
// (embedded structs flattened), and which are omitempty.
func jsonFields(t reflect.Type) (names []string, fields map[string]reflect.StructField, omit map[string]bool) {
	fields, omit = map[string]reflect.StructField{}, map[string]bool{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || len(f.Index) > 1 && !isEmbeddedPath(t, f) {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			continue // its fields are listed by VisibleFields
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		fields[name] = f
		omit[name] = slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
	}
	sort.Strings(names)
	return names, fields, omit
}

// isEmbeddedPath reports whether a promoted field is reached only through
// untagged embedded structs, the ones encoding/json flattens.
func isEmbeddedPath(t reflect.Type, f reflect.StructField) bool {
	for _, i := range f.Index[:len(f.Index)-1] {
		e := t.Field(i)
		if !e.Anonymous || e.Tag.Get("json") != "" {
			return false
		}
		t = e.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return true
}

func schemaType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		if t.String() == "time.Time" {
			return "string"
		}
		return "object"
	}
	return ""
}

// compareSchema checks the schema at path against Go type t: its type, its
// property names (for answers, required = the fields never omitted), and
// recursively its properties and array items.
func compareSchema(spec map[string]any, where string, t reflect.Type, v any, path string, answer bool) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s := flatten(spec, v)
	at := where
	if path != "" {
		at += " ." + path
	}
	if s == nil {
		return []string{at + ": no schema"}
	}
	var out []string
	if want, got := schemaType(t), s["type"]; want != "" && got != nil && got != want {
		out = append(out, fmt.Sprintf("%s: schema type %v, but Go %s encodes as %s", at, got, t, want))
	}
	switch {
	case t.Kind() == reflect.Struct && t.String() != "time.Time":
		names, fields, omit := jsonFields(t)
		props, _ := s["properties"].(map[string]any)
		specNames := slices.Sorted(func(yield func(string) bool) {
			for k := range props {
				if !yield(k) {
					return
				}
			}
		})
		for _, n := range names {
			if _, ok := props[n]; !ok {
				out = append(out, fmt.Sprintf("%s: Go %s has JSON field %q, the schema has no such property (it has %v)", at, t, n, specNames))
			}
		}
		for _, n := range specNames {
			if _, ok := fields[n]; !ok {
				out = append(out, fmt.Sprintf("%s: schema property %q is no JSON field of Go %s (it has %v)", at, n, t, names))
			}
		}
		if answer {
			req, _ := s["required"].([]any)
			for _, n := range names {
				if in := slices.Contains(req, any(n)); in == omit[n] {
					out = append(out, fmt.Sprintf("%s: property %q: required=%v in the schema, but Go %s omitempty=%v", at, n, in, t, omit[n]))
				}
				// A nil pointer that is never omitted encodes as null.
				mayBeNull := fields[n].Type.Kind() == reflect.Pointer && !omit[n]
				if p := flatten(spec, props[n]); p != nil && mayBeNull && p["nullable"] != true {
					out = append(out, fmt.Sprintf("%s: property %q: Go %s may encode it as null, the schema is not nullable", at, n, t))
				}
			}
		}
		for _, n := range names {
			if p, ok := props[n]; ok {
				sub := n
				if path != "" {
					sub = path + "." + n
				}
				out = append(out, compareSchema(spec, where, fields[n].Type, p, sub, answer)...)
			}
		}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		if items := s["items"]; items != nil {
			out = append(out, compareSchema(spec, where, t.Elem(), items, path+"[]", answer)...)
		}
	}
	return out
}

// --- error codes

// goErrorCodes is every error code this package answers, with its statuses:
// the one table, the package-level answers and the codes of wire's 400s.
func goErrorCodes(t *testing.T) map[string][]int {
	t.Helper()
	codes := map[string][]int{}
	add := func(code string, status int) {
		if !slices.Contains(codes[code], status) {
			codes[code] = append(codes[code], status)
		}
	}
	for _, a := range answers {
		add(a.Code, a.Status)
	}
	for _, e := range []*Error{wire.ErrTooLarge, errMissingToken, internal()} {
		add(e.Code, e.Status)
	}
	for _, code := range wire.BadRequestCodes {
		add(code, http.StatusBadRequest)
	}
	return codes
}

func enumStrings(v any) []string {
	var out []string
	for _, e := range get(v, "enum").([]any) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// checkErrorCodes: the Error schema's enum is exactly the Go codes; every
// 4xx/5xx answer of every operation is the Error envelope; and where an
// answer narrows the enum, each code it lists is one Go answers with that
// status.
func checkErrorCodes(spec map[string]any, codes map[string][]int) []string {
	var out []string
	codeSchema := get(spec, "components", "schemas", "Error", "properties", "error", "properties", "code")
	if get(codeSchema, "enum") == nil {
		return []string{"components.schemas.Error: no error.code enum"}
	}
	enum := enumStrings(codeSchema)
	goCodes := slices.Sorted(func(yield func(string) bool) {
		for c := range codes {
			if !yield(c) {
				return
			}
		}
	})
	for _, c := range goCodes {
		if !slices.Contains(enum, c) {
			out = append(out, fmt.Sprintf("error code %s (status %v in errors.go) is missing from components.schemas.Error's code enum", c, codes[c]))
		}
	}
	for _, c := range enum {
		if _, ok := codes[c]; !ok {
			out = append(out, fmt.Sprintf("error code %s is in the Error schema's enum but package api never answers it", c))
		}
	}
	for _, route := range specRoutes(spec) {
		op, _ := operation(spec, route)
		responses, _ := op["responses"].(map[string]any)
		for status, r := range responses {
			n, err := strconv.Atoi(status)
			if err != nil || n < 400 {
				continue
			}
			at := fmt.Sprintf("%s %s", route, status)
			schema := resolve(spec, get(resolve(spec, r), "content", "application/json", "schema"))
			if schema == nil {
				out = append(out, at+": no application/json schema")
				continue
			}
			if !refersTo(spec, schema, "#/components/schemas/Error") {
				out = append(out, at+": the schema is not the Error envelope")
			}
			// An allOf member other than Error itself may narrow the code enum.
			all, _ := schema["allOf"].([]any)
			for _, part := range all {
				c := get(resolve(spec, part), "properties", "error", "properties", "code")
				if c == nil || get(c, "enum") == nil || reflect.DeepEqual(c, codeSchema) {
					continue
				}
				for _, code := range enumStrings(c) {
					if st, ok := codes[code]; ok && len(st) > 0 && !slices.Contains(st, n) {
						out = append(out, fmt.Sprintf("%s lists code %s, which errors.go answers with status %v", at, code, st))
					} else if !slices.Contains(enum, code) {
						out = append(out, fmt.Sprintf("%s lists code %s, which is not in the Error schema's enum", at, code))
					}
				}
			}
		}
	}
	return out
}

func refersTo(spec map[string]any, schema any, ref string) bool {
	m, _ := schema.(map[string]any)
	if r, _ := m["$ref"].(string); r == ref {
		return true
	}
	if r, ok := m["$ref"].(string); ok {
		return refersTo(spec, resolve(spec, map[string]any{"$ref": r}), ref)
	}
	all, _ := m["allOf"].([]any)
	return slices.ContainsFunc(all, func(p any) bool { return refersTo(spec, p, ref) })
}
