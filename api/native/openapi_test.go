package native_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/paths"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/native"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/realtime"
)

// openAPI is api/openapi.json parsed, with a validator over it.
type openAPI struct {
	doc   libopenapi.Document
	model *v3.Document
	v     validator.Validator
	// routing finds the path template a request matched, for coverage.
	routing *config.ValidationOptions
	event   *base.Schema // one line of the NDJSON event feed
	lines   schema_validation.SchemaValidator
}

// validationOptions make the validator as strict as it goes: formats
// (uuid, date-time, email, uri) are asserted, strict mode reports
// undeclared query parameters and request and response headers, and a body
// sent to an operation that declares none (DELETE) is refused. Strict
// mode would also report the members of JSON objects the document leaves
// open on purpose (custom fields, integration data, history values, event
// data and metadata extras, form answers, and the OpenAPI document served
// at /openapi.json), so those paths are ignored; every other object in
// the document has additionalProperties: false, which the plain schema
// check enforces.
var validationOptions = []config.Option{
	config.WithFormatAssertions(),
	config.WithStrictMode(),
	config.WithRejectUndeclaredRequestBody(),
	// Strict mode ignores common headers (ETag, Cache-Control, If-Match,
	// X-Request-ID, …) by default; only these pass undeclared here.
	// Cache-Control: no-store and X-Content-Type-Options: nosniff come on
	// every answer of every surface (api.Router; the document says so once,
	// in info.description).
	config.WithStrictIgnoredHeaders("content-type", "content-length", "accept", "accept-encoding", "authorization",
		"user-agent", "host", "connection", "date", "transfer-encoding", "vary", "cache-control", "x-content-type-options"),
	config.WithStrictIgnorePaths(
		"$.body**.custom.**", "$.body**.custom[**", "$.body**.integration.**", "$.body**.integration[**",
		"$.body**.value.**", "$.body**.value[**", "$.body**.data.**", "$.body**.data[**", "$.body**.extra.**",
		"$.body**.extra[**", "$.body.info**", "$.body.paths**", "$.body.components**", "$.body.servers[*]**",
		"$.body.security[*]**", "$.body.tags[*]**",
	),
	// The validator's JSON decoder refuses a body of several values, so
	// an NDJSON stream is checked as its first line here, and line by line
	// by checker.checkLines.
	config.WithBodyDecoder("application/x-ndjson", content.DecoderFunc(firstLine)),
}

func firstLine(in *content.DecodeInput) (any, error) {
	sc := bufio.NewScanner(in.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			var v any
			err := json.Unmarshal(sc.Bytes(), &v)
			return v, err
		}
	}
	return nil, sc.Err()
}

// spec parses the document and builds its validator once: compiling every
// schema is the slow part.
var spec = sync.OnceValues(func() (*openAPI, error) {
	doc, err := libopenapi.NewDocument(native.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("parse openapi.json: %w", err)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build model: %w", err)
	}
	v, errs := validator.NewValidator(doc, validationOptions...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("new validator: %w", errors.Join(errs...))
	}
	ev := m.Model.Components.Schemas.GetOrZero("Event")
	if ev == nil {
		return nil, errors.New("openapi.json has no Event schema")
	}
	return &openAPI{doc: doc, model: &m.Model, v: v, routing: config.NewValidationOptions(), event: ev.Schema(),
		lines: schema_validation.NewSchemaValidator(validationOptions...)}, nil
})

func loadSpec(t *testing.T) *openAPI {
	t.Helper()
	s, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s (at %s, schema %s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	s := loadSpec(t)
	if got := s.doc.GetVersion(); got != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", got)
	}
	if ok, errs := s.v.ValidateDocument(); !ok {
		t.Errorf("openapi.json is not a valid OpenAPI 3.1 document:\n%s", describe(errs))
	}
}

// undocumented are routes openapi.json does not describe yet (none now).
// A route listed here is exempt from TestOpenAPIDocumentsEveryRoute;
// documenting one means deleting it here, and TestOpenAPIConformance then
// requires every status it documents to be driven.
var undocumented = map[string]bool{}

// TestOpenAPIDocumentsEveryRoute keeps the document and the router in step:
// every route server.go registers (and the probes cmd mounts) is
// documented, and nothing else is.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	s := loadSpec(t)
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	// cmd mounts the probes, the metrics and the realtime gateway.
	want := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/stream"}
	var pending []string
	for _, m := range regexp.MustCompile(`s\.mux\.Handle\("([A-Z]+) (/[^"]*)"`).FindAllSubmatch(src, -1) {
		route := string(m[1]) + " " + string(m[2])
		if undocumented[route] {
			pending = append(pending, route)
			continue
		}
		want = append(want, route)
	}
	for route := range undocumented {
		if !slices.Contains(pending, route) {
			t.Errorf("undocumented lists %q, which server.go no longer registers", route)
		}
	}
	if len(want) < 32 {
		t.Fatalf("found %d routes in server.go, want at least 32: %v", len(want), want)
	}
	var got []string
	for path, item := range s.model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().KeysFromOldest() {
			got = append(got, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("documented operations differ from the routes:\n got %v\nwant %v", got, want)
	}
}

// checker sends requests and validates each request and response against
// the document, noting which operation answered which status.
type checker struct {
	spec *openAPI
	mu   sync.Mutex
	seen map[string]bool // "GET /v1/tickets/{id} 404"
}

func newChecker(t *testing.T) *checker {
	return &checker{spec: loadSpec(t), seen: map[string]bool{}}
}

// do sends a request that conforms to the document (see env.do for the
// arguments) and checks the response conforms too.
func (c *checker) do(t *testing.T, e *env, tn *apitest.Tenant, method, path string, body any, headers ...string) response {
	t.Helper()
	return c.send(t, e, true, tn, method, path, body, headers...)
}

// doBad sends a request the document forbids, checks that the document
// does forbid it (the server's and the document's rules agree) and that the
// answer, an error, conforms.
func (c *checker) doBad(t *testing.T, e *env, tn *apitest.Tenant, method, path string, body any, headers ...string) response {
	t.Helper()
	return c.send(t, e, false, tn, method, path, body, headers...)
}

// chunked is a request body of unknown length: the client sends it with
// Transfer-Encoding: chunked and no Content-Length (and, when it is empty,
// without Content-Type).
type chunked string

func (c *checker) send(t *testing.T, e *env, conform bool, tn *apitest.Tenant, method, path string, body any, headers ...string) response {
	t.Helper()
	build, r := exchange(t, e, tn, method, path, body, headers...)
	c.check(t, build(), conform, r.Status, r.Header, r.Body)
	return r
}

