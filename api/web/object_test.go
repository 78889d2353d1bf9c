package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/api/web"
)

// TestReadObject: the one JSON body reader refuses each bad body with a
// reason a surface can word, and with the native problem.
func TestReadObject(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *web.BodyError // nil: accepted
		code string
	}{
		{"object", ` {"a": 2, "b": {"c": [1]}} `, nil, ""},
		{"repeated member", `{"a": 1, "a": 2}`, &web.BodyError{Reason: web.BodyDuplicate, Field: "a"}, "duplicate_member"},
		{"NUL", `{"a": "x\u0000"}`, &web.BodyError{Reason: web.BodyBadText, Field: "a"}, "validation_failed"},
		{"empty", "", &web.BodyError{Reason: web.BodyEmpty}, "malformed_json"},
		{"whitespace", " \r\n\t ", &web.BodyError{Reason: web.BodyEmpty}, "malformed_json"},
		{"too large", `{"a": "` + strings.Repeat("x", 40) + `"}`, &web.BodyError{Reason: web.BodyTooLarge, Limit: 40}, "body_too_large"},
		{"trailing comma", `{"title": "a",}`, &web.BodyError{Reason: web.BodyMalformed, Offset: 15,
			Syntax: "invalid character '}' looking for beginning of object key string"}, "malformed_json"},
		{"truncated", `{"title": "a"`, &web.BodyError{Reason: web.BodyMalformed, Offset: 13, Syntax: "unexpected end of JSON input"}, "malformed_json"},
		{"trailing garbage", `{} x`, &web.BodyError{Reason: web.BodyMalformed, Offset: 4,
			Syntax: "invalid character 'x' after top-level value"}, "malformed_json"},
		{"not JSON at all", "\u00a0{}", &web.BodyError{Reason: web.BodyMalformed, Offset: 1,
			Syntax: "invalid character 'Â' looking for beginning of value"}, "malformed_json"},
		{"array", `[{"a": 1}]`, &web.BodyError{Reason: web.BodyNotObject, Got: "an array"}, "malformed_json"},
		{"null", ` null `, &web.BodyError{Reason: web.BodyNotObject, Got: "null"}, "malformed_json"},
		{"string", `"a"`, &web.BodyError{Reason: web.BodyNotObject, Got: "a string"}, "malformed_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			m, err := web.ReadObject(r, 40)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ReadObject = %v, want members", err)
				}
				want := map[string]json.RawMessage{"a": json.RawMessage("2"), "b": json.RawMessage(`{"c": [1]}`)}
				if diff := cmp.Diff(want, m); diff != "" {
					t.Errorf("members (-want +got):\n%s", diff)
				}
				return
			}
			var be *web.BodyError
			if !errors.As(err, &be) {
				t.Fatalf("ReadObject = %v, want a *BodyError", err)
			}
			if diff := cmp.Diff(tt.want, be); diff != "" {
				t.Errorf("BodyError (-want +got):\n%s", diff)
			}
			c := web.Classify(err)
			if c.Code != tt.code || c.Status != be.Problem().Status || c.Message != err.Error() {
				t.Errorf("Classify = %+v, want code %s and the problem's status and detail", c, tt.code)
			}
		})
	}
}

func TestReadBodyUnreadable(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", errReader{})
	_, err := web.ReadObject(r, 16)
	if c := web.Classify(err); c.Code != "unreadable_body" || c.Status != http.StatusBadRequest {
		t.Errorf("unreadable body: %+v, want 400 unreadable_body", c)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestText(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"a b"`, "a b", true}, {`9876543210`, "9876543210", true}, {`-1.5`, "-1.5", true},
		{``, "", true}, {` null `, "", true}, {`true`, "", false}, {`[]`, "", false}, {`{}`, "", false},
	} {
		if got, ok := web.Text(json.RawMessage(tt.raw)); got != tt.want || ok != tt.ok {
			t.Errorf("Text(%s) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}
