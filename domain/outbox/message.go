// Package outbox holds the Message aggregate: one e-mail or SMS that
// Eventdesk must send. A command never sends anything: it records that a
// message is due (MessageRequested); a durable consumer of the log sends it
// and records the outcome (MessageSent, or AttemptFailed with the time the
// next attempt is due), and gives up after Policy.MaxAttempts attempts
// (MessageDeadLettered) until a retry command makes it due again
// (MessageRetried).
//
// Attempts are numbered from 1 over the message's whole life (a retry does
// not restart the count), so an attempt's number names it uniquely: the
// sender derives the ids of the events it records from it, and an outcome
// recorded for an attempt that is not the next one is ignored.
package outbox

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of messages; the stream id is the
// message's id (a lower-case UUID). It is persisted.
const StreamType = "outbox_message"

// Channel is how a message travels. Values are persisted.
type Channel string

// The channels.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Status is where a message stands. Values are persisted in read models
// and shown by the API.
type Status string

// The statuses.
const (
	// Pending: due now (requested or retried, never attempted since).
	Pending Status = "pending"
	// Failed: the last attempt failed; the next is due at NextAttemptAt.
	Failed Status = "failed"
	// Sent: handed over to the provider (or written to a file).
	Sent Status = "sent"
	// Dead: given up on; only a retry makes it due again.
	Dead Status = "dead"
)

// Limits on a message, in bytes.
const (
	MaxToLength      = 254
	MaxSubjectLength = 998 // one RFC 5322 header line
	MaxBodyLength    = 256 << 10
	MaxErrorLength   = 1000
)

// Policy says how often and how long a message is attempted.
type Policy struct {
	// MaxAttempts is how many failed attempts (since the request or the
	// last retry) dead-letter a message.
	MaxAttempts int
	// Base is the wait after the first failed attempt; each further one
	// doubles it, up to Cap.
	Base, Cap time.Duration
}

// DefaultPolicy: 8 attempts, 1 s × 2^(n-1) apart, at most 1 h apart (about
// two minutes from the first attempt to the dead letter).
var DefaultPolicy = Policy{MaxAttempts: 8, Base: time.Second, Cap: time.Hour}

// Backoff returns the wait after failed attempt n (counted from 1 since the
// request or the last retry).
func (p Policy) Backoff(n int) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Cap; i++ {
		d *= 2
	}
	return min(d, p.Cap)
}

// Message is the message aggregate. Its methods check a command against
// the message's state and record events; they never read the clock or do
// I/O. A Message is not safe for concurrent use.
type Message struct {
	s Snapshot
	// sinceRetry counts failed attempts since the request or the last
	// retry.
	sinceRetry int
	domain.Root
}

