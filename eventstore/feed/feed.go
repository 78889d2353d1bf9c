// Package feed fans the global event log out to a process's live readers:
// the NDJSON follow stream of GET /v1/events today, the websocket gateway
// next. It also holds the shape in which clients see an event (Item).
//
// One follower per node. A Hub runs one follower of the whole log (every
// tenant) and hands each event, in memory, to the subscriptions it
// matches. N live subscriptions therefore cost the database one read per
// batch of appends, not N. Subscriptions to one stream (Filter.StreamID:
// a ticket's watchers) are indexed by it, so an event costs the hub its
// own stream's subscribers, not every subscription of its tenant.
//
// Guarantees, per Subscription: Next returns every event that matches the
// filter and comes after the subscription's starting position, exactly
// once, in log order, with no gap — however far behind it starts and
// however slowly it reads. It never sees another tenant's event: the
// tenant is part of every filter. Nothing is dropped silently: if the
// subscription cannot keep up it reads what it missed from the store, and
// if its hub closes, Next fails with ErrClosed (the caller resumes, on
// this node or another, from the last position it returned).
//
// How a subscription catches up and joins the live fan-out without a gap
// or a duplicate. The hub keeps a window of the most recent events it has
// read (all tenants), complete from its start position to its head. A
// subscription behind the window's start reads the store itself
// (Store.ReadAll, the same gap-free query; through the stream's index for
// a one-stream subscription, and shared by every subscription making the
// same read at the same time) until it reaches the window;
// then, under the hub's lock, it takes the window's events after its
// position and registers for live events, which the hub hands it from the
// next event it reads on. A store read that ends short of its limit has
// seen every event up to the hub's head as it was before the read: the
// follower's earlier read returned that head, so by the store's contract
// no event before it can still appear, and every later read sees them
// all. The subscription's position therefore moves at least to that
// head, and unless the window has moved past it meanwhile, it joins in the
// next step. A store read may also run ahead of the hub; live events the
// subscription has already read are skipped by position.
//
// Slow subscriptions. A live subscription buffers at most
// Options.Buffer events. When the hub would exceed that, it drops the
// subscription from the live fan-out instead of waiting for it; the
// subscription returns what it buffered, catches up from the store as a
// late one does, and joins again. Neither the hub nor another
// subscription ever waits for a slow one.
//
// Close ends every subscription at once: cmd registers it with
// http.Server.RegisterOnShutdown, which is what lets a SIGTERM end open
// follow streams (and sockets) promptly instead of waiting them out.
package feed

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Log is what a hub reads: the store's gap-free global log, its head and
// its wake-ups (eventstore.Store and eventstore.Notifier; the PostgreSQL
// store is one).
type Log interface {
	// ReadAll is eventstore.Store.ReadAll.
	ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error)
	// Head is eventstore.Store.Head.
	Head(ctx context.Context, tenantID string) (eventstore.Position, error)
	// Notify is eventstore.Notifier.Notify.
	Notify() (wake <-chan struct{}, stop func())
}

// Defaults of Options.
const (
	DefaultWindow      = 10_000
	DefaultWindowBytes = 32 << 20
	DefaultBuffer      = 1024
	DefaultBatch       = 500
	DefaultPoll        = 500 * time.Millisecond
	DefaultCatchUps    = 8
)

// Options tune a Hub. Zero values mean the defaults.
type Options struct {
	// Window is how many of the most recent events (all tenants) the hub
	// keeps for subscriptions that join the live fan-out; WindowBytes
	// bounds their data and metadata. A subscription that starts within
	// the window reads nothing from the store. The window only needs to
	// cover what is appended during one catch-up read; a larger one saves
	// reconnecting clients their reads.
	Window      int
	WindowBytes int
	// Buffer is how many events a live subscription may have waiting
	// before the hub drops it from the fan-out (it then catches up from
	// the store).
	Buffer int
	// Batch is the limit of every store read.
	Batch int
	// Poll bounds the follower's wait when no wake-up arrives
	// (eventstore.FollowOptions.Poll).
	Poll time.Duration
	// CatchUps bounds how many subscriptions read the store at once, so
	// that a storm of reconnecting clients does not take every database
	// connection; the others wait their turn.
	CatchUps int
	// Logger is told of read failures; nil discards.
	Logger *slog.Logger
}

