package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Harness is what RunFollow and RunConsumer need of a store under test.
type Harness struct {
	// Store is the store under test.
	Store eventstore.Store
	// AppendOpen appends as Store.Append does but leaves the append's
	// transaction open until the returned Pending ends: how the suites
	// hold an append open while others commit, and roll some back. It
	// returns an error matching eventstore.ErrVersionConflict when the
	// stream is not at the expected version.
	AppendOpen func(ctx context.Context, stream eventstore.StreamRef, expected eventstore.ExpectedVersion, events []eventstore.EventData) (Pending, error)
	// Notifier, if set, wakes followers early.
	Notifier eventstore.Notifier
	// Consumer runs durable consumers of Store's log (RunConsumer only).
	Consumer eventstore.Consumer
	// DB is the database the Consumer's transactions write to
	// (RunConsumer only). The suite creates a table of its own there and
	// writes to it with plain SQL, without placeholders.
	DB *sql.DB
}

// Pending is an append whose transaction is still open.
type Pending interface {
	Commit() error
	Rollback() error
}

// RunFollow checks that eventstore.Follow over h.Store delivers every
// committed event exactly once, in position order, whatever the writers
// do meanwhile. Each subtest gets its own harness.
func RunFollow(t *testing.T, newHarness func(*testing.T) Harness) {
	runCases(t, newHarness, []testCase[Harness]{
		{"GapFree", followGapFree},
		{"Linger", followLinger},
		{"SkipsUnmatched", followSkipsUnmatched},
		{"ReadAhead", followReadAhead},
		{"Budget", followBudget},
	})
}

// collector records what a follower or consumer received and checks the
// delivery guarantees: each event once, in position order, each stream's
// versions contiguous from 1.
type collector struct {
	mu      sync.Mutex
	seen    map[string]int // event id -> times delivered
	version map[eventstore.StreamRef]int64
	last    eventstore.Position
	errs    []string
}

func newCollector() *collector {
	return &collector{seen: map[string]int{}, version: map[eventstore.StreamRef]int64{}}
}

