package native_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTicketLifecycle(t *testing.T) {
	e := newEnv(t)
	created := e.do(e.a, "POST", "/v1/tickets", map[string]any{
		"title": "Printer on fire", "description": "Smoke everywhere", "priority": "high",
		"tags": []string{"Hardware"}, "custom": map[string]any{"floor": 3},
	}).want(t, http.StatusCreated)
	tk := created.json(t)
	id := tk["id"].(string)
	if tk["number"] != float64(1) || tk["key"] != "#001" || tk["status"] != "open" || tk["priority"] != "high" {
		t.Errorf("created ticket = %v, want number 1 (#001), open, high", tk)
	}
	if created.Header.Get("Location") != "/v1/tickets/"+id || created.Header.Get("Eventdesk-Position") == "" || created.Header.Get("ETag") != `"1"` {
		t.Errorf("headers = %v, want Location, Eventdesk-Position and ETag \"1\"", created.Header)
	}
	// Read your write, by id and by number.
	for _, ref := range []string{id, "1", "%23001"} {
		got := e.do(e.a, "GET", "/v1/tickets/"+ref, nil).want(t, http.StatusOK).json(t)
		if got["id"] != id {
			t.Errorf("GET /v1/tickets/%s = %v, want ticket %s", ref, got["id"], id)
		}
	}
	patched := e.do(e.a, "PATCH", "/v1/tickets/"+id, map[string]any{
		"status": "in_progress", "assignee": map[string]any{"id": "ana", "kind": "agent"}, "add_tags": []string{"urgent-care"},
	}, "If-Match", `"1"`).want(t, http.StatusOK)
	p := patched.json(t)
	if p["status"] != "in_progress" || p["assignee"].(map[string]any)["id"] != "ana" || patched.Header.Get("ETag") != `"4"` {
		t.Errorf("patched = %v (ETag %s), want in_progress, assigned to ana, version 4", p, patched.Header.Get("ETag"))
	}
	// A stale If-Match is refused and changes nothing.
	e.do(e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"priority": "low"}, "If-Match", `"1"`).
		problem(t, http.StatusPreconditionFailed, "precondition_failed")
	h := e.do(e.a, "POST", "/v1/tickets/"+id+"/history", map[string]any{"type": "comment", "value": map[string]any{"text": "toner melted"}}).
		want(t, http.StatusCreated).json(t)
	if h["type"] != "comment" || h["ticket_id"] != id || h["visibility"] != "public" {
		t.Errorf("history entry = %v", h)
	}
	e.do(e.a, "POST", "/v1/tickets/"+id+"/history", map[string]any{"type": "comment", "visibility": "internal", "value": map[string]any{"text": "psst"}}).
		want(t, http.StatusCreated)
	hist := e.do(e.a, "GET", "/v1/tickets/"+id+"/history", nil).want(t, http.StatusOK).json(t)["history"].([]any)
	if len(hist) != 1 {
		t.Errorf("public history has %d entries, want 1", len(hist))
	}
	hist = e.do(e.a, "GET", "/v1/tickets/"+id+"/history?include_internal=true", nil).want(t, http.StatusOK).json(t)["history"].([]any)
	if len(hist) != 2 {
		t.Errorf("full history has %d entries, want 2", len(hist))
	}
	act := e.do(e.a, "POST", "/v1/tickets/"+id+"/activities", map[string]any{"text": "Visited the portal", "direction": "INBOUND"}).
		want(t, http.StatusCreated).json(t)
	if act["direction"] != "INBOUND" || act["text"] != "Visited the portal" {
		t.Errorf("activity = %v", act)
	}
	// Close, refuse to close again, refuse edits, reopen explicitly.
	e.do(e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"status": "closed"}).want(t, http.StatusOK)
	e.do(e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"status": "closed"}).problem(t, http.StatusConflict, "ticket_already_closed")
	e.do(e.a, "PATCH", "/v1/tickets/"+id, map[string]any{"status": "open"}).problem(t, http.StatusConflict, "ticket_closed")
	re := e.do(e.a, "POST", "/v1/tickets/"+id+"/reopen", nil).want(t, http.StatusOK).json(t)
	if re["status"] != "open" {
		t.Errorf("reopened status = %v, want open", re["status"])
	}
	// The audit trail names each change with actor and source.
	evs := e.do(e.a, "GET", "/v1/tickets/"+id+"/events", nil).want(t, http.StatusOK).json(t)["events"].([]any)
	var types []string
	for _, ev := range evs {
		m := ev.(map[string]any)
		types = append(types, m["type"].(string))
		if md := m["metadata"].(map[string]any); md["source"] != "api" || md["actor"] == "" {
			t.Errorf("event %s metadata = %v, want source api and an actor", m["type"], md)
		}
	}
	want := []string{"ticket.created", "ticket.assigned", "ticket.tagged", "ticket.status_changed", "ticket.history_logged",
		"ticket.history_logged", "ticket.activity_added", "ticket.status_changed", "ticket.reopened"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestListFilterSearchAndCursor(t *testing.T) {
	e := newEnv(t)
	var pos string
	for i := range 5 {
		res := e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": fmt.Sprintf("Ticket %d", i),
			"priority": []string{"low", "urgent"}[i%2], "description": []string{"printer jam", "refund please"}[i%2]}).want(t, http.StatusCreated)
		pos = res.Header.Get("Eventdesk-Position")
	}
	e.createTicket(e.b, map[string]any{"title": "Other tenant's printer jam"})
	list := func(q string) []string {
		t.Helper()
		m := e.do(e.a, "GET", "/v1/tickets?min_position="+pos+"&"+q, nil).want(t, http.StatusOK).json(t)
		var titles []string
		for _, tk := range m["tickets"].([]any) {
			titles = append(titles, tk.(map[string]any)["title"].(string))
		}
		return titles
	}
	if diff := cmp.Diff([]string{"Ticket 4", "Ticket 2", "Ticket 0"}, list("priority=low")); diff != "" {
		t.Errorf("priority=low (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Ticket 4", "Ticket 2", "Ticket 0"}, list("q=printer")); diff != "" {
		t.Errorf("q=printer (-want +got):\n%s", diff)
	}
	page := e.do(e.a, "GET", "/v1/tickets?limit=2", nil).want(t, http.StatusOK).json(t)
	var all []string
	for page != nil {
		for _, tk := range page["tickets"].([]any) {
			all = append(all, tk.(map[string]any)["title"].(string))
		}
		next, _ := page["next_cursor"].(string)
		page = nil
		if next != "" {
			page = e.do(e.a, "GET", "/v1/tickets?limit=2&cursor="+next, nil).want(t, http.StatusOK).json(t)
		}
	}
	if diff := cmp.Diff([]string{"Ticket 4", "Ticket 3", "Ticket 2", "Ticket 1", "Ticket 0"}, all); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}
	p := e.do(e.a, "GET", "/v1/tickets?priority=extreme&limit=0&created_from=yesterday", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if got := fields(p); !sameSet(got, []string{"priority", "limit", "created_from"}) {
		t.Errorf("bad query fields = %v", got)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	created := e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "x"}).want(t, http.StatusCreated)
	id := created.json(t)["id"].(string)
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
		fields                   []string
	}{
		{"malformed JSON names the offset", "POST", "/v1/tickets", `{"title": "a",}`, 400, "malformed_json", nil},
		{"truncated JSON", "POST", "/v1/tickets", `{"title": "a"`, 400, "malformed_json", nil},
		{"not an object", "POST", "/v1/tickets", `["a"]`, 400, "malformed_json", nil},
		{"unknown field", "POST", "/v1/tickets", `{"title": "a", "colour": "red"}`, 400, "unknown_field", []string{"colour"}},
		{"unknown nested field", "POST", "/v1/tickets", `{"title": "a", "assignee": {"id": "x", "kind": "agent", "rank": 1}}`, 400, "unknown_field", []string{"assignee.rank"}},
		{"wrong types listed", "POST", "/v1/tickets", `{"title": 5, "tags": "x", "custom": []}`, 422, "validation_failed", []string{"custom", "tags", "title"}},
		{"missing title", "POST", "/v1/tickets", `{"description": "d"}`, 422, "validation_failed", []string{"title"}},
		{"bad enums list allowed values", "POST", "/v1/tickets", `{"title": "a", "priority": "extreme", "source": "fax"}`, 422, "validation_failed", []string{"priority", "source"}},
		{"unknown status", "POST", "/v1/tickets", `{"title": "a", "status": "limbo"}`, 422, "validation_failed", []string{"status"}},
		{"bad history type", "POST", "/v1/tickets/" + id + "/history", `{"type": "shout", "value": {}}`, 422, "validation_failed", []string{"type"}},
		{"history value not an object", "POST", "/v1/tickets/" + id + "/history", `{"type": "comment", "value": "hi"}`, 422, "validation_failed", []string{"value"}},
		{"bad direction", "POST", "/v1/tickets/" + id + "/activities", `{"text": "t", "direction": "SIDEWAYS"}`, 422, "validation_failed", []string{"direction"}},
		{"unknown ticket", "GET", "/v1/tickets/7a0c4f4e-0000-4000-8000-000000000000", ``, 404, "ticket_not_found", nil},
		{"unknown number", "GET", "/v1/tickets/999", ``, 404, "ticket_not_found", nil},
		{"garbage id", "GET", "/v1/tickets/..%2F..%2Fetc", ``, 404, "ticket_not_found", nil},
		{"unknown route", "GET", "/v1/nothing", ``, 404, "no_route", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			p := e.do(e.a, tt.method, tt.path, body).problem(t, tt.status, tt.code)
			if tt.fields != nil && !sameSet(fields(p), tt.fields) {
				t.Errorf("fields = %v, want %v (problem %v)", fields(p), tt.fields, p)
			}
			if tt.code == "malformed_json" && tt.name == "malformed JSON names the offset" && !strings.Contains(p["detail"].(string), "offset 15") {
				t.Errorf("detail %q does not name byte offset 15", p["detail"])
			}
			if tt.code == "validation_failed" && strings.Contains(tt.name, "allowed") && !strings.Contains(p["detail"].(string), "low, medium, high, urgent") {
				t.Errorf("detail %q does not list the allowed priorities", p["detail"])
			}
		})
	}
	big := `{"title": "` + strings.Repeat("x", 1<<20) + `"}`
	e.do(e.a, "POST", "/v1/tickets", big).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
	// Nothing partial was stored: only the one ticket exists.
	var tickets int
	for _, ev := range e.events(e.a, "", created.Header.Get("Eventdesk-Position")) {
		if ev.(map[string]any)["type"] == "ticket.created" {
			tickets++
		}
	}
	if tickets != 1 {
		t.Errorf("%d tickets stored, want 1", tickets)
	}
}

