package eventstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Store is the event log. It is the one interface shared across packages
// (rather than owned by each consumer) because every implementation must
// pass the same conformance suite, eventstore/storetest.
//
// All methods are safe for concurrent use.
type Store interface {
	// Append adds events to the end of a stream in one atomic step, if the
	// stream is at the expected version. It returns a *VersionConflictError
	// (matching ErrVersionConflict) on a mismatch, an *InvalidError
	// (matching ErrInvalid) for malformed input, and ErrDuplicateEvent when
	// an event id is already stored for another append, and a
	// *KeyTakenError (matching ErrKeyTaken) when an event claims a key that
	// is already claimed (nothing is written then). When every event id
	// is already stored for this very stream, it returns the original result
	// with Duplicate set and writes nothing. Append is always the first
	// write of its own transaction, which is what keeps each stream's events
	// in version order in the global log.
	Append(ctx context.Context, stream StreamRef, expected ExpectedVersion, events []EventData) (AppendResult, error)

	// AppendStreams appends to several streams of one tenant in one
	// transaction: all or nothing. Each part is checked as Append checks
	// it, against its own expected version; a stream may appear in one
	// part only, and all parts together hold at most MaxEventsPerAppend
	// events (else an *InvalidError). A mismatch on any stream fails the
	// whole append with a *VersionConflictError naming that stream; a
	// claimed key fails it with a *KeyTakenError naming the part's stream;
	// nothing is written then. The results are in the order of the parts.
	// When every event id of every part is already stored, in those very
	// streams, it returns the original results with Duplicate set and
	// writes nothing; when only some are, ErrDuplicateEvent. Like Append,
	// it is the first write of its transaction, so every guarantee of the
	// global log holds for each of its streams; the log order between the
	// parts is unspecified.
	//
	// A part without events is a check: it appends nothing, and the
	// append goes through only if its stream is at the part's expected
	// version (an exact one: NoStream or Exact; a check of Any is an
	// *InvalidError, and so is an append of checks alone). A command
	// decided on a stream it does not write — a configuration, say —
	// states the version it read, and nothing lands if that stream moved
	// on meanwhile. The check sees the stream as of the append's own
	// snapshot: an append to the checked stream committing at the same
	// moment may come on either side of it in the log, as if it had
	// committed just after. Its result has no Positions, and FirstVersion
	// and LastVersion are both the stream's version.
	AppendStreams(ctx context.Context, appends []StreamAppend) ([]AppendResult, error)

	// ReadStream returns up to limit events of a stream with version >= from,
	// in version order. An unknown stream yields no events and no error.
	ReadStream(ctx context.Context, stream StreamRef, from int64, limit int) ([]Event, error)

	// ReadStreams reads several streams in one round trip: for each read,
	// what ReadStream(read.Stream, read.From, limit) returns, in the order
	// of reads. A stream may be read once per call (else an
	// *InvalidError); an unknown stream yields no events.
	ReadStreams(ctx context.Context, reads []StreamRead, limit int) ([][]Event, error)

	// ReadAll returns up to q.Limit events after q.After in Position order,
	// only ever those that no in-flight transaction can still precede: a
	// reader that resumes from the last position it saw never skips an
	// event that commits later.
	ReadAll(ctx context.Context, q Query) ([]Event, error)

	// Head returns the position of the last event ReadAll can currently
	// deliver for the tenant (all tenants if empty); lag is measured
	// against it.
	Head(ctx context.Context, tenantID string) (Position, error)

	// Lookup returns the id of the tenant's stream of streamType whose
	// events claimed key (see EventData.Key); ok is false if none did. It
	// sees every append that returned before it was called.
	Lookup(ctx context.Context, tenantID, streamType, key string) (streamID string, ok bool, err error)
}

// BatchHandler applies a batch of events inside tx. A durable consumer's
// checkpoint is written in that same transaction, so each event is applied
// exactly once even across crashes. Returning an error rolls the batch back
// and the batch is delivered again.
type BatchHandler func(ctx context.Context, tx *sql.Tx, events []Event) error

// ConsumeOptions tune a durable consumer.
type ConsumeOptions struct {
	// Query selects the events (tenant, stream type, event types) and the
	// batch size; its After is ignored: the checkpoint decides.
	Query Query
	// Poll bounds the wait between reads when idle; zero means 500ms.
	Poll time.Duration
	// Linger is FollowOptions.Linger: under load, how long to let events
	// gather before the next live batch.
	Linger time.Duration
	// OnError is told of failures (read errors, handler errors) before the
	// consumer retries after Poll; nil returns them instead.
	OnError func(error)
	// ReadAhead is FollowOptions.ReadAhead: while catching up, the next
	// batch is read while this one is applied, and handed to ReadAhead
	// first (outside any transaction).
	ReadAhead func([]Event)
	// Budget is FollowOptions.Budget: how long one batch (its
	// transaction) should take; longer batches shrink the next reads.
	Budget time.Duration
}

// Consumer runs durable consumers whose checkpoints live in the same
// database as their writes. Methods are safe for concurrent use.
type Consumer interface {
	// Consume runs consumer name until ctx is done (returning ctx.Err()):
	// it resumes after the checkpoint, hands each batch to h inside a
	// transaction and stores the new checkpoint in that same transaction.
	// Several processes may run the same name; each batch is applied once.
	Consume(ctx context.Context, name string, opt ConsumeOptions, h BatchHandler) error
	// Checkpoint returns name's checkpoint, the zero Position if none.
	Checkpoint(ctx context.Context, name string) (Position, error)
	// LockCheckpoint locks name's checkpoint inside tx and returns it (the
	// zero Position if none was saved yet): a batch of name cannot commit
	// until tx ends.
	LockCheckpoint(ctx context.Context, tx *sql.Tx, name string) (Position, error)
	// SaveCheckpoint sets name's checkpoint inside tx.
	SaveCheckpoint(ctx context.Context, tx *sql.Tx, name string, p Position) error
}