func (c *collector) add(evs []eventstore.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range evs {
		c.seen[e.ID]++
		if c.seen[e.ID] > 1 {
			c.errs = append(c.errs, fmt.Sprintf("event %s delivered %d times", e.ID, c.seen[e.ID]))
		}
		if want := c.version[e.Stream()] + 1; e.Version != want {
			c.errs = append(c.errs, fmt.Sprintf("stream %s: got version %d, want %d", e.Stream(), e.Version, want))
		}
		c.version[e.Stream()] = e.Version
		if !c.last.Less(e.Position) {
			c.errs = append(c.errs, fmt.Sprintf("position %v not after %v", e.Position, c.last))
		}
		c.last = e.Position
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// check reports the collector's errors, and every committed event not
// received exactly once or received without being committed.
func (c *collector) check(t *testing.T, committed map[string]bool) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.errs {
		t.Error(e)
	}
	for id := range c.seen {
		if !committed[id] {
			t.Errorf("delivered event %s that was never committed", id)
		}
	}
	for id := range committed {
		if c.seen[id] != 1 {
			t.Errorf("committed event %s delivered %d times, want 1", id, c.seen[id])
		}
	}
}

// WaitFor waits up to a minute for cond, polling, and fails the test
// naming what it waited for (and state(), if set) when it does not hold.
func WaitFor(t testing.TB, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if state != nil {
				msg = ": " + state()
			}
			t.Fatalf("timed out waiting for %s%s", what, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CheckFollow starts a live follower of tenant's log on r (woken by n if
// not nil). The function it returns waits until the follower has received
// every committed event (by id), stops it and checks that it received
// each exactly once, in position order, each stream's versions
// contiguous.
func CheckFollow(t *testing.T, r eventstore.Reader, n eventstore.Notifier, tenant string) func(committed map[string]bool) {
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() {
		done <- eventstore.Follow(ctx, r, eventstore.Query{TenantID: tenant, Limit: 200},
			eventstore.FollowOptions{Notifier: n, Poll: 50 * time.Millisecond},
			func(_ context.Context, evs []eventstore.Event) error { c.add(evs); return nil })
	}()
	return func(committed map[string]bool) {
		t.Helper()
		WaitFor(t, fmt.Sprintf("%d committed events", len(committed)), func() bool { return c.count() >= len(committed) },
			func() string { return fmt.Sprintf("received %d", c.count()) })
		time.Sleep(200 * time.Millisecond) // let any extra (wrong) delivery show up
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Follow = %v, want context.Canceled", err)
		}
		c.check(t, committed)
	}
}

// writeLoad has writers append perWriter times each over streams streams
// of tenant and returns the ids of the committed events. Most appends stay
// open for a random while, about 10% of them are rolled back, one in
// eight is a committed two-stream append, and one append is held open
// for seconds: every later event must wait for it, none may pass it.
func writeLoad(t *testing.T, h Harness, tenant string, writers, perWriter, streams int) map[string]bool {
	t.Helper()
	var (
		mu        sync.Mutex
		committed = map[string]bool{}
		wg        sync.WaitGroup
	)
	commit := func(evs ...eventstore.EventData) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			committed[e.ID] = true
		}
	}
	ctx := context.Background()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			stream := func() eventstore.StreamRef {
				return eventstore.StreamRef{TenantID: tenant, Type: "ticket", ID: fmt.Sprintf("s%02d", rng.IntN(streams))}
			}
			for i := 0; i < perWriter; i++ {
				if rng.IntN(8) == 0 {
					a, b := stream(), stream()
					if a == b {
						b.Type = "contact"
					}
					parts := []eventstore.StreamAppend{part(a, eventstore.Any, Ev("load", i)), part(b, eventstore.Any, Ev("load", i))}
					if _, err := h.Store.AppendStreams(ctx, parts); err != nil {
						t.Errorf("two-stream append: %v", err)
						return
					}
					commit(parts[0].Events[0], parts[1].Events[0])
					continue
				}
				ev := Ev("load", i)
				p, err := h.AppendOpen(ctx, stream(), eventstore.Any, []eventstore.EventData{ev})
				if errors.Is(err, eventstore.ErrVersionConflict) {
					i--
					continue // lost the race for the stream's next version: retry
				}
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				if rng.IntN(3) == 0 {
					time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond)
				}
				if rng.IntN(10) == 0 {
					if err := p.Rollback(); err != nil {
						t.Errorf("rollback: %v", err)
					}
					continue
				}
				if err := p.Commit(); err != nil {
					t.Errorf("commit: %v", err)
					return
				}
				commit(ev)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		ev := Ev("held", 0)
		st := eventstore.StreamRef{TenantID: tenant, Type: "ticket", ID: "held"}
		p, err := h.AppendOpen(ctx, st, eventstore.NoStream, []eventstore.EventData{ev})
		if err != nil {
			t.Errorf("held append: %v", err)
			return
		}
		time.Sleep(3 * time.Second)
		if err := p.Commit(); err != nil {
			t.Errorf("held commit: %v", err)
			return
		}
		commit(ev)
	}()
	wg.Wait()
	return committed
}

// followGapFree starts a live follower first, then has 32 writers append
// 300 times each over 50 streams under writeLoad.
func followGapFree(t *testing.T, h Harness) {
	check := CheckFollow(t, h.Store, h.Notifier, "t1")
	committed := writeLoad(t, h, "t1", 32, 300, 50)
	check(committed)
	t.Logf("%d committed events delivered exactly once, in order", len(committed))
}

