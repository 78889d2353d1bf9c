package native_test

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/fynd"
	"github.com/eventdesk/eventdesk/api/support"
)

// TestTicketCustomer: a native ticket whose references carry an e-mail
// gets its customer (a lead created for it) from the ticket linker; the
// single read and the list show it, as the document says, and the
// customer's code reads as the lead.
func TestTicketCustomer(t *testing.T) {
	e := newEnv(t)
	e.StartLinker()
	c := newChecker(t)
	tk := c.do(t, e, e.a, "POST", "/v1/tickets", map[string]any{"title": "Where is my parcel?",
		"references": map[string]any{"contact_email": "Hoa@Example.com", "contact_name": "Hoa"}}).want(t, http.StatusCreated).json(t)
	id := tk["id"].(string)
	if _, ok := tk["customer"]; ok {
		t.Logf("the create answered the customer already: %v", tk["customer"])
	}
	var cust map[string]any
	for deadline := time.Now().Add(10 * time.Second); cust == nil; time.Sleep(20 * time.Millisecond) {
		got := c.do(t, e, e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)
		cust, _ = got["customer"].(map[string]any)
		if cust == nil && time.Now().After(deadline) {
			t.Fatalf("ticket %s has no customer after 10s: %v", id, got)
		}
	}
	code, _ := cust["code"].(string)
	if cust["id"] == "" || code != "LID-1" {
		t.Fatalf("customer = %v, want the tenant's first lead LID-1", cust)
	}
	lead := e.do(e.a, "GET", "/v1/contacts/"+code, nil).want(t, http.StatusOK).json(t)
	if lead["id"] != cust["id"] || lead["kind"] != "lead" {
		t.Fatalf("GET /v1/contacts/%s = %v, want lead %v", code, lead, cust["id"])
	}
	// The list shows the link once the read model has it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		list := c.do(t, e, e.a, "GET", "/v1/tickets", nil).want(t, http.StatusOK).json(t)
		items, _ := list["tickets"].([]any)
		if len(items) == 1 {
			if got, _ := items[0].(map[string]any)["customer"].(map[string]any); got != nil && got["id"] == cust["id"] {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ticket list does not show the customer after 10s: %v", list)
		}
	}
	// Another tenant's ticket with the same e-mail gets its own lead.
	other := c.do(t, e, e.b, "POST", "/v1/tickets", map[string]any{"title": "Parcel",
		"references": map[string]any{"contact_email": "hoa@example.com"}}).want(t, http.StatusCreated).json(t)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := c.do(t, e, e.b, "GET", "/v1/tickets/"+other["id"].(string), nil).want(t, http.StatusOK).json(t)
		if oc, _ := got["customer"].(map[string]any); oc != nil {
			if oc["id"] == cust["id"] || oc["code"] != "LID-1" {
				t.Fatalf("tenant B's customer = %v, want its own LID-1 (not %v)", oc, cust["id"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant B's ticket has no customer after 10s")
		}
	}
}

// TestTicketCustomer_EverySurface: one person opens tickets through every
// surface — LeadSquared (LeadId and LeadDetail.EmailAddress), the
// support-message API (user uuid, e-mail, phone), Fynd (created_by with
// the e-mail in another case) and the native API (references.customer_id
// naming the lead's code) — and every ticket links to the one lead the
// first created.
func TestTicketCustomer_EverySurface(t *testing.T) {
	e := newEnv(t)
	e.StartLinker()
	a := e.a
	const email = "sudipta.bhaumik@innoflexion.com"
	lsq := e.Do("POST", "/api/tenants/"+a.ID+"/ticket", map[string]any{"TypeId": "1", "LeadId": "lead-77", "RelatedTicketTypeId": 1,
		"Fields": []any{map[string]any{"SchemaName": "Title", "Value": "Refund"},
			map[string]any{"SchemaName": "LeadDetail.EmailAddress", "Value": email},
			map[string]any{"SchemaName": "LeadDetail.FirstName", "Value": "Sudipta"}}},
		"X-LSQ-ACCESS-KEY", a.Creds.LSQAccessKey, "X-LSQ-SECRET-KEY", a.Creds.LSQSecretKey).Want(t, http.StatusOK).JSON(t)
	first := lsq["TicketId"].(string)
	lead := waitCustomer(t, e, first)

	e.Native(a, "POST", "/api/user/log/message", support.SampleMessage).Want(t, http.StatusOK)
	tok := base64.StdEncoding.EncodeToString([]byte(a.Creds.FyndApplicationID + ":" + a.Creds.FyndApplicationToken))
	e.Do("POST", fynd.Prefix+"/ticket/", map[string]any{"category": "general", "content": map[string]any{"title": "Order late"},
		"created_by": map[string]any{"_id": "fynd-user-1", "email": "SUDIPTA.Bhaumik@innoflexion.com"}},
		"Authorization", "Bearer "+tok).Want(t, http.StatusOK)
	e.do(a, "POST", "/v1/tickets", map[string]any{"title": "Call me back", "references": map[string]any{"customer_id": lead["code"]}}).
		want(t, http.StatusCreated)

	var list []any
	for deadline := time.Now().Add(10 * time.Second); len(list) != 4; time.Sleep(20 * time.Millisecond) {
		list = e.do(a, "GET", "/v1/tickets", nil).want(t, http.StatusOK).json(t)["tickets"].([]any)
		if len(list) != 4 && time.Now().After(deadline) {
			t.Fatalf("the list shows %d tickets after 10s, want 4", len(list))
		}
	}
	for _, tk := range list {
		id := tk.(map[string]any)["id"].(string)
		if got := waitCustomer(t, e, id); got["id"] != lead["id"] {
			t.Errorf("ticket %s: customer %v, want the lead %v", id, got, lead)
		}
	}
	if lead["code"] != "LID-1" {
		t.Errorf("lead code = %v, want LID-1", lead["code"])
	}
	// The linker counts a link after its append, which the reads above
	// may have seen first.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := e.Linker.Stats()
		if st.Created == 1 && st.Linked == 4 {
			break
		}
		if time.Now().After(deadline) || st.Created > 1 || st.Linked > 4 {
			t.Fatalf("linker stats = %+v, want 1 lead created and 4 tickets linked", st)
		}
	}
	c := e.do(a, "GET", "/v1/contacts/LID-1", nil).want(t, http.StatusOK).json(t)
	if c["id"] != lead["id"] || c["kind"] != "lead" {
		t.Errorf("GET /v1/contacts/LID-1 = %v, want the lead %v", c, lead["id"])
	}
}

// waitCustomer waits until ticket id shows its customer and returns it.
func waitCustomer(t *testing.T, e *env, id string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)
		if c, _ := got["customer"].(map[string]any); c != nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket %s has no customer after 10s: %v", id, got)
		}
	}
}
