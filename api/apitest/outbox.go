package apitest

import (
	"context"
	"path/filepath"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/notify"
	"github.com/eventdesk/eventdesk/domain/outbox"
)

// OutboxDir is where the Env's .eml files and trial SMS are written (under
// DataDir), as serve writes them under EVENTDESK_DATA_DIR.
func (e *Env) OutboxDir() string { return filepath.Join(e.DataDir, "outbox") }

// NewOutboxSender returns the outbox's sender as serve wires it, with mail
// sending e-mails (nil: .eml files under OutboxDir) and SMS through the
// Twilio-compatible API; trial SMS go to files under OutboxDir. Its policy
// is quick for tests (4 attempts, 20 ms doubling up to 80 ms) and its
// scheduler looks every 10 ms. It does not run until StartOutbox.
func (e *Env) NewOutboxSender(mail app.Mailer) *app.OutboxSender {
	e.T.Helper()
	files, err := notify.NewFiles(e.OutboxDir())
	if err != nil {
		e.T.Fatal(err)
	}
	if mail == nil {
		mail = files
	}
	s := app.NewOutboxSender(e.Services, e.DB.DB, e.Store, mail, &notify.Twilio{}, files, nil, 20*time.Millisecond)
	s.Policy = outbox.Policy{MaxAttempts: 4, Base: 20 * time.Millisecond, Cap: 80 * time.Millisecond}
	s.Tick = 10 * time.Millisecond
	return s
}

// StartOutbox runs s until the test ends (it stops before the store
// closes).
func (e *Env) StartOutbox(s *app.OutboxSender) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	e.T.Cleanup(func() { cancel(); <-done })
}
