package fynd_test

import (
	"context"
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/fynd"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/form"
)

const base = fynd.Prefix

// The exact member sets of Fynd's schemas.
var (
	ticketKeys = []string{"_custom_json", "_id", "assigned_to", "category", "content", "context", "created_at", "created_by",
		"created_on", "integration", "is_feedback_pending", "priority", "response_id", "source", "status", "sub_category", "tags", "updated_at"}
	historyKeys = []string{"_id", "created_at", "created_by", "created_on", "ticket_id", "type", "updated_at", "value"}
	formKeys    = []string{"_id", "application_id", "created_on", "description", "header_image", "inputs", "login_required",
		"poll_for_assignment", "priority", "should_notify", "slug", "submit_button", "success_message", "title"}
)

var agent = app.Meta{By: domain.Actor{Kind: domain.ActorAgent, ID: "ana", Name: "Ana Agent"}, Source: domain.SourceAPI}

// newEnv starts the API (every surface is mounted).
func newEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.New(t)
}

// bearer is tn's Fynd Authorization header, as the SDKs build it.
func bearer(tn *apitest.Tenant) []string {
	tok := base64.StdEncoding.EncodeToString([]byte(tn.Creds.FyndApplicationID + ":" + tn.Creds.FyndApplicationToken))
	return []string{"Authorization", "Bearer " + tok}
}

// call sends a request as tn's Fynd application.
func call(e *apitest.Env, tn *apitest.Tenant, method, path string, body any, headers ...string) apitest.Response {
	e.T.Helper()
	return e.Do(method, path, body, append(bearer(tn), headers...)...)
}

