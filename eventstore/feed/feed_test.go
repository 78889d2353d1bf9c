package feed_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/storetest"
)

// newStore returns a PostgreSQL store over a fresh database.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	s := postgres.New(pgtest.DB(t), nil)
	t.Cleanup(func() { s.Close() })
	return s
}

// startHub runs a hub over log until the test ends.
func startHub(t testing.TB, log feed.Log, opt feed.Options) *feed.Hub {
	t.Helper()
	h := feed.New(log, opt)
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background()) }()
	t.Cleanup(func() {
		h.Close()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.Head(ctx); err != nil {
		t.Fatalf("Head() = %v", err)
	}
	return h
}

// writer appends n events to streams of tenant (two stream types, two
// event types, one to three events per append) and records them.
type writer struct {
	store *postgres.Store
	mu    sync.Mutex
	count map[string]int // events appended per tenant
	pos   []eventstore.Position
}

func newWriter(s *postgres.Store) *writer { return &writer{store: s, count: map[string]int{}} }

func (w *writer) write(t testing.TB, tenant string, n int, streams []eventstore.StreamRef) {
	for i := 0; i < n; {
		st := streams[rand.IntN(len(streams))]
		k := min(1+rand.IntN(3), n-i)
		evs := make([]eventstore.EventData, k)
		for j := range evs {
			evs[j] = storetest.Ev([]string{"a", "b"}[rand.IntN(2)], i+j)
		}
		res, err := w.store.Append(context.Background(), st, eventstore.Any, evs)
		if err != nil {
			t.Errorf("Append(%s) = %v", st, err)
			return
		}
		w.mu.Lock()
		w.count[tenant] += k
		w.pos = append(w.pos, res.Last())
		w.mu.Unlock()
		i += k
	}
}

// somePosition returns a position an append returned, the zero one if none.
func (w *writer) somePosition() eventstore.Position {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pos) == 0 {
		return eventstore.Position{}
	}
	return w.pos[rand.IntN(len(w.pos))]
}

// latest returns the last position an append returned.
func (w *writer) latest() eventstore.Position {
	w.mu.Lock()
	defer w.mu.Unlock()
	var last eventstore.Position
	for _, p := range w.pos {
		if last.Less(p) {
			last = p
		}
	}
	return last
}

// waitHubPast waits until the hub has read up to pos: only then is a
// subscription from before pos late for it. (Another test's open
// transaction anywhere in the cluster may hold the hub back.)
func waitHubPast(t testing.TB, h *feed.Hub, pos eventstore.Position) {
	t.Helper()
	storetest.WaitFor(t, "the hub to read up to "+pos.String(), func() bool {
		head, err := h.Head(context.Background())
		return err == nil && !head.Less(pos)
	}, nil)
}

func (w *writer) total(tenant string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count[tenant]
}

func streamsOf(tenant string, n int) []eventstore.StreamRef {
	out := make([]eventstore.StreamRef, n)
	for i := range out {
		out[i] = eventstore.StreamRef{TenantID: tenant, Type: []string{"ticket", "contact"}[i%2], ID: storetest.NewID()}
	}
	return out
}

// reader calls Next in a loop and keeps what it receives.
type reader struct {
	name   string
	filter feed.Filter
	after  eventstore.Position
	sub    *feed.Subscription
	mu     sync.Mutex
	got    []eventstore.Event
	err    error
	done   chan struct{}
}

func subscribe(t testing.TB, h *feed.Hub, name string, f feed.Filter, after eventstore.Position, delay time.Duration) *reader {
	t.Helper()
	sub, err := h.Subscribe(f, after)
	if err != nil {
		t.Fatalf("Subscribe(%s) = %v", name, err)
	}
	r := &reader{name: name, filter: f, after: after, sub: sub, done: make(chan struct{})}
	t.Cleanup(sub.Close)
	go func() {
		defer close(r.done)
		for {
			evs, err := sub.Next(context.Background())
			r.mu.Lock()
			r.got, r.err = append(r.got, evs...), err
			r.mu.Unlock()
			if err != nil {
				return
			}
			time.Sleep(delay)
		}
	}()
	return r
}

