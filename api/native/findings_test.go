package native_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Regression tests of the black-box probe's findings (issue 14, §3) on the
// native API: each asserts the exact status and problem code.

// raw sends body as is (not JSON-encoded) with headers, as tn.
func (e *env) raw(tn string, method, path, body string, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.HTTP.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tn != "" {
		req.Header.Set("Authorization", "Bearer "+tn)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return sendReq(e.t, req)
}

func sendReq(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{}
	r.Status, r.Header, r.Body = res.StatusCode, res.Header, b
	return r
}

// invalidText checks r is a 422 naming field with code invalid_text.
func invalidText(t *testing.T, r response, field string) {
	t.Helper()
	p := r.problem(t, http.StatusUnprocessableEntity, "validation_failed")
	errs, _ := p["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one naming %s", p["errors"], field)
	}
	fe := errs[0].(map[string]any)
	if fe["field"] != field || fe["code"] != "invalid_text" {
		t.Errorf("error %v, want field %s, code invalid_text", fe, field)
	}
}

func TestFinding1_NULRefusedByField(t *testing.T) {
	e := newEnv(t)
	key := e.a.Creds.APIKey
	invalidText(t, e.raw(key, "POST", "/v1/tickets", `{"title": "a\u0000b"}`), "title")
	id := e.createTicket(e.a, map[string]any{"title": "Parcel"})["id"].(string)
	invalidText(t, e.raw(key, "PATCH", "/v1/tickets/"+id, `{"custom": {"size": "\u0000"}}`), "custom.size")
	invalidText(t, e.raw(key, "POST", "/v1/tickets/"+id+"/activities", `{"text": "x\u0000"}`), "text")
}

func TestFinding2_InvalidUTF8AndLoneSurrogatesRefused(t *testing.T) {
	e := newEnv(t)
	key := e.a.Creds.APIKey
	id := e.createTicket(e.a, map[string]any{"title": "Parcel"})["id"].(string)
	invalidText(t, e.raw(key, "POST", "/v1/tickets/"+id+"/history", `{"type": "comment", "value": {"text": "\ud800"}}`), "value.text")
	invalidText(t, e.raw(key, "POST", "/v1/tickets", "{\"title\": \"caf\xe9\"}"), "title")
	invalidText(t, e.raw(key, "PATCH", "/v1/tickets/"+id, `{"title": "x\udc00y"}`), "title")
	// A pair is one character, and is kept.
	got := e.do(e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"title": "ok 😀"}).want(t, http.StatusOK).json(t)
	if got["title"] != "ok 😀" {
		t.Errorf("title %q, want the emoji kept", got["title"])
	}
}

func TestFinding3_BadTextInParametersAndHeaders(t *testing.T) {
	e := newEnv(t)
	key := e.a.Creds.APIKey
	for _, q := range []string{"q=%00", "status=%FF", "tag=a%00", "assignee=%C3", "category=%FF"} {
		field, _, _ := strings.Cut(q, "=")
		invalidText(t, e.raw(key, "GET", "/v1/tickets?"+q, ""), field)
	}
	invalidText(t, e.raw(key, "GET", "/v1/events?type=%FF", ""), "type")
	e.raw(key, "GET", "/v1/attachments/%FF", "").problem(t, http.StatusNotFound, "not_found")
	e.raw(key, "GET", "/v1/tickets/%00", "").problem(t, http.StatusNotFound, "not_found")
	invalidText(t, e.raw(key, "POST", "/v1/tickets", `{"title": "a"}`, "Idempotency-Key", "k\xff"), "Idempotency-Key")
	// The key still works for writes after all that.
	e.raw(key, "POST", "/v1/tickets", `{"title": "a"}`, "Idempotency-Key", "k1").want(t, http.StatusCreated)
}

// multipartBody is a body with the given parts (name, filename, content).
func filesBody(t *testing.T, parts ...[3]string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		fw, err := w.CreateFormFile(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(fw, p[2])
	}
	w.Close()
	return b.String(), w.FormDataContentType()
}

func TestFinding4_TruncatedMultipart(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "Parcel"})["id"].(string)
	body, ct := filesBody(t, [3]string{"file", "a.txt", strings.Repeat("x", 4096)})
	for _, cut := range []int{len(body) - 10, len(body) / 2} {
		req, _ := http.NewRequest("POST", e.HTTP.URL+"/v1/tickets/"+id+"/attachments", strings.NewReader(body[:cut]))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.a.Creds.APIKey)
		sendReq(t, req).problem(t, http.StatusBadRequest, "malformed_multipart")
	}
	tk := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)
	if atts := tk["attachments"].([]any); len(atts) != 0 {
		t.Errorf("attachments %v, want none stored from truncated bodies", atts)
	}
}

func TestFinding6_SystemIdentitiesRefusedAndPrincipalRecorded(t *testing.T) {
	e := newEnv(t)
	for _, actor := range []string{"system:cli", "integration:support_api", "integration:leadsquared", "integration:fynd:app1", "integration:api_key"} {
		e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "x"}, "Eventdesk-Actor", actor).
			problem(t, http.StatusUnprocessableEntity, "validation_failed")
	}
	res := e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "for a user"}, "Eventdesk-Actor", "user:42").want(t, http.StatusCreated)
	evs := e.events(e.a, "stream_type=ticket", res.Header.Get("Eventdesk-Position"))
	last := evs[len(evs)-1].(map[string]any)["metadata"].(map[string]any)
	if last["actor"] != "user:42" || last["principal"] != "api_key" {
		t.Errorf("metadata %v, want actor user:42 and principal api_key", last)
	}
}