// ErrClosed is returned by Subscribe and Next once the hub or the
// subscription is closed.
var ErrClosed = errors.New("feed: closed")

// ErrNoTenant is returned by Subscribe for a filter without a tenant.
var ErrNoTenant = errors.New("feed: a subscription needs a tenant id")

// ErrNoStreamType is returned by Subscribe for a filter with a stream id
// but no stream type.
var ErrNoStreamType = errors.New("feed: a subscription to one stream needs its stream type")

// Filter selects the events a subscription receives.
type Filter struct {
	// TenantID is required: a subscription sees one tenant's events.
	TenantID string
	// StreamType, if set, keeps only events of that stream type.
	StreamType string
	// StreamID, if set (with StreamType), keeps only the events of that
	// one stream (a topic such as one ticket). The hub indexes such
	// subscriptions by stream, so an event costs only its own stream's
	// subscribers, and their catch-up reads go through the stream's index.
	StreamID string
	// Types, if set, keeps only events of those types.
	Types []string
}

func (f Filter) query() eventstore.Query {
	return eventstore.Query{TenantID: f.TenantID, StreamType: f.StreamType, StreamID: f.StreamID, Types: f.Types}
}

// liveKey is what the hub indexes live subscriptions by: the tenant, and
// the stream for a subscription to one stream.
type liveKey struct{ tenant, streamType, streamID string }

func (f Filter) key() liveKey {
	if f.StreamID == "" {
		return liveKey{tenant: f.TenantID}
	}
	return liveKey{f.TenantID, f.StreamType, f.StreamID}
}

// Stats are a hub's counters, for metrics and tests.
type Stats struct {
	// Head is the position the follower has read up to.
	Head eventstore.Position
	// Subscriptions open and, of those, live (fed by the hub).
	Subscriptions, Live int
	// Window is the number of events the window holds.
	Window int
	// FollowerReads counts the follower's store reads; CatchUpReads the
	// subscriptions' (late or slow ones catching up); SharedReads the
	// catch-up reads a subscription did not make because another one was
	// making the same read at the time and shared its result.
	FollowerReads, CatchUpReads, SharedReads int64
	// Overflows counts the times a slow subscription was dropped from
	// the fan-out and had to catch up from the store.
	Overflows int64
}

// Hub is one follower of the log fanned out to local subscriptions.
// Create it with New, run it with Run, end it with Close. Its methods are
// safe for concurrent use.
type Hub struct {
	log     Log
	opt     Options
	ctx     context.Context // ends with Close
	close   context.CancelFunc
	started chan struct{} // closed once head and window are set
	ran     atomic.Bool
	sem     chan struct{} // catch-up reads in flight

	followerReads, catchUpReads, sharedReads, overflows atomic.Int64
	reads                                               singleflight.Group // catch-up reads in flight, by query

	mu          sync.Mutex
	head        eventstore.Position // the follower has read up to here
	windowStart eventstore.Position // window holds every event in (windowStart, head]
	window      []eventstore.Event
	windowBytes int
	subs        int
	live        map[liveKey]map[*Subscription]struct{} // by tenant, or by stream (Filter.key)
}