func (r *reader) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// want reads from the store, once every append is visible, the events r
// must receive: those of its filter after its position.
func want(t testing.TB, s eventstore.Store, tenant string, total int, f feed.Filter, after eventstore.Position) []eventstore.Event {
	t.Helper()
	all := readTenant(t, s, tenant, total)
	var out []eventstore.Event
	for _, e := range all {
		if after.Less(e.Position) && (f.StreamType == "" || e.StreamType == f.StreamType) &&
			(f.StreamID == "" || e.StreamID == f.StreamID) && (len(f.Types) == 0 || e.Type == f.Types[0]) {
			out = append(out, e)
		}
	}
	return out
}

// readTenant reads tenant's whole log once all total events are visible:
// ReadAll holds events back while any older transaction in the cluster
// is open, and other tests hold some.
func readTenant(t testing.TB, s eventstore.Store, tenant string, total int) []eventstore.Event {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var all []eventstore.Event
		for q := (eventstore.Query{TenantID: tenant, Limit: 1000}); ; {
			evs, err := s.ReadAll(context.Background(), q)
			if err != nil {
				t.Fatalf("ReadAll = %v", err)
			}
			all = append(all, evs...)
			if len(evs) < q.Limit {
				break
			}
			q.After = evs[len(evs)-1].Position
		}
		if len(all) >= total {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log shows %d events of %s within 60s, want %d", len(all), tenant, total)
		}
	}
}

// check waits until r has received as many events as it should, a
// moment more for anything extra, then compares: every event once, in
// log order, nothing else.
func (r *reader) check(t testing.TB, want []eventstore.Event) {
	t.Helper()
	wait := 60 * time.Second
	if t.Failed() {
		wait = time.Second // an earlier check failed; do not wait out each reader
	}
	for deadline := time.Now().Add(wait); r.received() < len(want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // a duplicate or a stranger would show now
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		t.Errorf("%s: Next() = %v", r.name, r.err)
	}
	ids := func(evs []eventstore.Event) []string {
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = fmt.Sprintf("%s %s/%s v%d", e.Position, e.TenantID, e.StreamID[:8], e.Version)
		}
		return out
	}
	if diff := cmp.Diff(ids(want), ids(r.got)); diff != "" {
		t.Errorf("%s (after %s) received %d events, want %d (-want +got):\n%s", r.name, r.after, len(r.got), len(want), diff)
	}
}

// TestHub_FanOut: many subscriptions of three tenants — from the start,
// filtered, and late ones from the start or from the middle of the log —
// while six writers append concurrently across the tenants. Each receives
// exactly its tenant's matching events after its position, once, in log
// order. A small window and small reads make late subscriptions catch up
// from the store and hand over to the fan-out many times.
func TestHub_FanOut(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	h := startHub(t, s, feed.Options{Window: 40, Batch: 16, Buffer: 64})
	tenants := []string{"acme", "globex", "initech"}
	streams := map[string][]eventstore.StreamRef{}
	for _, tn := range tenants {
		streams[tn] = streamsOf(tn, 6)
	}
	one := streams["globex"][0]

	var readers []*reader
	add := func(name string, f feed.Filter, after eventstore.Position) {
		readers = append(readers, subscribe(t, h, name, f, after, 0))
	}
	for _, tn := range tenants {
		for i := range 8 {
			add(fmt.Sprintf("%s early %d", tn, i), feed.Filter{TenantID: tn}, eventstore.Position{})
		}
	}
	add("acme contacts", feed.Filter{TenantID: "acme", StreamType: "contact"}, eventstore.Position{})
	add("initech type a", feed.Filter{TenantID: "initech", Types: []string{"a"}}, eventstore.Position{})
	add("globex one stream", feed.Filter{TenantID: "globex", StreamType: one.Type, StreamID: one.ID}, eventstore.Position{})

	w := newWriter(s)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for j := range 6 {
				tn := tenants[(i+j)%len(tenants)]
				w.write(t, tn, 25, streams[tn])
			}
		})
	}
	// Late subscriptions, while the writers run: from the start (far
	// behind) and from positions appends returned.
	appended := func() int { return w.total("acme") + w.total("globex") + w.total("initech") }
	for i := range 12 {
		storetest.WaitFor(t, "the writers to go on", func() bool { return appended() >= 60*(i+1) }, nil)
		waitHubPast(t, h, w.latest())
		tn := tenants[i%len(tenants)]
		add(fmt.Sprintf("%s late from start %d", tn, i), feed.Filter{TenantID: tn}, eventstore.Position{})
		add(fmt.Sprintf("%s late from middle %d", tn, i), feed.Filter{TenantID: tn}, w.somePosition())
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, r := range readers {
		r.check(t, want(t, s, r.filter.TenantID, w.total(r.filter.TenantID), r.filter, r.after))
	}
	st := h.Stats()
	t.Logf("%d subscriptions, %d appended; stats %+v", len(readers), appended(), st)
	if st.CatchUpReads == 0 {
		t.Errorf("no subscription read the store; the test does not exercise the hand-off")
	}
}

