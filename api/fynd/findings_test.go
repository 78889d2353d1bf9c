package fynd_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/fynd"
)

// Regression tests of the black-box probe's findings (issue 14, §3) on the
// Fynd surface: Fynd's {"message"} shape and its documented statuses
// (400 for bad input, 401, 404, 413).

func TestFinding1And2_BadTextIs400(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := createTicket(t, e, &e.A, minimalTicket())["_id"].(string)
	for path, body := range map[string]string{
		base + "/ticket/":                     `{"category": "general", "content": {"title": "a\u0000b"}}`,
		base + "/ticket/" + id + "/history":   `{"type": "comment", "value": {"text": "\u0000"}}`,
		base + "/ticket/" + id + "/history#2": `{"type": "comment", "value": {"text": "\ud800"}}`,
		base + "/ticket/#3":                   "{\"category\": \"general\", \"content\": {\"title\": \"caf\xe9\"}}",
	} {
		path, _, _ = strings.Cut(path, "#")
		msg := wantMessage(t, call(e, &e.A, "POST", path, body), http.StatusBadRequest)
		if !strings.Contains(msg, "must be UTF-8 text") {
			t.Errorf("%s %s: message %q, want it to name the rule", path, body, msg)
		}
	}
	// The header too.
	msg := wantMessage(t, call(e, &e.A, "POST", base+"/ticket/", minimalTicket(), fynd.HeaderUserData, `{"_id": "u\u0000"}`), http.StatusBadRequest)
	if !strings.Contains(msg, fynd.HeaderUserData) {
		t.Errorf("message %q, want it to name %s", msg, fynd.HeaderUserData)
	}
	// Nothing was numbered meanwhile (finding 7).
	if n := createTicket(t, e, &e.A, minimalTicket()); n["_id"] == "" {
		t.Fatal("no ticket")
	}
	if got := e.Native(&e.A, "GET", "/v1/tickets/2", nil).Want(t, http.StatusOK).JSON(t); got["title"] != "Order not delivered" {
		t.Errorf("ticket #2 = %v, want the second valid create", got)
	}
}

func TestFinding3_BadTextInPathAndHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantMessage(t, call(e, &e.A, "GET", base+"/ticket/%FF", nil), http.StatusNotFound)
	wantMessage(t, call(e, &e.A, "POST", base+"/ticket/", minimalTicket(), "Idempotency-Key", "k\xff"), http.StatusBadRequest)
}

func TestFinding9And10_RepeatedMembersAndDepth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	msg := wantMessage(t, call(e, &e.A, "POST", base+"/ticket/", `{"category": "general", "category": "x", "content": {"title": "a"}}`), http.StatusBadRequest)
	if !strings.Contains(msg, "category") {
		t.Errorf("message %q, want it to name category", msg)
	}
	id := createTicket(t, e, &e.A, minimalTicket())["_id"].(string)
	deep := `{"type": "comment", "value": {"v": ` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}}`
	wantMessage(t, call(e, &e.A, "POST", base+"/ticket/"+id+"/history", deep), http.StatusBadRequest)
}

func TestFinding11_NoStoreAndNoSniff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := call(e, &e.A, "POST", base+"/ticket/", minimalTicket()).Want(t, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v, want Cache-Control no-store and X-Content-Type-Options nosniff", r.Header)
	}
}

func TestFinding13_TwoAuthorizationHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.HTTP.URL+base+"/ticket/1", nil)
	h := bearer(&e.A)
	req.Header.Add(h[0], h[1])
	req.Header.Add(h[0], h[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("two Authorization headers: %d, want 401", res.StatusCode)
	}
}
