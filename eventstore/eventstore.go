// Package eventstore defines Eventdesk's event log: the types of stored
// events, the Store contract every implementation honours, and Follow, the
// catch-up-then-live loop built on that contract. It imports only the
// standard library; the PostgreSQL implementation lives in
// eventstore/postgres and is wired in by cmd.
//
// Guarantees every implementation gives:
//
//   - Per stream, versions are 1-based and contiguous; an append of several
//     events is atomic.
//   - Multi-stream appends: AppendStreams appends to several streams of one
//     tenant, each at its own expected version, in one transaction: all or
//     nothing. A conflict on any stream fails the whole append with a
//     *VersionConflictError naming that stream.
//   - Optimistic concurrency: an append states the version it expects
//     (exact, NoStream or Any); a mismatch is an *VersionConflictError that
//     matches ErrVersionConflict and carries the actual version.
//   - Idempotency: re-appending events whose ids are already stored (in
//     the same streams) returns the original result and stores nothing
//     twice; re-appending only some of them is ErrDuplicateEvent.
//   - ReadAll returns only events whose position can no longer be overtaken
//     by a transaction still in flight, in Position order. Following the log
//     with ReadAll therefore never skips nor repeats a committed event, and
//     each stream's events arrive in version order, those of multi-stream
//     appends included (in which order their streams come is unspecified).
//   - Durable consumers (Consumer) write their checkpoint in the
//     transaction of their own writes, so each event is applied exactly
//     once across errors, crashes and competing instances.
//
// eventstore/storetest checks the Store contract (Run), Follow over a store
// (RunFollow) and the Consumer contract (RunConsumer).
package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits on what an append may carry. They are part of the contract so that
// every entry point can reject oversized input before it reaches a store.
const (
	MaxEventSize        = 1 << 20 // bytes of data plus metadata per event
	MaxEventsPerAppend  = 1000
	MaxStreamIDLength   = 200
	MaxStreamTypeLength = 64
	MaxEventTypeLength  = 200
	MaxTenantIDLength   = 64
	MaxKeyLength        = 200
)

// ExpectedVersion is the version a stream must be at for an append to go
// through. Positive values and zero are exact versions.
type ExpectedVersion int64

const (
	// Any appends whatever the stream's version.
	Any ExpectedVersion = -1
	// NoStream appends only if the stream has no events yet.
	NoStream ExpectedVersion = 0
)

// Exact returns the expectation that the stream is at version v.
func Exact(v int64) ExpectedVersion { return ExpectedVersion(v) }

// StreamRef names a stream: the tenant that owns it, its type (the kind of
// aggregate, e.g. "ticket") and its id within the tenant and type.
type StreamRef struct {
	TenantID string
	Type     string
	ID       string
}

func (s StreamRef) String() string { return s.TenantID + "/" + s.Type + "/" + s.ID }

// Metadata travels with every event. Actor is who caused it (a user, an API
// key, "system"); Source is the entry point or channel (api, form, webhook,
// leadsquared, ...).
type Metadata struct {
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	Actor         string `json:"actor,omitempty"`
	Source        string `json:"source,omitempty"`
	// Principal is the credential that authenticated the request, whoever
	// Actor names: "api_key", "agent_token:<token id>",
	// "fynd:<application id>", "leadsquared:<access key>". Actor says on
	// whose behalf the change was made; Principal who was let in to make
	// it. Empty for events written before it was recorded, and for
	// changes no request made (the command line, process managers).
	Principal string `json:"principal,omitempty"`
	// Extra holds further string attributes (e.g. watermill metadata).
	Extra map[string]string `json:"extra,omitempty"`
}

// EventData is an event to append. ID must be a UUID chosen by the caller so
// that a retried append is recognised; Data must be a JSON object.
type EventData struct {
	ID            string
	Type          string
	SchemaVersion int // 0 means 1
	Data          json.RawMessage
	Metadata      Metadata
	// Key, if not empty, claims a name for the event's stream: unique among
	// all streams of the tenant with the same stream type, for ever (the log
	// is append-only, so a claim is never released). Store.Lookup finds the
	// stream by it at once, with no projection in between — a ticket's
	// readable number is one. A key is claimed once: Append fails with a
	// *KeyTakenError when it is already claimed (by another stream, or
	// earlier by the same one).
	Key string
}

// Event is a stored event.
type Event struct {
	ID            string
	TenantID      string
	StreamType    string
	StreamID      string
	Version       int64
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	Key           string // see EventData.Key; empty if none
	RecordedAt    time.Time
	Position      Position
}

// Stream returns the reference of the stream the event belongs to.
func (e Event) Stream() StreamRef {
	return StreamRef{TenantID: e.TenantID, Type: e.StreamType, ID: e.StreamID}
}

// StreamRead is one part of a multi-stream read (Store.ReadStreams): the
// events of Stream from version From on.
type StreamRead struct {
	Stream StreamRef
	From   int64
}