// TestHub_SlowSubscription: a subscription that does not read at all
// does not hold up the hub or a fast one; once it reads, it receives
// everything, once, in order, by catching up from the store. Another
// reads slowly all along and overflows again and again.
func TestHub_SlowSubscription(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	h := startHub(t, s, feed.Options{Buffer: 4, Window: 30, Batch: 25})
	f := feed.Filter{TenantID: "acme"}
	stalled, err := h.Subscribe(f, eventstore.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	// It joins the fan-out, then stops reading.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if evs, err := stalled.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next() on an empty log = %d events, %v; want a deadline", len(evs), err)
	}
	cancel()
	fast := subscribe(t, h, "fast", f, eventstore.Position{}, 0)
	slow := subscribe(t, h, "slow", f, eventstore.Position{}, 3*time.Millisecond)

	w := newWriter(s)
	streams := streamsOf("acme", 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { w.write(t, "acme", 100, streams) })
	}
	wg.Wait()
	all := want(t, s, "acme", w.total("acme"), f, eventstore.Position{})
	fast.check(t, all)

	// Now the stalled one reads.
	var got []eventstore.Event
	for len(got) < len(all) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		evs, err := stalled.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("stalled Next() after %d events = %v", len(got), err)
		}
		got = append(got, evs...)
	}
	stalledReader := &reader{name: "stalled", got: got}
	stalledReader.check(t, all)
	slow.check(t, all)
	if st := h.Stats(); st.Overflows < 2 {
		t.Errorf("stats %+v: want at least two overflows (the stalled and the slow subscription)", st)
	}
}

// TestHub_LateSubscription: subscriptions far behind a long log (much
// longer than the window) catch up from the store while writers go on,
// and then follow live without a gap or a duplicate.
func TestHub_LateSubscription(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	w := newWriter(s)
	streams := map[string][]eventstore.StreamRef{"acme": streamsOf("acme", 3), "globex": streamsOf("globex", 3)}
	// 2,000 events before the hub starts, in appends of 100.
	var last eventstore.Position
	for i := range 20 {
		tn := []string{"acme", "globex"}[i%2]
		evs := make([]eventstore.EventData, 100)
		for j := range evs {
			evs[j] = storetest.Ev("a", j)
		}
		res, err := s.Append(context.Background(), streams[tn][i%3], eventstore.Any, evs)
		if err != nil {
			t.Fatal(err)
		}
		w.count[tn] += 100
		w.pos = append(w.pos, res.Positions[50])
		last = res.Last()
	}
	h := startHub(t, s, feed.Options{Window: 50, Batch: 64})
	waitHubPast(t, h, last)
	var wg sync.WaitGroup
	for _, tn := range []string{"acme", "globex"} {
		wg.Go(func() { w.write(t, tn, 150, streams[tn]) })
	}
	var readers []*reader
	for i := range 6 {
		tn := []string{"acme", "globex"}[i%2]
		readers = append(readers,
			subscribe(t, h, fmt.Sprintf("%s from start %d", tn, i), feed.Filter{TenantID: tn}, eventstore.Position{}, 0),
			subscribe(t, h, fmt.Sprintf("%s from middle %d", tn, i), feed.Filter{TenantID: tn}, w.somePosition(), 0))
	}
	wg.Wait()
	for _, r := range readers {
		r.check(t, want(t, s, r.filter.TenantID, w.total(r.filter.TenantID), r.filter, r.after))
	}
	if st := h.Stats(); st.CatchUpReads < 12 {
		t.Errorf("stats %+v: want the late subscriptions to have read the store", st)
	}
}

// laggingLog is a store whose follower reads (all tenants) find nothing
// while paused: a follower that lags behind the store.
type laggingLog struct {
	*postgres.Store
	paused atomic.Bool
}

func (l *laggingLog) ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	if q.TenantID == "" && l.paused.Load() {
		return nil, nil
	}
	return l.Store.ReadAll(ctx, q)
}

// TestHub_StoreAheadOfFollower: a subscription whose store read runs ahead
// of the hub's follower joins the fan-out; the events the follower then
// reads are not delivered twice, and the next ones are delivered.
func TestHub_StoreAheadOfFollower(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	log := &laggingLog{Store: s}
	w := newWriter(s)
	streams := streamsOf("acme", 2)
	w.write(t, "acme", 3, streams)
	readTenant(t, s, "acme", 3) // the hub starts after them
	log.paused.Store(true)
	h := startHub(t, log, feed.Options{Poll: 10 * time.Millisecond})
	w.write(t, "acme", 10, streams)
	first := want(t, s, "acme", 13, feed.Filter{}, eventstore.Position{})

	r := subscribe(t, h, "ahead", feed.Filter{TenantID: "acme"}, eventstore.Position{}, 0)
	storetest.WaitFor(t, "13 events", func() bool { return r.received() == 13 }, nil)
	if st := h.Stats(); st.Live != 1 || !st.Head.Less(first[12].Position) || st.CatchUpReads == 0 {
		t.Fatalf("stats %+v: want one live subscription that read the store, and the follower behind %s", st, first[12].Position)
	}
	log.paused.Store(false) // the follower now reads the ten events too
	w.write(t, "acme", 5, streams)
	r.check(t, want(t, s, "acme", 18, feed.Filter{}, eventstore.Position{}))
}

// blockingLog is a store whose reads of tenant "slowpoke" hang until
// their context ends.
type blockingLog struct {
	*postgres.Store
	blocked chan struct{}
}

func (l *blockingLog) ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	if q.TenantID == "slowpoke" {
		l.blocked <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return l.Store.ReadAll(ctx, q)
}

// TestHub_Close: Close ends, at once, subscriptions waiting for live
// events and one stuck in a store read; Run returns; Subscribe and Head
// then fail with ErrClosed.
func TestHub_Close(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	log := &blockingLog{Store: s, blocked: make(chan struct{}, 1)}
	// With an event in the log, a subscription from its start is behind
	// the hub's and reads the store.
	newWriter(s).write(t, "acme", 1, streamsOf("acme", 1))
	readTenant(t, s, "acme", 1)
	h := feed.New(log, feed.Options{})
	ran := make(chan error, 1)
	go func() { ran <- h.Run(context.Background()) }()
	t.Cleanup(h.Close)

	var readers []*reader
	for i := range 20 {
		readers = append(readers, subscribe(t, h, fmt.Sprint("idle ", i), feed.Filter{TenantID: "acme"}, eventstore.Position{}, 0))
	}
	storetest.WaitFor(t, "20 live subscriptions", func() bool { return h.Stats().Live == 20 }, func() string { return fmt.Sprint(h.Stats()) })
	stuck := subscribe(t, h, "stuck", feed.Filter{TenantID: "slowpoke"}, eventstore.Position{}, 0)
	<-log.blocked

	start := time.Now()
	h.Close()
	for _, r := range append(readers, stuck) {
		select {
		case <-r.done:
		case <-time.After(time.Second):
			t.Fatalf("%s: Next() still blocked 1s after Close", r.name)
		}
		if !errors.Is(r.err, feed.ErrClosed) {
			t.Errorf("%s: Next() = %v, want ErrClosed", r.name, r.err)
		}
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run() still running 1s after Close")
	}
	t.Logf("every subscription ended %v after Close", time.Since(start))
	if _, err := h.Subscribe(feed.Filter{TenantID: "acme"}, eventstore.Position{}); !errors.Is(err, feed.ErrClosed) {
		t.Errorf("Subscribe() after Close = %v, want ErrClosed", err)
	}
	if _, err := h.Head(context.Background()); !errors.Is(err, feed.ErrClosed) {
		t.Errorf("Head() after Close = %v, want ErrClosed", err)
	}
}

