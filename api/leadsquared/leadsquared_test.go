package leadsquared_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/pubsub/redistest"
)

// roomy never gets in the way of tests that are not about the limit.
var roomy = leadsquared.Limit{Calls: 100_000, Per: time.Second}

// newEnv starts the API with the LeadSquared surface mounted, limited by
// lim (nil: roomy, in process).
func newEnv(t *testing.T, lim leadsquared.Limiter) *apitest.Env {
	t.Helper()
	if lim == nil {
		lim = leadsquared.NewMemoryLimiter(roomy, nil)
	}
	return apitest.New(t, apitest.WithLimiter(lim))
}

// keys are tn's LeadSquared credential headers.
func keys(tn *apitest.Tenant) []string {
	return []string{"X-LSQ-ACCESS-KEY", tn.Creds.LSQAccessKey, "X-LSQ-SECRET-KEY", tn.Creds.LSQSecretKey}
}

func ticketPath(tn *apitest.Tenant) string { return "/api/tenants/" + tn.ID + "/ticket" }

func activityPath(tn *apitest.Tenant, ref string) string {
	return "/api/tenants/" + tn.ID + "/ticket/" + ref + "/portal/activity"
}

// create posts body as tn and returns the 200 answer.
func create(t *testing.T, e *apitest.Env, tn *apitest.Tenant, body any) map[string]any {
	t.Helper()
	return e.Do("POST", ticketPath(tn), body, keys(tn)...).Want(t, http.StatusOK).JSON(t)
}

// fields builds a create body from schema/value pairs plus the lead id.
func fields(kv ...any) map[string]any {
	var fs []map[string]any
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, map[string]any{"SchemaName": kv[i], "Value": kv[i+1]})
	}
	return map[string]any{"TypeId": "1", "Id": nil, "LeadId": "lead-1", "Fields": fs, "RelatedTicketTypeId": 1}
}

