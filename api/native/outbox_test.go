package native_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/notify/notifytest"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/outbox"
)

// conformOutbox drives /v1/config/sms and /v1/outbox through every answer
// they document, with the outbox's sender running (e-mails as files, SMS
// through a local Twilio-compatible provider), and checks that one
// tenant's outbox is invisible to the other.
func conformOutbox(t *testing.T, e *env, c *checker) {
	ctx := context.Background()
	provider := notifytest.StartSMS(t)
	e.StartOutbox(e.NewOutboxSender(nil))
	olga := c.do(t, e, e.a, "POST", "/v1/agents", map[string]any{"email": "olga@example.com", "name": "Olga"}).want(t, http.StatusCreated).json(t)
	token := c.do(t, e, e.a, "POST", "/v1/agents/"+olga["id"].(string)+"/tokens", nil).want(t, http.StatusCreated).json(t)["token"].(string)
	agent := []string{"Authorization", "Bearer " + token}
	big := func(body string) string { return body + strings.Repeat(" ", 1<<20) }
	// Each write's shared failures: 400, 401, 403, 413, 415, 422.
	shared := func(method, path, body, bad string, badHeaders ...string) {
		t.Helper()
		c.doBad(t, e, nil, method, path, body).problem(t, http.StatusUnauthorized, "unauthenticated")
		c.do(t, e, nil, method, path, body, agent...).problem(t, http.StatusForbidden, "forbidden")
		c.doBad(t, e, e.a, method, path, `{"a": 1,}`).problem(t, http.StatusBadRequest, "malformed_json")
		c.do(t, e, e.a, method, path, big(body)).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
		c.doBad(t, e, e.a, method, path, body, "Content-Type", "text/plain").problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		c.doBad(t, e, e.a, method, path, bad, badHeaders...).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	}

	// The SMS provider: trial until one is set; the token never comes back.
	if v := c.do(t, e, e.a, "GET", "/v1/config/sms", nil).want(t, http.StatusOK).json(t); v["provider"] != "trial" || v["auth_token_set"] != false {
		t.Errorf("GET /v1/config/sms before any = %v, want the trial", v)
	}
	c.doBad(t, e, nil, "GET", "/v1/config/sms", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", "/v1/config/sms", nil, agent...).problem(t, http.StatusForbidden, "forbidden")
	put := `{"base_url": "` + provider.URL + `", "account_sid": "AC1", "auth_token": "tok-secret", "from": "+15005550006"}`
	r := c.do(t, e, e.a, "PUT", "/v1/config/sms", put, "Idempotency-Key", "sms-1").want(t, http.StatusOK)
	if v := r.json(t); v["provider"] != "tenant" || v["auth_token_set"] != true || strings.Contains(string(r.Body), "tok-secret") {
		t.Errorf("PUT /v1/config/sms = %s, want the tenant's provider without its token", r.Body)
	}
	if r := c.do(t, e, e.a, "GET", "/v1/config/sms", nil).want(t, http.StatusOK); strings.Contains(string(r.Body), "tok-secret") {
		t.Errorf("GET /v1/config/sms shows the token: %s", r.Body)
	}
	c.do(t, e, e.a, "PUT", "/v1/config/sms", `{"base_url": "ftp://x", "account_sid": "AC1", "from": "+1"}`).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	shared("PUT", "/v1/config/sms", put, `{"base_url": "", "account_sid": 5}`)

	// Messages: an e-mail (written as a file), an SMS dead-lettered by 5xx.
	provider.FailNext(500, 502, 503, 500)
	by := app.Meta{By: domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}, Source: domain.SourceWebhook}
	mailID, err := e.Outbox.RequestEmail(ctx, e.A.ID, app.EmailMessage{To: "ana@example.com", Subject: "Welcome", Body: "Hello"}, by)
	if err != nil {
		t.Fatal(err)
	}
	smsID, err := e.Outbox.RequestSMS(ctx, e.A.ID, app.SMSMessage{To: "+14155550100", Body: "Code 42"}, by)
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(id string, status outbox.Status) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			list := e.do(e.a, "GET", "/v1/outbox?status="+string(status), nil).want(t, http.StatusOK)
			if strings.Contains(string(list.Body), id) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("message %s not listed as %s: %s", id, status, list.Body)
			}
		}
	}
	waitFor(mailID, outbox.Sent)
	waitFor(smsID, outbox.Dead)
	c.do(t, e, e.a, "GET", "/v1/outbox?status=failed", nil).want(t, http.StatusOK)
	c.do(t, e, e.a, "GET", "/v1/outbox?status=pending&limit=10", nil).want(t, http.StatusOK)
	page := c.do(t, e, e.a, "GET", "/v1/outbox?limit=1", nil).want(t, http.StatusOK).json(t)
	next, _ := page["next_cursor"].(string)
	if msgs := page["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["id"] != smsID || next == "" {
		t.Fatalf("first page of 1 = %v, want the SMS (newest) and a cursor", page)
	}
	if p2 := c.do(t, e, e.a, "GET", "/v1/outbox?limit=1&cursor="+next, nil).want(t, http.StatusOK).json(t); p2["messages"].([]any)[0].(map[string]any)["id"] != mailID {
		t.Errorf("second page = %v, want the e-mail", p2)
	}
	c.doBad(t, e, e.a, "GET", "/v1/outbox?status=lost", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	c.do(t, e, e.a, "GET", "/v1/outbox?cursor=nope", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	c.doBad(t, e, e.a, "GET", "/v1/outbox?limit=0", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	c.doBad(t, e, nil, "GET", "/v1/outbox", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", "/v1/outbox", nil, agent...).problem(t, http.StatusForbidden, "forbidden")
	got := c.do(t, e, e.a, "GET", "/v1/outbox/"+smsID, nil).want(t, http.StatusOK).json(t)
	if got["status"] != "dead" || got["attempts"] != float64(4) || got["to"] != "+14155550100" {
		t.Errorf("GET /v1/outbox/%s = %v, want dead after 4 attempts", smsID, got)
	}
	c.doBad(t, e, nil, "GET", "/v1/outbox/"+smsID, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", "/v1/outbox/"+smsID, nil, agent...).problem(t, http.StatusForbidden, "forbidden")

	// Tenant isolation: B sees nothing of A's outbox.
	if list := c.do(t, e, e.b, "GET", "/v1/outbox", nil).want(t, http.StatusOK).json(t); len(list["messages"].([]any)) != 0 {
		t.Errorf("B's outbox = %v, want empty", list)
	}
	c.do(t, e, e.b, "GET", "/v1/outbox/"+smsID, nil).problem(t, http.StatusNotFound, "message_not_found")
	c.do(t, e, e.b, "POST", "/v1/outbox/"+smsID+"/retry", nil).problem(t, http.StatusNotFound, "message_not_found")
	if v := c.do(t, e, e.b, "GET", "/v1/config/sms", nil).want(t, http.StatusOK).json(t); v["provider"] != "trial" {
		t.Errorf("B's SMS provider = %v, want the trial", v)
	}

	// Retry: the dead SMS goes out; a sent message cannot be retried.
	retry := "/v1/outbox/" + smsID + "/retry"
	shared("POST", retry, `{}`, `{}`, "Eventdesk-Actor", "nobody")
	c.doBad(t, e, e.a, "POST", retry, `{"x": 1}`).problem(t, http.StatusBadRequest, "unknown_field")
	if m := c.do(t, e, e.a, "POST", retry, nil, "Idempotency-Key", "retry-1").want(t, http.StatusOK).json(t); m["status"] != "pending" {
		t.Errorf("retried message = %v, want pending", m)
	}
	c.do(t, e, e.a, "POST", retry, nil, "Idempotency-Key", "retry-1").want(t, http.StatusOK)
	waitFor(smsID, outbox.Sent)
	if provider.Sent() != 1 {
		t.Errorf("provider sent %d SMS, want 1", provider.Sent())
	}
	c.do(t, e, e.a, "POST", retry, map[string]any{}).problem(t, http.StatusConflict, "message_not_retryable")
	c.do(t, e, e.a, "POST", "/v1/outbox/7a0c4f4e-0000-4000-8000-000000000000/retry", nil).problem(t, http.StatusNotFound, "message_not_found")
}