// StreamAppend is one part of a multi-stream append (Store.AppendStreams):
// events for one stream, at the version it is expected to be. A part
// without events is a check: it only states the stream's version.
type StreamAppend struct {
	Stream   StreamRef
	Expected ExpectedVersion
	Events   []EventData
}

// AppendResult says where an append landed.
type AppendResult struct {
	// FirstVersion and LastVersion are the versions of the first and last
	// appended event; LastVersion is the stream's version after the append.
	FirstVersion int64
	LastVersion  int64
	// Positions holds each appended event's position, in order.
	Positions []Position
	// Duplicate is true when every event was already stored and nothing was
	// written: the result is the original one.
	Duplicate bool
}

// Last returns the position of the last appended event.
func (r AppendResult) Last() Position {
	if len(r.Positions) == 0 {
		return Position{}
	}
	return r.Positions[len(r.Positions)-1]
}

// Position is an event's place in the global log. The log is ordered by
// the id of the writing transaction first and by the insert sequence
// second: sequence numbers are allocated in insert order, but transactions
// commit in another, and only the (TxID, Seq) order can be read without
// gaps. The zero Position is before every event.
type Position struct {
	TxID uint64
	Seq  int64
}

// Less reports whether p comes before q in the log.
func (p Position) Less(q Position) bool {
	return p.TxID < q.TxID || (p.TxID == q.TxID && p.Seq < q.Seq)
}

// IsZero reports whether p is the start of the log.
func (p Position) IsZero() bool { return p == Position{} }

// String renders p as "TxID-Seq", the form the HTTP APIs use.
func (p Position) String() string {
	return strconv.FormatUint(p.TxID, 10) + "-" + strconv.FormatInt(p.Seq, 10)
}

// ParsePosition parses the form String produces; "" and "0" mean the start.
func ParsePosition(s string) (Position, error) {
	if s == "" || s == "0" {
		return Position{}, nil
	}
	tx, seq, ok := strings.Cut(s, "-")
	if !ok {
		return Position{}, fmt.Errorf("position %q: want TXID-SEQ", s)
	}
	t, err1 := strconv.ParseUint(tx, 10, 64)
	q, err2 := strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil || q < 0 {
		return Position{}, fmt.Errorf("position %q: want TXID-SEQ of two non-negative integers", s)
	}
	return Position{TxID: t, Seq: q}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Query selects a slice of the global log for ReadAll.
type Query struct {
	// TenantID restricts the log to one tenant; empty reads every tenant.
	TenantID string
	// After is exclusive: events strictly after it are returned.
	After Position
	// StreamType, if set, keeps only events of that stream type.
	StreamType string
	// StreamID, if set, keeps only the events of that one stream; it
	// needs TenantID and StreamType. Such a read is served by the stream's
	// own index, so its cost follows the stream's length, not the log's:
	// what a subscriber to one ticket reads while it catches up.
	StreamID string
	// Types, if set, keeps only events of those types.
	Types []string
	// Limit caps the batch; zero means 500.
	Limit int
}

// Errors returned by stores. Check them with errors.Is.
var (
	// ErrVersionConflict: the stream is not at the expected version. The
	// concrete error is a *VersionConflictError.
	ErrVersionConflict = errors.New("eventstore: version conflict")
	// ErrInvalid: the append or query itself is malformed (see InvalidError).
	ErrInvalid = errors.New("eventstore: invalid input")
	// ErrDuplicateEvent: an event id is already stored but the retry does
	// not match the original append (another stream, other events).
	ErrDuplicateEvent = errors.New("eventstore: event id already used by another append")
	// ErrKeyTaken: an appended event claims a key that another stream of
	// the same tenant and stream type holds (see KeyTakenError).
	ErrKeyTaken = errors.New("eventstore: key already claimed")
)

// KeyTakenError is returned when an append claims a key that is already
// claimed. It matches ErrKeyTaken with errors.Is.
type KeyTakenError struct {
	Stream StreamRef // the stream the append was for
	Key    string
}

func (e *KeyTakenError) Error() string {
	return fmt.Sprintf("eventstore: key %q of %s streams is already claimed (append to %s)", e.Key, e.Stream.Type, e.Stream)
}

// Is makes errors.Is(err, ErrKeyTaken) true.
func (e *KeyTakenError) Is(target error) bool { return target == ErrKeyTaken }

// VersionConflictError is returned when an append's expected version does
// not match. It matches ErrVersionConflict with errors.Is.
type VersionConflictError struct {
	Stream   StreamRef
	Expected ExpectedVersion
	Actual   int64
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("eventstore: stream %s is at version %d, expected %d", e.Stream, e.Actual, e.Expected)
}

// Is makes errors.Is(err, ErrVersionConflict) true.
func (e *VersionConflictError) Is(target error) bool { return target == ErrVersionConflict }

// InvalidError describes malformed input. It matches ErrInvalid.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("eventstore: invalid %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }
