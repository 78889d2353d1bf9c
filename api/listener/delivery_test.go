package listener_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain/customer"
)

// TestSeedSamples posts every sample of seed 004 verbatim: the add-contact
// and add-lead reference samples succeed with the document's semantics;
// every other sample is not JSON and gets a 400 naming where and what,
// storing nothing.
func TestSeedSamples(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, map[string]any{"default_tag": "listener", "contact_channel": "Website", "lead_channel": "Ads"})

	rs := h.results(t, h.post(t, seedFile(t, "add_contact_sample.json")), 1)
	c := h.customer(t, want(t, rs[0], "created").Code)
	if c.Kind != customer.Contact || !strings.HasPrefix(c.Code, "PID-") || c.Profile.Name != "Huy" || c.Profile.LastName != "Nguyen" ||
		c.Profile.DateOfBirth != "1993-01-01" || c.Profile.Passport != "1945295865" || c.Profile.Emails[0].Value != "huy.nguyen@htklabs.com" {
		t.Errorf("add-contact sample made %+v", c)
	}
	if c.Profile.Channel != "Website" || len(c.Profile.Tags) != 1 || c.Profile.Tags[0] != "listener" {
		t.Errorf("new contact channel %q tags %v, want the listener's Website and [listener]", c.Profile.Channel, c.Profile.Tags)
	}
	if c.Profile.Gender == nil || *c.Profile.Gender != customer.Female || c.Profile.Addresses[0].Country.Code != "VN" {
		t.Errorf("gender / address = %v / %+v", c.Profile.Gender, c.Profile.Addresses)
	}

	// The add-lead sample shares the contact's passport, e-mail and phone:
	// identities are the tenant's, so it is the same person — a duplicate.
	rs = h.results(t, h.post(t, seedFile(t, "add_lead_sample.json")), 1)
	if want(t, rs[0], "duplicate").Code != c.Code {
		t.Errorf("add-lead sample duplicate of %s, want %s", rs[0].Code, c.Code)
	}
	// In a tenant without that contact, the add-lead sample creates the
	// lead, with its own tag (not the default), the lead channel, its
	// company GOOGLE as an account, and warns of the undefined "Referred By".
	h2 := newHook(t, e, &e.B, map[string]any{"default_tag": "listener", "lead_channel": "Ads"})
	rs = h2.results(t, h2.post(t, seedFile(t, "add_lead_sample.json")), 1)
	lead := h2.customer(t, want(t, rs[0], "created").Code)
	if lead.Kind != customer.Lead || lead.Profile.ContactID != "1234567897" || lead.Profile.Channel != "Ads" ||
		len(lead.Profile.Tags) != 1 || lead.Profile.Tags[0] != "webhook" || len(lead.Profile.Custom) != 0 {
		t.Errorf("add-lead sample made %+v", lead)
	}
	if len(rs[0].Warnings) != 1 || !strings.Contains(rs[0].Warnings[0], `"Referred By"`) {
		t.Errorf("warnings = %v, want one for Referred By", rs[0].Warnings)
	}
	if co := h2.customer(t, lead.Profile.Account); co.Kind != customer.Account || co.Profile.Name != "GOOGLE" || co.Profile.Channel != "" {
		t.Errorf("the lead's company = %+v, want the account GOOGLE (with the contact channel, none here)", co)
	}

	invalid := []struct {
		file                 string
		line, column, offset int
		found                string
	}{
		{"model_flow.txt", 2, 1, 2, "unquoted word senderUser"},
		{"add_contact_structure.txt", 1, 3, 2, "unquoted word senderUser"},
		{"add_lead_structure.txt", 1, 39, 38, "comment"},
		{"update_lead_structure.txt", 1, 3, 2, "unquoted word senderUser"},
		{"update_lead_sample.txt", 1, 738, 741, "missing comma"},
		{"update_contact_structure.txt", 1, 3, 2, "unquoted word senderUser"},
		{"update_contact_sample.txt", 1, 646, 647, "unquoted word status"},
		{"add_note_structure.txt", 1, 17, 16, "placeholder <email>"},
		{"add_note_contact_sample.txt", 1, 258, 257, "comment"},
		{"add_note_deal_sample.txt", 1, 186, 185, "trailing comma"},
		{"add_deal_sample.txt", 1, 112, 111, "comment"},
		{"add_ticket_structure.txt", 1, 17, 16, "placeholder <email>"},
		{"add_ticket_sample.txt", 1, 119, 118, "comment"},
		{"send_sms_structure.txt", 1, 17, 16, "placeholder <email>"},
		{"send_sms_sample.txt", 1, 135, 134, "curly quote U+201C; use a straight double quote"},
	}
	// Writes are acknowledged after their commit, so anything stored from
	// here on is recorded after start (the gap-free log may still be about
	// to show the samples above: counting would race with it).
	start := time.Now()
	for _, tt := range invalid {
		r := h.post(t, seedFile(t, tt.file)).Want(t, 400)
		var body struct {
			Error struct {
				Code                 string
				Message              string
				Line, Column, Offset int
				Found                string
			}
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		got := body.Error
		if got.Code != "invalid_json" || got.Line != tt.line || got.Column != tt.column || got.Offset != tt.offset || got.Found != tt.found ||
			!strings.Contains(got.Message, fmt.Sprintf("line %d, column %d (byte %d)", tt.line, tt.column, tt.offset)) {
			t.Errorf("%s: %s, want line %d column %d offset %d found %q", tt.file, r.Body, tt.line, tt.column, tt.offset, tt.found)
		}
	}
	time.Sleep(100 * time.Millisecond) // let any commit of theirs show
	after, err := e.Store.ReadAll(context.Background(), eventQuery())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range after {
		if !ev.RecordedAt.Before(start) && (ev.TenantID == e.A.ID || ev.TenantID == e.B.ID) {
			t.Errorf("an invalid sample stored %s on %s", ev.Type, ev.StreamID)
		}
	}
}

// TestEnvelope: 422 for a wrong envelope, a failed result for an unknown
// or malformed action (the others still run), 413 for a large body.
func TestEnvelope(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, nil)
	for _, tt := range []struct{ body, code, field string }{
		{`{"data": []}`, "sender_required", "senderUser"},
		{`{"senderUser": "", "data": []}`, "sender_required", "senderUser"},
		{`{"senderUser": 7, "data": []}`, "sender_required", "senderUser"},
		{`{"senderUser": "nobody@example.com", "data": []}`, "unknown_sender", "senderUser"},
		{`{"senderUser": "` + sender + `"}`, "data_required", "data"},
		{`{"senderUser": "` + sender + `", "data": {"actionType": "add-contact"}}`, "data_not_array", "data"},
		{`[]`, "invalid_envelope", ""},
		{`{"senderUser": "` + sender + `", "data": [` + strings.Repeat(`{},`, 100) + `{}]}`, "too_many_actions", "data"},
	} {
		r := h.post(t, tt.body).Want(t, 422)
		var body struct{ Error struct{ Code, Field string } }
		_ = json.Unmarshal(r.Body, &body)
		if body.Error.Code != tt.code || body.Error.Field != tt.field {
			t.Errorf("%s: %s, want code %s field %s", tt.body, r.Body, tt.code, tt.field)
		}
	}
	// Another tenant's agent is not a sender here.
	if _, err := e.Agents.ByEmail(context.Background(), e.B.ID, sender); err == nil {
		t.Fatal("tenant B has the sender")
	}
	rs := h.results(t, h.post(t, `{"senderUser": "`+sender+`", "data": [{"actionType": "add-order", "data": {}}, 7, {"data": {}},
		{"actionType": "add-contact", "data": {"name": "Ana", "emails": [{"value": "ana@example.com"}]}}, {"actionType": "add-contact", "data": []}]}`), 5)
	wantFailed(t, rs[0], "unknown_action_type", "actionType")
	wantFailed(t, rs[1], "invalid_action", "")
	wantFailed(t, rs[2], "action_type_required", "actionType")
	want(t, rs[3], "created")
	wantFailed(t, rs[4], "invalid_data", "data")

	big := `{"senderUser": "` + sender + `", "data": [{"actionType": "add-note", "data": {"body": "` + strings.Repeat("x", 1<<20) + `"}}]}`
	h.post(t, big).Want(t, 413)
	h.e.Do("GET", h.path, nil).Want(t, 405)
}