// positiveOr is v if it is positive, else def.
func positiveOr[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// New returns a hub over log. Nothing is read until Run.
func New(log Log, opt Options) *Hub {
	opt.Window = positiveOr(opt.Window, DefaultWindow)
	opt.WindowBytes = positiveOr(opt.WindowBytes, DefaultWindowBytes)
	opt.Buffer = positiveOr(opt.Buffer, DefaultBuffer)
	opt.Batch = positiveOr(opt.Batch, DefaultBatch)
	opt.Poll = positiveOr(opt.Poll, DefaultPoll)
	opt.CatchUps = positiveOr(opt.CatchUps, DefaultCatchUps)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{log: log, opt: opt, ctx: ctx, close: cancel, started: make(chan struct{}),
		sem: make(chan struct{}, opt.CatchUps), live: map[liveKey]map[*Subscription]struct{}{}}
}

// Run follows the log from its current head until ctx is done or Close is
// called, then closes the hub (every subscription ends) and returns nil.
// Read failures are logged and retried. Run may be called once.
func (h *Hub) Run(ctx context.Context) error {
	if !h.ran.CompareAndSwap(false, true) {
		return errors.New("feed: Hub.Run called twice")
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.ctx, cancel)()
	onError := func(err error) { h.opt.Logger.Warn("event feed: read failed; retrying", "err", err) }

	// Start at the head: what came before is the store's to serve.
	var head eventstore.Position
	for {
		var err error
		if head, err = h.log.Head(ctx, ""); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		onError(err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(h.opt.Poll):
		}
	}
	h.mu.Lock()
	h.head, h.windowStart = head, head
	h.mu.Unlock()
	close(h.started)

	counted := readerFunc(func(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
		h.followerReads.Add(1)
		return h.log.ReadAll(ctx, q)
	})
	_ = eventstore.Follow(ctx, counted, eventstore.Query{After: head, Limit: h.opt.Batch},
		eventstore.FollowOptions{Notifier: h.log, Poll: h.opt.Poll, OnError: onError}, h.publish)
	return nil // Follow only returns once ctx is done: OnError retries
}

type readerFunc func(context.Context, eventstore.Query) ([]eventstore.Event, error)

func (f readerFunc) ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	return f(ctx, q)
}

// Close ends every subscription: blocked Next calls return ErrClosed at
// once, and so does every later call, as does Subscribe. Run returns. It
// is idempotent and never blocks, so it suits
// http.Server.RegisterOnShutdown.
func (h *Hub) Close() { h.close() }

// Head returns the position the hub has read the log up to, waiting until
// Run has found the log's head. A subscription from Head on receives the
// events appended from now on ("live from now").
func (h *Hub) Head(ctx context.Context) (eventstore.Position, error) {
	select {
	case <-h.started:
	case <-h.ctx.Done():
		return eventstore.Position{}, ErrClosed
	case <-ctx.Done():
		return eventstore.Position{}, ctx.Err()
	}
	if h.ctx.Err() != nil { // both may be ready; closed wins
		return eventstore.Position{}, ErrClosed
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.head, nil
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := Stats{Head: h.head, Subscriptions: h.subs, Window: len(h.window), FollowerReads: h.followerReads.Load(),
		CatchUpReads: h.catchUpReads.Load(), SharedReads: h.sharedReads.Load(), Overflows: h.overflows.Load()}
	for _, set := range h.live {
		st.Live += len(set)
	}
	return st
}

// publish is the follower's handler: it appends a batch to the window and
// hands each event to the live subscriptions it matches, never waiting
// for one.
func (h *Hub) publish(_ context.Context, evs []eventstore.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range evs {
		h.window = append(h.window, e)
		h.windowBytes += size(e)
		for len(h.window) > 0 && (len(h.window) > h.opt.Window || h.windowBytes > h.opt.WindowBytes) {
			h.windowStart = h.window[0].Position
			h.windowBytes -= size(h.window[0])
			h.window[0] = eventstore.Event{} // let its data go
			h.window = h.window[1:]
		}
		h.head = e.Position
		h.offer(liveKey{tenant: e.TenantID}, e)
		h.offer(liveKey{e.TenantID, e.StreamType, e.StreamID}, e)
	}
	return nil
}

// offer hands e to the live subscriptions under k, with the hub locked.
func (h *Hub) offer(k liveKey, e eventstore.Event) {
	for s := range h.live[k] {
		if !s.offer(e, h.opt.Buffer) {
			h.overflows.Add(1)
			h.unregister(s)
		}
	}
}

// size approximates the memory an event holds beyond its fixed fields.
func size(e eventstore.Event) int {
	m := e.Metadata
	n := len(e.ID) + len(e.TenantID) + len(e.StreamType) + len(e.StreamID) + len(e.Type) + len(e.Data) + len(e.Key) +
		len(m.CorrelationID) + len(m.CausationID) + len(m.Actor) + len(m.Source) + len(m.Principal)
	for k, v := range m.Extra {
		n += len(k) + len(v)
	}
	return n + 200
}

func (h *Hub) unregister(s *Subscription) {
	k := s.filter.key()
	if set := h.live[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.live, k)
		}
	}
}