// exchange sends a request (see env.do for the arguments; body may also
// be chunked) and returns its answer with a function that builds the same
// request again, for validation.
func exchange(t *testing.T, e *env, tn *apitest.Tenant, method, path string, body any, headers ...string) (func() *http.Request, response) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case chunked:
		raw = []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		raw = j
	}
	build := func() *http.Request {
		var rd io.Reader
		switch body.(type) {
		case nil:
		case chunked:
			// Not a *bytes.Reader: its length is unknown to the client.
			rd = io.NopCloser(bytes.NewReader(raw))
		default:
			rd = bytes.NewReader(raw)
		}
		r, err := http.NewRequest(method, e.HTTP.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := body.(chunked); body != nil && (!ok || len(raw) > 0) {
			r.Header.Set("Content-Type", "application/json")
		}
		if tn != nil {
			r.Header.Set("Authorization", "Bearer "+tn.Creds.APIKey)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		return r
	}
	req := build()
	// For client requests ContentLength 0 with a Body other than NoBody
	// means unknown: POST, PUT and PATCH bodies are then sent chunked.
	if _, ok := body.(chunked); ok && (req.ContentLength != 0 || req.Body == nil || req.Body == http.NoBody || method == http.MethodGet) {
		t.Fatalf("%s with a chunked body would not be sent chunked", method)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return build, response{apitest.Response{Status: res.StatusCode, Header: res.Header, Body: b}}
}

// methodNotAllowed sends method to path, whose template tmpl the document
// has for other methods only. The document must not have the operation,
// and the answer must be the shared MethodNotAllowed response with Allow
// listing exactly the methods the document has for the path.
func (c *checker) methodNotAllowed(t *testing.T, e *env, tn *apitest.Tenant, method, path, tmpl string) {
	t.Helper()
	build, r := exchange(t, e, tn, method, path, nil)
	if ok, _ := c.spec.v.ValidateHttpRequest(build()); ok {
		t.Errorf("%s %s conforms to openapi.json; want the method undocumented", method, path)
	}
	r.problem(t, http.StatusMethodNotAllowed, "method_not_allowed")
	item := c.spec.model.Paths.PathItems.GetOrZero(tmpl)
	if item == nil {
		t.Fatalf("openapi.json has no path %s", tmpl)
	}
	var want []string
	for m := range item.GetOperations().KeysFromOldest() {
		want = append(want, strings.ToUpper(m))
	}
	got := strings.Split(r.Header.Get("Allow"), ", ")
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s %s: Allow %q, want the methods openapi.json has for %s: %v", method, path, r.Header.Get("Allow"), tmpl, want)
	}
	if errs := c.spec.sharedResponse("MethodNotAllowed", r.Header, r.Body); len(errs) > 0 {
		t.Errorf("%s %s → %d does not conform to the MethodNotAllowed response:\n  %s\nbody: %s", method, path, r.Status,
			strings.Join(errs, "\n  "), clip(r.Body))
	}
	c.mu.Lock()
	c.seen["MethodNotAllowed 405"] = true
	c.mu.Unlock()
}

// sharedResponse checks an answer no operation can describe (a method a
// path does not have) against components.responses[name]: every header it
// documents (present when required, valid when present), no header it
// does not (but Content-Type, Content-Length and Date), and the body
// against the schema of its media type.
func (s *openAPI) sharedResponse(name string, header http.Header, body []byte) []string {
	res := s.model.Components.Responses.GetOrZero(name)
	if res == nil {
		return []string{"openapi.json has no response " + name}
	}
	var errs []string
	// Cache-Control and X-Content-Type-Options come on every answer
	// (api.Router; see validationOptions).
	documented := map[string]bool{"Content-Type": true, "Content-Length": true, "Date": true,
		"Cache-Control": true, "X-Content-Type-Options": true}
	for hname, h := range res.Headers.FromOldest() {
		documented[http.CanonicalHeaderKey(hname)] = true
		v := header.Get(hname)
		if v == "" {
			if h.Required {
				errs = append(errs, "required header "+hname+" is missing")
			}
			continue
		}
		j, _ := json.Marshal(v)
		if ok, verrs := s.lines.ValidateSchemaBytes(h.Schema.Schema(), j); !ok {
			errs = append(errs, fmt.Sprintf("header %s %q:\n%s", hname, v, describe(verrs)))
		}
	}
	for k := range header {
		if !documented[http.CanonicalHeaderKey(k)] {
			errs = append(errs, "undocumented header "+k)
		}
	}
	ct, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	mt := res.Content.GetOrZero(ct)
	if mt == nil {
		return append(errs, fmt.Sprintf("undocumented Content-Type %q", header.Get("Content-Type")))
	}
	if ok, verrs := s.lines.ValidateSchemaBytes(mt.Schema.Schema(), body); !ok {
		errs = append(errs, "body:\n"+describe(verrs))
	}
	return errs
}

// check validates req (conforming or not, as conform says) and the
// response to it.
func (c *checker) check(t *testing.T, req *http.Request, conform bool, status int, header http.Header, body []byte) {
	t.Helper()
	what := req.Method + " " + req.URL.RequestURI()
	ok, errs := c.spec.v.ValidateHttpRequest(req)
	switch {
	case conform && !ok:
		t.Errorf("%s: the request does not conform to openapi.json:\n%s", what, describe(errs))
	case !conform && ok:
		t.Errorf("%s: the request conforms to openapi.json, but the test meant it not to (got %d %s)", what, status, clip(body))
	}
	if req.GetBody != nil {
		req.Body, _ = req.GetBody()
	}
	res := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	if ok, errs := c.spec.v.ValidateHttpResponse(req, res); !ok {
		t.Errorf("%s → %d: the response does not conform to openapi.json:\n%sbody: %s", what, status, describe(errs), clip(body))
	}
	if strings.HasPrefix(header.Get("Content-Type"), "application/x-ndjson") {
		c.checkLines(t, what, body)
	}
	_, _, tmpl := paths.FindPath(req, c.spec.model, c.spec.routing)
	c.mu.Lock()
	c.seen[fmt.Sprintf("%s %s %d", req.Method, tmpl, status)] = true
	c.mu.Unlock()
}

// checkLines validates each line of an NDJSON event stream as an Event.
func (c *checker) checkLines(t *testing.T, what string, body []byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue // a heartbeat
		}
		if ok, errs := c.spec.lines.ValidateSchemaBytes(c.spec.event, sc.Bytes()); !ok {
			t.Errorf("%s: NDJSON line %d is not an Event:\n%sline: %s", what, n, describe(errs), clip(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: reading NDJSON: %v", what, err)
	}
}

// missing lists the documented responses (but 500s) that were never seen.
// raceOnly are the documented 409s that an operation answers only when its
// write loses the race for the stream maxCommandAttempts times running
// (concurrent_modification): real, but not reproducible on demand. (They
// were exercised through idempotency_key_in_use until a retry of a key
// without a kept response came to run again instead.)
var raceOnly = map[string]bool{
	"POST /v1/tickets/{id}/feedback 409": true, "POST /v1/tickets/{id}/history 409": true,
	"POST /v1/tickets/{id}/activities 409": true, "PUT /v1/forms/{slug} 409": true,
	"POST /v1/tickets/{id}/video-room 409": true, "PUT /v1/config/categories 409": true,
	"PUT /v1/config/statuses 409": true, "PUT /v1/config/priorities 409": true,
}

func (c *checker) missing() []string {
	var out []string
	for path, item := range c.spec.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			for code := range op.Responses.Codes.KeysFromOldest() {
				k := strings.ToUpper(method) + " " + path + " " + code
				if code != "500" && !c.seen[k] && !raceOnly[k] && !drivenByCmd[k] {
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// sorted returns ss sorted.
func sorted(ss []string) []string {
	slices.Sort(ss)
	return ss
}

// with returns a copy of m with more members.
func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func header(t *testing.T, r response, name string) string {
	t.Helper()
	v := r.Header.Get(name)
	if v == "" {
		t.Errorf("%s is missing; headers: %v", name, r.Header)
	}
	return v
}

// TestOpenAPIConformance drives every operation through every status it
// documents and validates each request and response against the document.
func TestOpenAPIConformance(t *testing.T) {
	e := newEnv(t)
	c := newChecker(t)

	t.Run("document", func(t *testing.T) {
		r := c.do(t, e, nil, "GET", "/openapi.json", nil).want(t, http.StatusOK)
		if !bytes.Equal(r.Body, native.OpenAPI) {
			t.Error("GET /openapi.json does not serve native.OpenAPI")
		}
		file, err := os.ReadFile("openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file, r.Body) {
			t.Error("GET /openapi.json does not serve api/openapi.json")
		}
	})

	var id, pos, file string
	t.Run("lifecycle", func(t *testing.T) {
		c.do(t, e, e.a, "PUT", "/v1/config/categories", map[string]any{"categories": []any{
			map[string]any{"key": "general", "display": "General"},
			map[string]any{"key": "billing", "display": "Billing", "sub_categories": []any{
				map[string]any{"key": "refund", "display": "Refund"}, map[string]any{"key": "invoice", "display": "Invoice"}}},
		}}, "Idempotency-Key", "cats-1").want(t, http.StatusOK)
		create := map[string]any{
			"id": "0b6f3c2e-8d7a-4e1b-9c5d-2a4f6e8b0c1d", "title": "Refund not received", "description": "Ordered 3 weeks ago",
			"category": "billing", "sub_category": "refund", "priority": "high", "status": "open", "source": "portal",
			"channel": "web", "tags": []string{"Refund", "vip"}, "custom": map[string]any{"order": "A-1", "amount": 42.5},
			"created_by":  map[string]any{"kind": "user", "email": "cara@example.com", "name": "Cara"},
			"assignee":    map[string]any{"kind": "agent", "id": "ana"},
			"subscribers": []string{"boss@example.com"},
			"attachments": []any{
				map[string]any{"type": "order", "value": "A-1", "display": "Order A-1"},
				map[string]any{"type": "file", "value": "receipt.pdf", "file": map[string]any{
					"id": "5e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b", "filename": "receipt.pdf", "content_type": "application/pdf",
					"size": 1024, "sha256": strings.Repeat("ab", 32)}},
			},
			"references": map[string]any{"lead_id": "L-7", "contact_email": "cara@example.com", "contact_phone": "+1 (555) 010-0199",
				"client_ticket_id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"},
			"user_agent": "curl/8",
		}
		created := c.do(t, e, e.a, "POST", "/v1/tickets", create, "Idempotency-Key", "create-1",
			"Eventdesk-Actor", "agent:ana@example.com", "X-Request-ID", "req-create-1").want(t, http.StatusCreated)
		id = created.json(t)["id"].(string)
		pos = header(t, created, "Eventdesk-Position")
		if got := created.Header.Get("X-Request-ID"); got != "req-create-1" {
			t.Errorf("X-Request-ID = %q, want req-create-1", got)
		}
		replay := c.do(t, e, e.a, "POST", "/v1/tickets", create, "Idempotency-Key", "create-1",
			"Eventdesk-Actor", "agent:ana@example.com").want(t, http.StatusCreated)
		if replay.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.Body, created.Body) {
			t.Errorf("replay: Idempotent-Replayed %q, body equal %v", replay.Header.Get("Idempotent-Replayed"), bytes.Equal(replay.Body, created.Body))
		}
		c.do(t, e, e.a, "POST", "/v1/tickets", with(create, "title", "Another"), "Idempotency-Key", "create-1").
			problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
		c.do(t, e, e.a, "POST", "/v1/tickets", create).problem(t, http.StatusConflict, "ticket_exists")
		minimal := c.do(t, e, e.a, "POST", "/v1/tickets", map[string]any{"title": "Printer jam"}).want(t, http.StatusCreated)
		pos = header(t, minimal, "Eventdesk-Position")
		// Reopening takes an empty body however it is sent, chunked too.
		jam := "/v1/tickets/" + minimal.json(t)["id"].(string)
		c.do(t, e, e.a, "PATCH", jam, map[string]any{"status": "closed"}).want(t, http.StatusOK)
		if got := c.do(t, e, e.a, "POST", jam+"/reopen", chunked("")).want(t, http.StatusOK).json(t); got["status_kind"] != "open" {
			t.Errorf("reopened with a chunked empty body: status_kind %v, want open", got["status_kind"])
		}

		for _, ref := range []string{id, "1", "%23001"} {
			got := c.do(t, e, e.a, "GET", "/v1/tickets/"+ref, nil).want(t, http.StatusOK)
			if got.json(t)["id"] != id {
				t.Errorf("GET /v1/tickets/%s = %s, want ticket %s", ref, got.Body, id)
			}
		}
		etag := header(t, c.do(t, e, e.a, "GET", "/v1/tickets/"+id, nil), "ETag")
		patched := c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{
			"title": "Refund still not received", "description": nil, "priority": "urgent", "category": "billing",
			"sub_category": "invoice", "assignee": map[string]any{"kind": "agent", "email": "bo@example.com"},
			"add_tags": []string{"escalated"}, "remove_tags": []string{"vip"}, "custom": map[string]any{"amount": nil, "promised": true},
			"references": map[string]any{"support_ticket_id": "Z-9"}, "status": "in_progress",
		}, "If-Match", etag, "Eventdesk-Actor", "agent:bo@example.com", "Idempotency-Key", "patch-1").want(t, http.StatusOK)
		header(t, patched, "Eventdesk-Position")
		c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"priority": "low"}, "If-Match", etag).
			problem(t, http.StatusPreconditionFailed, "precondition_failed")
		noop := c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"priority": "urgent"}).want(t, http.StatusOK)
		if p := noop.Header.Get("Eventdesk-Position"); p != "" {
			t.Errorf("a PATCH that changes nothing answers Eventdesk-Position %q", p)
		}
		c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"assignee": nil, "category": ""}).want(t, http.StatusOK)
		// status and priority cannot be null or empty: left out, they are kept.
		for body, want := range map[string][]string{`{"priority": null}`: {"priority"}, `{"priority": ""}`: {"priority"},
			`{"status": null}`: {"status"}, `{"status": "", "priority": null, "title": "x"}`: {"priority", "status"}} {
			p := c.doBad(t, e, e.a, "PATCH", "/v1/tickets/"+id, body).problem(t, http.StatusUnprocessableEntity, "validation_failed")
			if got := sorted(fields(p)); !slices.Equal(got, want) {
				t.Errorf("PATCH %s: fields %v, want %v", body, got, want)
			}
		}

		before := header(t, c.do(t, e, e.a, "GET", "/v1/tickets/"+id, nil), "ETag")
		h := c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/history", map[string]any{"type": "comment", "value": map[string]any{"text": "Chasing the bank"}},
			"Idempotency-Key", "hist-1").want(t, http.StatusCreated)
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/history", map[string]any{"type": "comment", "value": map[string]any{"text": "Chasing the bank"}},
			"Idempotency-Key", "hist-1").want(t, http.StatusCreated)
		// An entry's version is the ticket's version right after it.
		if after := header(t, c.do(t, e, e.a, "GET", "/v1/tickets/"+id, nil), "ETag"); after != fmt.Sprintf(`"%v"`, h.json(t)["version"]) {
			t.Errorf("history entry version %v, ticket ETag after it %s", h.json(t)["version"], after)
		}
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/history", map[string]any{"type": "log", "visibility": "internal", "value": map[string]any{"note": "psst"}}).
			want(t, http.StatusCreated)
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/history", map[string]any{"type": "thread", "value": map[string]any{"messages": []any{"hi", 2}}},
			"If-Match", before).problem(t, http.StatusPreconditionFailed, "precondition_failed")
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/activities", map[string]any{"text": "Visited the portal", "direction": "INBOUND"},
			"Eventdesk-Actor", "user:42", "Idempotency-Key", "act-1").want(t, http.StatusCreated)
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/activities", map[string]any{"text": "Visited the portal", "direction": "INBOUND"},
			"Eventdesk-Actor", "user:42", "Idempotency-Key", "act-1").want(t, http.StatusCreated)
		c.do(t, e, e.a, "GET", "/v1/tickets/"+id+"/history", nil).want(t, http.StatusOK)
		full := c.do(t, e, e.a, "GET", "/v1/tickets/"+id+"/history?include_internal=true&after_version=1&limit=10", nil).
			want(t, http.StatusOK).json(t)
		if hist := full["history"].([]any); len(hist) != 2 || full["next_after_version"] != nil {
			t.Errorf("full history has %d entries, next_after_version %v; want 2 and null", len(hist), full["next_after_version"])
		}
		// Paging by version: a full page names the version to go on after.
		var paged []any
		for after := "0"; ; {
			page := c.do(t, e, e.a, "GET", "/v1/tickets/"+id+"/history?include_internal=true&limit=1&after_version="+after, nil).
				want(t, http.StatusOK).json(t)
			entries := page["history"].([]any)
			paged = append(paged, entries...)
			next, more := page["next_after_version"].(float64)
			if more != (len(entries) == 1) {
				t.Fatalf("a page of %d (limit 1) has next_after_version %v", len(entries), page["next_after_version"])
			}
			if !more {
				break
			}
			if v := entries[0].(map[string]any)["version"]; v != next {
				t.Errorf("next_after_version %v, want the page's last version %v", next, v)
			}
			if len(paged) > 2 {
				t.Fatalf("paging does not end: %v", paged)
			}
			after = strconv.FormatFloat(next, 'f', -1, 64)
		}
		if !reflect.DeepEqual(paged, full["history"]) {
			t.Errorf("paged history differs from the full one:\n%v\n%v", paged, full["history"])
		}

		up, ct := multipartBody("file", "notes.txt", []byte("hello, attachment\n"))
		uploaded := c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/attachments", up, "Content-Type", ct, "Idempotency-Key", "up-1",
			"Eventdesk-Actor", "agent:ana@example.com").want(t, http.StatusCreated)
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/attachments", up, "Content-Type", ct, "Idempotency-Key", "up-1",
			"Eventdesk-Actor", "agent:ana@example.com").want(t, http.StatusCreated)
		file = uploaded.json(t)["id"].(string)

		resolved := c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"status": "resolved"}).want(t, http.StatusOK)
		if resolved.json(t)["is_feedback_pending"] != true {
			t.Errorf("resolved ticket is not pending feedback: %s", resolved.Body)
		}
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/history", map[string]any{"type": "rating", "value": map[string]any{"rating": 4}}).
			want(t, http.StatusCreated)
		fb := c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/feedback", map[string]any{"rating": 5, "comment": "Sorted, thanks"},
			"Eventdesk-Actor", "user:cara@example.com", "Idempotency-Key", "fb-1").want(t, http.StatusOK)
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/feedback", map[string]any{"rating": 5, "comment": "Sorted, thanks"},
			"Eventdesk-Actor", "user:cara@example.com", "Idempotency-Key", "fb-1").want(t, http.StatusOK)
		if f, _ := fb.json(t)["feedback"].(map[string]any); f["rating"] != float64(5) {
			t.Errorf("feedback = %v, want rating 5", fb.json(t)["feedback"])
		}
		closed := c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"status": "closed"}).want(t, http.StatusOK)
		c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"status": "closed"}).problem(t, http.StatusConflict, "ticket_already_closed")
		c.do(t, e, e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"title": "x"}).problem(t, http.StatusConflict, "ticket_closed")
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/attachments", up, "Content-Type", ct).problem(t, http.StatusConflict, "ticket_closed")
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/reopen", nil, "If-Match", header(t, closed, "ETag"), "Idempotency-Key", "reopen-1").
			want(t, http.StatusOK)
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/reopen", nil, "If-Match", header(t, closed, "ETag"), "Idempotency-Key", "reopen-1").
			want(t, http.StatusOK)
		c.do(t, e, e.a, "POST", "/v1/tickets/"+id+"/reopen", map[string]any{"status": "pending"}).problem(t, http.StatusConflict, "ticket_not_closed")
		evs := c.do(t, e, e.a, "GET", "/v1/tickets/"+id+"/events", nil).want(t, http.StatusOK).json(t)["events"].([]any)
		if len(evs) < 10 {
			t.Errorf("audit trail has %d events, want at least 10", len(evs))
		}
	})

	t.Run("lists", func(t *testing.T) {
		all := c.do(t, e, e.a, "GET", "/v1/tickets?min_position="+pos, nil).want(t, http.StatusOK).json(t)
		if n := len(all["tickets"].([]any)); n != 2 {
			t.Errorf("list has %d tickets, want 2", n)
		}
		page := c.do(t, e, e.a, "GET", "/v1/tickets?limit=1", nil).want(t, http.StatusOK).json(t)
		next, _ := page["next_cursor"].(string)
		if next == "" {
			t.Fatalf("first page of 1 has no next_cursor: %v", page)
		}
		last := c.do(t, e, e.a, "GET", "/v1/tickets?limit=1&cursor="+next, nil).want(t, http.StatusOK).json(t)
		if last["next_cursor"] != nil {
			t.Errorf("last page next_cursor = %v, want null", last["next_cursor"])
		}
		q := "/v1/tickets?status=open&status=in_progress&priority=urgent&priority=low&category=billing&assignee=bo@example.com" +
			"&tag=refund&source=portal&source=api&created_from=2020-01-01T00:00:00Z&created_to=2999-01-01T00:00:00Z" +
			"&updated_from=2020-01-01T00:00:00Z&updated_to=2999-01-01T00:00:00Z&q=refund&limit=10&min_position=" + pos
		c.do(t, e, e.a, "GET", q, nil).want(t, http.StatusOK)
		c.do(t, e, e.a, "GET", "/v1/tickets?cursor=bm90LWEtY3Vyc29y", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
		c.do(t, e, e.b, "GET", "/v1/tickets", nil).want(t, http.StatusOK)
	})

	t.Run("feed", func(t *testing.T) {
		// The feed may lag a write while a transaction anywhere in the
		// cluster is open: wait until it shows the lifecycle's last one.
		e.events(e.a, "", header(t, c.do(t, e, e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK), "Eventdesk-Position"))
		page := c.do(t, e, e.a, "GET", "/v1/events?limit=3", nil).want(t, http.StatusOK).json(t)
		c.do(t, e, e.a, "GET", "/v1/events?after="+page["next_after"].(string)+"&type=ticket.created&type=ticket.reopened&stream_type=ticket", nil).
			want(t, http.StatusOK)
		empty := c.do(t, e, e.b, "GET", "/v1/events?after=0&stream_type=nothing", nil).want(t, http.StatusOK).json(t)
		if empty["next_after"] != "0-0" {
			t.Errorf("empty page next_after = %v, want 0-0", empty["next_after"])
		}
		nd := c.do(t, e, e.a, "GET", "/v1/events", nil, "Accept", "application/x-ndjson").want(t, http.StatusOK)
		if n := bytes.Count(nd.Body, []byte("\n")); n < 15 {
			t.Errorf("NDJSON stream has %d lines, want at least 15", n)
		}
		c.do(t, e, e.a, "GET", "/v1/events?follow=true&limit=3&after=0", nil, "Accept", "application/x-ndjson").want(t, http.StatusOK)
		c.do(t, e, e.a, "GET", "/v1/events?follow=true", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	})

	t.Run("config", func(t *testing.T) {
		cfg := c.do(t, e, e.a, "GET", "/v1/config", nil).want(t, http.StatusOK)
		etag := header(t, cfg, "ETag")
		statuses := map[string]any{"statuses": []any{
			map[string]any{"key": "new", "display": "New", "color": "#FFA951", "kind": "open"},
			map[string]any{"key": "waiting", "display": "Waiting on customer", "color": "#f3c33f", "kind": "pending"},
			map[string]any{"key": "done", "display": "Done", "color": "#20c3a6", "kind": "resolved"},
			map[string]any{"key": "closed", "display": "Closed", "color": "#9b9b9b", "kind": "closed"},
		}}
		set := c.do(t, e, e.a, "PUT", "/v1/config/statuses", statuses, "Eventdesk-Actor", "agent:ana@example.com", "If-Match", etag).
			want(t, http.StatusOK)
		header(t, set, "Eventdesk-Position")
		if got := header(t, set, "ETag"); got != fmt.Sprintf(`"%v"`, set.json(t)["version"]) || got == etag {
			t.Errorf("config ETag %s after a change from %s, version %v", got, etag, set.json(t)["version"])
		}
		// The configuration has moved on: the old version is refused, and nothing changes.
		c.do(t, e, e.a, "PUT", "/v1/config/priorities", map[string]any{"priorities": []any{
			map[string]any{"key": "low", "display": "Whenever", "color": "#41a6ff"}}}, "If-Match", etag).
			problem(t, http.StatusPreconditionFailed, "precondition_failed")
		if got := header(t, c.do(t, e, e.a, "GET", "/v1/config", nil).want(t, http.StatusOK), "ETag"); got != set.Header.Get("ETag") {
			t.Errorf("config ETag %s after a refused PUT, want %s", got, set.Header.Get("ETag"))
		}
		again := c.do(t, e, e.a, "PUT", "/v1/config/statuses", statuses).want(t, http.StatusOK)
		if p := again.Header.Get("Eventdesk-Position"); p != "" {
			t.Errorf("a PUT that changes nothing answers Eventdesk-Position %q", p)
		}
		c.do(t, e, e.a, "PUT", "/v1/config/statuses", map[string]any{"statuses": []any{
			map[string]any{"key": "open", "display": "Open", "color": "#ffffff", "kind": "open"}}}).
			problem(t, http.StatusUnprocessableEntity, "validation_failed")
		prio := map[string]any{"priorities": []any{map[string]any{"key": "urgent", "display": "P1", "color": "#ff0000"}}}
		c.do(t, e, e.a, "PUT", "/v1/config/priorities", prio, "Idempotency-Key", "prio-1").want(t, http.StatusOK)
		replay := c.do(t, e, e.a, "PUT", "/v1/config/priorities", prio, "Idempotency-Key", "prio-1").want(t, http.StatusOK)
		if replay.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("config replay headers = %v", replay.Header)
		}
		c.do(t, e, e.a, "PUT", "/v1/config/categories", map[string]any{"categories": []any{
			map[string]any{"key": "general", "display": "General"}}}).want(t, http.StatusOK)
	})

	t.Run("download", func(t *testing.T) {
		path := "/v1/attachments/" + file
		r := c.do(t, e, e.a, "GET", path, nil).want(t, http.StatusOK)
		if string(r.Body) != "hello, attachment\n" {
			t.Errorf("download = %q", r.Body)
		}
		etag := header(t, r, "ETag")
		if got := c.do(t, e, e.a, "GET", path, nil, "Range", "bytes=0-4").want(t, http.StatusPartialContent); string(got.Body) != "hello" {
			t.Errorf("range 0-4 = %q, want hello", got.Body)
		}
		c.do(t, e, e.a, "GET", path, nil, "If-None-Match", etag).want(t, http.StatusNotModified)
		c.do(t, e, e.a, "GET", path, nil, "If-Match", `"0000"`).want(t, http.StatusPreconditionFailed)
		c.do(t, e, e.a, "GET", path, nil, "Range", "bytes=1000-2000").want(t, http.StatusRequestedRangeNotSatisfiable)
		c.doBad(t, e, nil, "GET", path, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
		c.do(t, e, e.b, "GET", path, nil).problem(t, http.StatusNotFound, "attachment_not_found")
		c.do(t, e, e.a, "GET", "/v1/attachments/nope", nil).problem(t, http.StatusNotFound, "attachment_not_found")
	})

	t.Run("forms", func(t *testing.T) { conformForms(t, e, c) })
	t.Run("video rooms", func(t *testing.T) { conformVideoRooms(t, e, c) })
	t.Run("agents and groups", func(t *testing.T) { conformMembers(t, e, c) })
	t.Run("contacts", func(t *testing.T) { conformContacts(t, e, c) })
	t.Run("crm and deals", func(t *testing.T) { conformCRM(t, e, c) })
	t.Run("listeners", func(t *testing.T) { conformListeners(t, e, c) })
	t.Run("outbox", func(t *testing.T) { conformOutbox(t, e, c) })
	t.Run("method not allowed", func(t *testing.T) {
		c.methodNotAllowed(t, e, e.a, "DELETE", "/v1/tickets/"+id, "/v1/tickets/{id}")
		c.methodNotAllowed(t, e, nil, "PUT", "/v1/forms", "/v1/forms")
		c.methodNotAllowed(t, e, e.a, "GET", "/v1/video-rooms/"+id+"/close", "/v1/video-rooms/{unique_name}/close")
		c.methodNotAllowed(t, e, e.a, "PATCH", "/v1/config", "/v1/config")
	})
	t.Run("errors", func(t *testing.T) { conformErrors(t, e, c) })
	t.Run("upload errors", func(t *testing.T) { conformUploadErrors(t, e, c) })
	t.Run("probes", func(t *testing.T) { conformProbes(t, c) })
	t.Run("stream", func(t *testing.T) { conformStream(t, e, c) })

	// Last, as it breaks the database: an unexpected failure is a 500
	// problem that shows nothing of the cause.
	t.Run("internal error", func(t *testing.T) {
		db := e.DB
		if _, err := db.Exec(`ALTER TABLE ticket_list RENAME TO ticket_list_gone`); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := db.Exec(`ALTER TABLE ticket_list_gone RENAME TO ticket_list`); err != nil {
				t.Error(err)
			}
		}()
		p := c.do(t, e, e.a, "GET", "/v1/tickets", nil).problem(t, http.StatusInternalServerError, "internal")
		if strings.Contains(fmt.Sprint(p["detail"]), "ticket_list") {
			t.Errorf("500 detail shows the cause: %v", p["detail"])
		}
	})

	if !c.seen["MethodNotAllowed 405"] {
		t.Error("no 405 was validated")
	}
	if m := c.missing(); len(m) > 0 {
		t.Errorf("documented responses never exercised (%d):\n  %s", len(m), strings.Join(m, "\n  "))
	}
	if !c.seen["GET /v1/tickets 500"] {
		t.Error("no 500 was validated")
	}
}