// TestListenerURL: rotation, disabling and deletion stop a URL at once; a
// URL never reaches another tenant; the IP allow-list judges the
// connection, or X-Forwarded-For from a trusted proxy only.
func TestListenerURL(t *testing.T) {
	e := apitest.New(t, func(d *api.Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	h := newHook(t, e, &e.A, nil)
	one := func(name string) map[string]any {
		return map[string]any{"senderUser": sender, "data": []any{map[string]any{"actionType": "add-contact", "data": map[string]any{"name": name}}}}
	}
	h.results(t, h.post(t, one("Ana")), 1)

	// Tenant isolation: A's URL writes into A only; B's API does not see it.
	e.Native(&e.B, "GET", "/v1/listeners/"+h.id, nil).Want(t, 404)
	e.Native(&e.B, "POST", "/v1/listeners/"+h.id+"/rotate", nil).Want(t, 404)
	if l := e.Native(&e.B, "GET", "/v1/listeners", nil).Want(t, 200).JSON(t)["listeners"].([]any); len(l) != 0 {
		t.Errorf("tenant B lists %d listeners", len(l))
	}

	// A's URL acts in A only: B's agents are no senders there, and what it
	// creates is not B's.
	if _, _, err := e.Agents.Create(context.Background(), e.B.ID, agentCreate("b-only@example.com", true), apiKey); err != nil {
		t.Fatal(err)
	}
	r := h.post(t, `{"senderUser": "b-only@example.com", "data": []}`).Want(t, 422)
	if !strings.Contains(string(r.Body), "unknown_sender") {
		t.Errorf("B's agent on A's URL: %s", r.Body)
	}
	code := h.results(t, h.post(t, one("Ana B")), 1)[0].Code
	if _, _, err := e.Customers.Get(context.Background(), e.B.ID, code); err == nil {
		t.Errorf("%s created through A's URL is found in tenant B", code)
	}
	e.Native(&e.B, "GET", "/v1/contacts/"+code, nil).Want(t, 404)

	// GET never shows the URL.
	if got := e.Native(&e.A, "GET", "/v1/listeners/"+h.id, nil).Want(t, 200).JSON(t); got["url"] != nil || got["name"] != "Web form" {
		t.Errorf("GET listener = %v", got)
	}

	// Rotation: the old URL answers 404 at once, the new one works.
	rot := e.Native(&e.A, "POST", "/v1/listeners/"+h.id+"/rotate", nil).Want(t, 200).JSON(t)
	old := h.path
	h.path = strings.TrimPrefix(rot["url"].(string), app.DefaultPublicURL)
	if h.path == old {
		t.Fatal("rotate answered the same URL")
	}
	e.Do("POST", old, one("Bo")).Want(t, 404)
	h.results(t, h.post(t, one("Bo")), 1)

	// Disabled: 404; enabled again: works.
	e.Native(&e.A, "PATCH", "/v1/listeners/"+h.id, map[string]any{"enabled": false}).Want(t, 200)
	h.post(t, one("Cy")).Want(t, 404)
	e.Native(&e.A, "PATCH", "/v1/listeners/"+h.id, map[string]any{"enabled": true}).Want(t, 200)

	// The IP allow-list: the connection (127.0.0.1, a trusted proxy here)
	// forwards for the client named in X-Forwarded-For.
	e.Native(&e.A, "PATCH", "/v1/listeners/"+h.id, map[string]any{"allowed_cidrs": []string{"203.0.113.0/24"}}).Want(t, 200)
	h.post(t, one("Cy")).Want(t, 403)
	h.post(t, one("Cy"), "X-Forwarded-For", "198.51.100.7").Want(t, 403)
	h.results(t, h.post(t, one("Cy"), "X-Forwarded-For", "198.51.100.7, 203.0.113.9"), 1)

	// Without trusted proxies, X-Forwarded-For is not believed.
	e2 := apitest.New(t)
	h2 := newHook(t, e2, &e2.A, map[string]any{"allowed_cidrs": []string{"203.0.113.0/24"}})
	h2.post(t, one("Di"), "X-Forwarded-For", "203.0.113.9").Want(t, 403)
	e2.Native(&e2.A, "PATCH", "/v1/listeners/"+h2.id, map[string]any{"allowed_cidrs": []string{"127.0.0.0/8"}}).Want(t, 200)
	h2.results(t, h2.post(t, one("Di")), 1)

	// Deleted: 404 at once, and gone from the API.
	e.Native(&e.A, "DELETE", "/v1/listeners/"+h.id, nil).Want(t, 204)
	h.post(t, one("Ed"), "X-Forwarded-For", "203.0.113.9").Want(t, 404)
	e.Native(&e.A, "GET", "/v1/listeners/"+h.id, nil).Want(t, 404)
	e.Do("POST", app.ListenerPath+"whl_not-a-secret", one("Ed")).Want(t, 404)
}

// TestManagement: validation names the field; only admins manage.
func TestManagement(t *testing.T) {
	e := apitest.New(t)
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{}, "name"},
		{map[string]any{"name": "x", "allowed_cidrs": []string{"10.0.0.300"}}, "allowed_cidrs[0]"},
		{map[string]any{"name": "x", "auto_email": map[string]any{"enabled": true, "subject": "Hi", "body": "{{.Password}}"}}, "auto_email.body"},
		{map[string]any{"name": "x", "auto_sms": map[string]any{"enabled": true, "template": `{{printf "%s" .Name}}`}}, "auto_sms.template"},
		{map[string]any{"name": "x", "auto_sms": map[string]any{"enabled": true}}, "auto_sms.template"},
		{map[string]any{"name": "x", "rate_limit": -1}, "rate_limit"},
	} {
		r := e.Native(&e.A, "POST", "/v1/listeners", tt.body).Want(t, 422)
		if !strings.Contains(string(r.Body), `"field":"`+tt.field+`"`) {
			t.Errorf("POST %v: %s, want field %s", tt.body, r.Body, tt.field)
		}
	}
	l := e.Native(&e.A, "POST", "/v1/listeners", map[string]any{"name": "x"}).Want(t, 201).JSON(t)
	if l["enabled"] != true || l["rate_limit_per_minute"] != float64(120) {
		t.Errorf("defaults = %v", l)
	}
	tok, _, err := e.Agents.Create(context.Background(), e.A.ID, agentCreate("ag@example.com", false), apiKey)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := e.Agents.CreateToken(context.Background(), e.A.ID, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.Do("POST", "/v1/listeners", map[string]any{"name": "y"}, "Authorization", "Bearer "+nt.Token).Want(t, 403)
	e.Do("GET", "/v1/listeners", nil, "Authorization", "Bearer "+nt.Token).Want(t, 403)
}