// TestSubscription_Close ends one subscription; the others go on.
func TestSubscription_Close(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	h := startHub(t, s, feed.Options{})
	closed := subscribe(t, h, "closed", feed.Filter{TenantID: "acme"}, eventstore.Position{}, 0)
	open := subscribe(t, h, "open", feed.Filter{TenantID: "acme"}, eventstore.Position{}, 0)
	storetest.WaitFor(t, "two live subscriptions", func() bool { return h.Stats().Live == 2 }, nil)
	closed.sub.Close()
	select {
	case <-closed.done:
	case <-time.After(time.Second):
		t.Fatal("Next() still blocked 1s after Subscription.Close")
	}
	if !errors.Is(closed.err, feed.ErrClosed) {
		t.Errorf("Next() = %v, want ErrClosed", closed.err)
	}
	w := newWriter(s)
	w.write(t, "acme", 5, streamsOf("acme", 1))
	open.check(t, want(t, s, "acme", 5, feed.Filter{}, eventstore.Position{}))
	if st := h.Stats(); st.Subscriptions != 1 || st.Live != 1 {
		t.Errorf("stats %+v, want one subscription, live", st)
	}
}

// gatedLog holds every catch-up read of one stream until opened, and
// counts the reads that reach the store.
type gatedLog struct {
	*postgres.Store
	open        chan struct{}
	streamReads atomic.Int64
}

func (l *gatedLog) ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	if q.StreamID != "" {
		l.streamReads.Add(1)
		select {
		case <-l.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return l.Store.ReadAll(ctx, q)
}

// TestHub_StreamSubscriptions: subscriptions to one stream each — ten to
// each of two streams, from the start of the log, behind the hub's
// window — receive exactly their stream's events, once, in log order,
// while writers append to those and other streams; the ten that start
// from the same position at the same time share their catch-up reads
// instead of making ten; live, they are indexed by stream.
func TestHub_StreamSubscriptions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	w := newWriter(s)
	streams := streamsOf("acme", 4)
	var last eventstore.Position
	for i := range 20 { // 1,000 events before the hub starts
		evs := make([]eventstore.EventData, 50)
		for j := range evs {
			evs[j] = storetest.Ev("a", j)
		}
		res, err := s.Append(context.Background(), streams[i%4], eventstore.Any, evs)
		if err != nil {
			t.Fatal(err)
		}
		w.count["acme"] += 50
		last = res.Last()
	}
	log := &gatedLog{Store: s, open: make(chan struct{})}
	h := startHub(t, log, feed.Options{Window: 20, Batch: 64})
	waitHubPast(t, h, last)
	var readers []*reader
	for i := range 20 {
		st := streams[i%2]
		f := feed.Filter{TenantID: "acme", StreamType: st.Type, StreamID: st.ID}
		readers = append(readers, subscribe(t, h, fmt.Sprintf("stream %d reader %d", i%2, i), f, eventstore.Position{}, 0))
	}
	time.Sleep(200 * time.Millisecond) // every reader waits for its first read
	close(log.open)
	w.write(t, "acme", 300, streams)
	for _, r := range readers {
		r.check(t, want(t, s, "acme", w.total("acme"), r.filter, r.after))
	}
	st := h.Stats()
	if st.SharedReads < 10 || log.streamReads.Load() > st.CatchUpReads {
		t.Errorf("stats %+v, %d stream reads: want most first reads shared", st, log.streamReads.Load())
	}
	if st.Live != 20 {
		t.Errorf("stats %+v: want the 20 subscriptions live", st)
	}
	if _, err := h.Subscribe(feed.Filter{TenantID: "acme", StreamID: streams[0].ID}, eventstore.Position{}); !errors.Is(err, feed.ErrNoStreamType) {
		t.Errorf("Subscribe() with a stream id but no type = %v, want ErrNoStreamType", err)
	}
}

func TestHub_SubscribeNeedsTenant(t *testing.T) {
	h := feed.New(nil, feed.Options{})
	if _, err := h.Subscribe(feed.Filter{StreamType: "ticket"}, eventstore.Position{}); !errors.Is(err, feed.ErrNoTenant) {
		t.Errorf("Subscribe() without a tenant = %v, want ErrNoTenant", err)
	}
}
