package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/catalog"
	"github.com/eventdesk/eventdesk/eventstore"
)

// aggregate is what every domain aggregate offers the application layer.
type aggregate interface {
	Version() int64
	Pending() []domain.Event
}

// kind describes how to store one aggregate type. decode takes the event
// type, the schema version the data was stored at and the data, and
// upcasts older versions (domain.Codec.Decode).
type kind[A aggregate] struct {
	encode    func(domain.Event) ([]byte, error)
	decode    func(eventType string, schemaVersion int, data []byte) (domain.Event, error)
	rehydrate func([]domain.Event, int64) A
}

// readStream returns every event of stream, oldest first.
func readStream(ctx context.Context, store eventstore.Store, stream eventstore.StreamRef) ([]eventstore.Event, error) {
	return readStreamFrom(ctx, store, stream, 1)
}

// readStreamFrom returns the events of stream from version from on.
func readStreamFrom(ctx context.Context, store eventstore.Store, stream eventstore.StreamRef, from int64) ([]eventstore.Event, error) {
	var all []eventstore.Event
	for {
		evs, err := store.ReadStream(ctx, stream, from, readPage)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		all = append(all, evs...)
		if len(evs) < readPage {
			return all, nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}

// readStreams returns the events of each read in one round trip (plus one
// more for each stream that holds over a page of them).
func readStreams(ctx context.Context, store eventstore.Store, reads []eventstore.StreamRead) ([][]eventstore.Event, error) {
	out, err := store.ReadStreams(ctx, reads, readPage)
	if err != nil {
		return nil, err
	}
	for i, evs := range out {
		if len(evs) == readPage {
			more, err := readStreamFrom(ctx, store, reads[i].Stream, evs[len(evs)-1].Version+1)
			if err != nil {
				return nil, err
			}
			out[i] = append(evs, more...)
		}
	}
	return out, nil
}

// readPage is how many events of a stream one read returns.
const readPage = 1000

// history is a stream's decoded events, oldest first, with each event's
// id and position. Events are values that nothing mutates, so a history is
// shared freely; it only ever grows by copying.
type history struct {
	events []domain.Event
	ids    []string
	pos    []eventstore.Position
}

func (h history) version() int64 { return int64(len(h.events)) }

// last is the position of the last event (zero for an empty history).
func (h history) last() eventstore.Position {
	if len(h.pos) == 0 {
		return eventstore.Position{}
	}
	return h.pos[len(h.pos)-1]
}

// then returns h followed by more, with their ids and positions. It never
// writes into h's arrays, which other commands may be reading.
func (h history) then(more []domain.Event, ids []string, pos []eventstore.Position) history {
	n := len(h.events)
	return history{events: append(h.events[:n:n], more...), ids: append(h.ids[:n:n], ids...), pos: append(h.pos[:n:n], pos...)}
}

// landed finds the events an idempotent command (m.Idempotency) appended
// earlier: their ids are m.eventID(0), m.eventID(1), … and they are
// contiguous in the stream. ok is false if the first is not in h.
func (h history) landed(m Meta) (o outcomeAt, ok bool) {
	if m.Idempotency == "" {
		return outcomeAt{}, false
	}
	first := m.eventID(0)
	for k := len(h.ids) - 1; k >= 0; k-- {
		if h.ids[k] != first {
			continue
		}
		n := 1
		for k+n < len(h.ids) && h.ids[k+n] == m.eventID(n) {
			n++
		}
		return outcomeAt{version: int64(k + n), events: h.events[k : k+n], pos: h.pos[k+n-1]}, true
	}
	return outcomeAt{}, false
}

// outcomeAt is where an earlier run of an idempotent command left a
// stream: the version after its append, its events and the position of the
// last of them.
type outcomeAt struct {
	version int64
	events  []domain.Event
	pos     eventstore.Position
}

// outcome is what a command did: the aggregate after it, the events it
// recorded (none for a no-op) and where the last of them landed (for a
// no-op, the position of the stream's last event).
type outcome[A aggregate] struct {
	agg    A
	events []domain.Event
	pos    eventstore.Position
}

// replay rebuilds the outcome an earlier run of the same idempotent command
// had, from what the stream stored.
func (r *repository[A]) replay(h history, at outcomeAt) outcome[A] {
	return outcome[A]{agg: r.rehydrate(h.events[:at.version], at.version), events: at.events, pos: at.pos}
}

// Cache sizes: how many streams and events in all a repository keeps
// decoded (least recently used go first), and the longest history it
// keeps (longer ones are read whole each time).
const (
	cachedStreams      = 8192
	cachedEvents       = 100_000
	maxCachedHistory   = 2000
	maxCommandAttempts = 12 // lost races re-decided before giving up
)

// spreadOut waits before attempt (1, 2, …) of a command that lost a race:
// writers colliding on one stream spread out, or they collide again. The
// wait is "full jitter" exponential backoff — uniform in [0, 2^attempt ms),
// capped at maxBackoff — so twenty writers on one hot stream get through
// in a handful of rounds even on a loaded machine.
func spreadOut(ctx context.Context, attempt int) error {
	limit := min(time.Duration(1)<<attempt*time.Millisecond, maxBackoff)
	select {
	case <-time.After(rand.N(limit)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxBackoff caps one wait of spreadOut; twelve attempts wait at most
// about 1.5 s in all.
const maxBackoff = 200 * time.Millisecond

// repository loads and changes aggregates of one kind in one store.
//
// It keeps recently used streams decoded in memory. A command trusts that
// copy without reading the stream: its append names the version the copy
// is at, so if anything was appended since — by this node or another —
// the append fails and the command runs again on a fresh read. Every other
// outcome of a command decided on the copy (a domain error, nothing to
// record, an If-Match mismatch) is also decided again on a fresh read
// before it is returned, so the copy can only ever save work, never change
// an answer. Plain loads read the stream's tail after the copy, which
// keeps them consistent with every committed write.
type repository[A aggregate] struct {
	kind[A]
	store  eventstore.Store
	cache  *lru.Cache[eventstore.StreamRef, history]
	mu     sync.Mutex   // serialises remember, so events counts what cache holds
	events atomic.Int64 // events held by cache
}

func newRepository[A aggregate](k kind[A], store eventstore.Store) *repository[A] {
	r := &repository[A]{kind: k, store: store}
	r.cache, _ = lru.NewWithEvict(cachedStreams, func(_ eventstore.StreamRef, h history) { // errs only on a size < 1
		r.events.Add(-h.version())
	})
	return r
}

// remember caches h as stream's history, if it is worth keeping, and
// evicts the least recently used streams while the cache holds more than
// cachedEvents events.
func (r *repository[A]) remember(stream eventstore.StreamRef, h history) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cache.Remove(stream) // counted out by the eviction callback
	if len(h.events) == 0 || len(h.events) > maxCachedHistory {
		return
	}
	r.cache.Add(stream, h)
	r.events.Add(h.version())
	for r.events.Load() > cachedEvents {
		if _, _, ok := r.cache.RemoveOldest(); !ok {
			return
		}
	}
}

// read returns stream's whole history: the cached part, if any, and every
// event stored after it.
func (r *repository[A]) read(ctx context.Context, stream eventstore.StreamRef) (history, error) {
	h, rd := r.tail(stream)
	evs, err := readStreamFrom(ctx, r.store, stream, rd.From)
	if err != nil {
		return history{}, err
	}
	return r.extend(stream, h, evs)
}

// tail returns the history of stream this repository holds (empty if
// none) and the read of what may have been stored after it, for a caller
// that reads it along with other streams (readStreams) and then extends.
func (r *repository[A]) tail(stream eventstore.StreamRef) (history, eventstore.StreamRead) {
	h, _ := r.cache.Get(stream)
	return h, eventstore.StreamRead{Stream: stream, From: h.version() + 1}
}

// extend returns h followed by evs, the events read after it (see tail),
// and remembers the result.
func (r *repository[A]) extend(stream eventstore.StreamRef, h history, evs []eventstore.Event) (history, error) {
	if len(evs) > 0 {
		more := make([]domain.Event, len(evs))
		ids := make([]string, len(evs))
		pos := make([]eventstore.Position, len(evs))
		for i, e := range evs {
			ids[i], pos[i] = e.ID, e.Position
			var err error
			if more[i], err = r.decode(e.Type, e.SchemaVersion, e.Data); err != nil {
				return history{}, err
			}
		}
		h = h.then(more, ids, pos)
	}
	r.remember(stream, h)
	return h, nil
}

// load rebuilds the aggregate in stream (version 0 if it has no events) and
// returns it with the position of its last event. It reflects every write
// that committed before the call.
func (r *repository[A]) load(ctx context.Context, stream eventstore.StreamRef) (A, eventstore.Position, error) {
	h, err := r.read(ctx, stream)
	if err != nil {
		var zero A
		return zero, eventstore.Position{}, err
	}
	return r.rehydrate(h.events, h.version()), h.last(), nil
}

// added records that data, holding events, were appended to stream on
// top of h as res says.
func (r *repository[A]) added(stream eventstore.StreamRef, h history, events []domain.Event, data []eventstore.EventData, res eventstore.AppendResult) {
	ids := make([]string, len(data))
	for i, d := range data {
		ids[i] = strings.ToLower(d.ID)
	}
	r.remember(stream, h.then(events, ids, res.Positions))
}

// run loads the aggregate, lets decide record events and appends them at
// the loaded version. A lost race re-decides on fresh state, unless the
// caller pinned m.IfVersion (If-Match), which then fails with
// PreconditionFailed. A decision that records nothing appends nothing and
// returns the position of the stream's last event.
//
// With m.Idempotency set, the events' ids derive from it (Meta.eventID),
// so the store itself recognises a retry: if the stream already holds
// them, run decides nothing and returns the outcome the first run had,
// rebuilt from the stream; if a concurrent run appends them first, the
// store answers this run's append as a duplicate and run does the same.
func (r *repository[A]) run(ctx context.Context, stream eventstore.StreamRef, now func() time.Time, m Meta,
	decide func(a A, at time.Time) error) (outcome[A], error) {
	return r.runKeyed(ctx, stream, now, m, "", decide)
}

// runKeyed is run whose first recorded event, if key is not empty, claims
// key for the stream (eventstore.EventData.Key): an agent's e-mail, a
// group's name. A key already claimed fails the append with
// eventstore.ErrKeyTaken, which the caller translates.
func (r *repository[A]) runKeyed(ctx context.Context, stream eventstore.StreamRef, now func() time.Time, m Meta, key string,
	decide func(a A, at time.Time) error) (outcome[A], error) {
	return r.runWith(ctx, stream, now, m, key, decide, nil)
}

// runWith is runKeyed whose append, when more is not nil, also carries
// the appends more returns for the decided aggregate (links on other
// streams), all or nothing: a conflict on any of them decides again.
func (r *repository[A]) runWith(ctx context.Context, stream eventstore.StreamRef, now func() time.Time, m Meta, key string,
	decide func(a A, at time.Time) error, more func(a A) ([]eventstore.StreamAppend, error)) (outcome[A], error) {
	h, cached := r.cache.Get(stream)
	for attempt := 0; ; {
		if !cached {
			var err error
			if h, err = r.read(ctx, stream); err != nil {
				return outcome[A]{}, err
			}
		}
		if at, ok := h.landed(m); ok {
			return r.replay(h, at), nil
		}
		// retry says whether an outcome other than success must be decided
		// again: always when it was decided on the cached copy.
		retry := func() bool {
			if cached {
				cached = false
				r.cache.Remove(stream)
				return true
			}
			return false
		}
		a := r.rehydrate(h.events, h.version())
		if m.IfVersion != nil && a.Version() != *m.IfVersion {
			if retry() {
				continue
			}
			return outcome[A]{}, domain.PreconditionFailedf("%s is at version %d, If-Match says %d", stream.Type, a.Version(), *m.IfVersion)
		}
		if err := decide(a, now()); err != nil {
			if retry() {
				continue
			}
			return outcome[A]{}, err
		}
		pending := a.Pending()
		if len(pending) == 0 {
			if retry() {
				continue
			}
			return outcome[A]{agg: a, pos: h.last()}, nil
		}
		data, err := encode(pending, m, r.encode)
		if err != nil {
			return outcome[A]{}, err
		}
		data[0].Key = key
		crashPoint(ctx, StepDecided)
		res, err := r.append(ctx, stream, eventstore.Exact(a.Version()), data, a, more)
		if errors.Is(err, eventstore.ErrVersionConflict) {
			if retry() {
				continue
			}
			// (Never our own earlier run: the store answers an append whose
			// ids it holds as a duplicate, below, not as a conflict.)
			if m.IfVersion != nil {
				return outcome[A]{}, domain.PreconditionFailedf("%s was changed concurrently; reload it", stream.Type)
			}
			if attempt++; attempt < maxCommandAttempts {
				if err := spreadOut(ctx, attempt); err != nil {
					return outcome[A]{}, err
				}
				continue
			}
		}
		if err != nil {
			r.cache.Remove(stream)
			return outcome[A]{}, fmt.Errorf("%s: %w", stream, err)
		}
		if res.Duplicate {
			// A concurrent run of the same idempotent command won: answer
			// what it did, read back from the stream.
			r.cache.Remove(stream)
			cached = false
			continue
		}
		r.added(stream, h, pending, data, res)
		crashPoint(ctx, StepAppended)
		return outcome[A]{agg: a, events: pending, pos: res.Last()}, nil
	}
}

// append appends data to stream at expected, with the appends more makes
// for a, if any, in the same atomic append; it answers the stream's own
// result.
func (r *repository[A]) append(ctx context.Context, stream eventstore.StreamRef, expected eventstore.ExpectedVersion,
	data []eventstore.EventData, a A, more func(a A) ([]eventstore.StreamAppend, error)) (eventstore.AppendResult, error) {
	if more == nil {
		return r.store.Append(ctx, stream, expected, data)
	}
	parts, err := more(a)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := r.store.AppendStreams(ctx, append([]eventstore.StreamAppend{{Stream: stream, Expected: expected, Events: data}}, parts...))
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return res[0], nil
}

// encode turns evs into what the store appends, each with the schema
// version its data is encoded at: the current version of its type, which
// the catalog of every domain codec knows. An event type the catalog does
// not know is an error, so that no event is ever stored without its
// version.
func encode(evs []domain.Event, m Meta, enc func(domain.Event) ([]byte, error)) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		v, ok := catalog.Version(e.EventType())
		if !ok {
			return nil, fmt.Errorf("encode %s: event type not in domain/catalog", e.EventType())
		}
		b, err := enc(e)
		if err != nil {
			return nil, err
		}
		out[i] = eventstore.EventData{ID: m.eventID(i), Type: e.EventType(), SchemaVersion: v, Data: b, Metadata: m.metadata()}
	}
	return out, nil
}

// NewID returns a new time-ordered UUID (version 7) for the ids Eventdesk
// chooses itself: events and tickets. Their unique indexes then grow at
// their right edge like a sequence's, instead of touching a random page
// per insert — a random page that, after every checkpoint, costs a full
// 8 kB page image in the WAL. The ids remain unguessable (74 random bits)
// and reveal only their creation time, which the records state anyway.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}
