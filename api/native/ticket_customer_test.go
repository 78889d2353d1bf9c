package native_test

import (
	"net/http"
	"testing"
	"time"
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