func TestAuthAndTenantIsolation(t *testing.T) {
	e := newEnv(t)
	tk := e.createTicket(e.a, map[string]any{"title": "A's secret"})
	id := tk["id"].(string)
	e.do(nil, "GET", "/v1/tickets/"+id, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	e.do(nil, "GET", "/v1/tickets/"+id, nil, "Authorization", "Bearer edk_wrong").problem(t, http.StatusUnauthorized, "unauthenticated")
	// B cannot see or touch A's ticket, by id or by number: 404, as if it did not exist.
	for _, ref := range []string{id, "1"} {
		e.do(e.b, "GET", "/v1/tickets/"+ref, nil).problem(t, http.StatusNotFound, "ticket_not_found")
		e.do(e.b, "PATCH", "/v1/tickets/"+ref, map[string]any{"title": "pwned"}).problem(t, http.StatusNotFound, "ticket_not_found")
		e.do(e.b, "POST", "/v1/tickets/"+ref+"/history", map[string]any{"type": "comment", "value": map[string]any{}}).problem(t, http.StatusNotFound, "ticket_not_found")
		e.do(e.b, "GET", "/v1/tickets/"+ref+"/events", nil).problem(t, http.StatusNotFound, "ticket_not_found")
	}
	if list := e.do(e.b, "GET", "/v1/tickets", nil).want(t, http.StatusOK).json(t)["tickets"].([]any); len(list) != 0 {
		t.Errorf("B lists %d tickets, want 0", len(list))
	}
	for _, ev := range e.do(e.b, "GET", "/v1/events", nil).want(t, http.StatusOK).json(t)["events"].([]any) {
		if ev.(map[string]any)["stream_id"] == id {
			t.Error("B's event feed shows A's ticket")
		}
	}
	if got := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t); got["title"] != "A's secret" {
		t.Errorf("A's ticket title = %v after B's attempts", got["title"])
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"title": "once"}
	first := e.do(e.a, "POST", "/v1/tickets", body, "Idempotency-Key", "k1").want(t, http.StatusCreated)
	again := e.do(e.a, "POST", "/v1/tickets", body, "Idempotency-Key", "k1").want(t, http.StatusCreated)
	if !bytes.Equal(first.Body, again.Body) || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Eventdesk-Position") != first.Header.Get("Eventdesk-Position") {
		t.Errorf("replay differs: %s vs %s (headers %v)", first.Body, again.Body, again.Header)
	}
	e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "other"}, "Idempotency-Key", "k1").
		problem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	// The same key in another tenant is another key.
	e.do(e.b, "POST", "/v1/tickets", body, "Idempotency-Key", "k1").want(t, http.StatusCreated)
	// Concurrent retries create one ticket.
	var wg sync.WaitGroup
	positions := make([]string, 8)
	for i := range positions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "race"}, "Idempotency-Key", "k2")
			positions[i] = r.Header.Get("Eventdesk-Position")
		}()
	}
	wg.Wait()
	last := first.Header.Get("Eventdesk-Position")
	for _, p := range positions {
		if p != "" {
			last = p // every answer, first or replayed, names the one create
		}
	}
	evs := e.events(e.a, "type=ticket.created", last)
	if len(evs) != 2 {
		t.Errorf("%d tickets created, want 2 (once, race)", len(evs))
	}
}