// followReadAhead: a follower that reads ahead (small batches, a slow
// handler: most reads are made beside it) still gets every committed event
// once, in order, while writers append; each batch read ahead goes to
// ReadAhead before the handler, and the handler never runs before the
// ReadAhead of its batch has returned.
func followReadAhead(t *testing.T, h Harness) {
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	aheadOf := map[eventstore.Position]bool{} // first positions of the batches read ahead
	handled, early := 0, 0
	done := make(chan error, 1)
	go func() {
		done <- eventstore.Follow(ctx, h.Store, eventstore.Query{TenantID: "t1", Limit: 20},
			eventstore.FollowOptions{Notifier: h.Notifier, Poll: 50 * time.Millisecond, ReadAhead: func(evs []eventstore.Event) {
				mu.Lock()
				aheadOf[evs[0].Position] = true
				mu.Unlock()
			}},
			func(_ context.Context, evs []eventstore.Event) error {
				mu.Lock()
				handled++
				if aheadOf[evs[0].Position] {
					early++
				}
				mu.Unlock()
				c.add(evs)
				time.Sleep(2 * time.Millisecond)
				return nil
			})
	}()
	committed := writeLoad(t, h, "t1", 16, 150, 30)
	WaitFor(t, fmt.Sprintf("%d committed events", len(committed)), func() bool { return c.count() >= len(committed) },
		func() string { return fmt.Sprintf("received %d", c.count()) })
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow = %v, want context.Canceled", err)
	}
	c.check(t, committed)
	if early == 0 {
		t.Errorf("got no batch read ahead out of %d, want some", handled)
	}
	t.Logf("%d committed events delivered exactly once, in order; %d of %d batches read ahead", len(committed), early, handled)
}

// followBudget: a live follower with a Budget reads smaller batches
// after a batch its handler took longer than the budget with (in
// proportion, down to eventstore.MinBudgetBatch), and larger ones again,
// a quarter at a time up to the query's limit, once full batches are
// handled well within it; one whose batches are older than its BudgetLag
// (catching up) keeps reading whole batches. Every event still arrives
// once, in order.
func followBudget(t *testing.T, h Harness) {
	committed := writeLoad(t, h, "t1", 8, 200, 20) // a backlog of 1,600 events
	follow := func(lag time.Duration) []int {
		c := newCollector()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var sizes []int
		done := make(chan error, 1)
		go func() {
			done <- eventstore.Follow(ctx, h.Store, eventstore.Query{TenantID: "t1", Limit: 400},
				eventstore.FollowOptions{Notifier: h.Notifier, Poll: 50 * time.Millisecond, Budget: 20 * time.Millisecond,
					BudgetLag: lag},
				func(_ context.Context, evs []eventstore.Event) error {
					c.add(evs)
					sizes = append(sizes, len(evs))
					if len(sizes) <= 2 { // the first two batches are slow: 0.25 ms an event
						time.Sleep(time.Duration(len(evs)) * 250 * time.Microsecond)
					}
					return nil
				})
		}()
		WaitFor(t, fmt.Sprintf("%d committed events", len(committed)), func() bool { return c.count() >= len(committed) },
			func() string { return fmt.Sprintf("received %d", c.count()) })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Follow = %v, want context.Canceled", err)
		}
		c.check(t, committed)
		return sizes
	}
	// Live (the backlog is younger than an hour): 400 in 100 ms: 400 ×
	// 20/100 = 80, at least 100; 100 in 25 ms: 80, at least 100; then
	// fast: 100 + 25 + 1, 126 + 31 + 1, …
	sizes := follow(time.Hour)
	want := []int{400, 100, 100, 126, 158}
	if len(sizes) < len(want) || !slices.Equal(sizes[:len(want)], want) {
		t.Errorf("live: batch sizes %v, want them to begin %v", sizes, want)
	}
	for _, n := range sizes {
		if n > 400 {
			t.Errorf("live: a batch of %d events, over the query's limit of 400", n)
		}
	}
	t.Logf("live: %d events in batches of %v", len(committed), sizes)
	// Catching up (the backlog is older than a nanosecond): whole batches.
	sizes = follow(time.Nanosecond)
	if want := []int{400, 400, 400, 400}; len(sizes) < len(want) || !slices.Equal(sizes[:len(want)], want) {
		t.Errorf("catching up: batch sizes %v, want them to begin %v", sizes, want)
	}
}

