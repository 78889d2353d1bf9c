package web_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/api/web"
)

// TestFinding1And2_TextIsCheckedOnce: every JSON body is refused, naming
// the request's own member path, when a string (a member name too) holds
// NUL, invalid UTF-8 or an unpaired surrogate; valid text, escaped or not,
// passes.
func TestFinding1And2_TextIsCheckedOnce(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *web.BodyError // nil: accepted
	}{
		{"plain", `{"title": "café ☕", "n": 1.5e3, "ok": true, "x": null}`, nil},
		{"escaped pair", `{"title": "\ud83d\ude00 \u00e9 \"q\" \\u0000"}`, nil},
		{"NUL escape", `{"title": "a\u0000b"}`, &web.BodyError{Reason: web.BodyBadText, Field: "title"}},
		{"NUL deep", `{"custom": {"size": ["s", "\u0000"]}}`, &web.BodyError{Reason: web.BodyBadText, Field: "custom.size[1]"}},
		{"lone high surrogate", `{"value": {"note": "\ud800"}}`, &web.BodyError{Reason: web.BodyBadText, Field: "value.note"}},
		{"high then not low", `{"a": "\ud800\u0041"}`, &web.BodyError{Reason: web.BodyBadText, Field: "a"}},
		{"lone low surrogate", `{"a": "x\udc00"}`, &web.BodyError{Reason: web.BodyBadText, Field: "a"}},
		{"invalid UTF-8", "{\"a\": \"\xff\"}", &web.BodyError{Reason: web.BodyBadText, Field: "a"}},
		{"bad member name", `{"custom": {"\u0000": 1}}`, &web.BodyError{Reason: web.BodyBadText, Field: "custom", InName: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := web.CheckObject([]byte(tt.body))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckObject = %v, want nil", err)
				}
				return
			}
			var be *web.BodyError
			if !errors.As(err, &be) {
				t.Fatalf("CheckObject = %v, want a *BodyError", err)
			}
			if diff := cmp.Diff(tt.want, be); diff != "" {
				t.Errorf("BodyError (-want +got):\n%s", diff)
			}
			c := web.Classify(err)
			if c.Status != http.StatusUnprocessableEntity || c.Code != "validation_failed" || len(c.Fields) != 1 ||
				c.Fields[0].Field != tt.want.Field || c.Fields[0].Code != "invalid_text" {
				t.Errorf("Classify = %+v, want 422 validation_failed naming %s with code invalid_text", c, tt.want.Field)
			}
		})
	}
}

// TestFinding9_RepeatedMembers: a member named twice in one object, at any
// depth, is a 400 naming it; the same name in two objects is fine.
func TestFinding9_RepeatedMembers(t *testing.T) {
	if err := web.CheckObject([]byte(`{"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]}`)); err != nil {
		t.Fatalf("CheckObject = %v, want nil", err)
	}
	for body, field := range map[string]string{
		`{"title":"a","title":"b"}`:          "title",
		`{"a": {"x": 1, "y": 2, "x": 3}}`:    "a.x",
		`{"a": [{}, {"k": 1, "\u006b": 2}]}`: "a[1].k",
	} {
		err := web.CheckObject([]byte(body))
		c := web.Classify(err)
		if c.Status != http.StatusBadRequest || c.Code != "duplicate_member" || !strings.Contains(c.Message, field) {
			t.Errorf("%s: Classify = %+v, want 400 duplicate_member naming %s", body, c, field)
		}
	}
}

// TestFinding10_NestingDepth: MaxJSONDepth levels pass, one more is a 400.
func TestFinding10_NestingDepth(t *testing.T) {
	nest := func(n int) string {
		return `{"v": ` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`
	}
	if err := web.CheckObject([]byte(nest(web.MaxJSONDepth))); err != nil {
		t.Fatalf("%d levels: %v, want nil", web.MaxJSONDepth, err)
	}
	for _, n := range []int{web.MaxJSONDepth + 1, 9998} {
		c := web.Classify(web.CheckObject([]byte(nest(n))))
		if c.Status != http.StatusBadRequest || c.Code != "too_deep" {
			t.Errorf("%d levels: %+v, want 400 too_deep", n, c)
		}
	}
}

// TestFinding12_MediaTypes: media types compare without regard to case;
// look-alikes and other charsets are 415.
func TestFinding12_MediaTypes(t *testing.T) {
	for ct, ok := range map[string]bool{
		"": true, "application/json": true, "APPLICATION/JSON": true, "Application/Json; Charset=UTF-8": true,
		"application/merge-patch+json": true, "application/json; charset=utf-16": false, "application/jsonx": false,
		"text/json": false, "text/plain": false, "application/json;;": false,
	} {
		err := web.CheckMediaType(ct)
		if ok != (err == nil) {
			t.Errorf("CheckMediaType(%q) = %v, want accepted %v", ct, err, ok)
		}
		if err != nil {
			if c := web.Classify(err); c.Status != http.StatusUnsupportedMediaType {
				t.Errorf("CheckMediaType(%q): status %d, want 415", ct, c.Status)
			}
		}
	}
}

// TestFinding3And13_CheckRequest: a path that is not text is 404, a query
// parameter or a read header that is not text 422, a repeated credential
// 401, another repeated header 422.
func TestFinding3And13_CheckRequest(t *testing.T) {
	tests := []struct {
		name   string
		target string
		header [][2]string
		status int
		field  string
	}{
		{"fine", "/v1/tickets?q=caf%C3%A9", [][2]string{{"Authorization", "Bearer k"}}, 0, ""},
		{"path", "/v1/attachments/%FF", nil, http.StatusNotFound, ""},
		{"path NUL", "/v1/tickets/%00", nil, http.StatusNotFound, ""},
		{"query NUL", "/v1/tickets?q=a%00", nil, http.StatusUnprocessableEntity, "q"},
		{"query UTF-8", "/v1/events?type=%FF", nil, http.StatusUnprocessableEntity, "type"},
		{"header", "/", [][2]string{{"Idempotency-Key", "k\xff"}}, http.StatusUnprocessableEntity, "Idempotency-Key"},
		{"two Authorization", "/", [][2]string{{"Authorization", "Bearer a"}, {"Authorization", "Bearer b"}}, http.StatusUnauthorized, ""},
		{"two keys", "/", [][2]string{{"Idempotency-Key", "a"}, {"Idempotency-Key", "b"}}, http.StatusUnprocessableEntity, "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			for _, h := range tt.header {
				r.Header.Add(h[0], h[1])
			}
			err := web.CheckRequest(r)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("CheckRequest = %v, want nil", err)
				}
				return
			}
			c := web.Classify(err)
			if c.Status != tt.status {
				t.Fatalf("CheckRequest: %+v, want status %d", c, tt.status)
			}
			if tt.field != "" && (len(c.Fields) != 1 || c.Fields[0].Field != tt.field) {
				t.Errorf("fields %+v, want %s", c.Fields, tt.field)
			}
		})
	}
}