func TestEventFeed(t *testing.T) {
	e := newEnv(t)
	var last string
	for i := range 3 {
		last = e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": fmt.Sprintf("t%d", i)}).
			want(t, http.StatusCreated).Header.Get("Eventdesk-Position")
	}
	e.events(e.a, "", last) // until the feed shows the last write
	page := e.do(e.a, "GET", "/v1/events?limit=2", nil).want(t, http.StatusOK).json(t)
	evs := page["events"].([]any)
	if len(evs) != 2 {
		t.Fatalf("first page has %d events, want 2", len(evs))
	}
	rest := e.do(e.a, "GET", "/v1/events?after="+page["next_after"].(string), nil).want(t, http.StatusOK).json(t)["events"].([]any)
	all := append(evs, rest...)
	seen := map[string]bool{}
	for _, ev := range all {
		seen[ev.(map[string]any)["id"].(string)] = true
	}
	nd := e.do(e.a, "GET", "/v1/events", nil, "Accept", "application/x-ndjson").want(t, http.StatusOK)
	if ct := nd.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(bytes.NewReader(nd.Body))
	n := 0
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if !seen[ev["id"].(string)] {
			t.Errorf("NDJSON event %s not in the paged feed", ev["id"])
		}
		n++
	}
	if n != len(all) || len(all) < 4 {
		t.Errorf("NDJSON has %d events, pages %d; want equal and at least 4 (the tenant and three tickets)", n, len(all))
	}
	e.do(e.a, "GET", "/v1/events?after=banana", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	cfg := e.do(e.a, "GET", "/v1/config", nil).want(t, http.StatusOK).json(t)
	if len(cfg["statuses"].([]any)) != 5 {
		t.Errorf("default statuses = %v", cfg["statuses"])
	}
	e.do(e.a, "PUT", "/v1/config/categories", map[string]any{"categories": []any{
		map[string]any{"key": "billing", "display": "Billing", "sub_categories": []any{map[string]any{"key": "refund", "display": "Refund"}}},
	}}).want(t, http.StatusOK)
	tk := e.createTicket(e.a, map[string]any{"title": "money", "category": "billing", "sub_category": "refund"})
	if tk["category"] != "billing" {
		t.Errorf("category = %v", tk["category"])
	}
	e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "x", "category": "general"}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	// Other tenants keep their own configuration.
	e.createTicket(e.b, map[string]any{"title": "x", "category": "general"})
	e.do(e.a, "PUT", "/v1/config/statuses", map[string]any{"statuses": []any{map[string]any{"key": "open", "display": "Open", "color": "#ffffff", "kind": "open"}}}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
}