// everyForm is a form definition using every member and every input type.
func everyForm() map[string]any {
	options := func(values ...string) []any {
		var out []any
		for _, v := range values {
			out = append(out, map[string]any{"text": strings.ToUpper(v[:1]) + v[1:], "value": v})
		}
		return out
	}
	return map[string]any{
		"slug": "damage-report", "title": "Damage report", "description": "Tell us what arrived damaged.",
		"header_image": "https://cdn.example.com/header.png",
		"inputs": []any{
			map[string]any{"type": "text", "key": "name", "display": "Name", "required": true, "placeholder": "Your name"},
			map[string]any{"type": "email", "key": "email", "display": "E-mail", "required": true, "regex": `\S+@\S+\.\S+`},
			map[string]any{"type": "number", "key": "order", "display": "Order number"},
			map[string]any{"type": "mobile", "key": "phone", "display": "Phone"},
			map[string]any{"type": "dropdown", "key": "reason", "display": "Reason", "required": true, "options": options("crushed", "wrong")},
			map[string]any{"type": "radio", "key": "contact", "options": options("email", "phone")},
			map[string]any{"type": "checkbox", "key": "parts", "display": "Damaged parts", "options": []any{
				map[string]any{"value": "box"}, map[string]any{"text": "Item", "value": "item"}}},
			map[string]any{"type": "date", "key": "arrived", "display": "Arrived on"},
			map[string]any{"type": "textarea", "key": "details", "display": "Details", "required": false},
			map[string]any{"type": "file", "key": "photo", "display": "Photo"},
		},
		"priority": "high", "category": "general", "login_required": true, "should_notify": true,
		"success_message": "Thanks, we are on it.",
		"submit_button":   map[string]any{"title": "Send", "title_color": "#FFFFFF", "background_color": "#112233"},
		"poll_for_assignment": map[string]any{"duration": 60, "message": "Finding an agent", "success_message": "Found one",
			"failure_message": "Nobody is free"},
	}
}