// Subscribe returns a subscription to the events that match f and come
// after position after (exclusive; the zero Position is the start of the
// log; Head is "from now"). It fails with ErrNoTenant without
// f.TenantID, ErrNoStreamType for a StreamID without its StreamType, and
// ErrClosed once the hub is closed. Close the subscription when done with
// it.
func (h *Hub) Subscribe(f Filter, after eventstore.Position) (*Subscription, error) {
	if f.TenantID == "" {
		return nil, ErrNoTenant
	}
	if f.StreamID != "" && f.StreamType == "" {
		return nil, ErrNoStreamType
	}
	f.Types = slices.Clone(f.Types)
	s := &Subscription{hub: h, filter: f, at: after, wake: make(chan struct{}, 1)}
	if len(f.Types) > 0 {
		s.types = make(map[string]bool, len(f.Types))
		for _, t := range f.Types {
			s.types[t] = true
		}
	}
	s.ctx, s.cancel = context.WithCancel(h.ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		s.cancel()
		return nil, ErrClosed
	}
	h.subs++
	return s, nil
}

// Subscription is one reader's view of the log: see Next. Next must not
// be called from two goroutines at once; Close may be called from any.
type Subscription struct {
	hub    *Hub
	filter Filter
	types  map[string]bool
	ctx    context.Context // ends with Close or the hub's Close
	cancel context.CancelFunc
	closed sync.Once
	wake   chan struct{} // the hub offered an event or dropped us

	// Owned by the goroutine calling Next.
	at      eventstore.Position // every match at or before it is returned or pending
	pending []eventstore.Event
	live    bool               // registered with the hub when Next last looked
	lent    []eventstore.Event // what Next returned last, the caller's until its next call
	spare   []eventstore.Event // a small lent slice back, for the hub's next buffer

	mu         sync.Mutex // guards the fields below; taken after hub.mu
	buf        []eventstore.Event
	last       eventstore.Position // live events at or before it are skipped
	overflowed bool
}

func (s *Subscription) match(e eventstore.Event) bool {
	f := s.filter
	return e.TenantID == f.TenantID && (f.StreamType == "" || e.StreamType == f.StreamType) &&
		(f.StreamID == "" || e.StreamID == f.StreamID) && (s.types == nil || s.types[e.Type])
}