// followLinger: after a batch of several events a live follower with a
// Linger lets the next events gather, so two appends made right after such
// a batch arrive as one batch.
func followLinger(t *testing.T, h Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := make(chan []string, 16)
	go eventstore.Follow(ctx, h.Store, eventstore.Query{TenantID: "acme", Limit: 100}, //nolint:errcheck // ends with ctx
		// Poll is short: a store's fence may be shared (PostgreSQL's is
		// cluster-wide), so others' transactions may hold an event back
		// past its wake-up.
		eventstore.FollowOptions{Notifier: h.Notifier, Poll: 100 * time.Millisecond, Linger: 500 * time.Millisecond},
		func(_ context.Context, evs []eventstore.Event) error {
			var types []string
			for _, e := range evs {
				types = append(types, e.Type)
			}
			batches <- types
			return nil
		})
	appendTypes := func(types ...string) {
		t.Helper()
		var data []eventstore.EventData
		for _, ty := range types {
			data = append(data, Ev(ty, 0))
		}
		if _, err := h.Store.Append(ctx, Stream("acme"), eventstore.NoStream, data); err != nil {
			t.Fatal(err)
		}
	}
	next := func() []string { t.Helper(); return receive(t, batches, 10*time.Second) }
	appendTypes("a.happened")
	if got := next(); !slices.Equal(got, []string{"a.happened"}) {
		t.Fatalf("first batch = %v, want [a.happened]", got)
	}
	appendTypes("b.happened", "c.happened")
	if got := next(); !slices.Equal(got, []string{"b.happened", "c.happened"}) {
		t.Fatalf("second batch = %v, want [b.happened c.happened]", got)
	}
	// The follower now lingers: two separate appends arrive together.
	appendTypes("d.happened")
	appendTypes("e.happened")
	if got := next(); !slices.Equal(got, []string{"d.happened", "e.happened"}) {
		t.Errorf("batch after lingering = %v, want [d.happened e.happened]", got)
	}
}

// receive returns the next batch a follower handed to ch, failing the
// test if none comes within wait.
func receive[T any](t *testing.T, ch <-chan T, wait time.Duration) T {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(wait):
		t.Fatalf("no batch within %s", wait)
		var zero T
		return zero
	}
}

// afterRecorder is a store that records where each ReadAll began.
type afterRecorder struct {
	eventstore.Store
	mu    sync.Mutex
	after eventstore.Position
}

func (r *afterRecorder) ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	r.mu.Lock()
	r.after = q.After
	r.mu.Unlock()
	return r.Store.ReadAll(ctx, q)
}

func (r *afterRecorder) lastAfter() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.after
}

// followSkipsUnmatched: a follower filtered by event type reads a stretch
// of events it does not match once — its next reads begin after them —
// and still receives the next event it matches.
func followSkipsUnmatched(t *testing.T, h Harness) {
	matched := Stream("t1")
	mustAppend(t, h.Store, matched, eventstore.NoStream, Ev("y.matched", 0))
	var others []eventstore.EventData
	for i := range 50 {
		others = append(others, Ev("x.other", i))
	}
	res := mustAppend(t, h.Store, Stream("t1"), eventstore.NoStream, others...)
	rec := &afterRecorder{Store: h.Store}
	got := make(chan []eventstore.Event, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go eventstore.Follow(ctx, rec, eventstore.Query{Types: []string{"y.matched"}, Limit: 10}, //nolint:errcheck // ends with ctx
		eventstore.FollowOptions{Notifier: h.Notifier, Poll: 20 * time.Millisecond},
		func(_ context.Context, evs []eventstore.Event) error { got <- evs; return nil })
	next := func() []eventstore.Event { t.Helper(); return receive(t, got, 30*time.Second) }
	if evs := next(); len(evs) != 1 || evs[0].Version != 1 {
		t.Fatalf("first batch = %d events, want the matched one", len(evs))
	}
	WaitFor(t, "a read that begins after the unmatched events", func() bool { return !rec.lastAfter().Less(res.Last()) },
		func() string {
			return "last read after " + rec.lastAfter().String() + ", unmatched up to " + res.Last().String()
		})
	mustAppend(t, h.Store, matched, eventstore.Exact(1), Ev("y.matched", 1))
	if evs := next(); len(evs) != 1 || evs[0].Version != 2 || evs[0].Stream() != matched {
		t.Fatalf("second batch = %d events, want the second matched one", len(evs))
	}
}