func TestFinding7_RefusedCreateTakesNoNumber(t *testing.T) {
	e := newEnv(t)
	if n := e.createTicket(e.a, map[string]any{"title": "one"})["number"]; n != float64(1) {
		t.Fatalf("first ticket #%v, want #1", n)
	}
	invalidText(t, e.raw(e.a.Creds.APIKey, "POST", "/v1/tickets", `{"title": "a\u0000"}`), "title")
	if n := e.createTicket(e.a, map[string]any{"title": "two"})["number"]; n != float64(2) {
		t.Errorf("ticket after a refused create #%v, want #2", n)
	}
}

func TestFinding8_ErrorsNameTheFieldAndTheRule(t *testing.T) {
	e := newEnv(t)
	key := e.a.Creds.APIKey
	for _, body := range []string{`{"title": "a", "tags": 1e400}`, `{"title": 1e400}`, `{"title": "a", "custom": {"x": "\u0000"}}`} {
		r := e.raw(key, "POST", "/v1/tickets", body)
		p := r.problem(t, http.StatusUnprocessableEntity, "validation_failed")
		for _, leak := range []string{"Go value", "float64", "unmarshal", "events[", "UTF8", "syntax for type"} {
			if strings.Contains(string(r.Body), leak) {
				t.Errorf("%s: problem %v says %q", body, p, leak)
			}
		}
	}
}

func TestFinding9_RepeatedMembers(t *testing.T) {
	e := newEnv(t)
	p := e.raw(e.a.Creds.APIKey, "POST", "/v1/tickets", `{"title":"a","title":"b"}`).problem(t, http.StatusBadRequest, "duplicate_member")
	if !strings.Contains(p["detail"].(string), "title") {
		t.Errorf("detail %q, want it to name title", p["detail"])
	}
}

func TestFinding10_NestingDepth(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "Parcel"})["id"].(string)
	deep := func(n int) string {
		return `{"type": "comment", "value": {"v": ` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`
	}
	e.raw(e.a.Creds.APIKey, "POST", "/v1/tickets/"+id+"/history", deep(9998)).problem(t, http.StatusBadRequest, "too_deep")
	e.raw(e.a.Creds.APIKey, "POST", "/v1/tickets/"+id+"/history", deep(60)).want(t, http.StatusCreated)
}

func TestFinding11_NoStoreAndNoSniff(t *testing.T) {
	e := newEnv(t)
	for _, r := range []response{
		e.do(e.a, "GET", "/v1/tickets", nil).want(t, http.StatusOK),
		e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "a"}).want(t, http.StatusCreated),
		e.do(nil, "GET", "/v1/tickets", nil).want(t, http.StatusUnauthorized),
		e.do(e.a, "GET", "/v1/nope", nil).want(t, http.StatusNotFound),
	} {
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%d: Cache-Control %q, X-Content-Type-Options %q; want no-store, nosniff", r.Status,
				r.Header.Get("Cache-Control"), r.Header.Get("X-Content-Type-Options"))
		}
	}
}

func TestFinding12_MediaTypes(t *testing.T) {
	e := newEnv(t)
	for ct, want := range map[string]int{
		"APPLICATION/JSON":                 http.StatusCreated,
		"application/json; charset=UTF-8":  http.StatusCreated,
		"application/jsonx":                http.StatusUnsupportedMediaType,
		"application/json; charset=utf-16": http.StatusUnsupportedMediaType,
	} {
		r := e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "a"}, "Content-Type", ct)
		if want == http.StatusCreated {
			r.want(t, want)
		} else {
			r.problem(t, want, "unsupported_media_type")
		}
	}
}

func TestFinding13_Looseness(t *testing.T) {
	e := newEnv(t)
	key := e.a.Creds.APIKey
	id := e.createTicket(e.a, map[string]any{"title": "Parcel"})["id"].(string)
	// Two Authorization headers, even both valid: 401.
	r := e.raw(key, "GET", "/v1/tickets", "", "Authorization", "Bearer "+key)
	r.problem(t, http.StatusUnauthorized, "unauthenticated")
	// Flags are true or false.
	p := e.do(e.a, "GET", "/v1/tickets/"+id+"/history?include_internal=maybe", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fields(p), []string{"include_internal"}) {
		t.Errorf("fields %v, want include_internal", fields(p))
	}
	e.do(e.a, "GET", "/v1/events?follow=yes", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	// Two file parts: refused, nothing stored.
	body, ct := filesBody(t, [3]string{"file", "a.txt", "first"}, [3]string{"file", "b.txt", "second"})
	req, _ := http.NewRequest("POST", e.HTTP.URL+"/v1/tickets/"+id+"/attachments", strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+key)
	p = sendReq(t, req).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fields(p), []string{"file"}) {
		t.Errorf("fields %v, want file", fields(p))
	}
	tk := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)
	if atts := tk["attachments"].([]any); len(atts) != 0 {
		t.Errorf("attachments %v, want none", atts)
	}
	// Paths no surface serves answer problem+json.
	for _, path := range []string{"/api/unknown", "/nothing/here"} {
		e.do(nil, "GET", path, nil).problem(t, http.StatusNotFound, "no_route")
	}
}