// offer hands a live event to s, with the hub locked. It reports false
// when s's buffer is full: s is then no longer live and catches up alone.
func (s *Subscription) offer(e eventstore.Event, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.Less(e.Position) || !s.match(e) {
		return true
	}
	if len(s.buf) >= limit {
		s.overflowed = true
	} else {
		s.buf = append(s.buf, e)
		s.last = e.Position
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return !s.overflowed
}

// spareCap is the largest slice a subscription keeps for its next live
// events: live events arrive a few at a time, and each hand-off would
// otherwise allocate their buffer anew; a larger one (a burst) is let go,
// so an idle subscription holds little.
const spareCap = 16

// Next returns the next events that match, at least one, in log order,
// waiting for them as long as ctx allows (and, before anything else,
// until Run has found the log's head). Each event is returned once:
// the events of successive calls follow one another in the log without a
// gap. It returns ctx.Err() when ctx ends (the subscription stays usable:
// call Next again), ErrClosed once the subscription or its hub is closed,
// and a store read error (wrapped) when catching up fails; the events not
// yet returned then stay with the caller's last position, from which a
// new subscription resumes. The slice returned is the caller's only until
// it calls Next again, which may reuse it: copy what must outlive that.
func (s *Subscription) Next(ctx context.Context) ([]eventstore.Event, error) {
	h := s.hub
	if s.lent != nil { // the caller is done with it
		if cap(s.lent) <= spareCap {
			clear(s.lent) // let its events' data go
			s.spare = s.lent[:0]
		}
		s.lent = nil
	}
	for {
		if s.ctx.Err() != nil {
			return nil, ErrClosed
		}
		if len(s.pending) > 0 {
			out := s.pending
			s.pending, s.lent = nil, out
			return out, nil
		}
		if s.live {
			if err := s.takeLive(ctx); err != nil {
				return nil, err
			}
			continue
		}
		// Not live: join the fan-out if within the window, else read the
		// store up to it.
		select {
		case <-h.started:
		case <-s.ctx.Done():
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		joined, head := h.join(s)
		if joined {
			continue
		}
		if err := s.catchUp(ctx, head); err != nil {
			return nil, err
		}
	}
}

// takeLive moves what the hub buffered to pending, falls back to catching
// up when the hub dropped s, or waits.
func (s *Subscription) takeLive(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case len(s.buf) > 0:
		s.pending, s.buf, s.spare = s.buf, s.spare, nil
		s.at = s.last
		s.mu.Unlock()
		return nil
	case s.overflowed:
		// The hub let go of s after its last buffered event; what came
		// since is in the store.
		s.overflowed, s.live = false, false
		s.at = s.last
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-s.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// join makes s live if its position is within the window: it takes the
// window's matching events after it as pending and registers s, under the
// hub's lock, so that the first live event s is offered is the one after
// the window's last. Otherwise it returns the hub's head, which a store
// read that ends short of its limit may claim as reached.
func (h *Hub) join(s *Subscription) (bool, eventstore.Position) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.at.Less(h.windowStart) || s.ctx.Err() != nil {
		return false, h.head
	}
	i := sort.Search(len(h.window), func(i int) bool { return s.at.Less(h.window[i].Position) })
	for _, e := range h.window[i:] {
		if s.match(e) {
			s.pending = append(s.pending, e)
		}
	}
	// A store read may have run ahead of the follower: what s has read
	// is not offered twice.
	if s.at.Less(h.head) {
		s.at = h.head
	}
	s.mu.Lock()
	s.buf, s.last, s.overflowed = nil, s.at, false
	s.mu.Unlock()
	k := s.filter.key()
	set := h.live[k]
	if set == nil {
		set = map[*Subscription]struct{}{}
		h.live[k] = set
	}
	set[s] = struct{}{}
	s.live = true
	return true, eventstore.Position{}
}

// catchUp reads one batch from the store after s.at. head is the hub's
// head from before the read: a read that ends short of its limit has seen
// every event up to it.
func (s *Subscription) catchUp(ctx context.Context, head eventstore.Position) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	q := s.filter.query()
	q.After, q.Limit = s.at, s.hub.opt.Batch
	evs, err := s.hub.read(ctx, q)
	switch {
	case s.ctx.Err() != nil:
		return ErrClosed
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return err
	}
	for _, e := range evs {
		if s.match(e) {
			s.pending = append(s.pending, e)
		}
	}
	if len(evs) > 0 {
		s.at = evs[len(evs)-1].Position
	}
	if len(evs) < q.Limit && s.at.Less(head) {
		s.at = head
	}
	return nil
}

// catchUpTimeout bounds one catch-up read.
const catchUpTimeout = time.Minute

// read makes a catch-up read of the store, at most Options.CatchUps at
// once. Subscriptions that ask for the same read while it runs share its
// result: a storm of clients resuming one ticket from the same position
// costs the database one read, not one a client. The read runs on the
// hub's context, so a subscription that stops waiting (ctx) does not fail
// the others; the events returned are shared and must not be modified.
func (h *Hub) read(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	led := false
	ch := h.reads.DoChan(readKey(q), func() (any, error) {
		led = true
		select {
		case h.sem <- struct{}{}:
		case <-h.ctx.Done():
			return nil, ErrClosed
		}
		defer func() { <-h.sem }()
		h.catchUpReads.Add(1)
		rctx, cancel := context.WithTimeout(h.ctx, catchUpTimeout)
		defer cancel()
		return h.log.ReadAll(rctx, q)
	})
	select {
	case r := <-ch:
		if !led {
			h.sharedReads.Add(1)
		}
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]eventstore.Event), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readKey names a catch-up read: same key, same answer.
func readKey(q eventstore.Query) string {
	return strings.Join([]string{q.TenantID, q.StreamType, q.StreamID, strings.Join(q.Types, ","),
		q.After.String(), strconv.Itoa(q.Limit)}, "\x00")
}

// Close ends the subscription: a blocked Next returns ErrClosed. It is
// idempotent.
func (s *Subscription) Close() {
	s.closed.Do(func() {
		s.cancel()
		h := s.hub
		h.mu.Lock()
		defer h.mu.Unlock()
		h.unregister(s)
		h.subs--
	})
}
