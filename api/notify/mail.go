// Package notify holds the outbox's transports (app.Mailer, app.SMSSender):
// e-mail over SMTP (github.com/wneessen/go-mail) or, with no SMTP server
// configured, as .eml files a newcomer can read; SMS through a
// Twilio-compatible HTTP API, or, for tenants on the SMS trial, as files
// beside the e-mails. cmd builds them from EVENTDESK_SMTP_URL and
// EVENTDESK_DATA_DIR and hands them to app.NewOutboxSender.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/eventdesk/eventdesk/api/app"
)

// DefaultFrom is the sender address when the SMTP URL names none.
const DefaultFrom = "eventdesk@localhost"

// SMTP sends e-mails through one SMTP server. It is safe for concurrent
// use: each send dials its own connection.
type SMTP struct {
	host, from string
	opts       []mail.Option
}

// NewSMTP returns the mailer of rawURL: smtp://user:pass@host:587 speaks
// STARTTLS (required), smtps://user:pass@host:465 implicit TLS; the query
// parameter from sets the sender address (default DefaultFrom). With no
// user the server is used without authentication. tlsConfig, if not nil,
// replaces the default TLS settings (tests trust their own certificate
// with it).
func NewSMTP(rawURL string, tlsConfig *tls.Config) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	s := &SMTP{host: u.Hostname(), from: u.Query().Get("from")}
	if s.from == "" {
		s.from = DefaultFrom
	}
	if s.host == "" {
		return nil, fmt.Errorf("smtp url %q: no host", u.Redacted())
	}
	port := 587
	switch u.Scheme {
	case "smtp":
		s.opts = append(s.opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "smtps":
		port = 465
		s.opts = append(s.opts, mail.WithSSL())
	default:
		return nil, fmt.Errorf("smtp url %q: scheme must be smtp (STARTTLS) or smtps (implicit TLS)", u.Redacted())
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("smtp url %q: bad port", u.Redacted())
		}
	}
	s.opts = append(s.opts, mail.WithPort(port), mail.WithTimeout(30*time.Second))
	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		s.opts = append(s.opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	if tlsConfig != nil {
		s.opts = append(s.opts, mail.WithTLSConfig(tlsConfig))
	}
	return s, nil
}

var _ app.Mailer = (*SMTP)(nil)

// SendEmail implements app.Mailer. The message carries e.MessageID, the
// same on every attempt. A recipient or sender the server refuses
// permanently (a 5xx reply) is app.ErrUndeliverable; everything else may
// be retried.
func (s *SMTP) SendEmail(ctx context.Context, e app.Email) (string, error) {
	m, err := message(s.from, e)
	if err != nil {
		return "", err
	}
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return "", fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() && (se.Reason == mail.ErrSMTPRcptTo || se.Reason == mail.ErrSMTPMailFrom) {
			return "", fmt.Errorf("smtp %s: %w: %w", s.host, app.ErrUndeliverable, err)
		}
		return "", fmt.Errorf("smtp %s: %w", s.host, err)
	}
	return e.MessageID, nil
}

// message builds e as a mail message from from.
func message(from string, e app.Email) (*mail.Msg, error) {
	m := mail.NewMsg()
	if err := m.From(from); err != nil {
		return nil, fmt.Errorf("from %q: %w", from, err)
	}
	if err := m.To(e.To); err != nil {
		return nil, fmt.Errorf("to %q: %w: %w", e.To, app.ErrUndeliverable, err)
	}
	m.Subject(e.Subject)
	m.SetMessageIDWithValue(e.MessageID)
	m.SetDate()
	m.SetBodyString(mail.TypeTextPlain, e.Body)
	return m, nil
}

// Files writes each e-mail as an .eml file and each trial SMS as a .txt
// file in one directory (EVENTDESK_DATA_DIR/outbox), named by the message
// id, so that a retried attempt overwrites its own file. It is safe for
// concurrent use.
type Files struct {
	dir, from string
}

// NewFiles returns the file writer of dir, creating it.
func NewFiles(dir string) (*Files, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("outbox dir: %w", err)
	}
	return &Files{dir: dir, from: DefaultFrom}, nil
}

// Dir returns the directory the files are written to.
func (f *Files) Dir() string { return f.dir }

var (
	_ app.Mailer    = (*Files)(nil)
	_ app.SMSSender = (*Files)(nil)
)

// SendEmail implements app.Mailer: it writes e to <id>.eml and returns
// the file's name.
func (f *Files) SendEmail(_ context.Context, e app.Email) (string, error) {
	m, err := message(f.from, e)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return "", err
	}
	return f.write(e.ID+".eml", b.Bytes())
}

// SendSMS implements app.SMSSender for the trial: it writes s to
// <id>.sms.txt (To, Body) and returns the file's name; p is ignored.
func (f *Files) SendSMS(_ context.Context, _ app.SMSConfig, s app.SMS) (string, error) {
	return f.write(s.ID+".sms.txt", []byte("To: "+s.To+"\nIdempotency-Key: "+s.IdempotencyKey+"\n\n"+s.Body+"\n"))
}

// write writes data to name atomically (a reader never sees half a file).
func (f *Files) write(name string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(f.dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(data)
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(f.dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}
