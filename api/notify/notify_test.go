package notify_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/notify"
	"github.com/eventdesk/eventdesk/api/notify/notifytest"
)

var email = app.Email{Tenant: "t1", ID: "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e", MessageID: "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e@eventdesk.outbox",
	To: "ana@example.com", Subject: "Welcome, Ana", Body: "Hello Ana"}

func TestSMTP(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		scheme := map[bool]string{false: "smtp", true: "smtps"}[implicit]
		t.Run(scheme, func(t *testing.T) {
			srv := notifytest.StartSMTP(t, implicit)
			m, err := notify.NewSMTP(scheme+"://eventdesk:s3cret@"+srv.Addr+"?from=desk@acme.test", srv.ClientTLS)
			if err != nil {
				t.Fatal(err)
			}
			id, err := m.SendEmail(context.Background(), email)
			if err != nil {
				t.Fatalf("SendEmail() = %v", err)
			}
			if id != email.MessageID {
				t.Errorf("SendEmail() id = %q, want %q", id, email.MessageID)
			}
			got := srv.Mail()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			g := got[0]
			if g.From != "desk@acme.test" || len(g.To) != 1 || g.To[0] != "ana@example.com" {
				t.Errorf("envelope from %q to %q, want desk@acme.test to [ana@example.com]", g.From, g.To)
			}
			if s := g.Header.Get("Subject"); s != "Welcome, Ana" {
				t.Errorf("Subject = %q, want %q", s, "Welcome, Ana")
			}
			if s := g.Header.Get("Message-Id"); s != "<"+email.MessageID+">" {
				t.Errorf("Message-ID = %q, want <%s>", s, email.MessageID)
			}
			if !strings.Contains(g.Body, "Hello Ana") {
				t.Errorf("body = %q, want it to hold %q", g.Body, "Hello Ana")
			}
		})
	}
}

func TestSMTP_Failures(t *testing.T) {
	srv := notifytest.StartSMTP(t, false)
	ctx := context.Background()
	send := func(rawURL string) error {
		m, err := notify.NewSMTP(rawURL, srv.ClientTLS)
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.SendEmail(ctx, email)
		return err
	}
	srv.RefuseRecipients(550)
	if err := send("smtp://eventdesk:s3cret@" + srv.Addr); !errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("recipient refused with 550: got %v, want ErrUndeliverable", err)
	}
	srv.RefuseRecipients(450)
	if err := send("smtp://eventdesk:s3cret@" + srv.Addr); err == nil || errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("recipient refused with 450: got %v, want a retryable error", err)
	}
	srv.RefuseRecipients(0)
	if err := send("smtp://eventdesk:wrong@" + srv.Addr); err == nil || errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("bad password: got %v, want a retryable error", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if err := send("smtp://eventdesk:s3cret@" + closed); err == nil || errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("connection refused: got %v, want a retryable error", err)
	}
	if len(srv.Mail()) != 0 {
		t.Errorf("server received %d messages, want 0", len(srv.Mail()))
	}
	for _, bad := range []string{"http://h", "smtp://", "smtp://h:port"} {
		if _, err := notify.NewSMTP(bad, nil); err == nil {
			t.Errorf("NewSMTP(%q) = nil error", bad)
		}
	}
}

func TestTwilio(t *testing.T) {
	p := notifytest.StartSMS(t)
	cfg := app.SMSConfig{BaseURL: p.URL + "/", AccountSID: "AC123", AuthToken: "tok", From: "+15005550006"}
	sms := app.SMS{Tenant: "t1", ID: email.ID, IdempotencyKey: "key-1", To: "+14155550100", Body: "Your code is 42"}
	tw := &notify.Twilio{}
	ctx := context.Background()
	sid, err := tw.SendSMS(ctx, cfg, sms)
	if err != nil || sid != "SMkey1" {
		t.Fatalf("SendSMS() = %q, %v; want SMkey1", sid, err)
	}
	r := p.Requests()[0]
	want := notifytest.SMSRequest{Path: "/2010-04-01/Accounts/AC123/Messages.json", User: "AC123", Password: "tok",
		To: "+14155550100", From: "+15005550006", Body: "Your code is 42", IdempotencyToken: "key-1", Status: http.StatusCreated}
	if r != want {
		t.Fatalf("provider received %+v, want %+v", r, want)
	}
	p.FailNext(http.StatusServiceUnavailable, http.StatusBadRequest, http.StatusTooManyRequests)
	if _, err := tw.SendSMS(ctx, cfg, sms); err == nil || errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("503: got %v, want a retryable error", err)
	}
	if _, err := tw.SendSMS(ctx, cfg, sms); !errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("400: got %v, want ErrUndeliverable", err)
	}
	if _, err := tw.SendSMS(ctx, cfg, sms); err == nil || errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("429: got %v, want a retryable error", err)
	}
	p.Close()
	if _, err := tw.SendSMS(ctx, cfg, sms); err == nil || errors.Is(err, app.ErrUndeliverable) {
		t.Errorf("provider down: got %v, want a retryable error", err)
	}
}

func TestFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	f, err := notify.NewFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	name, err := f.SendEmail(context.Background(), email)
	if err != nil || name != email.ID+".eml" {
		t.Fatalf("SendEmail() = %q, %v; want %s.eml", name, err, email.ID)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Message-ID: <" + email.MessageID + ">", "Subject: Welcome, Ana", "To: <ana@example.com>", "Hello Ana"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", name, want, b)
		}
	}
	name, err = f.SendSMS(context.Background(), app.SMSConfig{}, app.SMS{ID: email.ID, IdempotencyKey: "k", To: "+14155550100", Body: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, name)); !strings.Contains(string(b), "To: +14155550100") || !strings.Contains(string(b), "Hi") {
		t.Errorf("%s = %q, want the number and the body", name, b)
	}
}
