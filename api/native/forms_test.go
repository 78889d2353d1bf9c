package native_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/form"
)

// damageForm is a form using every member and every input type.
func damageForm() map[string]any {
	return map[string]any{
		"slug": "damage-report", "title": "Damage report", "description": "Tell us what arrived damaged.",
		"header_image": "https://cdn.example.com/header.png",
		"inputs": []any{
			map[string]any{"type": "text", "key": "name", "display": "Name", "required": true, "placeholder": "Your name"},
			map[string]any{"type": "email", "key": "email", "display": "E-mail", "required": true, "regex": `\S+@\S+\.\S+`},
			map[string]any{"type": "number", "key": "order", "display": "Order number", "required": false},
			map[string]any{"type": "mobile", "key": "phone", "display": "Phone", "required": false},
			map[string]any{"type": "dropdown", "key": "reason", "display": "Reason", "required": true, "options": []any{
				map[string]any{"text": "Crushed box", "value": "crushed"}, map[string]any{"text": "Wrong item", "value": "wrong"},
			}},
			map[string]any{"type": "radio", "key": "contact", "display": "Contact by", "required": false, "options": []any{
				map[string]any{"text": "E-mail", "value": "email"}, map[string]any{"text": "Phone", "value": "phone"},
			}},
			map[string]any{"type": "checkbox", "key": "parts", "display": "Damaged parts", "required": false, "options": []any{
				map[string]any{"text": "Box", "value": "box"}, map[string]any{"text": "Item", "value": "item"},
			}},
			map[string]any{"type": "date", "key": "arrived", "display": "Arrived on", "required": false},
			map[string]any{"type": "textarea", "key": "details", "display": "Details", "required": false},
			map[string]any{"type": "file", "key": "photo", "display": "Photo", "required": false},
		},
		"priority": "high", "category": "shipping", "login_required": true, "should_notify": true,
		"success_message": "Thanks, we are on it.",
		"submit_button":   map[string]any{"title": "Send", "title_color": "#ffffff", "background_color": "#112233"},
		"poll_for_assignment": map[string]any{"duration": 60, "message": "Finding an agent", "success_message": "Found one",
			"failure_message": "Nobody is free"},
	}
}

// withCategories gives tn the ticket category "shipping".
func (e *env) withCategories(tn *apitest.Tenant) {
	e.t.Helper()
	e.do(tn, "PUT", "/v1/config/categories", map[string]any{"categories": []any{
		map[string]any{"key": "shipping", "display": "Shipping"},
	}}).want(e.t, http.StatusOK)
}

