package native_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/web"
)

// conformContacts drives every documented answer of the contact
// operations.
func conformContacts(t *testing.T, e *env, c *checker) {
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

	ana := c.do(t, e, e.a, "POST", "/v1/contacts", map[string]any{"name": "Ana", "emails": []any{map[string]any{"type": "work", "value": "Ana@Example.com"}},
		"phones": []any{map[string]any{"value": "+84 905 000 001"}}, "addresses": []any{map[string]any{"city": "Da Nang", "country": "VN"}},
		"date_of_birth": "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)", "gender": 1},
		"Idempotency-Key", "contact-ana").want(t, http.StatusCreated).json(t)
	anaID := ana["id"].(string)
	c.do(t, e, e.a, "POST", "/v1/contacts", map[string]any{"name": "Ana again", "emails": []any{map[string]any{"value": "ana@example.com"}}}).want(t, http.StatusOK)
	bo := c.do(t, e, e.a, "POST", "/v1/contacts", map[string]any{"name": "Bo", "passport": "b 123"}).want(t, http.StatusCreated).json(t)
	c.do(t, e, e.a, "POST", "/v1/contacts", map[string]any{"name": "X", "passport": "B123", "emails": []any{map[string]any{"value": "ana@example.com"}}}).
		problem(t, http.StatusConflict, "identity_conflict")
	shared("POST", "/v1/contacts", map[string]any{"name": "Cy"}, `{"name": "", "kind": "person", "emails": [{"value": "nope"}]}`)

	path := "/v1/contacts/" + anaID
	c.do(t, e, e.a, "GET", path, nil).want(t, http.StatusOK)
	c.do(t, e, e.a, "GET", "/v1/contacts/"+ana["code"].(string), nil).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", path, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.b, "GET", path, nil).problem(t, http.StatusNotFound, "customer_not_found")

	c.do(t, e, e.a, "PATCH", path, map[string]any{"title": "CEO"}, "Idempotency-Key", "ana-title").want(t, http.StatusOK)
	c.do(t, e, e.a, "PATCH", "/v1/contacts/"+unknown, map[string]any{"title": "X"}).problem(t, http.StatusNotFound, "customer_not_found")
	c.do(t, e, e.a, "PATCH", path, map[string]any{"passport": "B123"}).problem(t, http.StatusConflict, "identity_taken")
	c.do(t, e, e.a, "PATCH", path, map[string]any{"title": "X"}, "If-Match", `"999"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	shared("PATCH", path, map[string]any{"title": "CTO"}, `{"kind": "lead", "name": ""}`)

	lead := c.do(t, e, e.a, "POST", "/v1/contacts", map[string]any{"kind": "lead", "name": "Lee"}).want(t, http.StatusCreated).json(t)
	convert := "/v1/contacts/" + lead["code"].(string) + "/convert"
	c.do(t, e, e.a, "POST", convert, nil).want(t, http.StatusOK)
	c.do(t, e, e.a, "POST", convert, map[string]any{}).problem(t, http.StatusConflict, "not_a_lead")
	c.do(t, e, e.a, "POST", "/v1/contacts/"+unknown+"/convert", nil).problem(t, http.StatusNotFound, "customer_not_found")
	c.doBad(t, e, nil, "POST", convert, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.doBad(t, e, e.a, "POST", convert, `{"a": 1,}`).problem(t, http.StatusBadRequest, "malformed_json")
	c.do(t, e, e.a, "POST", convert, big(map[string]any{})).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
	c.doBad(t, e, e.a, "POST", convert, `{}`, "Content-Type", "text/plain").problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	c.doBad(t, e, e.a, "POST", convert, nil, "Eventdesk-Actor", "nobody").problem(t, http.StatusUnprocessableEntity, "validation_failed")

	notes := path + "/notes"
	c.do(t, e, e.a, "POST", notes, map[string]any{"body": "Called", "tag": "call"}, "Idempotency-Key", "note-1").want(t, http.StatusCreated)
	c.do(t, e, e.a, "POST", "/v1/contacts/"+unknown+"/notes", map[string]any{"body": "X"}).problem(t, http.StatusNotFound, "customer_not_found")
	shared("POST", notes, map[string]any{"body": "Hi"}, `{"body": ""}`)

	merge := path + "/merge"
	boID := bo["id"].(string)
	dry := c.do(t, e, e.a, "POST", merge, map[string]any{"from": []string{boID}, "dry_run": true}).want(t, http.StatusOK).json(t)
	if dry["dry_run"] != true || len(dry["conflicts"].([]any)) == 0 {
		t.Errorf("dry run = %v, want the name conflict", dry)
	}
	c.do(t, e, e.a, "POST", merge, map[string]any{"from": []string{boID}}, "Idempotency-Key", "merge-bo").want(t, http.StatusOK)
	c.do(t, e, e.a, "POST", merge, map[string]any{"from": []string{boID}}).problem(t, http.StatusConflict, "customer_merged")
	c.do(t, e, e.a, "POST", "/v1/contacts/"+unknown+"/merge", map[string]any{"from": []string{boID}}).problem(t, http.StatusNotFound, "customer_not_found")
	shared("POST", merge, map[string]any{"from": []string{boID}}, `{"from": []}`)

	unmerge := path + "/unmerge"
	c.do(t, e, e.a, "POST", unmerge, map[string]any{"contact": boID}).want(t, http.StatusOK)
	c.do(t, e, e.a, "POST", unmerge, map[string]any{"contact": boID}).problem(t, http.StatusConflict, "not_merged")
	c.do(t, e, e.a, "POST", "/v1/contacts/"+unknown+"/unmerge", map[string]any{"contact": boID}).problem(t, http.StatusNotFound, "customer_not_found")
	shared("POST", unmerge, map[string]any{"contact": boID}, `{"contact": ""}`)
}

// TestContactPermits checks, for each permit kind, which agent tokens see
// a customer: a customer the permit does not allow answers 404 to reads
// and writes, exactly as one that does not exist; admins and the API key
// see everything.
func TestContactPermits(t *testing.T) {
	e := newEnv(t)
	agentNamed := func(name, role string) (id, token string) {
		a := e.do(e.a, "POST", "/v1/agents", map[string]any{"email": name + "@example.com", "name": name, "role": role}).want(t, http.StatusCreated).json(t)
		id = a["id"].(string)
		return id, e.do(e.a, "POST", "/v1/agents/"+id+"/tokens", nil).want(t, http.StatusCreated).json(t)["token"].(string)
	}
	ana, anaTok := agentNamed("ana", "agent")
	bo, boTok := agentNamed("bo", "agent")
	_, cyTok := agentNamed("cy", "agent")
	_, adminTok := agentNamed("root", "admin")
	group := e.do(e.a, "POST", "/v1/groups", map[string]any{"name": "Sales", "members": []string{bo}}).want(t, http.StatusCreated).json(t)["id"].(string)

	create := func(name string, permit map[string]any) string {
		return e.do(e.a, "POST", "/v1/contacts", map[string]any{"name": name, "owner": ana, "permit": permit}).
			want(t, http.StatusCreated).json(t)["id"].(string)
	}
	tests := []struct {
		permit map[string]any
		sees   map[string]bool // by token
	}{
		{map[string]any{"kind": "everybody"}, map[string]bool{anaTok: true, boTok: true, cyTok: true, adminTok: true}},
		{map[string]any{"kind": "owner"}, map[string]bool{anaTok: true, boTok: false, cyTok: false, adminTok: true}},
		{map[string]any{"kind": "owner_group", "group": group}, map[string]bool{anaTok: true, boTok: true, cyTok: false, adminTok: true}},
		{map[string]any{"kind": "owner_agents", "agents": []string{bo}}, map[string]bool{anaTok: true, boTok: true, cyTok: false, adminTok: true}},
	}
	names := map[string]string{anaTok: "ana (owner)", boTok: "bo (in the group, listed)", cyTok: "cy", adminTok: "an admin"}
	for _, tt := range tests {
		id := create("Customer "+tt.permit["kind"].(string), tt.permit)
		for tok, sees := range tt.sees {
			want := http.StatusNotFound
			if sees {
				want = http.StatusOK
			}
			if got := e.asToken(tok, "GET", "/v1/contacts/"+id, nil); got.Status != want {
				t.Errorf("permit %v: GET as %s = %d, want %d", tt.permit, names[tok], got.Status, want)
			}
			wantNote := http.StatusNotFound
			if sees {
				wantNote = http.StatusCreated
			}
			if got := e.asToken(tok, "POST", "/v1/contacts/"+id+"/notes", map[string]any{"body": "hi"}); got.Status != wantNote {
				t.Errorf("permit %v: POST note as %s = %d, want %d", tt.permit, names[tok], got.Status, wantNote)
			}
		}
		e.do(e.a, "GET", "/v1/contacts/"+id, nil).want(t, http.StatusOK)
	}
}

// TestContactEventsOnTheFeed: the CRM's events are on the tenant's event
// feed like the tickets', and another tenant's feed does not show them.
func TestContactEventsOnTheFeed(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.a, "POST", "/v1/contacts", map[string]any{"name": "Ana", "emails": []any{map[string]any{"value": "ana@example.com"}}}).
		want(t, http.StatusCreated)
	id := r.json(t)["id"].(string)
	n := e.do(e.a, "POST", "/v1/contacts/"+id+"/notes", map[string]any{"body": "Called"}).want(t, http.StatusCreated)
	evs := e.events(e.a, "stream_type=customer", n.Header.Get("Eventdesk-Position"))
	var types []string
	for _, ev := range evs {
		m := ev.(map[string]any)
		if m["stream_id"] != id {
			t.Errorf("feed event of stream %v, want only %s", m["stream_id"], id)
		}
		types = append(types, m["type"].(string))
	}
	if want := []string{"customer.created", "customer.note_added"}; strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("customer events on the feed = %v, want %v", types, want)
	}
	if other := e.do(e.b, "GET", "/v1/events?stream_type=customer", nil).want(t, http.StatusOK).json(t)["events"].([]any); len(other) != 0 {
		t.Errorf("another tenant's feed shows %d customer events", len(other))
	}
}
