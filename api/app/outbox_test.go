package app_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/notify"
	"github.com/eventdesk/eventdesk/api/notify/notifytest"
	"github.com/eventdesk/eventdesk/domain"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/outbox"
	"github.com/eventdesk/eventdesk/eventstore"
)

var byKey = app.Meta{By: domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}, Source: domain.SourceWebhook}

func keyed(k string) app.Meta { m := byKey; m.Idempotency = k; return m }

// waitStatus waits until message id of tenant has status.
func waitStatus(t *testing.T, e *apitest.Env, tenant, id string, status outbox.Status) outbox.Snapshot {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, err := e.Outbox.Message(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status == status {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s is %s (attempts %d, last error %q), want %s", id, m.Status, m.Attempts, m.LastError, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// events returns the types of message id's events, in order, and the
// events themselves.
func events(t *testing.T, e *apitest.Env, tenant, id string) ([]string, []eventstore.Event) {
	t.Helper()
	evs, err := e.Store.ReadStream(context.Background(), eventstore.StreamRef{TenantID: tenant, Type: outbox.StreamType, ID: id}, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, strings.TrimPrefix(ev.Type, "outbox."))
	}
	return types, evs
}

func count(types []string, typ string) int {
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

func smtpMailer(t *testing.T, srv *notifytest.SMTPServer, addr string) *notify.SMTP {
	t.Helper()
	m, err := notify.NewSMTP("smtp://eventdesk:s3cret@"+addr+"?from=desk@acme.test", srv.ClientTLS)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOutbox_EmailOverSMTP(t *testing.T) {
	e := apitest.New(t)
	srv := notifytest.StartSMTP(t, false)
	e.StartOutbox(e.NewOutboxSender(smtpMailer(t, srv, srv.Addr)))
	ctx := context.Background()
	msg := app.EmailMessage{To: "ana@example.com", Subject: "Welcome, Ana", Body: "Hello Ana", CustomerID: "PID-1"}
	id, err := e.Outbox.RequestEmail(ctx, e.A.ID, msg, keyed("req-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Outbox.RequestEmail(ctx, e.A.ID, msg, keyed("req-1"))
	if err != nil || again != id {
		t.Fatalf("retried request = %q, %v; want %q", again, err, id)
	}
	got := waitStatus(t, e, e.A.ID, id, outbox.Sent)
	if got.ProviderID != id+"@eventdesk.outbox" || got.Attempts != 1 || got.CustomerID != "PID-1" {
		t.Errorf("sent message = %+v, want provider id %s@eventdesk.outbox after 1 attempt, for PID-1", got, id)
	}
	mail := srv.Mail()
	if len(mail) != 1 {
		t.Fatalf("SMTP server received %d messages, want 1", len(mail))
	}
	if h := mail[0].Header; h.Get("Message-Id") != "<"+id+"@eventdesk.outbox>" || h.Get("Subject") != "Welcome, Ana" || mail[0].To[0] != "ana@example.com" {
		t.Errorf("received To %v, Subject %q, Message-ID %q; want ana@example.com, Welcome, Ana, <%s@eventdesk.outbox>",
			mail[0].To, h.Get("Subject"), h.Get("Message-Id"), id)
	}
	if types, _ := events(t, e, e.A.ID, id); strings.Join(types, ",") != "requested,sent" {
		t.Errorf("events = %v, want [requested sent]", types)
	}
	if _, err := e.Outbox.Message(ctx, e.B.ID, id); !errors.Is(err, outbox.ErrNotFound) {
		t.Errorf("another tenant's Message() = %v, want ErrNotFound", err)
	}
	if _, err := e.Outbox.RequestEmail(ctx, e.A.ID, app.EmailMessage{To: "nobody", Subject: "x", Body: "y"}, byKey); !errors.Is(err, outbox.ErrInvalidField) {
		t.Errorf("RequestEmail(bad address) = %v, want ErrInvalidField", err)
	}
}

// A refused connection is retried with backoff, then dead-lettered; the
// retry command makes it send once the server is up.
func TestOutbox_RefusedThenDeadThenRetry(t *testing.T) {
	e := apitest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused from now on
	probe := notifytest.StartSMTP(t, false)
	sender := e.NewOutboxSender(smtpMailer(t, probe, addr))
	e.StartOutbox(sender)
	ctx := context.Background()
	id, err := e.Outbox.RequestEmail(ctx, e.A.ID, app.EmailMessage{To: "ana@example.com", Subject: "Hi", Body: "Body"}, byKey)
	if err != nil {
		t.Fatal(err)
	}
	dead := waitStatus(t, e, e.A.ID, id, outbox.Dead)
	if dead.Attempts != 4 || !strings.Contains(dead.LastError, "refused") {
		t.Errorf("dead message: %d attempts, last error %q; want 4, connection refused", dead.Attempts, dead.LastError)
	}
	types, evs := events(t, e, e.A.ID, id)
	if strings.Join(types, ",") != "requested,attempt_failed,attempt_failed,attempt_failed,attempt_failed,dead_lettered" {
		t.Fatalf("events = %v", types)
	}
	for i, ev := range evs[1:4] { // the backoff doubles: 20, 40, 80 ms after each failure
		d, err := outbox.Decode(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		f := d.(outbox.AttemptFailed)
		if want := 20 * time.Millisecond << i; f.Attempt != i+1 || f.NextAttemptAt.Sub(f.At) != want {
			t.Errorf("attempt_failed %d: attempt %d, next after %v; want %d, %v", i, f.Attempt, f.NextAttemptAt.Sub(f.At), i+1, want)
		}
	}
	if _, _, err := e.Outbox.Retry(ctx, e.A.ID, id, byKey); err != nil {
		t.Fatal(err)
	}
	// Still refused: dead again after 4 more attempts, numbered 5..8.
	if m := waitStatus(t, e, e.A.ID, id, outbox.Dead); m.Attempts != 8 {
		t.Fatalf("after a retry against a refusing server: %d attempts, want 8", m.Attempts)
	}
	srv := notifytest.StartSMTPAt(t, addr, false)
	if _, _, err := e.Outbox.Retry(ctx, e.A.ID, id, byKey); err != nil {
		t.Fatal(err)
	}
	if m := waitStatus(t, e, e.A.ID, id, outbox.Sent); m.Attempts != 9 {
		t.Errorf("sent after %d attempts, want 9", m.Attempts)
	}
	if n := len(srv.Mail()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
	if _, _, err := e.Outbox.Retry(ctx, e.A.ID, id, byKey); !errors.Is(err, outbox.ErrNotRetryable) {
		t.Errorf("Retry(sent) = %v, want ErrNotRetryable", err)
	}
}

// A consumer killed between the send and its record: the redelivery sends
// again with the same Message-ID (SMS: the same idempotency token, which
// the provider honours) and exactly one outbox.sent is recorded; a further
// redelivery sends nothing.
func TestOutbox_CrashAfterSend(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	srv := notifytest.StartSMTP(t, false)
	provider := notifytest.StartSMS(t)
	if _, err := e.Outbox.SetSMSConfig(ctx, e.A.ID, app.SMSConfig{BaseURL: provider.URL, AccountSID: "AC1", AuthToken: "tok", From: "+15005550006"}); err != nil {
		t.Fatal(err)
	}
	sender := e.NewOutboxSender(smtpMailer(t, srv, srv.Addr)) // not run: the test plays the consumer
	crashed := map[string]bool{}                              // each message's first send is followed by a crash
	sender.AfterSend = func(_, id string, _ int) error {
		if !crashed[id] {
			crashed[id] = true
			return errors.New("killed before the record")
		}
		return nil
	}
	mailID, err := e.Outbox.RequestEmail(ctx, e.A.ID, app.EmailMessage{To: "ana@example.com", Subject: "Hi", Body: "Body"}, byKey)
	if err != nil {
		t.Fatal(err)
	}
	smsID, err := e.Outbox.RequestSMS(ctx, e.A.ID, app.SMSMessage{To: "+14155550100", Body: "Hi"}, byKey)
	if err != nil {
		t.Fatal(err)
	}
	var batch []eventstore.Event
	for _, id := range []string{mailID, smsID} {
		_, evs := events(t, e, e.A.ID, id)
		batch = append(batch, evs[0])
	}
	if err := sender.Apply(ctx, batch); err == nil {
		t.Fatal("Apply() with a crash after the e-mail's send = nil error")
	}
	if err := sender.Apply(ctx, batch); err == nil { // e-mail recorded; the SMS crashes
		t.Fatal("Apply() with a crash after the SMS's send = nil error")
	}
	for range 2 { // redelivered: the SMS is sent again and recorded; then nothing is sent
		if err := sender.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	mail := srv.Mail()
	if len(mail) != 2 || mail[0].Header.Get("Message-Id") != mail[1].Header.Get("Message-Id") {
		t.Fatalf("SMTP server received %d messages; want 2 with one Message-ID", len(mail))
	}
	reqs := provider.Requests()
	if len(reqs) != 2 || reqs[0].IdempotencyToken != reqs[1].IdempotencyToken || reqs[0].IdempotencyToken != app.SMSIdempotencyKey(e.A.ID, smsID) {
		t.Fatalf("provider received %+v; want 2 requests with the message's idempotency token", reqs)
	}
	if provider.Sent() != 1 {
		t.Errorf("provider sent %d SMS, want 1", provider.Sent())
	}
	for _, id := range []string{mailID, smsID} {
		if types, _ := events(t, e, e.A.ID, id); count(types, "sent") != 1 || len(types) != 2 {
			t.Errorf("message %s events = %v, want [requested sent]", id, types)
		}
	}
}

func TestOutbox_SMSProvider(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	provider := notifytest.StartSMS(t)
	if _, _, err := e.CRM.SetConfig(ctx, e.A.ID, crmconfig.SetConfig{Region: "US"}, byKey); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Outbox.SetSMSConfig(ctx, e.A.ID, app.SMSConfig{BaseURL: provider.URL, AccountSID: "AC1", AuthToken: "tok", From: "+15005550006"}); err != nil {
		t.Fatal(err)
	}
	v, err := e.Outbox.SetSMSConfig(ctx, e.A.ID, app.SMSConfig{BaseURL: provider.URL, AccountSID: "AC2", From: "+15005550007"}) // token kept
	if err != nil || !v.AuthTokenSet || v.Provider != "tenant" || v.AccountSID != "AC2" {
		t.Fatalf("SetSMSConfig(no token) = %+v, %v; want the stored token kept", v, err)
	}
	if _, err := e.Outbox.SetSMSConfig(ctx, e.B.ID, app.SMSConfig{BaseURL: provider.URL, AccountSID: "AC1", From: "+1"}); domain.KindOf(err) != domain.Invalid {
		t.Errorf("SetSMSConfig(no token, none stored) = %v, want Invalid", err)
	}
	provider.FailNext(500, 503, 502, 500) // four failures: dead-lettered
	e.StartOutbox(e.NewOutboxSender(nil))
	id, err := e.Outbox.RequestSMS(ctx, e.A.ID, app.SMSMessage{To: "(415) 555-0100", Body: "Your code is 42"}, byKey)
	if err != nil {
		t.Fatal(err)
	}
	if m := waitStatus(t, e, e.A.ID, id, outbox.Dead); m.To != "+14155550100" || m.Trial {
		t.Errorf("message to %q, trial %v; want +14155550100, not trial", m.To, m.Trial)
	}
	if _, _, err := e.Outbox.Retry(ctx, e.A.ID, id, byKey); err != nil {
		t.Fatal(err)
	}
	m := waitStatus(t, e, e.A.ID, id, outbox.Sent)
	reqs := provider.Requests()
	last := reqs[len(reqs)-1]
	want := notifytest.SMSRequest{Path: "/2010-04-01/Accounts/AC2/Messages.json", User: "AC2", Password: "tok", To: "+14155550100",
		From: "+15005550007", Body: "Your code is 42", IdempotencyToken: app.SMSIdempotencyKey(e.A.ID, id), Status: 201}
	if len(reqs) != 5 || last != want {
		t.Fatalf("provider received %d requests, the last %+v; want 5, the last %+v", len(reqs), last, want)
	}
	if m.ProviderID == "" || m.Attempts != 5 {
		t.Errorf("sent message: provider id %q after %d attempts; want the sid after 5", m.ProviderID, m.Attempts)
	}
}

func TestOutbox_SMSTrial(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	e.StartOutbox(e.NewOutboxSender(nil))
	var ids []string
	for i := range app.SMSTrialLimit {
		id, err := e.Outbox.RequestSMS(ctx, e.A.ID, app.SMSMessage{To: "+1415555010" + strconv.Itoa(i), Body: "trial " + strconv.Itoa(i)}, keyed("trial-"+strconv.Itoa(i)))
		if err != nil {
			t.Fatalf("trial SMS %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	// A retried request is counted once.
	if id, err := e.Outbox.RequestSMS(ctx, e.A.ID, app.SMSMessage{To: "+14155550100", Body: "trial 0"}, keyed("trial-0")); err != nil || id != ids[0] {
		t.Fatalf("retried trial request = %q, %v; want %q", id, err, ids[0])
	}
	_, err := e.Outbox.RequestSMS(ctx, e.A.ID, app.SMSMessage{To: "+14155550199", Body: "one too many"}, byKey)
	if !errors.Is(err, app.ErrSMSUnavailable) || !strings.Contains(err.Error(), "PUT /v1/config/sms") {
		t.Fatalf("SMS after the trial = %v, want ErrSMSUnavailable naming PUT /v1/config/sms", err)
	}
	// The other tenant has its own trial.
	if _, err := e.Outbox.RequestSMS(ctx, e.B.ID, app.SMSMessage{To: "+14155550199", Body: "B"}, byKey); err != nil {
		t.Fatalf("other tenant's first trial SMS: %v", err)
	}
	for _, id := range ids {
		m := waitStatus(t, e, e.A.ID, id, outbox.Sent)
		b, err := os.ReadFile(filepath.Join(e.OutboxDir(), m.ProviderID))
		if !m.Trial || err != nil || !strings.Contains(string(b), m.Body) || !strings.Contains(string(b), m.To) {
			t.Errorf("trial message %s: trial %v, file %q (%v)", id, m.Trial, b, err)
		}
	}
	v, err := e.Outbox.SMSConfig(ctx, e.A.ID)
	if err != nil || v.Provider != "trial" || v.TrialUsed != app.SMSTrialLimit || v.AuthTokenSet {
		t.Errorf("SMSConfig() = %+v, %v; want trial, %d used", v, err, app.SMSTrialLimit)
	}
	// With a provider configured the trial no longer matters.
	provider := notifytest.StartSMS(t)
	if _, err := e.Outbox.SetSMSConfig(ctx, e.A.ID, app.SMSConfig{BaseURL: provider.URL, AccountSID: "AC1", AuthToken: "tok", From: "+15005550006"}); err != nil {
		t.Fatal(err)
	}
	id, err := e.Outbox.RequestSMS(ctx, e.A.ID, app.SMSMessage{To: "+14155550199", Body: "now sent"}, byKey)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e, e.A.ID, id, outbox.Sent)
	if provider.Sent() != 1 {
		t.Errorf("provider sent %d, want 1", provider.Sent())
	}
}