// Snapshot is a read-only copy of a message's state.
type Snapshot struct {
	ID         string  `json:"id"`
	Channel    Channel `json:"channel"`
	To         string  `json:"to"`
	Subject    string  `json:"subject,omitempty"`
	Body       string  `json:"body"`
	CustomerID string  `json:"customer_id,omitempty"`
	Trial      bool    `json:"trial,omitempty"`
	Status     Status  `json:"status"`
	// Attempts counts every attempt made, over the message's whole life.
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"last_error,omitempty"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	ProviderID    string    `json:"provider_id,omitempty"`
	SentAt        time.Time `json:"sent_at,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Rehydrate rebuilds a Message from its stored history at version. An
// empty history gives a message that does not exist.
func Rehydrate(history []domain.Event, version int64) *Message {
	m := &Message{Root: domain.LoadedAt(version)}
	for _, e := range history {
		m.apply(e)
	}
	return m
}

// Exists reports whether the message was ever requested.
func (m *Message) Exists() bool { return m.s.ID != "" }

// Snapshot returns a copy of the message's current state.
func (m *Message) Snapshot() Snapshot {
	s := m.s
	s.Version = m.Current()
	return s
}

// Evolve returns the snapshot s after event e, applying e exactly as the
// aggregate does. (Read models keep no count of attempts since a retry;
// Evolve recounts it from nothing, which only matters to commands.)
func Evolve(s Snapshot, e domain.Event) Snapshot {
	m := &Message{s: s, Root: domain.LoadedAt(s.Version + 1)}
	m.apply(e)
	return m.Snapshot()
}

// Due reports whether an attempt is due at at: the message is pending, or
// failed with its next attempt due by then.
func (m *Message) Due(at time.Time) bool {
	return m.s.Status == Pending || m.s.Status == Failed && !m.s.NextAttemptAt.After(at)
}

// NextAttempt is the number the next attempt has.
func (m *Message) NextAttempt() int { return m.s.Attempts + 1 }

func (m *Message) record(e domain.Event) { m.Record(e, m.apply) }

// apply evolves the state by one event. It never fails.
func (m *Message) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		m.s.UpdatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case MessageRequested:
		m.s = Snapshot{ID: e.ID, Channel: e.Channel, To: e.To, Subject: e.Subject, Body: e.Body, CustomerID: e.CustomerID,
			Trial: e.Trial, Status: Pending, CreatedAt: e.At, UpdatedAt: e.At}
	case AttemptFailed:
		m.s.Attempts, m.s.LastError, m.s.NextAttemptAt, m.s.Status = e.Attempt, e.Error, e.NextAttemptAt, Failed
		m.sinceRetry++
	case MessageSent:
		m.s.Attempts, m.s.ProviderID, m.s.SentAt, m.s.Status = e.Attempt, e.ProviderID, e.At, Sent
		m.s.NextAttemptAt, m.s.LastError = time.Time{}, ""
	case MessageDeadLettered:
		m.s.Status, m.s.NextAttemptAt, m.s.LastError = Dead, time.Time{}, e.Error
	case MessageRetried:
		m.s.Status, m.s.NextAttemptAt = Pending, time.Time{}
		m.sinceRetry = 0
	}
}

// Request is the command that creates a message.
type Request struct {
	By         domain.Actor
	Source     domain.Source
	ID         string
	Channel    Channel
	To         string
	Subject    string
	Body       string
	CustomerID string
	Trial      bool
}

// New checks r and returns a new message that records MessageRequested
// (see Request).
func New(r Request, at time.Time) (*Message, error) {
	m := Rehydrate(nil, 0)
	if err := m.Request(r, at); err != nil {
		return nil, err
	}
	return m, nil
}

// Request checks r and records MessageRequested on a message that does not
// exist yet (ErrAlreadyExists otherwise). Phones are normalised by the
// caller; e-mail addresses must be plain addresses (domain.ValidEmail).
// Errors name the field at fault.
func (m *Message) Request(r Request, at time.Time) error {
	if m.Exists() {
		return ErrAlreadyExists
	}
	ch, err := domain.NewChange(r.By, r.Source, at)
	if err != nil {
		return err
	}
	r.To, r.Subject = strings.TrimSpace(r.To), strings.TrimSpace(r.Subject)
	var errs []error
	if !domain.ValidUUID(r.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id %q is not a lower-case UUID", r.ID))
	}
	switch r.Channel {
	case Email:
		if !domain.ValidEmail(r.To) || len(r.To) > MaxToLength {
			errs = append(errs, ErrInvalidField.At("to").Withf("to %q is not an e-mail address", r.To))
		}
		if r.Subject == "" || len(r.Subject) > MaxSubjectLength || !utf8.ValidString(r.Subject) || strings.ContainsAny(r.Subject, "\r\n\x00") {
			errs = append(errs, ErrInvalidField.At("subject").Withf("subject must be one line of 1..%d bytes of UTF-8", MaxSubjectLength))
		}
	case SMS:
		if !validPhone(r.To) {
			errs = append(errs, ErrInvalidField.At("to").Withf("to %q is not a phone number (digits, an optional leading +)", r.To))
		}
		if r.Subject != "" {
			errs = append(errs, ErrInvalidField.At("subject").Withf("an SMS has no subject"))
		}
	default:
		errs = append(errs, ErrInvalidField.At("channel").Withf("channel %q is not one of email, sms", r.Channel))
	}
	if r.Trial && r.Channel != SMS {
		errs = append(errs, ErrInvalidField.At("trial").Withf("only an SMS is sent on trial"))
	}
	if strings.TrimSpace(r.Body) == "" || len(r.Body) > MaxBodyLength || !utf8.ValidString(r.Body) || strings.ContainsRune(r.Body, 0) {
		errs = append(errs, ErrInvalidField.At("body").Withf("body must be 1..%d bytes of UTF-8", MaxBodyLength))
	}
	if len(r.CustomerID) > domain.MaxActorIDLength || !utf8.ValidString(r.CustomerID) {
		errs = append(errs, ErrInvalidField.At("customer_id").Withf("customer_id must be at most %d bytes of UTF-8", domain.MaxActorIDLength))
	}
	if err := domain.Join(errs...); err != nil {
		return err
	}
	m.record(MessageRequested{Change: ch, ID: r.ID, Channel: r.Channel, To: r.To, Subject: r.Subject, Body: r.Body,
		CustomerID: r.CustomerID, Trial: r.Trial})
	return nil
}

// validPhone accepts what a normalised phone looks like: 3 to 20 digits
// after an optional +.
func validPhone(p string) bool {
	d := strings.TrimPrefix(p, "+")
	if len(d) < 3 || len(d) > 20 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// MarkSent records that attempt handed the message over as providerID.
// An outcome for an attempt that is not the next one, or for a message
// that is no longer due (sent, dead), records nothing: it is a redelivered
// or raced report of an attempt already recorded.
func (m *Message) MarkSent(attempt int, providerID string, by domain.Actor, source domain.Source, at time.Time) error {
	if !m.Exists() {
		return ErrNotFound
	}
	if attempt != m.NextAttempt() || m.s.Status == Sent || m.s.Status == Dead {
		return nil
	}
	ch, err := domain.NewChange(by, source, at)
	if err != nil {
		return err
	}
	m.record(MessageSent{Change: ch, Attempt: attempt, ProviderID: providerID})
	return nil
}

// Fail records that attempt failed with reason: AttemptFailed with the next
// attempt due after p.Backoff, or, when the attempt was the p.MaxAttempts-th
// since the request or the last retry or permanent is set (no retry can
// cure it: an address the provider refuses), AttemptFailed and
// MessageDeadLettered. Stale outcomes record nothing, as for MarkSent.
func (m *Message) Fail(attempt int, reason string, permanent bool, p Policy, by domain.Actor, source domain.Source, at time.Time) error {
	if !m.Exists() {
		return ErrNotFound
	}
	if attempt != m.NextAttempt() || m.s.Status == Sent || m.s.Status == Dead {
		return nil
	}
	ch, err := domain.NewChange(by, source, at)
	if err != nil {
		return err
	}
	reason = truncate(reason, MaxErrorLength)
	n := m.sinceRetry + 1
	if permanent || n >= p.MaxAttempts {
		m.record(AttemptFailed{Change: ch, Attempt: attempt, Error: reason})
		m.record(MessageDeadLettered{Change: ch, Attempts: n, Error: reason})
		return nil
	}
	m.record(AttemptFailed{Change: ch, Attempt: attempt, Error: reason, NextAttemptAt: ch.At.Add(p.Backoff(n))})
	return nil
}

// Retry makes a failed or dead-lettered message due again, now, with a
// fresh count of attempts before the next dead letter. Any other message is
// ErrNotRetryable.
func (m *Message) Retry(by domain.Actor, source domain.Source, at time.Time) error {
	if !m.Exists() {
		return ErrNotFound
	}
	if m.s.Status != Failed && m.s.Status != Dead {
		return ErrNotRetryable.Withf("message is %s; only a failed or dead-lettered message can be retried", m.s.Status)
	}
	ch, err := domain.NewChange(by, source, at)
	if err != nil {
		return err
	}
	m.record(MessageRetried{Change: ch})
	return nil
}

// truncate cuts s to at most n bytes on a rune boundary and makes it valid
// UTF-8.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