func TestFormLifecycle(t *testing.T) {
	e := newEnv(t)
	e.withCategories(e.a)
	created := e.do(e.a, "POST", "/v1/forms", damageForm()).want(t, http.StatusCreated)
	f := created.json(t)
	if created.Header.Get("Location") != "/v1/forms/damage-report" || created.Header.Get("ETag") != `"1"` ||
		created.Header.Get("Eventdesk-Position") == "" {
		t.Errorf("headers = %v, want Location /v1/forms/damage-report, ETag \"1\" and Eventdesk-Position", created.Header)
	}
	if _, err := uuid.Parse(f["id"].(string)); err != nil {
		t.Errorf("id = %v, want a UUID", f["id"])
	}
	// The form answers every member it was given, and its own.
	want := damageForm()
	for _, k := range []string{"id", "created_at", "updated_at"} {
		want[k] = f[k]
	}
	want["enabled"], want["version"] = true, float64(1)
	want["created_by"] = map[string]any{"id": "api_key", "kind": "integration"}
	if diff := cmp.Diff(roundTrip(t, want), f); diff != "" {
		t.Errorf("created form (-want +got):\n%s", diff)
	}
	got := e.do(e.a, "GET", "/v1/forms/damage-report", nil).want(t, http.StatusOK)
	if diff := cmp.Diff(f, got.json(t)); diff != "" || got.Header.Get("ETag") != `"1"` {
		t.Errorf("GET form (-created +got), ETag %s:\n%s", got.Header.Get("ETag"), diff)
	}
	// Slugs are unique per tenant.
	e.do(e.a, "POST", "/v1/forms", damageForm()).problem(t, http.StatusConflict, "form_already_exists")

	// PUT replaces everything: members left out get their defaults.
	put := e.do(e.a, "PUT", "/v1/forms/damage-report", map[string]any{
		"title": "Damaged parcel", "inputs": []any{map[string]any{"type": "textarea", "key": "details", "required": true}},
	}, "If-Match", `"1"`).want(t, http.StatusOK)
	u := put.json(t)
	if put.Header.Get("ETag") != `"2"` || put.Header.Get("Eventdesk-Position") == "" || u["version"] != float64(2) {
		t.Errorf("PUT headers %v, version %v; want ETag \"2\", a position, version 2", put.Header, u["version"])
	}
	wantPut := map[string]any{"title": "Damaged parcel", "priority": "low", "success_message": form.DefaultSuccessMessage,
		"login_required": false, "submit_button": map[string]any{"title": "Submit", "title_color": "#ffffff", "background_color": "#2e31be"},
		"inputs": []any{map[string]any{"type": "textarea", "key": "details", "display": "details", "required": true}}}
	for k, v := range wantPut {
		if !cmp.Equal(u[k], v) {
			t.Errorf("after PUT %s = %v, want %v", k, u[k], v)
		}
	}
	for _, k := range []string{"description", "header_image", "category", "poll_for_assignment"} {
		if _, ok := u[k]; ok {
			t.Errorf("after PUT %s = %v, want it gone", k, u[k])
		}
	}
	if u["id"] != f["id"] || u["created_at"] != f["created_at"] || u["slug"] != "damage-report" {
		t.Errorf("PUT changed identity: %v", u)
	}
	// A stale If-Match is refused and changes nothing; the body may repeat the slug but not change it.
	e.do(e.a, "PUT", "/v1/forms/damage-report", damageForm(), "If-Match", `"1"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	e.do(e.a, "PUT", "/v1/forms/damage-report", damageForm(), "If-Match", "yesterday").problem(t, http.StatusBadRequest, "invalid_if_match")
	renamed := damageForm()
	renamed["slug"] = "other"
	p := e.do(e.a, "PUT", "/v1/forms/damage-report", renamed).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if diff := cmp.Diff([]string{"slug"}, fields(p)); diff != "" {
		t.Errorf("slug change fields (-want +got):\n%s", diff)
	}
	if got := e.do(e.a, "GET", "/v1/forms/damage-report", nil).want(t, http.StatusOK).json(t); got["title"] != "Damaged parcel" {
		t.Errorf("title = %v after refused PUTs, want Damaged parcel", got["title"])
	}
	// The same definition again records nothing.
	same := e.do(e.a, "PUT", "/v1/forms/damage-report", map[string]any{
		"slug": "damage-report", "title": "Damaged parcel", "inputs": []any{map[string]any{"type": "textarea", "key": "details", "required": true}},
	}).want(t, http.StatusOK)
	if same.Header.Get("ETag") != `"2"` {
		t.Errorf("no-op PUT ETag = %s, want \"2\"", same.Header.Get("ETag"))
	}
	e.do(e.a, "PUT", "/v1/forms/nope", damageForm()).problem(t, http.StatusNotFound, "form_not_found")
	e.do(e.a, "GET", "/v1/forms/nope", nil).problem(t, http.StatusNotFound, "form_not_found")
	e.do(e.a, "GET", "/v1/forms/..%2F..%2Fetc", nil).problem(t, http.StatusNotFound, "form_not_found")

	// The list holds every form, oldest first.
	last := e.do(e.a, "POST", "/v1/forms", map[string]any{"slug": "contact", "title": "Contact us",
		"inputs": []any{map[string]any{"type": "text", "key": "message"}}}).want(t, http.StatusCreated).Header.Get("Eventdesk-Position")
	list := e.do(e.a, "GET", "/v1/forms", nil).want(t, http.StatusOK).json(t)["forms"].([]any)
	var slugs []string
	for _, f := range list {
		slugs = append(slugs, f.(map[string]any)["slug"].(string))
	}
	if diff := cmp.Diff([]string{"damage-report", "contact"}, slugs); diff != "" {
		t.Errorf("listed slugs (-want +got):\n%s", diff)
	}
	// Forms are event-sourced.
	evs := e.events(e.a, "stream_type=form", last)
	var types []string
	for _, ev := range evs {
		types = append(types, ev.(map[string]any)["type"].(string))
	}
	if diff := cmp.Diff([]string{"form.created", "form.updated", "form.created"}, types); diff != "" {
		t.Errorf("form events (-want +got):\n%s", diff)
	}
}

func TestFormSubmit(t *testing.T) {
	e := newEnv(t)
	e.withCategories(e.a)
	e.do(e.a, "POST", "/v1/forms", damageForm()).want(t, http.StatusCreated)
	// login_required: the native caller holds an API key, so it may submit.
	res := e.do(e.a, "POST", "/v1/forms/damage-report/submit", map[string]any{
		"response": []any{
			map[string]any{"key": "name", "value": "  Ana  "},
			map[string]any{"key": "email", "value": "ana@example.com"},
			map[string]any{"key": "order", "value": 1234},
			map[string]any{"key": "phone", "value": "+91 99162 48135"},
			map[string]any{"key": "reason", "value": "crushed"},
			map[string]any{"key": "parts", "value": []any{"box", "item", "box"}},
			map[string]any{"key": "arrived", "value": "2025-03-01"},
			map[string]any{"key": "details", "value": ""},
			map[string]any{"key": "photo", "value": "https://cdn.example.com/p.jpg"},
		},
		"attachments": []any{map[string]any{"type": "image", "value": "https://cdn.example.com/p.jpg", "display": "photo"}},
	}).want(t, http.StatusCreated)
	body := res.json(t)
	if body["message"] != "Thanks, we are on it." {
		t.Errorf("message = %v, want the form's success message", body["message"])
	}
	tk := body["ticket"].(map[string]any)
	id := tk["id"].(string)
	if res.Header.Get("Eventdesk-Position") == "" || res.Header.Get("Location") != "/v1/tickets/"+id {
		t.Errorf("headers = %v, want Eventdesk-Position and Location /v1/tickets/%s", res.Header, id)
	}
	if tk["source"] != "form" || tk["title"] != "Damage report Response" || tk["priority"] != "high" || tk["category"] != "shipping" {
		t.Errorf("ticket = %v, want source form, title \"Damage report Response\", priority high, category shipping", tk)
	}
	wantForm := map[string]any{"slug": "damage-report", "fields": []any{
		map[string]any{"key": "name", "value": "Ana"},
		map[string]any{"key": "email", "value": "ana@example.com"},
		map[string]any{"key": "order", "value": float64(1234)},
		map[string]any{"key": "phone", "value": "+91 99162 48135"},
		map[string]any{"key": "reason", "value": "crushed"},
		map[string]any{"key": "parts", "value": []any{"box", "item"}},
		map[string]any{"key": "arrived", "value": "2025-03-01"},
		map[string]any{"key": "photo", "value": "https://cdn.example.com/p.jpg"},
	}}
	if diff := cmp.Diff(wantForm, tk["form"]); diff != "" {
		t.Errorf("ticket form (-want +got):\n%s", diff)
	}
	wantAtt := []any{map[string]any{"type": "image", "value": "https://cdn.example.com/p.jpg", "display": "photo"}}
	if diff := cmp.Diff(wantAtt, tk["attachments"]); diff != "" {
		t.Errorf("ticket attachments (-want +got):\n%s", diff)
	}
	if d := tk["description"].(string); !strings.Contains(d, "Reason: Crushed box") || !strings.Contains(d, "Damaged parts: Box, Item") {
		t.Errorf("description %q does not show the answers by their labels", d)
	}
	// The ticket is an ordinary ticket: native reads and its audit trail show it.
	if got := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t); got["source"] != "form" {
		t.Errorf("GET ticket source = %v, want form", got["source"])
	}
	evs := e.do(e.a, "GET", "/v1/tickets/"+id+"/events", nil).want(t, http.StatusOK).json(t)["events"].([]any)
	if first := evs[0].(map[string]any); first["type"] != "ticket.created" || first["metadata"].(map[string]any)["source"] != "form" {
		t.Errorf("first event = %v, want ticket.created with source form", first)
	}

	// An invalid submission lists every bad answer and attachment, and stores nothing.
	bad := e.do(e.a, "POST", "/v1/forms/damage-report/submit", map[string]any{
		"response": []any{
			map[string]any{"key": "email", "value": "not-an-address"},
			map[string]any{"key": "order", "value": "twelve"},
			map[string]any{"key": "phone", "value": "12"},
			map[string]any{"key": "reason", "value": "lost"},
			map[string]any{"key": "contact", "value": []any{"email"}},
			map[string]any{"key": "parts", "value": []any{"box", "lid"}},
			map[string]any{"key": "arrived", "value": "yesterday"},
			map[string]any{"key": "colour", "value": "red"},
			map[string]any{"key": "photo", "value": 5},
		},
		"attachments": []any{map[string]any{"type": "pdf", "value": "x"}, map[string]any{"type": "image"}},
	})
	p := bad.problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields := []string{"response[name]", "response[email]", "response[order]", "response[phone]", "response[reason]",
		"response[contact]", "response[parts]", "response[arrived]", "response[colour]", "response[photo]",
		"attachments[0].type", "attachments[1].value"}
	if got := fields(p); !sameSet(got, wantFields) {
		t.Errorf("fields = %v, want %v", got, wantFields)
	}
	codes := map[string]string{}
	for _, fe := range p["errors"].([]any) {
		m := fe.(map[string]any)
		codes[m["field"].(string)] = m["code"].(string)
	}
	for f, code := range map[string]string{"response[name]": "response_required", "response[colour]": "unknown_response",
		"response[email]": "invalid_response", "attachments[0].type": "not_allowed"} {
		if codes[f] != code {
			t.Errorf("code of %s = %q, want %q", f, codes[f], code)
		}
	}
	if !strings.Contains(p["detail"].(string), "image, video, file") {
		t.Errorf("detail %q does not list the allowed asset types", p["detail"])
	}
	// Answers alone are listed in full too.
	p = e.do(e.a, "POST", "/v1/forms/damage-report/submit", map[string]any{"response": []any{
		map[string]any{"key": "email", "value": "x"}, map[string]any{"key": "reason", "value": "lost"},
	}}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := fields(p); !sameSet(got, []string{"response[name]", "response[email]", "response[reason]"}) {
		t.Errorf("fields = %v, want name, email and reason", got)
	}
	if n := countEvents(e, e.a, "ticket.created", res.Header.Get("Eventdesk-Position")); n != 1 {
		t.Errorf("%d tickets created, want 1", n)
	}

	tests := []struct {
		name, body string
		status     int
		code       string
		fields     []string
	}{
		{"malformed JSON", `{"response": [`, 400, "malformed_json", nil},
		{"unknown member", `{"response": [], "answers": []}`, 400, "unknown_field", []string{"answers"}},
		{"unknown member of an answer", `{"response": [{"key": "name", "value": "a", "label": "x"}]}`, 400, "unknown_field", []string{"response.label"}},
		{"unknown member of an attachment", `{"attachments": [{"type": "image", "value": "x", "file": {}}]}`, 400, "unknown_field", []string{"attachments.file"}},
		{"response not an array", `{"response": {"name": "a"}}`, 422, "validation_failed", []string{"response"}},
		{"key not a string", `{"response": [{"key": 5, "value": "a"}]}`, 422, "validation_failed", []string{"response.key"}},
		{"empty key", `{"response": [{"key": "", "value": "a"}, {"key": "name", "value": "a"}, {"key": "email", "value": "a@b.co"}, {"key": "reason", "value": "wrong"}]}`,
			422, "validation_failed", []string{"response[0].key"}},
		{"answered twice", `{"response": [{"key": "name", "value": "a"}, {"key": "name", "value": "b"}, {"key": "email", "value": "a@b.co"}, {"key": "reason", "value": "wrong"}]}`,
			422, "validation_failed", []string{"response[name]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.do(e.a, "POST", "/v1/forms/damage-report/submit", tt.body).problem(t, tt.status, tt.code)
			if tt.fields != nil && !sameSet(fields(p), tt.fields) {
				t.Errorf("fields = %v, want %v (problem %v)", fields(p), tt.fields, p)
			}
		})
	}
	e.do(e.a, "POST", "/v1/forms/nope/submit", map[string]any{"response": []any{}}).problem(t, http.StatusNotFound, "form_not_found")

	// A disabled form takes no submissions (no endpoint disables one yet).
	if _, _, err := e.Forms.Disable(context.Background(), e.A.ID, "damage-report", app.Meta{
		By: domain.Actor{Kind: domain.ActorAgent, ID: "ana"}, Source: domain.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if got := e.do(e.a, "GET", "/v1/forms/damage-report", nil).want(t, http.StatusOK).json(t); got["enabled"] != false {
		t.Errorf("enabled = %v after form.disabled, want false", got["enabled"])
	}
	e.do(e.a, "POST", "/v1/forms/damage-report/submit", map[string]any{"response": []any{
		map[string]any{"key": "name", "value": "Ana"}, map[string]any{"key": "email", "value": "ana@example.com"},
		map[string]any{"key": "reason", "value": "wrong"},
	}}).problem(t, http.StatusConflict, "form_disabled")
}

func TestFormBadDefinition(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, body string
		status     int
		code       string
		fields     []string
		detail     []string // substrings of the problem's detail
	}{
		{"malformed JSON names the offset", `{"slug": "a", "title": "b",}`, 400, "malformed_json", nil, []string{"offset 28"}},
		{"empty body", ``, 400, "malformed_json", nil, nil},
		{"not an object", `[1]`, 400, "malformed_json", nil, nil},
		{"unknown member", `{"slug": "a", "title": "b", "inputs": [{"type": "text", "key": "k"}], "colour": "red"}`, 400, "unknown_field", []string{"colour"}, nil},
		{"unknown input member", `{"slug": "a", "title": "b", "inputs": [{"type": "text", "key": "k", "size": 3}]}`, 400, "unknown_field", []string{"inputs.size"}, nil},
		{"unknown button member", `{"slug": "a", "title": "b", "inputs": [{"type": "text", "key": "k"}], "submit_button": {"icon": "x"}}`, 400, "unknown_field", []string{"submit_button.icon"}, nil},
		{"wrong types listed", `{"slug": 1, "title": ["b"], "inputs": "text", "login_required": "yes", "poll_for_assignment": {"duration": "1m"}}`,
			422, "validation_failed", []string{"slug", "title", "inputs", "login_required", "poll_for_assignment.duration"}, nil},
		{"wrong type in an input", `{"slug": "a", "title": "b", "inputs": [{"type": "text", "key": "k", "required": "yes"}]}`,
			422, "validation_failed", []string{"inputs.required"}, nil},
		{"missing everything", `{}`, 422, "validation_failed", []string{"slug", "title", "inputs"}, nil},
		{"bad enums list allowed values", `{"slug": "a", "title": "b", "priority": "extreme", "inputs": [{"type": "slider", "key": "k"}]}`,
			422, "validation_failed", []string{"priority", "inputs[0].type"},
			[]string{"low, medium, high, urgent", "text, textarea, email, number, mobile, dropdown, radio, checkbox, date, file"}},
		{"every bad field listed", `{"slug": "Bad Slug", "title": " ", "category": "billing", "header_image": "javascript:alert(1)",
			"submit_button": {"title_color": "red"}, "poll_for_assignment": {"duration": -1},
			"inputs": [{"type": "text", "key": "a", "options": [{"value": "x"}]}, {"type": "radio", "key": "a"}, {"type": "text", "key": "1st", "regex": "(a"}]}`,
			422, "validation_failed", []string{"slug", "title", "category", "header_image", "submit_button.title_color",
				"poll_for_assignment.duration", "inputs[0].options", "inputs[1].key", "inputs[1].options", "inputs[2].key", "inputs[2].regex"}, nil},
		{"option without value", `{"slug": "a", "title": "b", "inputs": [{"type": "dropdown", "key": "k", "options": [{"text": "A"}]}]}`,
			422, "validation_failed", []string{"inputs[0].options[0].value"}, nil},
		{"JSON elsewhere", `{"slug": "a"}`, 415, "unsupported_media_type", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.status == http.StatusUnsupportedMediaType {
				headers = []string{"Content-Type", "text/plain"}
			}
			var body any
			if tt.body != "" {
				body = tt.body
			}
			p := e.do(e.a, "POST", "/v1/forms", body, headers...).problem(t, tt.status, tt.code)
			if tt.fields != nil && !sameSet(fields(p), tt.fields) {
				t.Errorf("fields = %v, want %v (problem %v)", fields(p), tt.fields, p)
			}
			for _, d := range tt.detail {
				if !strings.Contains(p["detail"].(string), d) {
					t.Errorf("detail %q does not contain %q", p["detail"], d)
				}
			}
		})
	}
	// The same checks guard PUT.
	pos := e.do(e.a, "POST", "/v1/forms", map[string]any{"slug": "contact", "title": "Contact",
		"inputs": []any{map[string]any{"type": "text", "key": "message"}}}).want(t, http.StatusCreated).Header.Get("Eventdesk-Position")
	p := e.do(e.a, "PUT", "/v1/forms/contact", `{"title": "", "priority": "extreme", "inputs": [{"type": "slider", "key": "k"}]}`).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := fields(p); !sameSet(got, []string{"title", "priority", "inputs[0].type"}) {
		t.Errorf("PUT fields = %v, want title, priority, inputs[0].type", got)
	}
	e.do(e.a, "PUT", "/v1/forms/contact", `{"title": "x",}`).problem(t, http.StatusBadRequest, "malformed_json")
	e.do(e.a, "PUT", "/v1/forms/contact", `{"title": "x", "extra": 1}`).problem(t, http.StatusBadRequest, "unknown_field")
	if n := countEvents(e, e.a, "form.created", pos); n != 1 {
		t.Errorf("%d forms created, want 1", n)
	}
}

func TestFormTenantIsolation(t *testing.T) {
	e := newEnv(t)
	contact := map[string]any{"slug": "contact", "title": "A's form", "inputs": []any{map[string]any{"type": "text", "key": "message", "required": true}}}
	e.do(e.a, "POST", "/v1/forms", contact).want(t, http.StatusCreated)
	submit := map[string]any{"response": []any{map[string]any{"key": "message", "value": "hi"}}}

	e.do(nil, "GET", "/v1/forms", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	e.do(nil, "POST", "/v1/forms", contact).problem(t, http.StatusUnauthorized, "unauthenticated")
	e.do(nil, "POST", "/v1/forms/contact/submit", submit).problem(t, http.StatusUnauthorized, "unauthenticated")

	e.do(e.b, "GET", "/v1/forms/contact", nil).problem(t, http.StatusNotFound, "form_not_found")
	e.do(e.b, "PUT", "/v1/forms/contact", contact).problem(t, http.StatusNotFound, "form_not_found")
	e.do(e.b, "POST", "/v1/forms/contact/submit", submit).problem(t, http.StatusNotFound, "form_not_found")
	if list := e.do(e.b, "GET", "/v1/forms", nil).want(t, http.StatusOK).json(t)["forms"].([]any); len(list) != 0 {
		t.Errorf("B lists %d forms, want 0", len(list))
	}
	// B has its own namespace of slugs.
	mine := map[string]any{"slug": "contact", "title": "B's form", "inputs": []any{map[string]any{"type": "text", "key": "message"}}}
	e.do(e.b, "POST", "/v1/forms", mine).want(t, http.StatusCreated)
	if got := e.do(e.a, "GET", "/v1/forms/contact", nil).want(t, http.StatusOK).json(t); got["title"] != "A's form" || got["version"] != float64(1) {
		t.Errorf("A's form = %v after B's attempts", got)
	}
	// A's submission creates A's ticket, which B cannot see.
	tk := e.do(e.a, "POST", "/v1/forms/contact/submit", submit).want(t, http.StatusCreated).json(t)["ticket"].(map[string]any)
	e.do(e.b, "GET", "/v1/tickets/"+tk["id"].(string), nil).problem(t, http.StatusNotFound, "ticket_not_found")
	for _, ev := range e.do(e.b, "GET", "/v1/events?limit=1000", nil).want(t, http.StatusOK).json(t)["events"].([]any) {
		if m := ev.(map[string]any); m["type"] == "ticket.created" || m["data"].(map[string]any)["title"] == "A's form" {
			t.Errorf("B's feed shows %v", m["type"])
		}
	}
}

func TestFormIdempotency(t *testing.T) {
	e := newEnv(t)
	contact := map[string]any{"slug": "contact", "title": "Contact", "inputs": []any{map[string]any{"type": "text", "key": "message"}}}
	first := e.do(e.a, "POST", "/v1/forms", contact, "Idempotency-Key", "f1").want(t, http.StatusCreated)
	again := e.do(e.a, "POST", "/v1/forms", contact, "Idempotency-Key", "f1").want(t, http.StatusCreated)
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Location") != "/v1/forms/contact" || again.Header.Get("ETag") != `"1"` {
		t.Errorf("replay differs: %s vs %s (headers %v)", first.Body, again.Body, again.Header)
	}
	submit := map[string]any{"response": []any{map[string]any{"key": "message", "value": "hi"}}}
	s1 := e.do(e.a, "POST", "/v1/forms/contact/submit", submit, "Idempotency-Key", "s1").want(t, http.StatusCreated)
	s2 := e.do(e.a, "POST", "/v1/forms/contact/submit", submit, "Idempotency-Key", "s1").want(t, http.StatusCreated)
	if string(s1.Body) != string(s2.Body) || s2.Header.Get("Eventdesk-Position") != s1.Header.Get("Eventdesk-Position") {
		t.Errorf("submission replay differs: %s vs %s", s1.Body, s2.Body)
	}
	e.do(e.a, "POST", "/v1/forms/contact/submit", map[string]any{"response": []any{}}, "Idempotency-Key", "s1").
		problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	if n := countEvents(e, e.a, "ticket.created", s1.Header.Get("Eventdesk-Position")); n != 1 {
		t.Errorf("%d tickets created, want 1", n)
	}
}

// countEvents counts the events of type in tn's feed once it shows the
// write at pos.
func countEvents(e *env, tn *apitest.Tenant, typ, pos string) int {
	e.t.Helper()
	return len(e.events(tn, "type="+typ, pos))
}

// roundTrip returns v as it reads after JSON encoding (numbers float64).
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