// wantFailure checks r is a LeadSquared error envelope with status and
// exception type, and returns its reason.
func wantFailure(t *testing.T, r apitest.Response, status int, exception string) string {
	t.Helper()
	r.Want(t, status)
	m := r.JSON(t)
	for _, k := range []string{"Status", "ReasonForFailure", "Id", "Message", "TicketId", "Key", "ExceptionType", "ExceptionMessage"} {
		if _, ok := m[k]; !ok {
			t.Errorf("error body lacks %s: %s", k, r.Body)
		}
	}
	reason, _ := m["ReasonForFailure"].(string)
	if m["Status"] != "Error" || reason == "" || m["Message"] != reason || m["ExceptionMessage"] != reason ||
		m["Id"] != nil || m["TicketId"] != nil || m["Key"] != nil {
		t.Errorf("error body = %s, want Status Error, a reason in ReasonForFailure, Message and ExceptionMessage, null ids", r.Body)
	}
	if exception != "" && m["ExceptionType"] != exception {
		t.Errorf("ExceptionType = %v, want %s", m["ExceptionType"], exception)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return reason
}

func TestCreateTicket_DocumentedSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.Do("POST", ticketPath(&e.A), leadsquared.SampleCreateTicket, keys(&e.A)...).Want(t, http.StatusOK)
	got := r.JSON(t)
	id, _ := got["TicketId"].(string)
	if !domain.ValidUUID(id) {
		t.Fatalf("TicketId = %v, want a UUID; body %s", got["TicketId"], r.Body)
	}
	want := map[string]any{"Status": "Success", "ReasonForFailure": nil, "Id": "1", "Message": nil, "TicketId": id, "Key": "#001"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	// The documented order of members, too.
	if !bytes.HasPrefix(r.Body, []byte(`{"Status":"Success","ReasonForFailure":null,"Id":"1","Message":null,"TicketId":`)) {
		t.Errorf("body = %s, want the documented member order", r.Body)
	}

	tk := e.Native(&e.A, "GET", "/v1/tickets/"+id, nil).Want(t, http.StatusOK).JSON(t)
	for k, v := range map[string]any{
		"title": "Test ticket from API", "description": "Test ticket from External API", "priority": "low",
		"status": "open", "channel": "Chat", "category": "general", "source": "api", "number": float64(1), "key": "#001",
	} {
		if tk[k] != v {
			t.Errorf("native ticket %s = %v, want %v", k, tk[k], v)
		}
	}
	refs := tk["references"].(map[string]any)
	if refs["lead_id"] != "45b5fded-e696-45a6-9fbb-c6af6178229e" || refs["customer_id"] != "45b5fded-e696-45a6-9fbb-c6af6178229e" {
		t.Errorf("references = %v, want lead_id and customer_id 45b5fded-…", refs)
	}
	integ, _ := json.Marshal(tk["integration"])
	if string(integ) != `{"leadsquared":{"RelatedTicketTypeId":"1","TypeId":"1"}}` {
		t.Errorf("integration = %s, want the LeadSquared type ids", integ)
	}
	if by := tk["created_by"].(map[string]any); by["kind"] != "integration" || by["id"] != "leadsquared" {
		t.Errorf("created_by = %v, want integration leadsquared", by)
	}

	// The live documentation's plural path and the numeric org id (the
	// tenant's company id) work too; numbers go on.
	r2 := create(t, e, &e.A, leadsquared.SampleCreateTicket)
	r3 := e.Do("POST", "/api/tenants/"+strconv.FormatInt(e.A.CompanyID, 10)+"/tickets", leadsquared.SampleCreateTicket, keys(&e.A)...).
		Want(t, http.StatusOK).JSON(t)
	if r2["Id"] != "2" || r2["Key"] != "#002" || r3["Id"] != "3" || r3["Key"] != "#003" {
		t.Errorf("later tickets = %v, %v; want #002 and #003", r2, r3)
	}
}

func TestAddActivity_DocumentedSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := create(t, e, &e.A, leadsquared.SampleCreateTicket)["TicketId"].(string)

	r := e.Do("POST", activityPath(&e.A, id), leadsquared.SampleActivity, keys(&e.A)...).Want(t, http.StatusOK)
	if got, want := strings.TrimSpace(string(r.Body)), `{"Id":"1","Status":"Success","Message":null}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	// By number and by URL-encoded key; Id counts the ticket's activities.
	for i, ref := range []string{"1", "%23001", "001", strings.ToUpper(id)} {
		got := e.Do("POST", activityPath(&e.A, ref), map[string]any{"Text": "visit " + ref, "Direction": "inbound"}, keys(&e.A)...).
			Want(t, http.StatusOK).JSON(t)
		if want := strconv.Itoa(i + 2); got["Id"] != want {
			t.Errorf("activity via %s: Id = %v, want %s", ref, got["Id"], want)
		}
	}
	e.Do("POST", activityPath(&e.A, id), map[string]any{"Text": "we called back", "Direction": "OUTBOUND"}, keys(&e.A)...).Want(t, http.StatusOK)

	evs := e.Native(&e.A, "GET", "/v1/tickets/"+id+"/events", nil).Want(t, http.StatusOK).JSON(t)["events"].([]any)
	var acts []map[string]any
	for _, ev := range evs {
		m := ev.(map[string]any)
		if m["type"] == "ticket.activity_added" {
			acts = append(acts, m)
		}
	}
	if len(acts) != 6 {
		t.Fatalf("%d ticket.activity_added events, want 6", len(acts))
	}
	data := acts[0]["data"].(map[string]any)
	if data["text"] != "The lead submitted the ticket through our portal" || data["direction"] != "INBOUND" || data["source"] != "portal" {
		t.Errorf("first activity = %v, want the sample's text, INBOUND, source portal", data)
	}
	if md := acts[0]["metadata"].(map[string]any); md["source"] != "portal" {
		t.Errorf("metadata = %v, want source portal", md)
	}
	if d := acts[5]["data"].(map[string]any); d["direction"] != "OUTBOUND" {
		t.Errorf("last activity direction = %v, want OUTBOUND", d["direction"])
	}
	tk := e.Native(&e.A, "GET", "/v1/tickets/"+id, nil).Want(t, http.StatusOK).JSON(t)
	if tk["activity_count"] != float64(6) {
		t.Errorf("activity_count = %v, want 6", tk["activity_count"])
	}
}

func TestCreateTicket_FieldsMapping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	body := map[string]any{
		"TypeId": 1, "RelatedTicketTypeId": "1",
		"Fields": []map[string]any{
			{"SchemaName": "title", "Value": "  Broken login  "},
			{"SchemaName": "LeadDetail.EmailAddress", "Value": "ana@example.com"},
			{"SchemaName": "LeadDetail.Phone", "Value": 919876543210},
			{"SchemaName": "LeadDetail.FirstName", "Value": "Ana"},
			{"SchemaName": "LeadDetail.LastName", "Value": "Lima"},
			{"SchemaName": "Type", "Value": "Hardware"},
			{"SchemaName": "SubType", "Value": "Printer"},
			{"SchemaName": "Status", "Value": "In Progress"},
			{"SchemaName": "Priority", "Value": "URGENT"},
			{"SchemaName": "mx_Custom_1", "Value": "gold"},
			{"SchemaName": "mx_Order_Count", "Value": 42},
			{"SchemaName": "mx_Address", "Value": map[string]any{"city": "Pune"}},
			{"SchemaName": "mx_Unset", "Value": nil},
		},
	}
	id := create(t, e, &e.A, body)["TicketId"].(string)
	tk := e.Native(&e.A, "GET", "/v1/tickets/"+id, nil).Want(t, http.StatusOK).JSON(t)
	if tk["title"] != "Broken login" || tk["status"] != "in_progress" || tk["priority"] != "urgent" || tk["category"] != nil {
		t.Errorf("ticket = %v", tk)
	}
	wantCustom := map[string]any{"mx_Custom_1": "gold", "mx_Order_Count": float64(42), "mx_Address": map[string]any{"city": "Pune"},
		"Type": "Hardware", "SubType": "Printer"}
	if diff := cmp.Diff(wantCustom, tk["custom"]); diff != "" {
		t.Errorf("custom (-want +got):\n%s", diff)
	}
	wantRefs := map[string]any{"contact_email": "ana@example.com", "contact_phone": "919876543210", "contact_name": "Ana Lima"}
	if diff := cmp.Diff(wantRefs, tk["references"]); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}

	// A Type the tenant has as a category becomes the category, by
	// display or key; the lead id may come as a field.
	id = create(t, e, &e.A, map[string]any{"Fields": []map[string]any{
		{"SchemaName": "Title", "Value": "x"}, {"SchemaName": "LeadId", "Value": "lead-9"},
		{"SchemaName": "Type", "Value": "GENERAL"}, {"SchemaName": "Status", "Value": "pending"},
	}})["TicketId"].(string)
	tk = e.Native(&e.A, "GET", "/v1/tickets/"+id, nil).Want(t, http.StatusOK).JSON(t)
	if tk["category"] != "general" || tk["status"] != "pending" || tk["references"].(map[string]any)["lead_id"] != "lead-9" || len(tk["custom"].(map[string]any)) != 0 {
		t.Errorf("ticket = %v, want category general, status pending, lead_id lead-9, no custom fields", tk)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := create(t, e, &e.A, leadsquared.SampleCreateTicket)["TicketId"].(string)
	bad := "MXInvalidInputException"
	missing := "MXMandatoryAttributeMissingException"
	tests := []struct {
		name, path string
		body       any
		exception  string
		reason     string // a part of ReasonForFailure
	}{
		{"malformed JSON", ticketPath(&e.A), `{"TypeId":"1", "Fields":[`, bad, "not valid JSON"},
		{"trailing garbage", ticketPath(&e.A), `{"LeadId":"x"} {}`, bad, "not valid JSON"},
		{"empty body", ticketPath(&e.A), "", bad, "empty"},
		{"not an object", ticketPath(&e.A), `[{"SchemaName":"Title"}]`, bad, "JSON object"},
		{"JSON null", ticketPath(&e.A), `null`, bad, "JSON object"},
		{"Fields not an array", ticketPath(&e.A), `{"LeadId":"x","Fields":{"Title":"t"}}`, bad, "Fields must be an array"},
		{"Fields element not an object", ticketPath(&e.A), `{"LeadId":"x","Fields":["Title"]}`, bad, "Fields[0]"},
		{"SchemaName a number", ticketPath(&e.A), `{"LeadId":"x","Fields":[{"SchemaName":7,"Value":"t"}]}`, bad, "SchemaName must be a string"},
		{"SchemaName missing", ticketPath(&e.A), `{"LeadId":"x","Fields":[{"Value":"t"}]}`, bad, "SchemaName is mandatory"},
		{"Title an object", ticketPath(&e.A), `{"LeadId":"x","Fields":[{"SchemaName":"Title","Value":{"a":1}}]}`, bad, "Title must be a string"},
		{"Priority a boolean", ticketPath(&e.A), fields("Title", "t", "Priority", true), bad, "Priority must be a string"},
		{"TypeId an object", ticketPath(&e.A), `{"TypeId":{},"LeadId":"x","Fields":[{"SchemaName":"Title","Value":"t"}]}`, bad, "TypeId must be a string"},
		{"LeadId an array", ticketPath(&e.A), `{"LeadId":["x"],"Fields":[{"SchemaName":"Title","Value":"t"}]}`, bad, "LeadId must be a string"},
		{"no lead field", ticketPath(&e.A), `{"TypeId":"1","Fields":[{"SchemaName":"Title","Value":"t"},{"SchemaName":"LeadDetail.FirstName","Value":"Ana"}]}`, missing, "LeadDetail.EmailAddress, LeadId or LeadDetail.Phone is mandatory"},
		{"blank lead fields", ticketPath(&e.A), `{"LeadId":" ","Fields":[{"SchemaName":"Title","Value":"t"},{"SchemaName":"LeadDetail.Phone","Value":""}]}`, missing, "is mandatory"},
		{"no title", ticketPath(&e.A), fields("Description", "d"), missing, "Title is mandatory"},
		{"unknown status", ticketPath(&e.A), fields("Title", "t", "Status", "On Hold"), bad, `Status "On Hold" is not configured`},
		{"unknown priority", ticketPath(&e.A), fields("Title", "t", "Priority", "Critical"), bad, `Priority "Critical"`},
		{"bad e-mail", ticketPath(&e.A), fields("Title", "t", "LeadDetail.EmailAddress", "not-an-email"), bad, "not a valid e-mail"},
		{"bad phone", ticketPath(&e.A), fields("Title", "t", "LeadDetail.Phone", "call me"), bad, "Invalid LeadDetail.Phone"},
		{"Id given", ticketPath(&e.A), `{"Id":"34","LeadId":"x","Fields":[{"SchemaName":"Title","Value":"t"}]}`, bad, "Id must be null"},
		{"field twice", ticketPath(&e.A), fields("Title", "t", "title", "u"), bad, "more than once"},
		{"custom field twice", ticketPath(&e.A), fields("Title", "t", "mx_A", 1, "mx_A", 2), bad, "more than once"},
		{"title too long", ticketPath(&e.A), fields("Title", strings.Repeat("x", 501)), bad, "Invalid Title"},
		{"too large", ticketPath(&e.A), `{"LeadId":"` + strings.Repeat("x", leadsquared.MaxBodyBytes) + `"}`, bad, "exceeds"},
		{"activity: malformed JSON", activityPath(&e.A, id), `{"Text":`, bad, "not valid JSON"},
		{"activity: empty text", activityPath(&e.A, id), `{"Text":"  ","Direction":"INBOUND"}`, missing, "Text is mandatory"},
		{"activity: no text", activityPath(&e.A, id), `{"Direction":"INBOUND"}`, missing, "Text is mandatory"},
		{"activity: text a number", activityPath(&e.A, id), `{"Text":{"x":1},"Direction":"INBOUND"}`, bad, "Text must be a string"},
		{"activity: unknown direction", activityPath(&e.A, id), `{"Text":"hi","Direction":"SIDEWAYS"}`, bad, `Direction "SIDEWAYS" is not valid`},
		{"activity: no direction", activityPath(&e.A, id), `{"Text":"hi"}`, missing, "Direction is mandatory"},
		{"activity: direction a number", activityPath(&e.A, id), `{"Text":"hi","Direction":[1]}`, bad, "Direction must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason := wantFailure(t, e.Do("POST", tt.path, tt.body, keys(&e.A)...), http.StatusBadRequest, tt.exception)
			if !strings.Contains(reason, tt.reason) {
				t.Errorf("ReasonForFailure = %q, want it to mention %q", reason, tt.reason)
			}
		})
	}
	// Nothing above created a ticket or an activity.
	list := e.Native(&e.A, "GET", "/v1/tickets/2", nil)
	list.Want(t, http.StatusNotFound)
	if tk := e.Native(&e.A, "GET", "/v1/tickets/"+id, nil).Want(t, http.StatusOK).JSON(t); tk["activity_count"] != float64(0) {
		t.Errorf("activity_count = %v, want 0", tk["activity_count"])
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := keys(&e.A)
	tests := []struct {
		name    string
		path    string
		headers []string
	}{
		{"no keys", ticketPath(&e.A), nil},
		{"access key only", ticketPath(&e.A), a[:2]},
		{"secret key only", ticketPath(&e.A), a[2:]},
		{"wrong secret", ticketPath(&e.A), []string{a[0], a[1], a[2], e.B.Creds.LSQSecretKey}},
		{"unknown access key", ticketPath(&e.A), []string{a[0], "u$rnobody", a[2], a[3]}},
		{"native API key instead", ticketPath(&e.A), []string{"Authorization", "Bearer " + e.A.Creds.APIKey}},
		{"another tenant's OrgID", ticketPath(&e.B), a},
		{"another tenant's company id", "/api/tenants/" + strconv.FormatInt(e.B.CompanyID, 10) + "/ticket", a},
		{"an OrgID of nobody", "/api/tenants/12345678/ticket", a},
		{"activity, another tenant's OrgID", "/api/tenants/" + e.B.ID + "/ticket/1/portal/activity", a},
		{"activity, no keys", activityPath(&e.A, "1"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFailure(t, e.Do("POST", tt.path, leadsquared.SampleCreateTicket, tt.headers...), http.StatusUnauthorized, "MXUnAuthorizedAccessException")
		})
	}
	// Header names are case-insensitive, the OrgID's UUID too.
	e.Do("POST", "/api/tenants/"+strings.ToUpper(e.A.ID)+"/ticket", leadsquared.SampleCreateTicket,
		"x-lsq-access-key", a[1], "x-lsq-secret-key", a[3]).Want(t, http.StatusOK)
}

func TestNotFoundAndIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	bID := create(t, e, &e.B, leadsquared.SampleCreateTicket)["TicketId"].(string)
	act := leadsquared.SampleActivity
	for _, ref := range []string{bID, "1", "%23001", "00000000-0000-4000-8000-000000000000", "999", "abc", "%2E%2E"} {
		reason := wantFailure(t, e.Do("POST", activityPath(&e.A, ref), act, keys(&e.A)...), http.StatusNotFound, "MXRecordNotFoundException")
		if reason != "Ticket not found." {
			t.Errorf("reason for %s = %q, want Ticket not found.", ref, reason)
		}
	}
	// A's keys never reach B's ticket, even with B's OrgID (401, above);
	// B's ticket is untouched and A's native API cannot see it.
	e.Native(&e.A, "GET", "/v1/tickets/"+bID, nil).Want(t, http.StatusNotFound)
	if tk := e.Native(&e.B, "GET", "/v1/tickets/"+bID, nil).Want(t, http.StatusOK).JSON(t); tk["activity_count"] != float64(0) {
		t.Errorf("B's ticket has %v activities, want 0", tk["activity_count"])
	}
	// A's first ticket is A's #001, beside B's.
	aTicket := create(t, e, &e.A, leadsquared.SampleCreateTicket)
	if aTicket["Key"] != "#001" || aTicket["TicketId"] == bID {
		t.Errorf("A's first ticket = %v, want its own #001", aTicket)
	}
	e.Do("POST", activityPath(&e.A, "1"), act, keys(&e.A)...).Want(t, http.StatusOK)
	e.Native(&e.B, "GET", "/v1/tickets/"+aTicket["TicketId"].(string), nil).Want(t, http.StatusNotFound)

	// Unknown paths and methods under /api/tenants/ are LeadSquared's 404.
	for _, p := range []struct{ method, path string }{
		{"POST", "/api/tenants/" + e.A.ID + "/nothing"},
		{"GET", ticketPath(&e.A)},
		{"POST", "/api/tenants/" + e.A.ID + "/ticket/1/portal"},
	} {
		wantFailure(t, e.Do(p.method, p.path, act, keys(&e.A)...), http.StatusNotFound, "")
	}
}

// clock is a settable clock for the in-process limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newEnv(t, leadsquared.NewMemoryLimiter(leadsquared.DefaultLimit, clk.now))
	call := func(tn *apitest.Tenant) apitest.Response {
		return e.Do("POST", ticketPath(tn), `{`, keys(tn)...) // cheap: a 400 once admitted
	}
	for i := range 25 {
		r := call(&e.A).Want(t, http.StatusBadRequest)
		if got, want := r.Header.Get("X-RateLimit-Remaining"), strconv.Itoa(24-i); got != want {
			t.Errorf("call %d: X-RateLimit-Remaining = %s, want %s", i+1, got, want)
		}
		if r.Header.Get("X-RateLimit-Limit") != "25" {
			t.Errorf("X-RateLimit-Limit = %q, want 25", r.Header.Get("X-RateLimit-Limit"))
		}
	}
	r := call(&e.A)
	reason := wantFailure(t, r, http.StatusTooManyRequests, "MXAPIRateLimitExceededException")
	if reason != "API calls exceeded the limit of 25 in 5 second(s)" {
		t.Errorf("reason = %q, want the documented message", reason)
	}
	for h, want := range map[string]string{"Retry-After": "1", "X-RateLimit-Limit": "25", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	// Refused calls do the work of none: a valid body is refused too.
	wantFailure(t, e.Do("POST", ticketPath(&e.A), leadsquared.SampleCreateTicket, keys(&e.A)...), http.StatusTooManyRequests, "")
	e.Native(&e.A, "GET", "/v1/tickets/1", nil).Want(t, http.StatusNotFound)

	// The limit is per access key; bad credentials are not counted.
	call(&e.B).Want(t, http.StatusBadRequest)
	e.Do("POST", ticketPath(&e.A), `{`, "X-LSQ-ACCESS-KEY", e.A.Creds.LSQAccessKey, "X-LSQ-SECRET-KEY", "wrong").Want(t, http.StatusUnauthorized)

	// One call comes back every 200 ms; all 25 after 5 s.
	clk.add(200 * time.Millisecond)
	call(&e.A).Want(t, http.StatusBadRequest)
	call(&e.A).Want(t, http.StatusTooManyRequests)
	clk.add(5 * time.Second)
	for range 25 {
		call(&e.A).Want(t, http.StatusBadRequest)
	}
	call(&e.A).Want(t, http.StatusTooManyRequests)
}

// TestRateLimit_SeveralNodes runs two handlers ("nodes") sharing one Redis:
// together they admit the limit once, not twice.
func TestRateLimit_SeveralNodes(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	prefix := uniquePrefix(t)
	e := apitest.New(t)
	var nodes []*httptest.Server
	for range 2 {
		mux := http.NewServeMux()
		limiter := leadsquared.NewRedisLimiter(rdb, prefix, leadsquared.DefaultLimit, nil)
		limiter.Timeout = 10 * time.Second // a slow answer on a loaded machine is no outage here
		leadsquared.New(leadsquared.Deps{Tickets: e.Tickets, Tenants: e.Tenants, Limiter: limiter}).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		nodes = append(nodes, srv)
	}
	body := leadsquared.SampleActivity // on an unknown ticket: a cheap 404 once admitted
	start := time.Now()
	var admitted, refused int
	var last *http.Response
	for i := range 40 {
		req, _ := http.NewRequest("POST", nodes[i%2].URL+activityPath(&e.A, "999"), strings.NewReader(body))
		for j := 0; j < 4; j += 2 {
			req.Header.Set(keys(&e.A)[j], keys(&e.A)[j+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusNotFound:
			admitted++
		case http.StatusTooManyRequests:
			refused++
			last = res
		default:
			t.Fatalf("call %d: status %d, want 404 or 429", i, res.StatusCode)
		}
	}
	// The bucket refills one call per 200 ms while the loop runs.
	elapsed := time.Since(start)
	if most := 25 + int(elapsed/(200*time.Millisecond)) + 1; admitted < 25 || admitted > most {
		t.Errorf("admitted %d of 40 in %v across two nodes, want 25..%d", admitted, elapsed, most)
	}
	if refused == 0 {
		t.Fatalf("no call refused in %v", elapsed)
	}
	if ra, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 5 {
		t.Errorf("Retry-After = %q, want 1..5 seconds", last.Header.Get("Retry-After"))
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	const secret = "dial tcp 10.1.2.3:5432: password authentication failed for user eventdesk"
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	serve := func(h *leadsquared.Handler, path, body string) apitest.Response {
		mux := http.NewServeMux()
		h.Register(mux)
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		for i := 0; i < 4; i += 2 {
			req.Header.Set(keys(&e.A)[i], keys(&e.A)[i+1])
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return apitest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	}
	broken := app.NewTickets(failingStore{Store: e.Store, err: errors.New(secret)}, e.DB.DB, nil)
	h := leadsquared.New(leadsquared.Deps{Tickets: broken, Tenants: e.Tenants, Logger: log})
	for _, tc := range []struct{ path, body string }{
		{ticketPath(&e.A), leadsquared.SampleCreateTicket},
		{activityPath(&e.A, "1"), leadsquared.SampleActivity},
	} {
		r := serve(h, tc.path, tc.body)
		reason := wantFailure(t, r, http.StatusInternalServerError, "MXInternalServerException")
		if strings.Contains(string(r.Body), "10.1.2.3") || strings.Contains(string(r.Body), "password") {
			t.Errorf("500 body leaks internals: %s", r.Body)
		}
		if !strings.Contains(reason, "internal error") {
			t.Errorf("reason = %q, want a generic message", reason)
		}
	}
	if !strings.Contains(logs.String(), "password authentication failed") || !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("log = %s, want the cause logged at ERROR", logs.String())
	}

	// A panicking dependency is a 500 too.
	logs.Reset()
	h = leadsquared.New(leadsquared.Deps{Tickets: e.Tickets, Tenants: e.Tenants, Logger: log, Limiter: panicLimiter{}})
	wantFailure(t, serve(h, ticketPath(&e.A), leadsquared.SampleCreateTicket), http.StatusInternalServerError, "MXInternalServerException")
	if !strings.Contains(logs.String(), "panic") {
		t.Errorf("log = %s, want the panic logged", logs.String())
	}

	// A failing limiter (Redis down) admits the call and logs why.
	logs.Reset()
	h = leadsquared.New(leadsquared.Deps{Tickets: e.Tickets, Tenants: e.Tenants, Logger: log, Limiter: failingLimiter{}})
	serve(h, ticketPath(&e.A), leadsquared.SampleCreateTicket).Want(t, http.StatusOK)
	if !strings.Contains(logs.String(), "redis: connection refused") {
		t.Errorf("log = %s, want the limiter's error", logs.String())
	}
}

// failingStore fails every read, as a lost database would.
type failingStore struct {
	eventstore.Store
	err error
}

func (s failingStore) ReadStream(context.Context, eventstore.StreamRef, int64, int) ([]eventstore.Event, error) {
	return nil, s.err
}

type panicLimiter struct{}

func (panicLimiter) Allow(context.Context, string) (leadsquared.Decision, error) { panic("boom") }

type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string) (leadsquared.Decision, error) {
	return leadsquared.Decision{}, errors.New("redis: connection refused")
}

// TestCrossSurface: a ticket created through LeadSquared shows in the
// native list (the tickets.v1 projection) like any other.
func TestCrossSurface(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := create(t, e, &e.A, leadsquared.SampleCreateTicket)["TicketId"].(string)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := e.Native(&e.A, "GET", "/v1/tickets?q=External", nil).Want(t, http.StatusOK).JSON(t)
		items, _ := r["tickets"].([]any)
		if len(items) == 1 && items[0].(map[string]any)["id"] == id {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("native list = %v, want ticket %s", r, id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLimitMessage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		l    leadsquared.Limit
		want string
	}{
		{leadsquared.DefaultLimit, "API calls exceeded the limit of 25 in 5 second(s)"},
		{leadsquared.Limit{Calls: 10, Per: time.Minute}, "API calls exceeded the limit of 10 in 60 second(s)"},
	} {
		if got := tt.l.Message(); got != tt.want {
			t.Errorf("Message() = %q, want %q", got, tt.want)
		}
	}
}

func BenchmarkLimiter(b *testing.B) {
	always := leadsquared.Limit{Calls: 1 << 30, Per: time.Second} // every call admitted: the cost of deciding
	run := func(b *testing.B, l leadsquared.Limiter) {
		ctx := context.Background()
		b.Run("serial", func(b *testing.B) {
			for b.Loop() {
				if _, err := l.Allow(ctx, "bench-key"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Allow(ctx, "bench-key"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	b.Run("memory", func(b *testing.B) { run(b, leadsquared.NewMemoryLimiter(always, nil)) })
	b.Run("redis", func(b *testing.B) {
		rdb := redistest.Client(b)
		run(b, leadsquared.NewRedisLimiter(rdb, uniquePrefix(b), always, nil))
	})
}

var prefixSeq struct {
	sync.Mutex
	n int
}

// uniquePrefix namespaces a test's Redis keys.
func uniquePrefix(t testing.TB) string {
	prefixSeq.Lock()
	prefixSeq.n++
	n := prefixSeq.n
	prefixSeq.Unlock()
	return fmt.Sprintf("eventdesk-test:%s:%d:%d:", t.Name(), time.Now().UnixNano(), n)
}

func (s failingStore) Lookup(context.Context, string, string, string) (string, bool, error) {
	return "", false, s.err
}
