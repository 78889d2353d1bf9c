package leadsquared_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/leadsquared"
)

// Regression tests of the black-box probe's findings (issue 14, §3) on the
// LeadSquared surface: its envelope, and only its documented statuses (400
// for any bad input, an oversized body included; 401; 404 for an unknown
// route or method).

const invalidInput = "MXInvalidInputException"

func TestFinding1And2_BadTextIs400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := create(t, e, &e.A, fields("Title", "Parcel"))["TicketId"].(string)
	for path, body := range map[string]string{
		ticketPath(&e.A):                  `{"TypeId": "1", "LeadId": "lead-1", "Fields": [{"SchemaName": "Title", "Value": "a\u0000b"}]}`,
		ticketPath(&e.A) + "?s":           `{"TypeId": "1", "LeadId": "lead-1", "Fields": [{"SchemaName": "Title", "Value": "\udfff"}]}`,
		activityPath(&e.A, id):            `{"Text": "x\u0000", "Direction": "INBOUND"}`,
		activityPath(&e.A, id) + "?utf-8": "{\"Text\": \"caf\xe9\", \"Direction\": \"INBOUND\"}",
	} {
		reason := wantFailure(t, e.Do("POST", path, body, keys(&e.A)...), http.StatusBadRequest, invalidInput)
		if !strings.Contains(reason, "must be UTF-8 text") {
			t.Errorf("%s: reason %q, want it to name the rule", body, reason)
		}
	}
}

func TestFinding3_BadTextInPathAndHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	wantFailure(t, e.Do("POST", activityPath(&e.A, "%FF"), leadsquared.SampleActivity, keys(&e.A)...), http.StatusNotFound, "")
	wantFailure(t, e.Do("POST", ticketPath(&e.A), leadsquared.SampleCreateTicket, append(keys(&e.A), "Idempotency-Key", "k\xff")...),
		http.StatusBadRequest, invalidInput)
}

func TestFinding9And10_RepeatedMembersAndDepth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	reason := wantFailure(t, e.Do("POST", ticketPath(&e.A), `{"TypeId": "1", "TypeId": "2", "LeadId": "lead-1", "Fields": []}`, keys(&e.A)...),
		http.StatusBadRequest, invalidInput)
	if !strings.Contains(reason, "TypeId") {
		t.Errorf("reason %q, want it to name TypeId", reason)
	}
	deep := `{"TypeId": "1", "LeadId": "lead-1", "Fields": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	wantFailure(t, e.Do("POST", ticketPath(&e.A), deep, keys(&e.A)...), http.StatusBadRequest, invalidInput)
}

func TestFinding11_NoStoreAndNoSniff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, r := range []struct {
		status int
		res    interface{ Get(string) string }
	}{
		{http.StatusOK, e.Do("POST", ticketPath(&e.A), leadsquared.SampleCreateTicket, keys(&e.A)...).Want(t, http.StatusOK).Header},
		{http.StatusUnauthorized, e.Do("POST", ticketPath(&e.A), leadsquared.SampleCreateTicket).Want(t, http.StatusUnauthorized).Header},
	} {
		if r.res.Get("Cache-Control") != "no-store" || r.res.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%d: Cache-Control %q, X-Content-Type-Options %q; want no-store, nosniff", r.status,
				r.res.Get("Cache-Control"), r.res.Get("X-Content-Type-Options"))
		}
	}
}

func TestFinding13_DocumentedStatusesOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// An oversized body is LeadSquared's 400, not 413; a wrong method its
	// 404, not 405.
	big := `{"TypeId": "1", "LeadId": "` + strings.Repeat("a", leadsquared.MaxBodyBytes) + `"}`
	wantFailure(t, e.Do("POST", ticketPath(&e.A), big, keys(&e.A)...), http.StatusBadRequest, invalidInput)
	wantFailure(t, e.Do("GET", ticketPath(&e.A), nil, keys(&e.A)...), http.StatusNotFound, "MXAPINotFoundException")
	// Two access keys: 401.
	req, _ := http.NewRequest("POST", e.HTTP.URL+ticketPath(&e.A), strings.NewReader(leadsquared.SampleCreateTicket))
	k := keys(&e.A)
	req.Header.Add(k[0], k[1])
	req.Header.Add(k[0], k[1])
	req.Header.Add(k[2], k[3])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("two access keys: %d, want 401", res.StatusCode)
	}
}