// wantMessage checks r is status with the body {"message": "<non-empty>"}
// and nothing else, and returns the message.
func wantMessage(t *testing.T, r apitest.Response, status int) string {
	t.Helper()
	r.Want(t, status)
	m := r.JSON(t)
	msg, ok := m["message"].(string)
	if !ok || msg == "" || len(m) != 1 {
		t.Fatalf("error body = %s, want exactly {\"message\": \"…\"}", r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return msg
}

func keysOf(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func wantKeys(t *testing.T, what string, m map[string]any, want []string) {
	t.Helper()
	if diff := cmp.Diff(keysOf(m), want); diff != "" {
		t.Errorf("%s members (-got +want):\n%s", what, diff)
	}
}

func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	return m
}

// createTicket creates a ticket through the Fynd surface as tn.
func createTicket(t *testing.T, e *apitest.Env, tn *apitest.Tenant, body any, headers ...string) map[string]any {
	t.Helper()
	return call(e, tn, "POST", base+"/ticket/", body, headers...).Want(t, http.StatusOK).JSON(t)
}

func minimalTicket() map[string]any {
	return map[string]any{"category": "general", "content": map[string]any{"title": "Order not delivered"}}
}

// checkTicketShape checks every member of a Fynd Ticket has its type.
func checkTicketShape(t *testing.T, tk map[string]any) {
	t.Helper()
	wantKeys(t, "Ticket", tk, ticketKeys)
	wantKeys(t, "Ticket.context", obj(t, tk["context"]), []string{"application_id", "company_id"})
	wantKeys(t, "Ticket.created_on", obj(t, tk["created_on"]), []string{"user_agent"})
	content := obj(t, tk["content"])
	wantKeys(t, "Ticket.content", content, []string{"attachments", "description", "title"})
	for _, a := range content["attachments"].([]any) {
		wantKeys(t, "TicketAsset", obj(t, a), []string{"display", "type", "value"})
	}
	wantKeys(t, "Ticket.category", obj(t, tk["category"]), []string{"display", "key"})
	wantKeys(t, "Ticket.status", obj(t, tk["status"]), []string{"color", "display", "key"})
	wantKeys(t, "Ticket.priority", obj(t, tk["priority"]), []string{"color", "display", "key"})
	wantKeys(t, "Ticket.created_by", obj(t, tk["created_by"]), []string{"id", "user"})
	for _, k := range []string{"_id", "sub_category", "source", "response_id", "created_at", "updated_at"} {
		if _, ok := tk[k].(string); !ok {
			t.Errorf("Ticket.%s = %#v, want a string", k, tk[k])
		}
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if _, err := time.Parse(time.RFC3339, tk[k].(string)); err != nil {
			t.Errorf("Ticket.%s = %v, want RFC 3339", k, tk[k])
		}
	}
	if _, ok := obj(t, tk["context"])["company_id"].(string); !ok {
		t.Errorf("context.company_id = %#v, want a string", obj(t, tk["context"])["company_id"])
	}
	if _, ok := tk["tags"].([]any); !ok {
		t.Errorf("tags = %#v, want an array", tk["tags"])
	}
	for _, k := range []string{"_custom_json", "integration"} {
		if _, ok := tk[k].(map[string]any); !ok {
			t.Errorf("%s = %#v, want an object", k, tk[k])
		}
	}
	if _, ok := tk["is_feedback_pending"].(bool); !ok {
		t.Errorf("is_feedback_pending = %#v, want a boolean", tk["is_feedback_pending"])
	}
	if s := tk["source"]; s != "sales_channel" && s != "platform_panel" {
		t.Errorf("source = %v, want a TicketSourceEnum value", s)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	routes := []struct{ method, path string }{
		{"GET", base + "/form/contact"},
		{"POST", base + "/form/contact/submit"},
		{"GET", base + "/ticket/1"},
		{"POST", base + "/ticket/"},
		{"POST", base + "/ticket"},
		{"POST", base + "/ticket/1/history"},
		{"GET", base + "/video/room/r1/participants"},
		{"GET", base + "/video/room/r1/token"},
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	creds := e.A.Creds
	bad := []struct{ name, header string }{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic " + b64(creds.FyndApplicationID+":"+creds.FyndApplicationToken)},
		{"not base64", "Bearer %%%not-base64%%%"},
		{"no colon", "Bearer " + b64(creds.FyndApplicationID+creds.FyndApplicationToken)},
		{"empty id", "Bearer " + b64(":"+creds.FyndApplicationToken)},
		{"wrong token", "Bearer " + b64(creds.FyndApplicationID+":nope")},
		{"another tenant's token", "Bearer " + b64(creds.FyndApplicationID+":"+e.B.Creds.FyndApplicationToken)},
		{"native API key", "Bearer " + creds.APIKey},
	}
	for _, rt := range routes {
		for _, b := range bad {
			t.Run(rt.method+" "+rt.path+": "+b.name, func(t *testing.T) {
				var h []string
				if b.header != "" {
					h = []string{"Authorization", b.header}
				}
				r := e.Do(rt.method, rt.path, minimalTicket(), h...)
				wantMessage(t, r, http.StatusUnauthorized)
			})
		}
	}
	// Unpadded and URL-alphabet encodings and a lower-case scheme work too.
	raw := base64.RawURLEncoding.EncodeToString([]byte(creds.FyndApplicationID + ":" + creds.FyndApplicationToken))
	e.Do("POST", base+"/ticket", minimalTicket(), "Authorization", "bearer "+raw).Want(t, http.StatusOK)
}

func TestCreateTicket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/88.0.4324.96 Safari/537.36"
	tk := createTicket(t, e, &e.A, map[string]any{
		"category": "general",
		"status":   "in_progress",
		"priority": "high",
		"content": map[string]any{
			"title": "Order not delivered", "description": "It has been two weeks",
			"attachments": []any{map[string]any{"type": "image", "value": "https://cdn.example.com/box.png", "display": "box.png"},
				map[string]any{"type": "order", "value": "FY6012F38557"}},
		},
		"_custom_json":          map[string]any{"order_id": "FY6012F38557", "items": 3},
		"subscribers":           []string{"ops@example.com"},
		"created_by":            map[string]any{"id": "5d1363adf599d850df93175e", "user": map[string]any{"first_name": "Nikhil", "last_name": "Manapure", "emails": []any{map[string]any{"email": "niktest@xyz.com", "primary": true}}}},
		"unknown_future_member": true,
	}, "User-Agent", ua)
	checkTicketShape(t, tk)
	want := map[string]any{
		"context":    map[string]any{"application_id": e.A.Creds.FyndApplicationID, "company_id": strconv.FormatInt(e.A.CompanyID, 10)},
		"created_on": map[string]any{"user_agent": ua},
		"content": map[string]any{"title": "Order not delivered", "description": "It has been two weeks", "attachments": []any{
			map[string]any{"type": "image", "value": "https://cdn.example.com/box.png", "display": "box.png"},
			map[string]any{"type": "order", "value": "FY6012F38557", "display": ""},
		}},
		"category":            map[string]any{"key": "general", "display": "General"},
		"sub_category":        "",
		"source":              "sales_channel",
		"status":              map[string]any{"key": "in_progress", "display": "In Progress", "color": "#5c6bdd"},
		"priority":            map[string]any{"key": "high", "display": "High", "color": "#fa6d6d"},
		"created_by":          map[string]any{"id": "5d1363adf599d850df93175e", "user": map[string]any{"_id": "5d1363adf599d850df93175e", "first_name": "Nikhil", "last_name": "Manapure", "emails": []any{map[string]any{"email": "niktest@xyz.com", "primary": true}}}},
		"assigned_to":         nil,
		"tags":                []any{},
		"_custom_json":        map[string]any{"order_id": "FY6012F38557", "items": float64(3)},
		"is_feedback_pending": false,
		"integration":         map[string]any{},
		"response_id":         "",
	}
	got := maps.Clone(tk)
	for _, k := range []string{"_id", "created_at", "updated_at"} {
		delete(got, k)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("created ticket (-got +want):\n%s", diff)
	}

	// Without the trailing slash (the JavaScript SDK's path), with the
	// minimal body: defaults apply, the creator is the application.
	tk2 := call(e, &e.A, "POST", base+"/ticket", minimalTicket()).Want(t, http.StatusOK).JSON(t)
	checkTicketShape(t, tk2)
	if obj(t, tk2["priority"])["key"] != "low" || obj(t, tk2["status"])["key"] != "open" ||
		obj(t, tk2["created_by"])["id"] != "fynd:"+e.A.Creds.FyndApplicationID {
		t.Errorf("minimal ticket = %v, want priority low, status open, created by the application", tk2)
	}

	// The logged-in user (X-User-Data) creates and is the creator.
	tk3 := createTicket(t, e, &e.A, minimalTicket(), fynd.HeaderUserData,
		`{"_id":"u-77","first_name":"Cara","last_name":"Diaz","emails":[{"email":"cara@example.com","primary":true}]}`)
	if cb := obj(t, tk3["created_by"]); cb["id"] != "u-77" || obj(t, cb["user"])["first_name"] != "Cara" {
		t.Errorf("created_by = %v, want the X-User-Data user", cb)
	}
	nat := e.Native(&e.A, "GET", "/v1/tickets/"+tk3["_id"].(string), nil).Want(t, http.StatusOK).JSON(t)
	if by := obj(t, nat["created_by"]); by["kind"] != "user" || by["id"] != "u-77" || by["email"] != "cara@example.com" {
		t.Errorf("native created_by = %v, want user u-77", by)
	}
}

func TestCreateTicket_CrossSurface(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := createTicket(t, e, &e.A, map[string]any{"category": "general", "priority": "urgent",
		"content": map[string]any{"title": "Refund please", "description": "Wrong size"}, "_custom_json": map[string]any{"size": "M"}},
		"User-Agent", "fynd-test/1.0")
	id := tk["_id"].(string)
	nat := e.Native(&e.A, "GET", "/v1/tickets/"+id, nil).Want(t, http.StatusOK).JSON(t)
	for k, v := range map[string]any{"id": id, "title": "Refund please", "description": "Wrong size", "priority": "urgent",
		"source": "sales_channel", "category": "general", "user_agent": "fynd-test/1.0", "status": "open"} {
		if nat[k] != v {
			t.Errorf("native ticket %s = %v, want %v", k, nat[k], v)
		}
	}
	if c := obj(t, nat["custom"]); c["size"] != "M" {
		t.Errorf("native custom = %v, want size M", c)
	}
	if by := obj(t, nat["created_by"]); by["kind"] != "integration" || by["id"] != "fynd:"+e.A.Creds.FyndApplicationID {
		t.Errorf("native created_by = %v, want integration fynd:<application id>", by)
	}
	// A ticket created natively reads through Fynd, its source mapped.
	n := e.Native(&e.A, "POST", "/v1/tickets", map[string]any{"title": "From the API", "category": "general"}).Want(t, http.StatusCreated).JSON(t)
	got := call(e, &e.A, "GET", base+"/ticket/"+n["id"].(string), nil).Want(t, http.StatusOK).JSON(t)
	checkTicketShape(t, got)
	if got["source"] != "platform_panel" || obj(t, got["content"])["title"] != "From the API" {
		t.Errorf("native ticket through Fynd = %v, want source platform_panel, title From the API", got)
	}
	// A change made natively (an assignee) reads through Fynd.
	e.Native(&e.A, "PATCH", "/v1/tickets/"+id, map[string]any{"status": "resolved",
		"assignee": map[string]any{"id": "ana", "name": "Ana Agent", "email": "ana@example.com", "kind": "agent"}}).Want(t, http.StatusOK)
	got = call(e, &e.A, "GET", base+"/ticket/"+id, nil).Want(t, http.StatusOK).JSON(t)
	checkTicketShape(t, got)
	wantAssignee := map[string]any{"agent_id": "ana", "_id": "ana", "first_name": "Ana", "last_name": "Agent",
		"emails": []any{map[string]any{"email": "ana@example.com", "primary": true}}}
	if diff := cmp.Diff(got["assigned_to"], any(wantAssignee)); diff != "" {
		t.Errorf("assigned_to (-got +want):\n%s", diff)
	}
	if got["is_feedback_pending"] != true || obj(t, got["status"])["key"] != "resolved" {
		t.Errorf("resolved ticket = %v, want status resolved with feedback pending", got)
	}
}

func TestCreateTicket_BadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	with := func(f func(m map[string]any)) map[string]any {
		m := map[string]any{"category": "general", "content": map[string]any{"title": "T"}}
		f(m)
		return m
	}
	content := func(f func(c map[string]any)) map[string]any {
		return with(func(m map[string]any) { f(m["content"].(map[string]any)) })
	}
	tests := []struct {
		name string
		body any
		want []string // substrings of the message
	}{
		{"malformed JSON", `{"category": "general", "content": {`, []string{"malformed JSON"}},
		{"trailing garbage", `{"category": "general"} x`, []string{"malformed JSON"}},
		{"empty body", "", []string{"empty"}},
		{"array body", `[{"category": "general"}]`, []string{"must be a JSON object"}},
		{"null body", `null`, []string{"must be a JSON object"}},
		{"missing category and content", `{}`, []string{"category is required", "content is required"}},
		{"empty category", with(func(m map[string]any) { m["category"] = "" }), []string{"category is required"}},
		{"category a number", with(func(m map[string]any) { m["category"] = 7 }), []string{"category must be a string, not a number"}},
		{"unknown category", with(func(m map[string]any) { m["category"] = "billing" }), []string{"billing"}},
		{"content a string", with(func(m map[string]any) { m["content"] = "T" }), []string{"content must be an object, not a string"}},
		{"no title", content(func(c map[string]any) { delete(c, "title") }), []string{"content.title is required"}},
		{"blank title", content(func(c map[string]any) { c["title"] = "  " }), []string{"content.title is required"}},
		{"title a number", content(func(c map[string]any) { c["title"] = 5 }), []string{"content.title must be a string"}},
		{"description an object", content(func(c map[string]any) { c["description"] = map[string]any{} }), []string{"content.description must be a string"}},
		{"attachments an object", content(func(c map[string]any) { c["attachments"] = map[string]any{} }), []string{"content.attachments must be an array"}},
		{"attachment a string", content(func(c map[string]any) { c["attachments"] = []any{"x.png"} }), []string{"content.attachments[0] must be an object"}},
		{"attachment of unknown type", content(func(c map[string]any) {
			c["attachments"] = []any{map[string]any{"type": "pdf", "value": "x"}}
		}), []string{`content.attachments[0].type "pdf" is not one of image, video, file`}},
		{"attachment without value", content(func(c map[string]any) {
			c["attachments"] = []any{map[string]any{"type": "file"}}
		}), []string{"content.attachments[0].value is required"}},
		{"bad priority", with(func(m map[string]any) { m["priority"] = "critical" }), []string{`priority "critical" is not one of low, medium, high, urgent`}},
		{"priority in capitals", with(func(m map[string]any) { m["priority"] = "High" }), []string{"priority"}},
		{"priority a number", with(func(m map[string]any) { m["priority"] = 3 }), []string{"priority must be a string"}},
		{"unknown status", with(func(m map[string]any) { m["status"] = "escalated" }), []string{"escalated"}},
		{"custom json an array", with(func(m map[string]any) { m["_custom_json"] = []any{1} }), []string{"_custom_json must be an object, not an array"}},
		{"subscribers a string", with(func(m map[string]any) { m["subscribers"] = "a@example.com" }), []string{"subscribers must be an array"}},
		{"subscriber a number", with(func(m map[string]any) { m["subscribers"] = []any{1} }), []string{"subscribers[0] must be a string"}},
		{"subscriber not an e-mail", with(func(m map[string]any) { m["subscribers"] = []any{"not-mail"} }), []string{"not-mail"}},
		{"created_by a number", with(func(m map[string]any) { m["created_by"] = 42 }), []string{"created_by must be an object"}},
		{"created_by naming nobody", with(func(m map[string]any) { m["created_by"] = map[string]any{"first_name": "X"} }), []string{"created_by must name the user"}},
		{"created_by with a bad e-mail", with(func(m map[string]any) { m["created_by"] = map[string]any{"email": "nope"} }), []string{"created_by"}},
		{"created_by id a number", with(func(m map[string]any) { m["created_by"] = map[string]any{"_id": 5} }), []string{"created_by"}},
		{"every problem at once", `{"category": 1, "content": {"title": 2}, "priority": "p", "subscribers": {}}`,
			[]string{"category must be a string", "content.title must be a string", `priority "p"`, "subscribers must be an array"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := wantMessage(t, call(e, &e.A, "POST", base+"/ticket/", tt.body), http.StatusBadRequest)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
	// Nothing was created: the first ticket made now is number 1.
	tk := createTicket(t, e, &e.A, minimalTicket())
	n := e.Native(&e.A, "GET", "/v1/tickets/"+tk["_id"].(string), nil).Want(t, http.StatusOK).JSON(t)
	if n["number"] != float64(1) {
		t.Errorf("number after bad requests = %v, want 1", n["number"])
	}
	// Too large a body.
	big := `{"category":"general","content":{"title":"T","description":"` + strings.Repeat("a", fynd.MaxBodyBytes) + `"}}`
	wantMessage(t, call(e, &e.A, "POST", base+"/ticket/", big), http.StatusRequestEntityTooLarge)
	// A malformed X-User-Data.
	for _, h := range []string{`{"_id":`, `[1]`, `{"first_name":"x"}`, `{"_id": 5}`} {
		wantMessage(t, call(e, &e.A, "POST", base+"/ticket/", minimalTicket(), fynd.HeaderUserData, h), http.StatusBadRequest)
	}
}

func TestGetTicket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := createTicket(t, e, &e.A, minimalTicket())
	id := tk["_id"].(string)
	for _, ref := range []string{id, strings.ToUpper(id), "1", "%23001", "%231"} {
		got := call(e, &e.A, "GET", base+"/ticket/"+ref, nil).Want(t, http.StatusOK).JSON(t)
		checkTicketShape(t, got)
		if diff := cmp.Diff(got, tk); diff != "" {
			t.Errorf("GET ticket/%s (-got +want):\n%s", ref, diff)
		}
	}
	for _, ref := range []string{"2", "0", "-1", "00000000-0000-4000-8000-000000000000", "abc", "..%2F..%2Fetc%2Fpasswd",
		"%2E%2E", "1%00", "%2Fv1%2Ftickets", strings.Repeat("9", 40)} {
		wantMessage(t, call(e, &e.A, "GET", base+"/ticket/"+ref, nil), http.StatusNotFound)
	}
	// Tenant B sees none of A's tickets, by id or by number.
	for _, ref := range []string{id, "1"} {
		wantMessage(t, call(e, &e.B, "GET", base+"/ticket/"+ref, nil), http.StatusNotFound)
	}
}

func TestCreateHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := createTicket(t, e, &e.A, minimalTicket())
	createTicket(t, e, &e.A, minimalTicket())
	id := tk["_id"].(string)
	ua := "Mozilla/5.0 (X11) Firefox/120.0"
	h := call(e, &e.A, "POST", base+"/ticket/"+id+"/history",
		map[string]any{"type": "comment", "value": map[string]any{"text": "d", "media": []any{}}},
		"User-Agent", ua, fynd.HeaderUserData, `{"_id":"u-1","first_name":"Cara"}`).Want(t, http.StatusOK).JSON(t)
	wantKeys(t, "TicketHistory", h, historyKeys)
	wantKeys(t, "TicketHistory.created_by", obj(t, h["created_by"]), []string{"id", "user"})
	if h["type"] != "comment" || h["ticket_id"] != "1" || obj(t, h["created_on"])["user_agent"] != ua ||
		obj(t, h["created_by"])["id"] != "u-1" || h["created_at"] != h["updated_at"] {
		t.Errorf("history = %v", h)
	}
	if diff := cmp.Diff(h["value"], map[string]any{"text": "d", "media": []any{}}); diff != "" {
		t.Errorf("history value (-got +want):\n%s", diff)
	}
	if _, err := time.Parse(time.RFC3339, h["created_at"].(string)); err != nil {
		t.Errorf("created_at = %v, want RFC 3339", h["created_at"])
	}
	// By number, and every type.
	for _, typ := range []string{"log", "thread", "rating"} {
		v := map[string]any{"text": typ}
		if typ == "rating" {
			v = map[string]any{"rating": 5}
		}
		got := call(e, &e.A, "POST", base+"/ticket/2/history", map[string]any{"type": typ, "value": v}).Want(t, http.StatusOK).JSON(t)
		if got["ticket_id"] != "2" || got["type"] != typ {
			t.Errorf("history by number = %v, want ticket_id 2, type %s", got, typ)
		}
	}

	// The entry is in the native history and in the event feed.
	hist := e.Native(&e.A, "GET", "/v1/tickets/"+id+"/history", nil).Want(t, http.StatusOK).JSON(t)["history"].([]any)
	if len(hist) != 1 || obj(t, hist[0])["id"] != h["_id"] || obj(t, hist[0])["source"] != "sales_channel" ||
		obj(t, obj(t, hist[0])["created_by"])["id"] != "u-1" {
		t.Errorf("native history = %v, want the entry %v from sales_channel by u-1", hist, h["_id"])
	}
	feed := e.Native(&e.A, "GET", "/v1/events?type=ticket.history_logged", nil).Want(t, http.StatusOK).JSON(t)["events"].([]any)
	found := false
	for _, ev := range feed {
		ev := obj(t, ev)
		if ev["type"] == "ticket.history_logged" && ev["stream_id"] == id && obj(t, ev["data"])["entry_id"] == h["_id"] {
			found = true
		}
	}
	if !found {
		t.Errorf("event feed %v lacks ticket.history_logged %v", feed, h["_id"])
	}

	path := base + "/ticket/" + id + "/history"
	bad := []struct {
		name string
		body any
		want string
	}{
		{"malformed JSON", `{"type": "comment", "value": {`, "malformed JSON"},
		{"empty body", "", "empty"},
		{"not an object", `"comment"`, "must be a JSON object"},
		{"no type", map[string]any{"value": map[string]any{}}, "type is required"},
		{"unknown type", map[string]any{"type": "note", "value": map[string]any{}}, `type "note" is not one of rating, log, comment, thread`},
		{"type a number", map[string]any{"type": 1, "value": map[string]any{}}, "type must be a string"},
		{"no value", map[string]any{"type": "comment"}, "value is required"},
		{"null value", map[string]any{"type": "comment", "value": nil}, "value is required"},
		{"value a string", map[string]any{"type": "comment", "value": "hello"}, "value must be an object, not a string"},
		{"value an array", map[string]any{"type": "comment", "value": []any{}}, "value must be an object, not an array"},
		{"rating out of range", map[string]any{"type": "rating", "value": map[string]any{"rating": 9}}, "rating"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if msg := wantMessage(t, call(e, &e.A, "POST", path, tt.body), http.StatusBadRequest); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q lacks %q", msg, tt.want)
			}
		})
	}
	ok := map[string]any{"type": "comment", "value": map[string]any{"text": "x"}}
	for _, ref := range []string{"9", "00000000-0000-4000-8000-000000000000", "..%2F..%2Fetc"} {
		wantMessage(t, call(e, &e.A, "POST", base+"/ticket/"+ref+"/history", ok), http.StatusNotFound)
	}
	wantMessage(t, call(e, &e.B, "POST", path, ok), http.StatusNotFound)
	wantMessage(t, call(e, &e.B, "POST", base+"/ticket/1/history", ok), http.StatusNotFound)
	// Nothing of the refused requests reached the ticket.
	hist = e.Native(&e.A, "GET", "/v1/tickets/"+id+"/history", nil).Want(t, http.StatusOK).JSON(t)["history"].([]any)
	if len(hist) != 1 {
		t.Errorf("native history has %d entries, want 1", len(hist))
	}
}

// contactForm is a form with every kind of check.
func contactForm() form.Definition {
	return form.Definition{
		Title:       "Damage report",
		Description: "Tell us what arrived damaged.",
		HeaderImage: "https://cdn.example.com/header.png",
		Priority:    "high",
		Category:    "general",
		Inputs: []form.Input{
			{Type: form.Text, Key: "name", Display: "Name", Required: true, Placeholder: "Your name"},
			{Type: form.Email, Key: "email", Display: "Email", Required: true},
			{Type: form.Number, Key: "qty", Display: "Quantity"},
			{Type: form.Dropdown, Key: "reason", Display: "Reason", Options: []form.Option{{Text: "Crushed box", Value: "crushed"}, {Text: "Wrong item", Value: "wrong"}}},
		},
		SuccessMessage:    "Thanks, we are on it.",
		SubmitButton:      form.SubmitButton{Title: "Send", TitleColor: "#ffffff", BackgroundColor: "#112233"},
		PollForAssignment: &form.PollForAssignment{Duration: 60, Message: "Finding an agent", SuccessMessage: "Found one", FailureMessage: "Nobody is free"},
	}
}

func createForm(t *testing.T, e *apitest.Env, tn *apitest.Tenant, slug string, d form.Definition) form.Snapshot {
	t.Helper()
	f, _, err := e.Forms.Create(context.Background(), tn.ID, slug, d, agent)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestGetForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := createForm(t, e, &e.A, "damage-report", contactForm())
	got := call(e, &e.A, "GET", base+"/form/damage-report", nil).Want(t, http.StatusOK).JSON(t)
	wantKeys(t, "CustomForm", got, formKeys)
	want := map[string]any{
		"_id": f.ID, "application_id": e.A.Creds.FyndApplicationID, "slug": "damage-report",
		"header_image": "https://cdn.example.com/header.png", "title": "Damage report", "description": "Tell us what arrived damaged.",
		"priority":       map[string]any{"key": "high", "display": "High", "color": "#fa6d6d"},
		"login_required": false, "should_notify": false, "success_message": "Thanks, we are on it.",
		"submit_button": map[string]any{"title": "Send", "title_color": "#ffffff", "background_color": "#112233"},
		"inputs": []any{
			map[string]any{"type": "text", "key": "name", "display": "Name", "required": true, "placeholder": "Your name"},
			map[string]any{"type": "email", "key": "email", "display": "Email", "required": true},
			map[string]any{"type": "number", "key": "qty", "display": "Quantity", "required": false},
			map[string]any{"type": "dropdown", "key": "reason", "display": "Reason", "required": false,
				"options": []any{map[string]any{"text": "Crushed box", "value": "crushed"}, map[string]any{"text": "Wrong item", "value": "wrong"}}},
		},
		"created_on":          map[string]any{"user_agent": ""},
		"poll_for_assignment": map[string]any{"duration": float64(60), "message": "Finding an agent", "success_message": "Found one", "failure_message": "Nobody is free"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("CustomForm (-got +want):\n%s", diff)
	}
	// A form without polling leaves poll_for_assignment out, never null.
	plain := contactForm()
	plain.PollForAssignment = nil
	createForm(t, e, &e.A, "plain", plain)
	got = call(e, &e.A, "GET", base+"/form/plain", nil).Want(t, http.StatusOK).JSON(t)
	wantKeys(t, "CustomForm without polling", got, slices.DeleteFunc(slices.Clone(formKeys), func(k string) bool { return k == "poll_for_assignment" }))

	for _, slug := range []string{"nope", "Damage-Report", "..%2F..%2Fetc%2Fpasswd", "%2E%2E", "a%00b", strings.Repeat("a", 101)} {
		wantMessage(t, call(e, &e.A, "GET", base+"/form/"+slug, nil), http.StatusNotFound)
	}
	wantMessage(t, call(e, &e.B, "GET", base+"/form/damage-report", nil), http.StatusNotFound)
}

func TestSubmitForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	createForm(t, e, &e.A, "damage-report", contactForm())
	path := base + "/form/damage-report/submit"
	res := call(e, &e.A, "POST", path, map[string]any{
		"response": []any{
			map[string]any{"key": "name", "value": "Cara Diaz"},
			map[string]any{"key": "email", "value": "cara@example.com"},
			map[string]any{"key": "qty", "value": 2},
			map[string]any{"key": "reason", "value": "crushed"},
		},
		"attachments": []any{map[string]any{"type": "image", "value": "https://cdn.example.com/dent.jpg", "display": "dent.jpg"}},
	}, "User-Agent", "storefront/2.0").Want(t, http.StatusOK).JSON(t)
	wantKeys(t, "SubmitCustomFormResponse", res, []string{"message", "ticket"})
	if res["message"] != "Thanks, we are on it." {
		t.Errorf("message = %v, want the form's success message", res["message"])
	}
	tk := obj(t, res["ticket"])
	checkTicketShape(t, tk)
	content := obj(t, tk["content"])
	if content["title"] != "Damage report Response" || !strings.Contains(content["description"].(string), "Reason: Crushed box") ||
		len(content["attachments"].([]any)) != 1 || tk["source"] != "sales_channel" || tk["response_id"] == "" ||
		obj(t, tk["priority"])["key"] != "high" || obj(t, tk["category"])["key"] != "general" ||
		obj(t, tk["created_on"])["user_agent"] != "storefront/2.0" {
		t.Errorf("submitted ticket = %v", tk)
	}
	nat := e.Native(&e.A, "GET", "/v1/tickets/"+tk["_id"].(string), nil).Want(t, http.StatusOK).JSON(t)
	if nat["source"] != "form" || obj(t, nat["form"])["slug"] != "damage-report" || obj(t, nat["form"])["response_id"] != tk["response_id"] {
		t.Errorf("native view of the submitted ticket = %v, want source form, the form's slug and response id", nat)
	}

	// Answers that do not fit the form: 422, every one listed.
	msg := wantMessage(t, call(e, &e.A, "POST", path, map[string]any{"response": []any{
		map[string]any{"key": "email", "value": "not-an-email"},
		map[string]any{"key": "qty", "value": "many"},
		map[string]any{"key": "reason", "value": "lost"},
		map[string]any{"key": "colour", "value": "red"},
	}}), http.StatusUnprocessableEntity)
	for _, w := range []string{"response[name]", "response[email]", "response[qty]", "response[reason]", "response[colour]"} {
		if !strings.Contains(msg, w) {
			t.Errorf("422 message %q does not list %s", msg, w)
		}
	}
	wantMessage(t, call(e, &e.A, "POST", path, map[string]any{"response": []any{}}), http.StatusUnprocessableEntity)

	// A body of the wrong shape: 400.
	bad := []struct {
		name string
		body any
		want string
	}{
		{"malformed JSON", `{"response": [`, "malformed JSON"},
		{"empty body", "", "empty"},
		{"array body", `[]`, "must be a JSON object"},
		{"no response", map[string]any{"attachments": []any{}}, "response is required"},
		{"response an object", map[string]any{"response": map[string]any{"name": "x"}}, "response must be an array, not an object"},
		{"response item a string", map[string]any{"response": []any{"Cara"}}, "response[0] must be an object, not a string"},
		{"response key a number", map[string]any{"response": []any{map[string]any{"key": 1, "value": "x"}}}, "response[0].key must be a string"},
		{"attachment of unknown type", map[string]any{"response": []any{}, "attachments": []any{map[string]any{"type": "pdf", "value": "x"}}}, `attachments[0].type "pdf"`},
		{"attachments a string", map[string]any{"response": []any{}, "attachments": "x"}, "attachments must be an array"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if msg := wantMessage(t, call(e, &e.A, "POST", path, tt.body), http.StatusBadRequest); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q lacks %q", msg, tt.want)
			}
		})
	}

	valid := map[string]any{"response": []any{map[string]any{"key": "name", "value": "X"}, map[string]any{"key": "email", "value": "x@example.com"}}}
	for _, slug := range []string{"nope", "..%2F..%2Fetc", "%2E%2E"} {
		wantMessage(t, call(e, &e.A, "POST", base+"/form/"+slug+"/submit", valid), http.StatusNotFound)
	}
	wantMessage(t, call(e, &e.B, "POST", path, valid), http.StatusNotFound)

	// login_required: only a logged-in user may submit.
	login := contactForm()
	login.LoginRequired = true
	createForm(t, e, &e.A, "members", login)
	wantMessage(t, call(e, &e.A, "POST", base+"/form/members/submit", valid), http.StatusUnauthorized)
	res = call(e, &e.A, "POST", base+"/form/members/submit", valid, fynd.HeaderUserData, `"u-9"`).Want(t, http.StatusOK).JSON(t)
	if cb := obj(t, obj(t, res["ticket"])["created_by"]); cb["id"] != "u-9" {
		t.Errorf("created_by = %v, want the logged-in user u-9", cb)
	}
}

func TestVideoRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tk := createTicket(t, e, &e.A, minimalTicket())
	room, _, err := e.Rooms.Open(ctx, e.A.ID, tk["_id"].(string), agent)
	if err != nil {
		t.Fatal(err)
	}
	name := room.UniqueName
	parts := base + "/video/room/" + name + "/participants"

	got := call(e, &e.A, "GET", parts, nil).Want(t, http.StatusOK).JSON(t)
	if diff := cmp.Diff(got, map[string]any{"participants": []any{}}); diff != "" {
		t.Errorf("empty room (-got +want):\n%s", diff)
	}
	cara := &domain.Actor{Kind: domain.ActorUser, ID: "u-cara", Name: "Cara Diaz", Email: "cara@example.com"}
	for _, id := range []string{"cara", "dan"} {
		u := cara
		if id == "dan" {
			u = nil
		}
		if _, _, err := e.Rooms.Join(ctx, e.A.ID, name, id, u, agent); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.Rooms.Leave(ctx, e.A.ID, name, "dan", agent); err != nil {
		t.Fatal(err)
	}
	got = call(e, &e.A, "GET", parts, nil).Want(t, http.StatusOK).JSON(t)
	wantKeys(t, "GetParticipantsInsideVideoRoomResponse", got, []string{"participants"})
	want := []any{map[string]any{"identity": "cara", "status": "connected", "user": map[string]any{
		"_id": "u-cara", "first_name": "Cara", "last_name": "Diaz", "emails": []any{map[string]any{"email": "cara@example.com", "primary": true}}}}}
	if diff := cmp.Diff(got["participants"], want); diff != "" {
		t.Errorf("participants (-got +want):\n%s", diff)
	}

	// Tokens: for the identity parameter, the logged-in user, or the application.
	token := base + "/video/room/" + name + "/token"
	for _, tt := range []struct {
		name, query, identity string
		headers               []string
	}{
		{"identity parameter", "?identity=cara%40example.com", "cara@example.com", nil},
		{"logged-in user", "", "u-77", []string{fynd.HeaderUserData, `{"_id":"u-77"}`}},
		{"application", "", e.A.Creds.FyndApplicationID, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := call(e, &e.A, "GET", token+tt.query, nil, tt.headers...).Want(t, http.StatusOK).JSON(t)
			wantKeys(t, "GetTokenForVideoRoomResponse", r, []string{"access_token"})
			claims, err := e.Rooms.VerifyToken(ctx, e.A.ID, r["access_token"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if claims.Subject != tt.identity || claims.Room != name {
				t.Errorf("token for %s in %s, want %s in %s", claims.Subject, claims.Room, tt.identity, name)
			}
			if _, err := e.Rooms.VerifyToken(ctx, e.B.ID, r["access_token"].(string)); err == nil {
				t.Errorf("A's token verifies for tenant B")
			}
		})
	}
	for _, q := range []string{"?identity=", "?identity=%20padded%20", "?identity=" + strings.Repeat("x", 129), "?identity=a%0Ab"} {
		wantMessage(t, call(e, &e.A, "GET", token+q, nil), http.StatusBadRequest)
	}

	for _, n := range []string{"nope", "..%2F..%2Fetc", "%2E%2E", "-x", strings.Repeat("a", 129), "a%20b"} {
		wantMessage(t, call(e, &e.A, "GET", base+"/video/room/"+n+"/participants", nil), http.StatusNotFound)
		wantMessage(t, call(e, &e.A, "GET", base+"/video/room/"+n+"/token", nil), http.StatusNotFound)
	}
	wantMessage(t, call(e, &e.B, "GET", parts, nil), http.StatusNotFound)
	wantMessage(t, call(e, &e.B, "GET", token, nil), http.StatusNotFound)

	// A closed room issues no tokens and lists nobody.
	if _, _, err := e.Rooms.Close(ctx, e.A.ID, name, agent); err != nil {
		t.Fatal(err)
	}
	wantMessage(t, call(e, &e.A, "GET", token, nil), http.StatusConflict)
	got = call(e, &e.A, "GET", parts, nil).Want(t, http.StatusOK).JSON(t)
	if diff := cmp.Diff(got, map[string]any{"participants": []any{}}); diff != "" {
		t.Errorf("closed room (-got +want):\n%s", diff)
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"DELETE", base + "/ticket/1", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET", base + "/ticket/", http.StatusMethodNotAllowed, "POST"},
		{"GET", base + "/ticket", http.StatusMethodNotAllowed, "POST"},
		{"PUT", base + "/form/x", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET", base + "/form/x/submit", http.StatusMethodNotAllowed, "POST"},
		{"GET", base + "/ticket/1/history", http.StatusMethodNotAllowed, "POST"},
		{"POST", base + "/video/room/r/token", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"POST", base + "/video/room/r/participants", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET", base + "/tickets", http.StatusNotFound, ""},
		{"GET", "/service/application/lead/v2.0/ticket/1", http.StatusNotFound, ""},
		{"GET", base + "/ticket/1/history/2", http.StatusNotFound, ""},
	} {
		r := call(e, &e.A, tt.method, tt.path, nil)
		wantMessage(t, r, tt.status)
		if r.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, r.Header.Get("Allow"), tt.allow)
		}
	}
}
