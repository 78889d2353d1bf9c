// Package notifytest runs real protocol peers for the outbox's tests: an
// SMTP server (github.com/emersion/go-smtp) that speaks STARTTLS, implicit
// TLS and AUTH PLAIN, and a Twilio-compatible SMS provider over HTTP. They
// record what they receive and can be told to refuse. Only test files
// import it.
package notifytest

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message an SMTPServer accepted.
type Mail struct {
	From   string
	To     []string
	Header mail.Header
	Body   string
}

// SMTPServer is an in-process SMTP server.
type SMTPServer struct {
	// Addr is host:port.
	Addr string
	// User and Password are the AUTH PLAIN credentials it accepts.
	User, Password string
	// ClientTLS trusts the server's certificate.
	ClientTLS *tls.Config

	srv *smtp.Server
	ln  net.Listener

	mu   sync.Mutex
	mail []Mail
	// rcptErr, if set, refuses every recipient with it.
	rcptErr *smtp.SMTPError
}

// StartSMTP starts a server until the test ends: STARTTLS on a plain
// listener, or implicit TLS when implicitTLS is set. It accepts AUTH PLAIN
// with user "eventdesk" and password "s3cret".
func StartSMTP(t testing.TB, implicitTLS bool) *SMTPServer {
	t.Helper()
	return StartSMTPAt(t, "127.0.0.1:0", implicitTLS)
}

// StartSMTPAt is StartSMTP listening on addr (a port a test saw refused,
// say).
func StartSMTPAt(t testing.TB, addr string, implicitTLS bool) *SMTPServer {
	t.Helper()
	// httptest's certificate is valid for 127.0.0.1 and example.com.
	h := httptest.NewUnstartedServer(nil)
	h.StartTLS()
	cert, pool := h.TLS.Certificates[0], h.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	h.Close()
	s := &SMTPServer{User: "eventdesk", Password: "s3cret", ClientTLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain, s.srv.TLSConfig = "127.0.0.1", srvTLS
	var err error
	if implicitTLS {
		s.ln, err = tls.Listen("tcp", addr, srvTLS)
	} else {
		s.ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = s.ln.Addr().String()
	go s.srv.Serve(s.ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Mail returns the messages accepted so far.
func (s *SMTPServer) Mail() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// RefuseRecipients makes the server refuse every recipient with code
// (550: permanently, 450: for now); 0 accepts them again.
func (s *SMTPServer) RefuseRecipients(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.rcptErr = nil
		return
	}
	s.rcptErr = &smtp.SMTPError{Code: code, Message: "mailbox unavailable"}
}

type backend struct{ s *SMTPServer }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s      *SMTPServer
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.User || pass != x.s.Password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	err := x.s.rcptErr
	x.s.mu.Unlock()
	if err != nil {
		return err
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	x.s.mu.Lock()
	x.s.mail = append(x.s.mail, Mail{From: x.from, To: x.to, Header: m.Header, Body: string(body)})
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// SMSRequest is one request an SMSProvider received.
type SMSRequest struct {
	Path             string
	User, Password   string
	To, From, Body   string
	IdempotencyToken string
	Status           int
}

// SMSProvider is a Twilio-compatible SMS API over HTTP: it sends a message
// once per I-Twilio-Idempotency-Token, as Twilio does.
type SMSProvider struct {
	*httptest.Server

	mu       sync.Mutex
	requests []SMSRequest
	statuses []int // answers to give next, in order; then 201
	sent     map[string]string
}

// StartSMS starts a provider until the test ends.
func StartSMS(t testing.TB) *SMSProvider {
	p := &SMSProvider{sent: map[string]string{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// FailNext makes the next requests answer statuses, in order.
func (p *SMSProvider) FailNext(statuses ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statuses = append(p.statuses, statuses...)
}

// Requests returns what the provider received.
func (p *SMSProvider) Requests() []SMSRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]SMSRequest(nil), p.requests...)
}

// Sent returns how many distinct messages it sent.
func (p *SMSProvider) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

func (p *SMSProvider) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	_ = r.ParseForm()
	req := SMSRequest{Path: r.URL.Path, User: user, Password: pass, To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		Body: r.PostForm.Get("Body"), IdempotencyToken: r.Header.Get("I-Twilio-Idempotency-Token"), Status: http.StatusCreated}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.statuses) > 0 {
		req.Status, p.statuses = p.statuses[0], p.statuses[1:]
	}
	p.requests = append(p.requests, req)
	if req.Status != http.StatusCreated {
		http.Error(w, `{"code":20500,"message":"failure"}`, req.Status)
		return
	}
	sid, ok := p.sent[req.IdempotencyToken]
	if !ok || req.IdempotencyToken == "" {
		sid = "SM" + strings.ReplaceAll(req.IdempotencyToken, "-", "")
		p.sent[req.IdempotencyToken] = sid
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"sid": sid, "status": "queued"})
}