// conformForms drives the forms: creation, reads, replacement (with
// If-Match), submissions and the statuses only state can produce.
func conformForms(t *testing.T, e *env, c *checker) {
	def := everyForm()
	created := c.do(t, e, e.a, "POST", "/v1/forms", def, "Idempotency-Key", "form-1", "Eventdesk-Actor", "agent:ana@example.com").
		want(t, http.StatusCreated)
	etag := header(t, created, "ETag")
	if loc := header(t, created, "Location"); loc != "/v1/forms/damage-report" {
		t.Errorf("Location %q, want /v1/forms/damage-report", loc)
	}
	header(t, created, "Eventdesk-Position")
	replay := c.do(t, e, e.a, "POST", "/v1/forms", def, "Idempotency-Key", "form-1", "Eventdesk-Actor", "agent:ana@example.com").
		want(t, http.StatusCreated)
	if replay.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.Body, created.Body) {
		t.Errorf("replay: Idempotent-Replayed %q, body equal %v", replay.Header.Get("Idempotent-Replayed"), bytes.Equal(replay.Body, created.Body))
	}
	// The fingerprint covers the actor: another one is another request.
	c.do(t, e, e.a, "POST", "/v1/forms", def, "Idempotency-Key", "form-1", "Eventdesk-Actor", "agent:bo@example.com").
		problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	c.do(t, e, e.a, "POST", "/v1/forms", def).problem(t, http.StatusConflict, "form_already_exists")
	if list := c.do(t, e, e.a, "GET", "/v1/forms", nil).want(t, http.StatusOK).json(t)["forms"].([]any); len(list) != 1 {
		t.Errorf("%d forms listed, want 1", len(list))
	}
	c.do(t, e, e.b, "GET", "/v1/forms", nil).want(t, http.StatusOK)
	if got := c.do(t, e, e.a, "GET", "/v1/forms/damage-report", nil).want(t, http.StatusOK); got.Header.Get("ETag") != etag {
		t.Errorf("GET form ETag %q, want %q", got.Header.Get("ETag"), etag)
	}

	answers := map[string]any{
		"response": []any{
			map[string]any{"key": "name", "value": "  Ana  "},
			map[string]any{"key": "email", "value": "ana@example.com"},
			map[string]any{"key": "order", "value": 1234},
			map[string]any{"key": "phone", "value": "+91 99162 48135"},
			map[string]any{"key": "reason", "value": "crushed"},
			map[string]any{"key": "contact", "value": "email"},
			map[string]any{"key": "parts", "value": []any{"box", "item", "box"}},
			map[string]any{"key": "arrived", "value": "2025-03-01"},
			map[string]any{"key": "details", "value": ""},
			map[string]any{"key": "photo", "value": []any{"https://cdn.example.com/p.jpg"}},
		},
		"attachments": []any{map[string]any{"type": "image", "value": "https://cdn.example.com/p.jpg", "display": "photo"}},
	}
	sub := c.do(t, e, e.a, "POST", "/v1/forms/damage-report/submit", answers, "Idempotency-Key", "submit-1",
		"Eventdesk-Actor", "user:cara@example.com").want(t, http.StatusCreated)
	tk, _ := sub.json(t)["ticket"].(map[string]any)
	if loc := header(t, sub, "Location"); tk == nil || loc != "/v1/tickets/"+tk["id"].(string) || tk["source"] != "form" {
		t.Errorf("submission: Location %q, ticket %v", loc, tk)
	}
	header(t, sub, "Eventdesk-Position")
	c.do(t, e, e.a, "POST", "/v1/forms/damage-report/submit", answers, "Idempotency-Key", "submit-1",
		"Eventdesk-Actor", "user:cara@example.com").want(t, http.StatusCreated)
	// Answers that do not fit their inputs: the document cannot say so.
	p := c.do(t, e, e.a, "POST", "/v1/forms/damage-report/submit", map[string]any{"response": []any{
		map[string]any{"key": "email", "value": "not-an-address"}, map[string]any{"key": "colour", "value": "red"},
	}}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := sorted(fields(p)); !slices.Equal(got, []string{"response[colour]", "response[email]", "response[name]", "response[reason]"}) {
		t.Errorf("invalid submission fields %v", got)
	}

	// PUT replaces the definition; the same one again changes nothing.
	short := map[string]any{"slug": "damage-report", "title": "Damaged parcel",
		"inputs": []any{map[string]any{"type": "textarea", "key": "details", "required": true}}, "poll_for_assignment": nil}
	put := c.do(t, e, e.a, "PUT", "/v1/forms/damage-report", short, "If-Match", etag, "Idempotency-Key", "form-put-1").
		want(t, http.StatusOK)
	if got := header(t, put, "ETag"); got == etag || got != fmt.Sprintf(`"%v"`, put.json(t)["version"]) {
		t.Errorf("PUT ETag %s (before %s), version %v", got, etag, put.json(t)["version"])
	}
	c.do(t, e, e.a, "PUT", "/v1/forms/damage-report", short, "If-Match", etag, "Idempotency-Key", "form-put-1").want(t, http.StatusOK)
	unnamed := maps.Clone(short) // the body need not repeat the slug
	delete(unnamed, "slug")
	noop := c.do(t, e, e.a, "PUT", "/v1/forms/damage-report", unnamed).want(t, http.StatusOK)
	if noop.Header.Get("ETag") != put.Header.Get("ETag") || noop.Header.Get("Eventdesk-Position") != header(t, put, "Eventdesk-Position") {
		t.Errorf("a PUT that changes nothing: ETag %q, position %q; want the last change's %q, %q", noop.Header.Get("ETag"),
			noop.Header.Get("Eventdesk-Position"), put.Header.Get("ETag"), put.Header.Get("Eventdesk-Position"))
	}
	c.do(t, e, e.a, "PUT", "/v1/forms/damage-report", short, "If-Match", etag).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	p = c.do(t, e, e.a, "PUT", "/v1/forms/damage-report", with(short, "slug", "other")).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := fields(p); !slices.Equal(got, []string{"slug"}) {
		t.Errorf("slug change fields %v, want [slug]", got)
	}

	// A disabled form takes no submissions (no endpoint disables one yet).
	if _, _, err := e.Forms.Disable(context.Background(), e.A.ID, "damage-report", app.Meta{
		By: domain.Actor{Kind: domain.ActorAgent, ID: "ana"}, Source: domain.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if got := c.do(t, e, e.a, "GET", "/v1/forms/damage-report", nil).want(t, http.StatusOK).json(t); got["enabled"] != false {
		t.Errorf("enabled = %v after form.disabled, want false", got["enabled"])
	}
	c.do(t, e, e.a, "POST", "/v1/forms/damage-report/submit", map[string]any{"response": []any{
		map[string]any{"key": "details", "value": "Crushed"}}}).problem(t, http.StatusConflict, "form_disabled")
}

// conformVideoRooms drives a ticket's video room through a session: open
// (bodies empty, chunked or {}), tokens, joins, leaves, close, reopen.
func conformVideoRooms(t *testing.T, e *env, c *checker) {
	tid := e.createTicket(e.a, map[string]any{"title": "Show me the damage"})["id"].(string)
	opened := c.do(t, e, e.a, "POST", "/v1/tickets/"+tid+"/video-room", chunked("")).want(t, http.StatusCreated)
	room := opened.json(t)
	name, _ := room["unique_name"].(string)
	if loc := header(t, opened, "Location"); name != tid || loc != "/v1/video-rooms/"+name {
		t.Errorf("opened room %v at %q, want it named by the ticket's id", room, loc)
	}
	header(t, opened, "Eventdesk-Position")
	base := "/v1/video-rooms/" + name
	again := c.do(t, e, e.a, "POST", "/v1/tickets/"+tid+"/video-room", map[string]any{}).want(t, http.StatusOK)
	if header(t, again, "Eventdesk-Position") != opened.Header.Get("Eventdesk-Position") || header(t, again, "Location") != base {
		t.Errorf("opening an open room: headers %v, want the room's Location and last position", again.Header)
	}
	c.do(t, e, e.a, "GET", base, nil).want(t, http.StatusOK)

	tok := c.do(t, e, e.a, "POST", base+"/token", map[string]any{"identity": "ana@example.com"}, "Idempotency-Key", "tok-1").
		want(t, http.StatusCreated)
	if tok.Header.Get("Cache-Control") != "no-store" || tok.json(t)["room"] != name {
		t.Errorf("token %s, headers %v: want room %s and Cache-Control: no-store", tok.Body, tok.Header, name)
	}
	c.do(t, e, e.a, "POST", base+"/token", map[string]any{"identity": "ana@example.com"}, "Idempotency-Key", "tok-1").
		want(t, http.StatusCreated)

	join := map[string]any{"identity": "ana@example.com", "user": map[string]any{"kind": "agent", "email": "ana@example.com", "name": "Ana"}}
	j := c.do(t, e, e.a, "POST", base+"/participants", join, "Idempotency-Key", "join-1").want(t, http.StatusCreated)
	header(t, j, "Eventdesk-Position")
	c.do(t, e, e.a, "POST", base+"/participants", join, "Idempotency-Key", "join-1").want(t, http.StatusCreated)
	c.do(t, e, e.a, "POST", base+"/participants", map[string]any{"identity": "ana@example.com"}).want(t, http.StatusOK)
	c.do(t, e, e.a, "POST", base+"/participants", map[string]any{"identity": "customer 42", "user": nil}, "Eventdesk-Actor", "user:42").
		want(t, http.StatusCreated)
	if ps := c.do(t, e, e.a, "GET", base+"/participants", nil).want(t, http.StatusOK).json(t)["participants"].([]any); len(ps) != 2 {
		t.Errorf("%d participants connected, want 2", len(ps))
	}
	c.do(t, e, e.a, "DELETE", base+"/participants/customer%2042", nil, "Idempotency-Key", "leave-1").want(t, http.StatusOK)
	c.do(t, e, e.a, "DELETE", base+"/participants/customer%2042", nil, "Idempotency-Key", "leave-1").want(t, http.StatusOK)
	c.do(t, e, e.a, "DELETE", base+"/participants/customer%2042", nil).problem(t, http.StatusNotFound, "participant_not_found")
	p := c.do(t, e, e.a, "DELETE", base+"/participants/%20ana", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := fields(p); !slices.Equal(got, []string{"identity"}) {
		t.Errorf("malformed identity fields %v, want [identity]", got)
	}
	// The room keeps who left (with left_at).
	c.do(t, e, e.a, "GET", base, nil).want(t, http.StatusOK)

	closed := c.do(t, e, e.a, "POST", base+"/close", chunked("")).want(t, http.StatusOK)
	if cl := closed.json(t); cl["status"] != "closed" || cl["closed_at"] == nil {
		t.Errorf("closed room %v", cl)
	}
	header(t, closed, "Eventdesk-Position")
	c.do(t, e, e.a, "POST", base+"/close", nil).problem(t, http.StatusConflict, "video_room_already_closed")
	c.do(t, e, e.a, "POST", base+"/token", map[string]any{"identity": "ana@example.com"}).problem(t, http.StatusConflict, "video_room_closed")
	c.do(t, e, e.a, "POST", base+"/participants", map[string]any{"identity": "ana@example.com"}).problem(t, http.StatusConflict, "video_room_closed")
	c.do(t, e, e.a, "DELETE", base+"/participants/ana@example.com", nil).problem(t, http.StatusConflict, "video_room_closed")
	if ps := c.do(t, e, e.a, "GET", base+"/participants", nil).want(t, http.StatusOK).json(t)["participants"].([]any); len(ps) != 0 {
		t.Errorf("a closed room lists %d participants", len(ps))
	}
	// Opening it again starts a new session.
	c.do(t, e, e.a, "POST", "/v1/tickets/"+tid+"/video-room", nil, "Idempotency-Key", "reopen-room").want(t, http.StatusCreated)
}

// opCase is one operation of the error matrix.
type opCase struct {
	method, path string
	// body would succeed on its own (nil: the operation takes no JSON body).
	body map[string]any
	// bad breaks the document and is refused by the server with 422: a
	// body, or for reads a query string.
	bad  any
	read bool
	// missing is the code of the 404 for an unknown (or another tenant's)
	// resource in the path; "" when the path names none.
	missing string
	// ifMatch: the operation honours If-Match; write: POST, PATCH, PUT or
	// DELETE, with Idempotency-Key; actor: it honours Eventdesk-Actor.
	ifMatch, write, actor bool
}

// unknownRefs are path values naming nothing, by path parameter.
var unknownRefs = map[string][]string{
	"{id}":          {"7a0c4f4e-0000-4000-8000-000000000000", "999"},
	"{slug}":        {"nope"},
	"{unique_name}": {"7a0c4f4e-0000-4000-8000-000000000000"},
}

// fingerprint is the request hash the idempotency layer keeps with a key
// (api/idempotency.go): method, path, If-Match, Eventdesk-Actor and body.
func fingerprint(method, path, ifMatch, actor string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n" + ifMatch + "\n" + actor + "\n"))
	h.Write(body)
	return h.Sum(nil)
}

// inFlight takes an Idempotency-Key for a request as its first attempt
// does before it runs, so that a retry finds it still running.
func inFlight(t *testing.T, e *env, tn *apitest.Tenant, key string, hash []byte) {
	t.Helper()
	if _, err := e.DB.Exec(`INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES ($1, $2, $3)`, tn.ID, key, hash); err != nil {
		t.Fatal(err)
	}
}

// conformErrors drives every error status of every operation. None of
// the requests changes anything.
func conformErrors(t *testing.T, e *env, c *checker) {
	id := e.createTicket(e.a, map[string]any{"title": "The matrix"})["id"].(string)
	matrixForm := map[string]any{"title": "Matrix", "inputs": []any{map[string]any{"type": "text", "key": "k"}}}
	e.do(e.a, "POST", "/v1/forms", with(matrixForm, "slug", "matrix")).want(t, http.StatusCreated)
	e.do(e.a, "POST", "/v1/tickets/"+id+"/video-room", nil).want(t, http.StatusCreated)
	e.do(e.a, "POST", "/v1/video-rooms/"+id+"/participants", map[string]any{"identity": "ana"}).want(t, http.StatusCreated)
	values := map[string]string{"{id}": id, "{slug}": "matrix", "{unique_name}": id, "{identity}": "ana"}
	fill := func(path string) string {
		for k, v := range values {
			path = strings.ReplaceAll(path, k, v)
		}
		return path
	}
	cases := []opCase{
		{method: "POST", path: "/v1/tickets", body: map[string]any{"title": "t"}, bad: `{"title": 5, "tags": "x", "priority": "extreme"}`, write: true, actor: true},
		{method: "GET", path: "/v1/tickets", bad: "?priority=extreme&limit=0&created_from=yesterday", read: true},
		{method: "GET", path: "/v1/tickets/{id}", missing: "ticket_not_found", read: true},
		{method: "PATCH", path: "/v1/tickets/{id}", body: map[string]any{"priority": "medium"}, bad: `{"priority": "extreme", "title": 7}`,
			missing: "ticket_not_found", ifMatch: true, write: true, actor: true},
		{method: "POST", path: "/v1/tickets/{id}/reopen", body: map[string]any{"status": "open"}, bad: `{"status": 5}`,
			missing: "ticket_not_found", ifMatch: true, write: true, actor: true},
		{method: "POST", path: "/v1/tickets/{id}/feedback", body: map[string]any{"rating": 4}, bad: `{"rating": 9}`,
			missing: "ticket_not_found", ifMatch: true, write: true, actor: true},
		{method: "POST", path: "/v1/tickets/{id}/history", body: map[string]any{"type": "comment", "value": map[string]any{"text": "hi"}},
			bad: `{"type": "shout", "value": "hi", "visibility": "secret"}`, missing: "ticket_not_found", ifMatch: true, write: true, actor: true},
		{method: "GET", path: "/v1/tickets/{id}/history", bad: "?limit=0&after_version=-1", missing: "ticket_not_found", read: true},
		{method: "POST", path: "/v1/tickets/{id}/activities", body: map[string]any{"text": "t", "direction": "INBOUND"},
			bad: `{"text": "", "direction": "SIDEWAYS"}`, missing: "ticket_not_found", ifMatch: true, write: true, actor: true},
		{method: "GET", path: "/v1/tickets/{id}/events", missing: "ticket_not_found", read: true},
		{method: "GET", path: "/v1/events", bad: "?after=banana&limit=5000", read: true},
		{method: "GET", path: "/v1/config", read: true},
		{method: "PUT", path: "/v1/config/categories", body: map[string]any{"categories": []any{map[string]any{"key": "general", "display": "General"}}},
			bad: `{"categories": []}`, ifMatch: true, write: true, actor: true},
		{method: "PUT", path: "/v1/config/statuses", body: map[string]any{"statuses": []any{
			map[string]any{"key": "open", "display": "Open", "color": "#ffa951", "kind": "open"},
			map[string]any{"key": "closed", "display": "Closed", "color": "#9b9b9b", "kind": "closed"}}},
			bad: `{"statuses": [{"key": "Open!", "display": "", "color": "red", "kind": "limbo"}]}`, ifMatch: true, write: true, actor: true},
		{method: "PUT", path: "/v1/config/priorities", body: map[string]any{"priorities": []any{map[string]any{"key": "low", "display": "Low", "color": "#41a6ff"}}},
			bad: `{"priorities": [{"key": "extreme", "display": "X", "color": "#000000"}]}`, ifMatch: true, write: true, actor: true},
		{method: "POST", path: "/v1/forms", body: with(matrixForm, "slug", "matrix-two"), bad: `{"slug": "Bad Slug", "title": "", "inputs": []}`,
			write: true, actor: true},
		{method: "GET", path: "/v1/forms", read: true},
		{method: "GET", path: "/v1/forms/{slug}", missing: "form_not_found", read: true},
		{method: "PUT", path: "/v1/forms/{slug}", body: matrixForm, bad: `{"title": "", "priority": "extreme", "inputs": [{"type": "slider", "key": "k"}]}`,
			missing: "form_not_found", ifMatch: true, write: true, actor: true},
		{method: "POST", path: "/v1/forms/{slug}/submit", body: map[string]any{"response": []any{map[string]any{"key": "k", "value": "v"}}},
			bad: `{"response": [{"key": "", "value": 1}], "attachments": [{"type": "pdf", "value": ""}]}`, missing: "form_not_found", write: true, actor: true},
		{method: "POST", path: "/v1/tickets/{id}/video-room", body: map[string]any{}, missing: "ticket_not_found", write: true, actor: true},
		{method: "GET", path: "/v1/video-rooms/{unique_name}", missing: "video_room_not_found", read: true},
		{method: "POST", path: "/v1/video-rooms/{unique_name}/token", body: map[string]any{"identity": "ana"}, bad: `{"identity": ""}`,
			missing: "video_room_not_found", write: true},
		{method: "GET", path: "/v1/video-rooms/{unique_name}/participants", missing: "video_room_not_found", read: true},
		{method: "POST", path: "/v1/video-rooms/{unique_name}/participants", body: map[string]any{"identity": "ana"},
			bad: `{"identity": " ana ", "user": {"kind": "robot", "id": "r2"}}`, missing: "video_room_not_found", write: true, actor: true},
		{method: "DELETE", path: "/v1/video-rooms/{unique_name}/participants/{identity}", missing: "video_room_not_found", write: true, actor: true},
		{method: "POST", path: "/v1/video-rooms/{unique_name}/close", body: map[string]any{}, missing: "video_room_not_found", write: true, actor: true},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			path := fill(tc.path)
			var body any
			var raw []byte
			if tc.body != nil {
				body = tc.body
				raw, _ = json.Marshal(tc.body)
			}
			c.doBad(t, e, nil, tc.method, path, body).problem(t, http.StatusUnauthorized, "unauthenticated")
			if r := c.do(t, e, nil, tc.method, path, body, "Authorization", "Bearer edk_wrong"); r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate: %v", r.Header)
			}
			if tc.missing != "" {
				for param, refs := range unknownRefs {
					if !strings.Contains(tc.path, param) {
						continue
					}
					for _, ref := range refs {
						c.do(t, e, e.a, tc.method, fill(strings.ReplaceAll(tc.path, param, ref)), body).problem(t, http.StatusNotFound, tc.missing)
					}
				}
				c.do(t, e, e.b, tc.method, path, body).problem(t, http.StatusNotFound, tc.missing) // another tenant's
			}
			if tc.read {
				if q, ok := tc.bad.(string); ok {
					p := c.doBad(t, e, e.a, tc.method, path+q, nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
					if n := len(fields(p)); n < 2 {
						t.Errorf("422 lists %d fields, want every bad one: %v", n, p)
					}
				}
				return
			}
			if tc.body != nil {
				c.doBad(t, e, e.a, tc.method, path, `{"a": 1,}`).problem(t, http.StatusBadRequest, "malformed_json")
				c.doBad(t, e, e.a, tc.method, path, `[1]`).problem(t, http.StatusBadRequest, "malformed_json")
				p := c.doBad(t, e, e.a, tc.method, path, with(tc.body, "colour", "red")).problem(t, http.StatusBadRequest, "unknown_field")
				if got := fields(p); !slices.Equal(got, []string{"colour"}) {
					t.Errorf("unknown_field names %v, want [colour]", got)
				}
				// Valid JSON, but over the limit: the document cannot say so.
				big := string(raw) + strings.Repeat(" ", web.MaxBodyBytes)
				c.do(t, e, e.a, tc.method, path, big).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
				c.do(t, e, e.a, tc.method, path, big, "Idempotency-Key", "big-"+tc.path).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
				c.doBad(t, e, e.a, tc.method, path, string(raw), "Content-Type", "text/plain").
					problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
			} else {
				// An operation without a body reads one only to fingerprint it.
				big := "{}" + strings.Repeat(" ", web.MaxBodyBytes)
				c.doBad(t, e, e.a, tc.method, path, big, "Idempotency-Key", "big-"+tc.path).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
			}
			if tc.bad != nil {
				c.doBad(t, e, e.a, tc.method, path, tc.bad).problem(t, http.StatusUnprocessableEntity, "validation_failed")
			}
			if tc.actor {
				c.doBad(t, e, e.a, tc.method, path, body, "Eventdesk-Actor", "robot:r2d2").problem(t, http.StatusUnprocessableEntity, "validation_failed")
			}
			c.doBad(t, e, e.a, tc.method, path, body, "Idempotency-Key", strings.Repeat("k", 256)).
				problem(t, http.StatusUnprocessableEntity, "validation_failed")
			if tc.ifMatch {
				c.do(t, e, e.a, tc.method, path, body, "If-Match", `"999"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
				c.doBad(t, e, e.a, tc.method, path, body, "If-Match", "yesterday").problem(t, http.StatusBadRequest, "invalid_if_match")
			}
			// A retry whose key is taken but has no kept response (the
			// first attempt crashed, or still runs) runs again — never a
			// 409 for the key. (Shown with a request that fails, so that
			// nothing changes here; the crash tests show the writes.)
			key := "in-flight " + tc.method + " " + tc.path
			u, _ := http.NewRequest(tc.method, e.HTTP.URL+path, nil)
			if tc.bad != nil {
				badRaw, _ := json.Marshal(tc.bad)
				if str, ok := tc.bad.(string); ok {
					badRaw = []byte(str)
				}
				inFlight(t, e, e.a, key+" bad", fingerprint(tc.method, u.URL.Path, "", "", badRaw))
				c.doBad(t, e, e.a, tc.method, path, string(badRaw), "Idempotency-Key", key+" bad").problem(t, http.StatusUnprocessableEntity, "validation_failed")
			}
			inFlight(t, e, e.a, key, fingerprint(tc.method, u.URL.Path, "", "", raw))
			// The same key with another request: another body, precondition or actor.
			if tc.body != nil {
				c.do(t, e, e.a, tc.method, path, string(raw)+" ", "Idempotency-Key", key).
					problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
			}
			if tc.ifMatch {
				c.do(t, e, e.a, tc.method, path, body, "Idempotency-Key", key, "If-Match", `"1"`).
					problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
			}
			if tc.actor {
				c.do(t, e, e.a, tc.method, path, body, "Idempotency-Key", key, "Eventdesk-Actor", "agent:bo@example.com").
					problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
			}
		})
	}
	// Nothing above was stored: the matrix ticket, form and room are as created.
	if v := c.do(t, e, e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)["version"]; v != float64(1) {
		t.Errorf("matrix ticket at version %v, want 1", v)
	}
	if v := c.do(t, e, e.a, "GET", "/v1/forms/matrix", nil).want(t, http.StatusOK).json(t)["version"]; v != float64(1) {
		t.Errorf("matrix form at version %v, want 1", v)
	}
	room := c.do(t, e, e.a, "GET", "/v1/video-rooms/"+id, nil).want(t, http.StatusOK).json(t)
	if ps := room["participants"].([]any); room["version"] != float64(2) || len(ps) != 1 || ps[0].(map[string]any)["status"] != "connected" {
		t.Errorf("matrix room = %v, want version 2 with ana connected", room)
	}
	if list := c.do(t, e, e.a, "GET", "/v1/forms", nil).want(t, http.StatusOK).json(t)["forms"].([]any); len(list) != 2 {
		t.Errorf("%d forms listed, want damage-report and matrix", len(list))
	}
}

// multipartBody returns a multipart/form-data body with one file part and
// its Content-Type.
func multipartBody(field, filename string, data []byte) (body, contentType string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.SetBoundary("eventdesk-test-boundary")
	if field != "" {
		part, _ := w.CreateFormFile(field, filename)
		_, _ = part.Write(data)
	} else {
		_ = w.WriteField("note", string(data))
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// conformUploadErrors drives the error statuses of uploads, which take
// multipart bodies rather than JSON. None of the requests stores anything.
func conformUploadErrors(t *testing.T, e *env, c *checker) {
	id := e.createTicket(e.a, map[string]any{"title": "Uploads"})["id"].(string)
	path := "/v1/tickets/" + id + "/attachments"
	body, ct := multipartBody("file", "a.txt", []byte("abc"))
	c.doBad(t, e, nil, "POST", path, body, "Content-Type", ct).problem(t, http.StatusUnauthorized, "unauthenticated")
	for _, ref := range []string{"7a0c4f4e-0000-4000-8000-000000000000", "999"} {
		c.do(t, e, e.a, "POST", "/v1/tickets/"+ref+"/attachments", body, "Content-Type", ct).problem(t, http.StatusNotFound, "ticket_not_found")
	}
	c.do(t, e, e.b, "POST", path, body, "Content-Type", ct).problem(t, http.StatusNotFound, "ticket_not_found")
	c.doBad(t, e, e.a, "POST", path, `{"file": "abc"}`).problem(t, http.StatusBadRequest, "not_multipart")
	c.do(t, e, e.a, "POST", path, "--eventdesk-test-boundary\r\nbroken", "Content-Type", ct).problem(t, http.StatusBadRequest, "malformed_multipart")
	noFile, noFileCT := multipartBody("", "", []byte("just a note"))
	p := c.do(t, e, e.a, "POST", path, noFile, "Content-Type", noFileCT).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := fields(p); !slices.Equal(got, []string{"file"}) {
		t.Errorf("fields = %v, want [file]", got)
	}
	big, bigCT := multipartBody("file", "big.bin", bytes.Repeat([]byte{'x'}, apitest.UploadLimit+1))
	c.do(t, e, e.a, "POST", path, big, "Content-Type", bigCT).problem(t, http.StatusRequestEntityTooLarge, "file_too_large")
	huge, hugeCT := multipartBody("file", "huge.bin", bytes.Repeat([]byte{'x'}, apitest.UploadLimit+128<<10))
	c.do(t, e, e.a, "POST", path, huge, "Content-Type", hugeCT).problem(t, http.StatusRequestEntityTooLarge, "file_too_large")
	c.do(t, e, e.a, "POST", path, huge, "Content-Type", hugeCT, "Idempotency-Key", "huge").problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
	c.doBad(t, e, e.a, "POST", path, body, "Content-Type", ct, "Eventdesk-Actor", "robot:r2d2").problem(t, http.StatusUnprocessableEntity, "validation_failed")
	c.doBad(t, e, e.a, "POST", path, body, "Content-Type", ct, "Idempotency-Key", strings.Repeat("k", 256)).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	inFlight(t, e, e.a, "up-in-flight", fingerprint("POST", path, "", "", []byte(body)))
	other, _ := multipartBody("file", "b.txt", []byte("abd"))
	c.do(t, e, e.a, "POST", path, other, "Content-Type", ct, "Idempotency-Key", "up-in-flight").
		problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	c.do(t, e, e.a, "POST", path, body, "Content-Type", ct, "Idempotency-Key", "up-in-flight", "Eventdesk-Actor", "agent:bo@example.com").
		problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")

	// The ticket is checked before a byte is stored: a closed or unknown
	// ticket refuses any file, even one over the limit, and keeps nothing.
	closed := e.createTicket(e.a, map[string]any{"title": "Closed for uploads"})["id"].(string)
	e.do(e.a, "PATCH", "/v1/tickets/"+closed, map[string]any{"status": "closed"}).want(t, http.StatusOK)
	stored := filesUnder(t, e.DataDir)
	only, onlyCT := multipartBody("file", "only.txt", []byte("bytes no ticket takes"))
	c.do(t, e, e.a, "POST", "/v1/tickets/"+closed+"/attachments", only, "Content-Type", onlyCT).problem(t, http.StatusConflict, "ticket_closed")
	c.do(t, e, e.a, "POST", "/v1/tickets/"+closed+"/attachments", big, "Content-Type", bigCT).problem(t, http.StatusConflict, "ticket_closed")
	c.do(t, e, e.a, "POST", "/v1/tickets/999/attachments", big, "Content-Type", bigCT).problem(t, http.StatusNotFound, "ticket_not_found")
	c.do(t, e, e.b, "POST", "/v1/tickets/"+closed+"/attachments", only, "Content-Type", onlyCT).problem(t, http.StatusNotFound, "ticket_not_found")
	if got := filesUnder(t, e.DataDir); !slices.Equal(got, stored) {
		t.Errorf("refused uploads stored files: %v, before %v", got, stored)
	}
	if v := c.do(t, e, e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)["version"]; v != float64(1) {
		t.Errorf("upload ticket at version %v, want 1", v)
	}
}

// filesUnder lists the files under dir.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// drivenByCmd are documented answers only a gateway wired to the
// application services gives: cmd/eventdesk's TestStream_* tests drive them.
var drivenByCmd = map[string]bool{"GET /v1/stream 101": true}

// conformStream drives POST /v1/stream/tickets and the refused upgrades of
// GET /v1/stream, which the realtime gateway answers in the API's
// envelope (cmd mounts it as here) before it looks up any credential.
func conformStream(t *testing.T, e *env, c *checker) {
	c.do(t, e, e.a, "POST", "/v1/stream/tickets", nil).want(t, http.StatusCreated)
	c.doBad(t, e, nil, "POST", "/v1/stream/tickets", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	gw := realtime.New(nil, nil, nil, realtime.Options{Fail: e.Server.Fail})
	e.Server.Handle("GET /v1/stream", gw)
	offer := []string{"Sec-WebSocket-Protocol", realtime.Subprotocol, "Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	c.do(t, e, nil, "GET", "/v1/stream", nil, offer...).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.a, "GET", "/v1/stream", nil, append(offer, "Origin", "https://elsewhere.example.com")...).
		problem(t, http.StatusForbidden, "origin_not_allowed")
	c.do(t, e, e.a, "GET", "/v1/stream", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	gw.Close()
	c.do(t, e, e.a, "GET", "/v1/stream?ticket=edt_x", nil, offer...).problem(t, http.StatusServiceUnavailable, "unavailable")
}

// conformProbes validates the probes and metrics cmd mounts beside the API.
func conformProbes(t *testing.T, c *checker) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	api.New(api.Deps{Services: &app.Services{}, Registry: reg})
	for _, tc := range []struct {
		path   string
		h      http.Handler
		status int
	}{
		{"/healthz", web.Healthz(), http.StatusOK},
		{"/readyz", web.Readyz(func(context.Context) error { return nil }), http.StatusOK},
		{"/readyz", web.Readyz(func(context.Context) error { return errors.New("database unreachable") }), http.StatusServiceUnavailable},
		{"/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("GET %s = %d, want %d", tc.path, rec.Code, tc.status)
		}
		c.check(t, httptest.NewRequest(http.MethodGet, tc.path, nil), true, rec.Code, rec.Header(), rec.Body.Bytes())
	}
}

// TestOpenAPIRejectsNonConformingResponses proves the checks above have
// teeth: responses that break the document in one way each are refused.
func TestOpenAPIRejectsNonConformingResponses(t *testing.T) {
	s := loadSpec(t)
	ticket := func() map[string]any {
		return map[string]any{
			"id": "0b6f3c2e-8d7a-4e1b-9c5d-2a4f6e8b0c1d", "tenant_id": "t1", "number": 34, "key": "#034", "title": "Hi",
			"description": "", "priority": "low", "status": "open", "status_kind": "open", "source": "api",
			"tags": []any{}, "custom": map[string]any{"any": []any{1, "two"}},
			"created_by": map[string]any{"kind": "integration", "id": "api_key"}, "assignee": nil,
			"subscribers": []any{}, "attachments": []any{}, "references": map[string]any{}, "integration": map[string]any{},
			"is_feedback_pending": false, "history_count": 0, "activity_count": 0,
			"created_at": "2026-11-22T12:00:00.123456Z", "updated_at": "2026-11-22T12:00:00.123456Z", "version": 1,
		}
	}
	okHeader := func() http.Header {
		return http.Header{"Content-Type": {"application/json"}, "Etag": {`"1"`}, "Eventdesk-Position": {"812-1043"},
			"X-Request-Id": {"r1"}}
	}
	validate := func(status int, h http.Header, body any) []*verrors.ValidationError {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/v1/tickets/0b6f3c2e-8d7a-4e1b-9c5d-2a4f6e8b0c1d", nil)
		req.Header.Set("Authorization", "Bearer edk_x")
		_, errs := s.v.ValidateHttpResponse(req, &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(b)), Request: req})
		return errs
	}
	if errs := validate(http.StatusOK, okHeader(), ticket()); len(errs) > 0 {
		t.Fatalf("the baseline ticket does not conform:\n%s", describe(errs))
	}
	mutate := func(f func(m map[string]any)) map[string]any {
		m := ticket()
		f(m)
		return m
	}
	problem := map[string]any{"type": "https://eventdesk.dev/problems/ticket_not_found", "title": "Not Found", "status": 404,
		"code": "ticket_not_found", "detail": "ticket not found", "instance": "/v1/tickets/x"}
	problemHeader := http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"r1"}}
	if errs := validate(http.StatusNotFound, problemHeader, problem); len(errs) > 0 {
		t.Fatalf("the baseline problem does not conform:\n%s", describe(errs))
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   any
	}{
		{"ticket without id", 200, okHeader(), mutate(func(m map[string]any) { delete(m, "id") })},
		{"ticket without assignee", 200, okHeader(), mutate(func(m map[string]any) { delete(m, "assignee") })},
		{"ticket with an undocumented field", 200, okHeader(), mutate(func(m map[string]any) { m["colour"] = "red" })},
		{"nested undocumented field", 200, okHeader(), mutate(func(m map[string]any) { m["created_by"].(map[string]any)["rank"] = 1 })},
		{"priority outside the enum", 200, okHeader(), mutate(func(m map[string]any) { m["priority"] = "extreme" })},
		{"actor kind outside the enum", 200, okHeader(), mutate(func(m map[string]any) { m["assignee"] = map[string]any{"kind": "robot", "id": "r"} })},
		{"actor without id or e-mail", 200, okHeader(), mutate(func(m map[string]any) { m["assignee"] = map[string]any{"kind": "agent"} })},
		{"version as a string", 200, okHeader(), mutate(func(m map[string]any) { m["version"] = "1" })},
		{"tags null", 200, okHeader(), mutate(func(m map[string]any) { m["tags"] = nil })},
		{"id not a UUID", 200, okHeader(), mutate(func(m map[string]any) { m["id"] = "abc" })},
		{"time not RFC 3339", 200, okHeader(), mutate(func(m map[string]any) { m["created_at"] = "yesterday" })},
		{"key not #034", 200, okHeader(), mutate(func(m map[string]any) { m["key"] = "34" })},
		{"status not a key", 200, okHeader(), mutate(func(m map[string]any) { m["status"] = "Open!" })},
		{"category not a key", 200, okHeader(), mutate(func(m map[string]any) { m["category"] = "Bad Key" })},
		{"ETag missing", 200, func() http.Header { h := okHeader(); h.Del("Etag"); return h }(), ticket()},
		{"ETag unquoted", 200, func() http.Header { h := okHeader(); h.Set("Etag", "1"); return h }(), ticket()},
		{"position malformed", 200, func() http.Header { h := okHeader(); h.Set("Eventdesk-Position", "812"); return h }(), ticket()},
		{"undocumented header", 200, func() http.Header { h := okHeader(); h.Set("X-Debug", "1"); return h }(), ticket()},
		{"undocumented status", http.StatusTeapot, okHeader(), ticket()},
		{"problem without code", 404, problemHeader, func() map[string]any { p := maps.Clone(problem); delete(p, "code"); return p }()},
		{"problem as plain JSON", 404, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}, problem},
		{"problem with bad errors", 404, problemHeader, with(problem, "errors", []any{map[string]any{"field": "x"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs := validate(tt.status, tt.header, tt.body); len(errs) == 0 {
				t.Errorf("the response conforms to openapi.json; want it refused")
			}
		})
	}
}

// validateResponse validates one made-up answer to method path.
func validateResponse(t *testing.T, s *openAPI, method, path string, status int, h http.Header, body any) []*verrors.ValidationError {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer edk_x")
	_, errs := s.v.ValidateHttpResponse(req, &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(b)), Request: req})
	return errs
}

// TestOpenAPIRejectsNonConformingAnswers extends the teeth to history
// pages, forms, video rooms and the shared 405: from a conforming baseline
// each, answers broken in one way each are refused.
func TestOpenAPIRejectsNonConformingAnswers(t *testing.T) {
	s := loadSpec(t)
	const (
		uuid1 = "0b6f3c2e-8d7a-4e1b-9c5d-2a4f6e8b0c1d"
		at    = "2026-11-22T12:00:00.123456Z"
	)
	actor := func() map[string]any { return map[string]any{"kind": "agent", "email": "ana@example.com"} }
	entry := func() map[string]any {
		return map[string]any{"id": uuid1, "ticket_id": uuid1, "version": 3, "type": "comment", "value": map[string]any{"text": "hi"},
			"visibility": "public", "created_by": actor(), "source": "api", "created_at": at}
	}
	form := func() map[string]any {
		return map[string]any{"id": uuid1, "slug": "damage-report", "title": "Damage", "priority": "low", "login_required": false,
			"should_notify": false, "success_message": "Thanks", "enabled": true, "created_by": actor(), "created_at": at,
			"updated_at": at, "version": 1,
			"inputs": []any{map[string]any{"type": "radio", "key": "reason", "display": "Reason", "required": true,
				"options": []any{map[string]any{"text": "Crushed", "value": "crushed"}}}},
			"submit_button": map[string]any{"title": "Submit", "title_color": "#ffffff", "background_color": "#2e31be"}}
	}
	room := func() map[string]any {
		return map[string]any{"unique_name": uuid1, "ticket_id": uuid1, "status": "open", "opened_by": actor(), "opened_at": at,
			"updated_at": at, "version": 2, "participants": []any{map[string]any{"identity": "ana@example.com", "status": "connected",
				"user": actor(), "joined_at": at}}}
	}
	token := func() map[string]any {
		return map[string]any{"access_token": "eyJh.eyJz.c2ln", "expires_at": at, "identity": "ana@example.com", "room": uuid1}
	}
	headers := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	// change returns a copy of base with f applied (base builds a fresh value).
	change := func(base func() map[string]any, f func(m map[string]any)) map[string]any {
		m := base()
		f(m)
		return m
	}
	type answer struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         any
	}
	history, forms, rooms := "/v1/tickets/"+uuid1+"/history", "/v1/forms/damage-report", "/v1/video-rooms/"+uuid1
	baselines := []answer{
		{"history entry", "POST", history, 201, headers("Eventdesk-Position", "1-2"), entry()},
		{"history page", "GET", history, 200, headers(), map[string]any{"history": []any{entry()}, "next_after_version": 3}},
		{"last history page", "GET", history, 200, headers(), map[string]any{"history": []any{}, "next_after_version": nil}},
		{"form", "GET", forms, 200, headers("ETag", `"1"`), form()},
		{"room", "GET", rooms, 200, headers(), room()},
		{"opened room", "POST", "/v1/tickets/34/video-room", 201, headers("Location", "/v1/video-rooms/"+uuid1, "Eventdesk-Position", "1-2"), room()},
		{"token", "POST", rooms + "/token", 201, headers("Cache-Control", "no-store"), token()},
	}
	for _, b := range baselines {
		if errs := validateResponse(t, s, b.method, b.path, b.status, b.header, b.body); len(errs) > 0 {
			t.Fatalf("the baseline %s does not conform:\n%s", b.name, describe(errs))
		}
	}
	tests := []answer{
		{"history entry without version", "POST", history, 201, headers("Eventdesk-Position", "1-2"),
			change(entry, func(m map[string]any) { delete(m, "version") })},
		{"history entry with ETag", "POST", history, 201, headers("Eventdesk-Position", "1-2", "ETag", `"3"`), entry()},
		{"history page without next_after_version", "GET", history, 200, headers(), map[string]any{"history": []any{entry()}}},
		{"next_after_version as a string", "GET", history, 200, headers(), map[string]any{"history": []any{entry()}, "next_after_version": "3"}},
		{"form with an undocumented member", "GET", forms, 200, headers("ETag", `"1"`), change(form, func(m map[string]any) { m["colour"] = "red" })},
		{"form without its submit button", "GET", forms, 200, headers("ETag", `"1"`), change(form, func(m map[string]any) { delete(m, "submit_button") })},
		{"input type outside the enum", "GET", forms, 200, headers("ETag", `"1"`), change(form, func(m map[string]any) {
			m["inputs"].([]any)[0].(map[string]any)["type"] = "slider"
		})},
		{"option without text", "GET", forms, 200, headers("ETag", `"1"`), change(form, func(m map[string]any) {
			delete(m["inputs"].([]any)[0].(map[string]any)["options"].([]any)[0].(map[string]any), "text")
		})},
		{"form without ETag", "GET", forms, 200, headers(), form()},
		{"room status outside the enum", "GET", rooms, 200, headers(), change(room, func(m map[string]any) { m["status"] = "paused" })},
		{"participant status outside the enum", "GET", rooms, 200, headers(), change(room, func(m map[string]any) {
			m["participants"].([]any)[0].(map[string]any)["status"] = "away"
		})},
		{"participant user with an undocumented member", "GET", rooms, 200, headers(), change(room, func(m map[string]any) {
			m["participants"].([]any)[0].(map[string]any)["user"].(map[string]any)["rank"] = 1
		})},
		{"participants null", "GET", rooms, 200, headers(), change(room, func(m map[string]any) { m["participants"] = nil })},
		{"opened room without Location", "POST", "/v1/tickets/34/video-room", 201, headers("Eventdesk-Position", "1-2"), room()},
		{"token cacheable", "POST", rooms + "/token", 201, headers("Cache-Control", "max-age=60"), token()},
		{"token not a JWT", "POST", rooms + "/token", 201, headers("Cache-Control", "no-store"), change(token, func(m map[string]any) { m["access_token"] = "abc" })},
		{"identity with a control character", "POST", rooms + "/token", 201, headers("Cache-Control", "no-store"),
			change(token, func(m map[string]any) { m["identity"] = "a\u0007b" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs := validateResponse(t, s, tt.method, tt.path, tt.status, tt.header, tt.body); len(errs) == 0 {
				t.Errorf("the response conforms to openapi.json; want it refused")
			}
		})
	}

	// The shared 405, which no operation describes.
	problem := []byte(`{"type": "https://eventdesk.dev/problems/method_not_allowed", "title": "Method Not Allowed", "status": 405,
		"code": "method_not_allowed", "detail": "DELETE is not allowed here; allowed: GET, PATCH", "instance": "/v1/tickets/x"}`)
	allowHeader := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"r1"}, "Allow": {"GET, PATCH"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				h.Del(kv[i])
			} else {
				h.Set(kv[i], kv[i+1])
			}
		}
		return h
	}
	if errs := s.sharedResponse("MethodNotAllowed", allowHeader(), problem); len(errs) > 0 {
		t.Fatalf("the baseline 405 does not conform:\n  %s", strings.Join(errs, "\n  "))
	}
	for name, r := range map[string]struct {
		h    http.Header
		body []byte
	}{
		"405 without Allow":               {allowHeader("Allow", ""), problem},
		"405 allowing FETCH":              {allowHeader("Allow", "GET, FETCH"), problem},
		"405 with an undocumented header": {allowHeader("X-Debug", "1"), problem},
		"405 as plain JSON":               {allowHeader("Content-Type", "application/json"), problem},
		"405 without X-Request-ID":        {allowHeader("X-Request-Id", ""), problem},
		"405 problem without code":        {allowHeader(), bytes.Replace(problem, []byte(`"code"`), []byte(`"kode"`), 1)},
	} {
		t.Run(name, func(t *testing.T) {
			if errs := s.sharedResponse("MethodNotAllowed", r.h, r.body); len(errs) == 0 {
				t.Errorf("the response conforms to the MethodNotAllowed response; want it refused")
			}
		})
	}
}

// conformMembers drives every documented answer of the agent, group and
// token operations.
func conformMembers(t *testing.T, e *env, c *checker) {
	// bearer sends a request with an agent's token instead of the API key.
	bearer := func(token string, headers ...string) []string {
		return append(headers, "Authorization", "Bearer "+token)
	}
	big := func(body map[string]any) string {
		raw, _ := json.Marshal(body)
		return string(raw) + strings.Repeat(" ", web.MaxBodyBytes)
	}
	// Each write operation's shared failures: 400, 401, 413, 415, 422.
	shared := func(method, path string, body map[string]any, bad string) {
		t.Helper()
		c.doBad(t, e, nil, method, path, body).problem(t, http.StatusUnauthorized, "unauthenticated")
		c.doBad(t, e, e.a, method, path, `{"a": 1,}`).problem(t, http.StatusBadRequest, "malformed_json")
		c.do(t, e, e.a, method, path, big(body)).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
		raw, _ := json.Marshal(body)
		c.doBad(t, e, e.a, method, path, string(raw), "Content-Type", "text/plain").problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		c.doBad(t, e, e.a, method, path, bad).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	}
	unknown := "7a0c4f4e-0000-4000-8000-000000000000"

	ana := c.do(t, e, e.a, "POST", "/v1/agents", map[string]any{"email": "Ana@Example.com", "name": "Ana", "role": "admin"},
		"Idempotency-Key", "agent-ana", "Eventdesk-Actor", "user:setup").want(t, http.StatusCreated).json(t)
	anaID := ana["id"].(string)
	if loc := "/v1/agents/" + anaID; ana["email"] != "ana@example.com" {
		t.Errorf("agent %s = %v, want its e-mail normalised", loc, ana)
	}
	bo := c.do(t, e, e.a, "POST", "/v1/agents", map[string]any{"email": "bo@example.com", "name": "Bo"}).want(t, http.StatusCreated).json(t)
	boID := bo["id"].(string)
	boToken := c.do(t, e, e.a, "POST", "/v1/agents/"+boID+"/tokens", nil).want(t, http.StatusCreated).json(t)["token"].(string)
	anaTok := c.do(t, e, e.a, "POST", "/v1/agents/"+anaID+"/tokens", map[string]any{}).want(t, http.StatusCreated).json(t)
	anaToken := anaTok["token"].(string)

	// Agents.
	c.do(t, e, e.a, "POST", "/v1/agents", map[string]any{"email": "ANA@example.com", "name": "Ana"}).problem(t, http.StatusConflict, "agent_email_taken")
	c.do(t, e, nil, "POST", "/v1/agents", map[string]any{"email": "cy@example.com", "name": "Cy"}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	shared("POST", "/v1/agents", map[string]any{"email": "cy@example.com", "name": "Cy"}, `{"email": "", "name": "", "role": "boss"}`)
	c.do(t, e, nil, "GET", "/v1/agents", nil, bearer(boToken)...).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", "/v1/agents", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", "/v1/agents/"+anaID, nil, bearer(anaToken)...).want(t, http.StatusOK)
	c.do(t, e, nil, "GET", "/v1/me", nil, bearer(anaToken)...).want(t, http.StatusOK)
	c.do(t, e, e.a, "GET", "/v1/me", nil).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", "/v1/me", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.doBad(t, e, nil, "GET", "/v1/agents/"+anaID, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.b, "GET", "/v1/agents/"+anaID, nil).problem(t, http.StatusNotFound, "agent_not_found")
	path := "/v1/agents/" + boID
	c.do(t, e, nil, "PATCH", path, map[string]any{"name": "Bo B"}, bearer(anaToken, "Idempotency-Key", "bo-rename")...).want(t, http.StatusOK)
	c.do(t, e, nil, "PATCH", path, map[string]any{"role": "admin"}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.a, "PATCH", "/v1/agents/"+unknown, map[string]any{"name": "X"}).problem(t, http.StatusNotFound, "agent_not_found")
	c.do(t, e, e.a, "PATCH", path, map[string]any{"name": "X"}, "If-Match", `"999"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	shared("PATCH", path, map[string]any{"name": "Bo"}, `{"role": "boss", "name": ""}`)

	// Tokens.
	tokens := "/v1/agents/" + anaID + "/tokens"
	if list := c.do(t, e, e.a, "GET", tokens, nil).want(t, http.StatusOK); strings.Contains(string(list.Body), anaToken) {
		t.Errorf("token list shows a secret: %s", list.Body)
	}
	c.doBad(t, e, nil, "GET", tokens, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", tokens, nil, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "GET", tokens, nil).problem(t, http.StatusNotFound, "agent_not_found")
	c.doBad(t, e, nil, "POST", tokens, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "POST", tokens, nil, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "POST", tokens, nil).problem(t, http.StatusNotFound, "agent_not_found")
	c.doBad(t, e, e.a, "POST", tokens, `{"a": 1,}`).problem(t, http.StatusBadRequest, "malformed_json")
	cy := c.do(t, e, e.a, "POST", "/v1/agents", map[string]any{"email": "cy@example.com", "name": "Cy"}).want(t, http.StatusCreated).json(t)
	c.do(t, e, e.a, "PATCH", "/v1/agents/"+cy["id"].(string), map[string]any{"active": false}).want(t, http.StatusOK)
	c.do(t, e, e.a, "POST", "/v1/agents/"+cy["id"].(string)+"/tokens", nil).problem(t, http.StatusConflict, "agent_inactive")
	revoke := tokens + "/" + anaTok["id"].(string)
	c.doBad(t, e, nil, "DELETE", revoke, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "DELETE", revoke, nil, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.doBad(t, e, e.a, "DELETE", revoke, nil, "Idempotency-Key", strings.Repeat("k", 256)).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	c.do(t, e, e.a, "DELETE", tokens+"/"+unknown, nil).problem(t, http.StatusNotFound, "token_not_found")

	// Groups.
	g := c.do(t, e, nil, "POST", "/v1/groups", map[string]any{"name": "Billing", "members": []string{anaID}},
		bearer(anaToken, "Idempotency-Key", "group-billing")...).want(t, http.StatusCreated).json(t)
	gPath := "/v1/groups/" + g["id"].(string)
	c.do(t, e, e.a, "POST", "/v1/groups", map[string]any{"name": "Sales"}).want(t, http.StatusCreated)
	c.do(t, e, e.a, "POST", "/v1/groups", map[string]any{"name": " billing"}).problem(t, http.StatusConflict, "group_name_taken")
	c.do(t, e, nil, "POST", "/v1/groups", map[string]any{"name": "Mine"}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	shared("POST", "/v1/groups", map[string]any{"name": "Support"}, `{"name": "", "members": ["nope"]}`)
	c.do(t, e, nil, "GET", "/v1/groups", nil, bearer(boToken)...).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", "/v1/groups", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", gPath, nil, bearer(boToken)...).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", gPath, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.b, "GET", gPath, nil).problem(t, http.StatusNotFound, "group_not_found")
	c.do(t, e, e.a, "PATCH", gPath, map[string]any{"name": "Invoices", "members": []string{anaID, boID}}, "If-Match", `"1"`).want(t, http.StatusOK)
	c.do(t, e, e.a, "PATCH", gPath, map[string]any{"name": "Sales"}).problem(t, http.StatusConflict, "group_name_taken")
	c.do(t, e, nil, "PATCH", gPath, map[string]any{"name": "Mine"}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "PATCH", gPath, map[string]any{"name": "Mine"}).problem(t, http.StatusNotFound, "group_not_found")
	c.do(t, e, e.a, "PATCH", gPath, map[string]any{"name": "Mine"}, "If-Match", `"999"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	shared("PATCH", gPath, map[string]any{"name": "Invoices"}, `{"name": "", "members": ["nope"]}`)
	members := gPath + "/members"
	c.do(t, e, e.a, "PUT", members, map[string]any{"members": []string{boID}}, "Idempotency-Key", "members-1").want(t, http.StatusOK)
	c.do(t, e, nil, "PUT", members, map[string]any{"members": []string{}}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "PUT", members, map[string]any{"members": []string{}}).problem(t, http.StatusNotFound, "group_not_found")
	c.do(t, e, e.a, "PUT", members, map[string]any{"members": []string{}}, "If-Match", `"999"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	shared("PUT", members, map[string]any{"members": []string{boID}}, `{"members": ["nope"]}`)

	// Revoked last: ana's token served above.
	c.do(t, e, e.a, "DELETE", revoke, nil, "Idempotency-Key", "revoke-ana").want(t, http.StatusNoContent)
	c.do(t, e, nil, "GET", "/v1/agents", nil, bearer(anaToken)...).problem(t, http.StatusUnauthorized, "unauthenticated")
}