var (
	streamTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	uuidRE       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// ValidateAppend checks an append against the contract's rules before it
// reaches storage. Stores call it; entry points may call it to fail early.
func ValidateAppend(stream StreamRef, expected ExpectedVersion, events []EventData) error {
	if err := ValidateStream(stream); err != nil {
		return err
	}
	if expected < Any {
		return &InvalidError{"expected version", fmt.Sprintf("%d is neither an exact version nor Any", expected)}
	}
	if len(events) == 0 {
		return &InvalidError{"events", "nothing to append"}
	}
	if len(events) > MaxEventsPerAppend {
		return &InvalidError{"events", fmt.Sprintf("%d events, at most %d per append", len(events), MaxEventsPerAppend)}
	}
	seen := make(map[string]bool, len(events))
	keys := map[string]bool{}
	for i, e := range events {
		if !uuidRE.MatchString(e.ID) {
			return &InvalidError{fmt.Sprintf("events[%d].id", i), fmt.Sprintf("%q is not a UUID", e.ID)}
		}
		id := strings.ToLower(e.ID)
		if seen[id] {
			return &InvalidError{fmt.Sprintf("events[%d].id", i), "repeated within the append"}
		}
		seen[id] = true
		if e.Type == "" || len(e.Type) > MaxEventTypeLength || !utf8.ValidString(e.Type) {
			return &InvalidError{fmt.Sprintf("events[%d].type", i), fmt.Sprintf("must be 1..%d bytes of UTF-8", MaxEventTypeLength)}
		}
		if e.SchemaVersion < 0 {
			return &InvalidError{fmt.Sprintf("events[%d].schema_version", i), "must be positive"}
		}
		if !isJSONObject(e.Data) {
			return &InvalidError{fmt.Sprintf("events[%d].data", i), "must be a JSON object"}
		}
		if size := len(e.Data) + metadataSize(e.Metadata); size > MaxEventSize {
			return &InvalidError{fmt.Sprintf("events[%d]", i), fmt.Sprintf("%d bytes, the limit is %d", size, MaxEventSize)}
		}
		if len(e.Key) > MaxKeyLength || !utf8.ValidString(e.Key) || strings.ContainsRune(e.Key, 0) {
			return &InvalidError{fmt.Sprintf("events[%d].key", i), fmt.Sprintf("must be at most %d bytes of UTF-8 without NUL", MaxKeyLength)}
		}
		if e.Key != "" {
			if keys[e.Key] {
				return &InvalidError{fmt.Sprintf("events[%d].key", i), "claimed twice within the append"}
			}
			keys[e.Key] = true
		}
		if bytes.Contains(e.Data, []byte(`\u0000`)) {
			// PostgreSQL's jsonb cannot hold NUL; refuse it here rather than
			// surface a driver error.
			return &InvalidError{fmt.Sprintf("events[%d].data", i), "contains a NUL character"}
		}
	}
	return nil
}

// ValidateAppendStreams checks a multi-stream append (Store.AppendStreams):
// each part as ValidateAppend does (a check, a part without events, needs
// an exact expected version), one tenant for all, each stream once, at
// most MaxEventsPerAppend events in all, event ids and keys not repeated
// across the parts, and at least one part with events.
func ValidateAppendStreams(appends []StreamAppend) error {
	if len(appends) == 0 {
		return &InvalidError{"appends", "nothing to append"}
	}
	var (
		total   int
		streams = make(map[StreamRef]bool, len(appends))
		ids     = map[string]bool{}
		keys    = map[[2]string]bool{} // stream type, key
	)
	writes := 0
	for i, a := range appends {
		if len(a.Events) > 0 {
			writes++
		}
		if err := validatePart(a); err != nil {
			var inv *InvalidError
			if errors.As(err, &inv) { // name the part at fault
				return &InvalidError{fmt.Sprintf("appends[%d].%s", i, inv.Field), inv.Reason}
			}
			return err
		}
		if a.Stream.TenantID != appends[0].Stream.TenantID {
			return &InvalidError{fmt.Sprintf("appends[%d].tenant id", i),
				fmt.Sprintf("%q differs from the first part's %q: one append belongs to one tenant", a.Stream.TenantID, appends[0].Stream.TenantID)}
		}
		if streams[a.Stream] {
			return &InvalidError{fmt.Sprintf("appends[%d].stream", i), fmt.Sprintf("%s appears in two parts", a.Stream)}
		}
		streams[a.Stream] = true
		if total += len(a.Events); total > MaxEventsPerAppend {
			return &InvalidError{"appends", fmt.Sprintf("more than %d events in all", MaxEventsPerAppend)}
		}
		for j, e := range a.Events {
			id, key := strings.ToLower(e.ID), [2]string{a.Stream.Type, e.Key}
			switch {
			case ids[id]:
				return &InvalidError{fmt.Sprintf("appends[%d].events[%d].id", i, j), "repeated within the append"}
			case e.Key != "" && keys[key]:
				return &InvalidError{fmt.Sprintf("appends[%d].events[%d].key", i, j), "claimed twice within the append"}
			}
			ids[id] = true
			if e.Key != "" {
				keys[key] = true
			}
		}
	}
	if writes == 0 {
		return &InvalidError{"appends", "only checks, no events: nothing to append"}
	}
	return nil
}

// validatePart checks one part of a multi-stream append: as ValidateAppend
// does, or, for a check (no events), its stream and an exact expected
// version.
func validatePart(a StreamAppend) error {
	if len(a.Events) > 0 {
		return ValidateAppend(a.Stream, a.Expected, a.Events)
	}
	if err := ValidateStream(a.Stream); err != nil {
		return err
	}
	if a.Expected < NoStream {
		return &InvalidError{"expected version", fmt.Sprintf("%d: a check (a part without events) needs an exact version", a.Expected)}
	}
	return nil
}

// ValidateStreamType checks a tenant id and a stream type: what a stream
// reference holds besides its id (key lookups name no stream).
func ValidateStreamType(tenantID, streamType string) error {
	switch {
	case tenantID == "" || len(tenantID) > MaxTenantIDLength || !utf8.ValidString(tenantID):
		return &InvalidError{"tenant id", fmt.Sprintf("must be 1..%d bytes of UTF-8", MaxTenantIDLength)}
	case len(streamType) > MaxStreamTypeLength || !streamTypeRE.MatchString(streamType):
		return &InvalidError{"stream type", fmt.Sprintf("%q must match %s and be at most %d bytes", streamType, streamTypeRE, MaxStreamTypeLength)}
	}
	return nil
}

// ValidateStream checks a stream reference (appends and reads).
func ValidateStream(s StreamRef) error {
	if err := ValidateStreamType(s.TenantID, s.Type); err != nil {
		return err
	}
	switch {
	case s.ID == "" || len(s.ID) > MaxStreamIDLength:
		return &InvalidError{"stream id", fmt.Sprintf("must be 1..%d bytes", MaxStreamIDLength)}
	case !utf8.ValidString(s.ID) || strings.ContainsRune(s.ID, 0):
		return &InvalidError{"stream id", "must be UTF-8 without NUL"}
	}
	return nil
}

func isJSONObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	return json.Valid(b)
}

func metadataSize(m Metadata) int {
	n := len(m.CorrelationID) + len(m.CausationID) + len(m.Actor) + len(m.Source) + len(m.Principal)
	for k, v := range m.Extra {
		n += len(k) + len(v)
	}
	return n
}
