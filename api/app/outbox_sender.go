package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/outbox"
	"github.com/eventdesk/eventdesk/eventstore"
)

// OutboxSenderName is the sender's durable consumer name. It is persisted
// (its checkpoint): renaming it makes the sender look at every message
// again, which sends nothing twice (a message no longer due is skipped) but
// costs the reads.
const OutboxSenderName = "outbox-sender.v1"

// outboxActor is who the sender's events name.
var outboxActor = domain.Actor{Kind: domain.ActorSystem, ID: "outbox-sender"}

// ErrUndeliverable marks a send error that no retry can cure (an address
// or number the provider refuses): adapters wrap it (fmt.Errorf("…: %w",
// app.ErrUndeliverable)) and the message is dead-lettered at once instead
// of being attempted again.
var ErrUndeliverable = errors.New("undeliverable")

// Email is an e-mail handed to a Mailer.
type Email struct {
	Tenant string
	// ID is the outbox message's id.
	ID string
	// MessageID is the RFC 5322 Message-ID, without angle brackets: the
	// same on every attempt of the message, so that a receiver can
	// recognise a second delivery of one message.
	MessageID         string
	To, Subject, Body string
}

// SMS is a text message handed to an SMSSender.
type SMS struct {
	Tenant string
	// ID is the outbox message's id.
	ID string
	// IdempotencyKey is the same on every attempt of the message; a
	// provider that honours it (Twilio's I-Twilio-Idempotency-Token) sends
	// the message once however often it is asked.
	IdempotencyKey string
	To, Body       string
}

// Mailer hands e-mails to a mail transport.
type Mailer interface {
	// SendEmail sends e and returns an id for it (its Message-ID, a file
	// name). It is safe for concurrent use. An error wrapping
	// ErrUndeliverable is final; any other may be retried.
	SendEmail(ctx context.Context, e Email) (string, error)
}

// SMSSender hands SMS to a provider.
type SMSSender interface {
	// SendSMS sends s through provider p and returns the provider's id for
	// it. It is safe for concurrent use. An error wrapping ErrUndeliverable
	// is final; any other may be retried.
	SendSMS(ctx context.Context, p SMSConfig, s SMS) (string, error)
}

// outboxIDNamespace is the UUID namespace of Message-IDs and SMS
// idempotency keys.
var outboxIDNamespace = uuid.MustParse("6c1f3c0e-2b7a-4f4e-9d1a-8a1e0c5b7f21")

// EmailMessageID is the Message-ID of outbox message id (without angle
// brackets), stable across attempts and restarts.
func EmailMessageID(id, domainPart string) string {
	return id + "@" + domainPart
}

// SMSIdempotencyKey is the idempotency key sent with every attempt of
// outbox message id of tenant.
func SMSIdempotencyKey(tenant, id string) string {
	return uuid.NewSHA1(outboxIDNamespace, []byte(tenant+"/sms/"+id)).String()
}

// OutboxSender sends what the outbox records. It is a durable consumer of
// the log (OutboxSenderName) for outbox.requested and outbox.retried, and
// a scheduler that attempts the failed messages whose next attempt is due
// (found in the outbox.v1 read model, outbox_messages).
//
// Each attempt loads the message, skips it unless it is due, sends it and
// records the outcome (outbox.sent, or outbox.attempt_failed with the next
// attempt due after the Policy's backoff, and outbox.dead_lettered after
// the last one) with event ids derived from the message and the attempt's
// number. A redelivered batch therefore finds the message sent and sends
// nothing; only a crash between the provider's answer and the record sends
// the message again, with the same Message-ID or idempotency key.
type OutboxSender struct {
	outbox   *Outbox
	db       *sql.DB
	consumer eventstore.Consumer
	mail     Mailer
	sms      SMSSender
	trial    SMSSender
	log      *slog.Logger
	poll     time.Duration

	// Policy is the backoff and dead-letter policy; set before Run.
	Policy outbox.Policy
	// Tick is how often the scheduler looks for due retries (zero: 1 s).
	Tick time.Duration
	// SendTimeout bounds one send (zero: 30 s).
	SendTimeout time.Duration
	// AfterSend, if set, runs after a send and before its outcome is
	// recorded; an error stops the attempt there, unrecorded, as a crash
	// would. Crash tests set it; production code never does.
	AfterSend func(tenant, id string, attempt int) error

	locks sync.Map // message id -> *sync.Mutex: one attempt at a time in this process
}

// NewOutboxSender returns the sender of s.Outbox: mail sends e-mails, sms
// sends SMS through a tenant's provider and trial writes the SMS of
// tenants on trial. consumer holds the checkpoint; poll bounds the wait
// between reads when idle (zero: the consumer's default); log may be nil.
func NewOutboxSender(s *Services, db *sql.DB, consumer eventstore.Consumer, mail Mailer, sms, trial SMSSender, log *slog.Logger, poll time.Duration) *OutboxSender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OutboxSender{outbox: s.Outbox, db: db, consumer: consumer, mail: mail, sms: sms, trial: trial, log: log, poll: poll,
		Policy: outbox.DefaultPolicy}
}

// senderTypes are the events that make a message due now.
var senderTypes = []string{outbox.MessageRequested{}.EventType(), outbox.MessageRetried{}.EventType()}

// Run sends until ctx is done; it then returns nil. The consumer and the
// scheduler run side by side; failures are logged and retried.
func (s *OutboxSender) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.schedule(ctx)
	}()
	opt := eventstore.ConsumeOptions{
		Query: eventstore.Query{StreamType: outbox.StreamType, Types: senderTypes, Limit: 50},
		Poll:  s.poll,
		OnError: func(err error) {
			s.log.Error("outbox sender failed; retrying", "consumer", OutboxSenderName, "err", err)
		},
	}
	err := s.consumer.Consume(ctx, OutboxSenderName, opt, func(ctx context.Context, _ *sql.Tx, evs []eventstore.Event) error {
		return s.Apply(ctx, evs)
	})
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("outbox sender: %w", err)
	}
	return nil
}

// Apply attempts the messages that a batch of outbox.requested and
// outbox.retried events made due, in order (other events are ignored). It
// returns the first error a retry may cure, leaving the rest of the batch
// for the redelivery; running it again over events it handled sends
// nothing more.
func (s *OutboxSender) Apply(ctx context.Context, evs []eventstore.Event) error {
	for _, e := range evs {
		if e.StreamType != outbox.StreamType || (e.Type != senderTypes[0] && e.Type != senderTypes[1]) {
			continue
		}
		if err := s.Attempt(ctx, e.TenantID, e.StreamID); err != nil {
			return fmt.Errorf("outbox message %s: %w", e.StreamID, err)
		}
	}
	return nil
}

// schedule attempts due retries every Tick until ctx is done.
func (s *OutboxSender) schedule(ctx context.Context) {
	tick := s.Tick
	if tick <= 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("outbox scheduler failed; retrying", "err", err)
		}
	}
}

// SendDue attempts every failed message whose next attempt is due now, as
// the outbox.v1 read model shows them, and returns how many it attempted.
func (s *OutboxSender) SendDue(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, id FROM outbox_messages
		WHERE status = 'failed' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT 500`, s.outbox.now())
	if err != nil {
		return 0, fmt.Errorf("due outbox messages: %w", err)
	}
	type ref struct{ tenant, id string }
	var due []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.tenant, &r.id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("due outbox messages: %w", err)
		}
		due = append(due, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("due outbox messages: %w", err)
	}
	var errs []error
	for _, r := range due {
		if err := s.Attempt(ctx, r.tenant, r.id); err != nil {
			errs = append(errs, fmt.Errorf("outbox message %s: %w", r.id, err))
		}
	}
	return len(due), errors.Join(errs...)
}

// Attempt sends message id of tenant if it is due and records the outcome.
// A message that is not due (sent, dead, or failed with its next attempt
// later) is left alone. The error is one of loading or recording, which a
// retry may cure; a failed send is an outcome, not an error.
func (s *OutboxSender) Attempt(ctx context.Context, tenant, id string) error {
	mu, _ := s.locks.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer func() {
		mu.(*sync.Mutex).Unlock()
		s.locks.Delete(id) // a waiter still holds it; the next one makes a new one
	}()
	msg, _, err := s.outbox.messages.load(ctx, outboxStream(tenant, id))
	if err != nil {
		return err
	}
	if !msg.Exists() || !msg.Due(s.outbox.now()) {
		return nil
	}
	n, snap := msg.NextAttempt(), msg.Snapshot()
	providerID, sendErr := s.send(ctx, tenant, snap)
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: not the provider's failure
	}
	if s.AfterSend != nil {
		if err := s.AfterSend(tenant, id, n); err != nil {
			return err
		}
	}
	m := Meta{By: outboxActor, Source: domain.SourceAPI, Idempotency: "outbox-sender/" + tenant + "/" + id + "/attempt/" + strconv.Itoa(n)}
	_, err = s.outbox.messages.run(ctx, outboxStream(tenant, id), s.outbox.now, m, func(msg *outbox.Message, at time.Time) error {
		if sendErr == nil {
			return msg.MarkSent(n, providerID, m.By, m.Source, at)
		}
		return msg.Fail(n, sendErr.Error(), errors.Is(sendErr, ErrUndeliverable), s.Policy, m.By, m.Source, at)
	})
	if err != nil {
		return err
	}
	if sendErr != nil {
		s.log.WarnContext(ctx, "outbox send failed", "tenant", tenant, "message_id", id, "channel", string(snap.Channel), "attempt", n, "err", sendErr)
	} else {
		s.log.DebugContext(ctx, "outbox message sent", "tenant", tenant, "message_id", id, "channel", string(snap.Channel), "attempt", n)
	}
	return nil
}

// send hands msg to its transport.
func (s *OutboxSender) send(ctx context.Context, tenant string, msg outbox.Snapshot) (string, error) {
	timeout := s.SendTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch msg.Channel {
	case outbox.Email:
		if s.mail == nil {
			return "", errors.New("no mailer configured")
		}
		return s.mail.SendEmail(ctx, Email{Tenant: tenant, ID: msg.ID, MessageID: EmailMessageID(msg.ID, "eventdesk.outbox"),
			To: msg.To, Subject: msg.Subject, Body: msg.Body})
	case outbox.SMS:
		sms := SMS{Tenant: tenant, ID: msg.ID, IdempotencyKey: SMSIdempotencyKey(tenant, msg.ID), To: msg.To, Body: msg.Body}
		if msg.Trial {
			if s.trial == nil {
				return "", errors.New("no trial SMS writer configured")
			}
			return s.trial.SendSMS(ctx, SMSConfig{}, sms)
		}
		p, err := s.outbox.provider(ctx, tenant)
		if err != nil {
			return "", err
		}
		if !p.Configured() {
			return "", errors.New("no SMS provider configured (PUT /v1/config/sms or EVENTDESK_SMS_*)")
		}
		if s.sms == nil {
			return "", errors.New("no SMS sender configured")
		}
		return s.sms.SendSMS(ctx, p, sms)
	}
	return "", fmt.Errorf("%w: unknown channel %q", ErrUndeliverable, msg.Channel)
}
