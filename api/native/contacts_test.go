package native_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
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

	// Reads from contacts.v1.
	pos := header(t, c.do(t, e, e.a, "POST", notes, map[string]any{"body": "Latest"}).want(t, http.StatusCreated), "Eventdesk-Position")
	c.do(t, e, e.a, "GET", "/v1/contacts?kind=contact&kind=lead&tag=x&q=ana&include_merged=true&limit=5&min_position="+pos, nil).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", "/v1/contacts", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.doBad(t, e, e.a, "GET", "/v1/contacts?kind=person&limit=0", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	for _, sub := range []string{"/timeline", "/notes"} {
		c.do(t, e, e.a, "GET", path+sub+"?limit=10&min_position="+pos, nil).want(t, http.StatusOK)
		c.doBad(t, e, nil, "GET", path+sub, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
		c.do(t, e, e.b, "GET", path+sub, nil).problem(t, http.StatusNotFound, "customer_not_found")
		c.doBad(t, e, e.a, "GET", path+sub+"?limit=1000", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	}

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

// TestContactListSearchTimeline: contacts.v1 lists and searches customers
// by every identity and filter, pages stably, and shows a merged
// customer's timeline under its survivor until the un-merge takes back
// what came through its identities.
func TestContactListSearchTimeline(t *testing.T) {
	e := newEnv(t)
	e.do(e.a, "PUT", "/v1/config/crm", map[string]any{"region": "VN"}).want(t, http.StatusOK)
	var at string // the position of the latest write, for min_position
	wrote := func(r response) response {
		t.Helper()
		at = header(t, r, "Eventdesk-Position")
		return r
	}
	mk := func(body map[string]any) map[string]any {
		return wrote(e.do(e.a, "POST", "/v1/contacts", body).want(t, http.StatusCreated)).json(t)
	}
	ana := mk(map[string]any{"name": "Ana", "last_name": "Nguyen", "tags": []string{"vip"}, "channel": "web",
		"emails": []any{map[string]any{"value": "ana@example.com"}}, "phones": []any{map[string]any{"value": "0905000001"}}})
	bo := mk(map[string]any{"name": "Bo", "passport": "B 123", "contact_id": "ext-9", "emails": []any{map[string]any{"value": "bo@example.com"}}})
	acct := mk(map[string]any{"kind": "account", "name": "Acme Ltd"})
	mk(map[string]any{"kind": "lead", "name": "Lee", "account_id": acct["id"]})
	list := func(query string) []string {
		t.Helper()
		r := e.do(e.a, "GET", "/v1/contacts?min_position="+url.QueryEscape(at)+"&"+query, nil).want(t, http.StatusOK)
		var names []string
		for _, c := range r.json(t)["contacts"].([]any) {
			names = append(names, c.(map[string]any)["profile"].(map[string]any)["name"].(string))
		}
		return names
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"Lee", "Acme Ltd", "Bo", "Ana"}},
		{"kind=contact", []string{"Bo", "Ana"}},
		{"kind=lead,account", []string{"Lee", "Acme Ltd"}},
		{"tag=vip", []string{"Ana"}},
		{"channel=web", []string{"Ana"}},
		{"account_id=" + acct["id"].(string), []string{"Lee"}},
		{"q=nguy", []string{"Ana"}},
		{"q=ANA@example.com", []string{"Ana"}},
		{"q=%2B84+905+000+001", []string{"Ana"}},
		{"q=0905000001", []string{"Ana"}},
		{"q=b123", []string{"Bo"}},
		{"q=ext-9", []string{"Bo"}},
		{"q=" + ana["code"].(string), []string{"Ana"}},
		{"q=nobody", nil},
	}
	for _, tt := range tests {
		if got := list(tt.query); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("GET /v1/contacts?%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	// Stable pages: a customer created between pages does not shift them.
	first := e.do(e.a, "GET", "/v1/contacts?limit=2", nil).want(t, http.StatusOK).json(t)
	mk(map[string]any{"name": "Newcomer"})
	next := e.do(e.a, "GET", "/v1/contacts?limit=2&cursor="+first["next_cursor"].(string), nil).want(t, http.StatusOK).json(t)
	var paged []string
	for _, page := range []map[string]any{first, next} {
		for _, c := range page["contacts"].([]any) {
			paged = append(paged, c.(map[string]any)["profile"].(map[string]any)["name"].(string))
		}
	}
	if strings.Join(paged, ",") != "Lee,Acme Ltd,Bo,Ana" {
		t.Errorf("two pages = %v, want Lee,Acme Ltd,Bo,Ana", paged)
	}
	if p := e.do(e.a, "GET", "/v1/contacts?cursor=bogus", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed"); !slices.Contains(fields(p), "cursor") {
		t.Errorf("bad cursor problem = %v, want the cursor named", p)
	}
	e.do(e.b, "GET", "/v1/contacts?q=ana@example.com", nil).want(t, http.StatusOK)
	if other := e.do(e.b, "GET", "/v1/contacts", nil).want(t, http.StatusOK).json(t)["contacts"].([]any); len(other) != 0 {
		t.Errorf("another tenant lists %d customers", len(other))
	}

	// Timeline across a merge and an un-merge.
	anaID, boID := ana["id"].(string), bo["id"].(string)
	wrote(e.do(e.a, "POST", "/v1/contacts/"+boID+"/notes", map[string]any{"body": "Bo's own"}).want(t, http.StatusCreated))
	wrote(e.do(e.a, "POST", "/v1/contacts/"+anaID+"/merge", map[string]any{"from": []string{boID}}).want(t, http.StatusOK))
	wrote(e.do(e.a, "POST", "/v1/contacts/"+boID+"/notes", map[string]any{"body": "via Bo's id, after the merge"}).want(t, http.StatusCreated))
	notes := func(id string) []string {
		t.Helper()
		r := e.do(e.a, "GET", "/v1/contacts/"+id+"/notes?min_position="+url.QueryEscape(at), nil).want(t, http.StatusOK)
		var out []string
		for _, n := range r.json(t)["notes"].([]any) {
			out = append(out, n.(map[string]any)["body"].(string))
		}
		return out
	}
	if got := notes(anaID); strings.Join(got, "|") != "via Bo's id, after the merge|Bo's own" {
		t.Errorf("survivor's notes after the merge = %q", got)
	}
	if got := list("kind=contact"); strings.Join(got, ",") != "Newcomer,Ana" {
		t.Errorf("contacts after the merge = %v, want only the survivor", got)
	}
	kinds := func(id string) []string {
		r := e.do(e.a, "GET", "/v1/contacts/"+id+"/timeline?min_position="+url.QueryEscape(at), nil).want(t, http.StatusOK)
		var out []string
		for _, it := range r.json(t)["items"].([]any) {
			out = append(out, it.(map[string]any)["kind"].(string))
		}
		return out
	}
	if got := kinds(anaID); !slices.Contains(got, "absorbed") || !slices.Contains(got, "merged") {
		t.Errorf("survivor's timeline kinds = %v, want the merge on both sides", got)
	}
	wrote(e.do(e.a, "POST", "/v1/contacts/"+anaID+"/unmerge", map[string]any{"contact": boID}).want(t, http.StatusOK))
	// The note added through Bo's id after the merge was attached without
	// an identity (by id), so it stays with the survivor; Bo's own note is
	// back on Bo's timeline.
	if got := notes(boID); strings.Join(got, "|") != "Bo's own" {
		t.Errorf("Bo's notes after the un-merge = %q, want his own", got)
	}
	if got := notes(anaID); strings.Join(got, "|") != "via Bo's id, after the merge" {
		t.Errorf("Ana's notes after the un-merge = %q", got)
	}
}
