package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/storetest"
	"github.com/google/uuid"
)

func newStore(t *testing.T) *postgres.Store {
	s := postgres.New(pgtest.DB(t), nil)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store { return newStore(t) })
}

// collector records what a follower received and checks the delivery
// guarantees: each event once, each stream's versions contiguous.
type collector struct {
	mu      sync.Mutex
	seen    map[string]int // event id -> times delivered
	version map[string]int64
	last    eventstore.Position
	errs    []string
}

func newCollector() *collector {
	return &collector{seen: map[string]int{}, version: map[string]int64{}}
}

func (c *collector) add(evs []eventstore.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range evs {
		c.seen[e.ID]++
		if c.seen[e.ID] > 1 {
			c.errs = append(c.errs, fmt.Sprintf("event %s delivered %d times", e.ID, c.seen[e.ID]))
		}
		if want := c.version[e.StreamID] + 1; e.Version != want {
			c.errs = append(c.errs, fmt.Sprintf("stream %s: got version %d, want %d", e.StreamID, e.Version, want))
		}
		c.version[e.StreamID] = e.Version
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

// writeLoad runs writers that append inside explicit transactions with
// random sleeps, rolling back about 10% of them, and returns the ids of
// the committed events.
func writeLoad(t *testing.T, db *sql.DB, tenant string, writers, perWriter, streams int) map[string]bool {
	t.Helper()
	var (
		mu        sync.Mutex
		committed = map[string]bool{}
		wg        sync.WaitGroup
	)
	ctx := context.Background()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := 0; i < perWriter; {
				st := eventstore.StreamRef{TenantID: tenant, Type: "ticket", ID: fmt.Sprintf("s%02d", rng.IntN(streams))}
				ev := storetest.Ev("load", i)
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Errorf("begin: %v", err)
					return
				}
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
				}
				_, err = postgres.AppendInTx(ctx, tx, st, eventstore.Any, []eventstore.EventData{ev})
				if err != nil {
					tx.Rollback()
					continue // lost the race for the stream's next version: retry
				}
				if rng.IntN(3) == 0 {
					time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond)
				}
				if rng.IntN(10) == 0 {
					tx.Rollback()
					i++
					continue
				}
				if err := tx.Commit(); err != nil {
					t.Errorf("commit: %v", err)
					return
				}
				mu.Lock()
				committed[ev.ID] = true
				mu.Unlock()
				i++
			}
		}()
	}
	// One transaction holds its append open for a few seconds while the
	// others commit: every later event must wait for it, none may pass it.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Errorf("begin: %v", err)
			return
		}
		ev := storetest.Ev("held", 0)
		st := eventstore.StreamRef{TenantID: tenant, Type: "ticket", ID: "held"}
		if _, err := postgres.AppendInTx(ctx, tx, st, eventstore.NoStream, []eventstore.EventData{ev}); err != nil {
			t.Errorf("held append: %v", err)
			tx.Rollback()
			return
		}
		time.Sleep(3 * time.Second)
		if err := tx.Commit(); err != nil {
			t.Errorf("held commit: %v", err)
			return
		}
		mu.Lock()
		committed[ev.ID] = true
		mu.Unlock()
	}()
	wg.Wait()
	return committed
}

func waitFor(t *testing.T, what string, cond func() bool, state func() string) {
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

func checkDelivered(t *testing.T, c *collector, committed map[string]bool) {
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

// TestFollowGapFree starts a live follower first, then has 32 writers append
// 300 events each over 50 streams with sleeps inside their transactions,
// ~10% rolled back, and one transaction held open for seconds.
func TestFollowGapFree(t *testing.T) {
	db := pgtest.DB(t)
	s := postgres.New(db, nil)
	defer s.Close()
	check := follow(t, s, "t1")
	committed := writeLoad(t, db.DB, "t1", 32, 300, 50)
	check(committed)
	t.Logf("%d committed events delivered exactly once, in order", len(committed))
}

// follow starts a live follower of tenant's events on s. The function it
// returns waits until the follower has received every committed event
// (ids), stops it and checks that it saw each exactly once, in order.
func follow(t *testing.T, s *postgres.Store, tenant string) func(committed map[string]bool) {
	c := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() {
		done <- eventstore.Follow(ctx, s, eventstore.Query{TenantID: tenant, Limit: 200},
			eventstore.FollowOptions{Notifier: s, Poll: 50 * time.Millisecond},
			func(_ context.Context, evs []eventstore.Event) error { c.add(evs); return nil })
	}()
	return func(committed map[string]bool) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d committed events", len(committed)), func() bool { return c.count() >= len(committed) },
			func() string { return fmt.Sprintf("received %d", c.count()) })
		time.Sleep(200 * time.Millisecond) // let any extra (wrong) delivery show up
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Follow = %v, want context.Canceled", err)
		}
		checkDelivered(t, c, committed)
	}
}

// TestConsumeResume stops a checkpointed consumer mid-stream, while writers
// still run, and restarts it from its checkpoint: every committed event is
// applied exactly once across the two runs. What counts is what the
// consumer's transactions committed (the applied table), not what its
// handler saw: a batch cut off by the stop is rolled back with its
// checkpoint and delivered again, as it must be.
func TestConsumeResume(t *testing.T) {
	db := pgtest.DB(t)
	s := postgres.New(db, nil)
	defer s.Close()
	if _, err := db.Exec(`CREATE TABLE applied (ord bigserial, event_id uuid PRIMARY KEY, tenant_id text, stream_id text,
		version bigint, tx text, seq bigint)`); err != nil {
		t.Fatal(err)
	}
	handler := func(ctx context.Context, tx *sql.Tx, evs []eventstore.Event) error {
		for _, e := range evs {
			// The consumer's own write, in the checkpoint's transaction: a
			// repeated event would violate the primary key.
			if _, err := tx.ExecContext(ctx, `INSERT INTO applied (event_id, tenant_id, stream_id, version, tx, seq)
				VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, e.TenantID, e.StreamID, e.Version, fmt.Sprint(e.Position.TxID), e.Position.Seq); err != nil {
				return err
			}
		}
		return nil
	}
	applied := func() int {
		var n int
		_ = db.Get(&n, `SELECT count(*) FROM applied`)
		return n
	}
	run := func(ctx context.Context) chan error {
		done := make(chan error, 1)
		go func() {
			done <- s.Consume(ctx, "resume-test", postgres.ConsumeOptions{
				Query: eventstore.Query{TenantID: "t1", Limit: 50}, Poll: 50 * time.Millisecond,
			}, handler)
		}()
		return done
	}
	writes := make(chan map[string]bool, 1)
	go func() { writes <- writeLoad(t, db.DB, "t1", 16, 200, 20) }()

	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := run(ctx1)
	waitFor(t, "the first run to apply 500 events", func() bool { return applied() >= 500 }, nil)
	stop1()
	if err := <-done1; !errors.Is(err, context.Canceled) {
		t.Fatalf("first Consume = %v, want context.Canceled", err)
	}
	firstRun := applied()

	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	done2 := run(ctx2)
	committed := <-writes
	waitFor(t, "the second run to catch up", func() bool { return applied() >= len(committed) },
		func() string { return fmt.Sprintf("applied %d of %d", applied(), len(committed)) })
	stop2()
	if err := <-done2; !errors.Is(err, context.Canceled) {
		t.Fatalf("second Consume = %v, want context.Canceled", err)
	}
	var rows []struct {
		ID       string `db:"event_id"`
		TenantID string `db:"tenant_id"`
		StreamID string `db:"stream_id"`
		Version  int64  `db:"version"`
		Tx       string `db:"tx"`
		Seq      int64  `db:"seq"`
	}
	if err := db.Select(&rows, `SELECT event_id::text, tenant_id, stream_id, version, tx, seq FROM applied ORDER BY ord`); err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	for _, r := range rows {
		var txid uint64
		fmt.Sscan(r.Tx, &txid)
		c.add([]eventstore.Event{{ID: r.ID, TenantID: r.TenantID, StreamID: r.StreamID, Version: r.Version,
			Position: eventstore.Position{TxID: txid, Seq: r.Seq}}})
	}
	checkDelivered(t, c, committed)
	if cp, err := s.Checkpoint(context.Background(), "resume-test"); err != nil || cp != c.last {
		t.Errorf("checkpoint = %v, %v; want %v, the last applied event", cp, err, c.last)
	}
	t.Logf("first run applied %d, second %d of %d committed", firstRun, len(committed)-firstRun, len(committed))
}

// TestHandlerErrorRedelivers: a failed batch is rolled back, checkpoint
// included, and delivered again.
func TestHandlerErrorRedelivers(t *testing.T) {
	s := newStore(t)
	st := storetest.Stream("t1")
	if _, err := s.Append(context.Background(), st, eventstore.NoStream, []eventstore.EventData{storetest.Ev("a", 1)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	var failures []error
	err := s.Consume(ctx, "flaky", postgres.ConsumeOptions{Poll: 10 * time.Millisecond, OnError: func(err error) { failures = append(failures, err) }},
		func(ctx context.Context, tx *sql.Tx, evs []eventstore.Event) error {
			if calls.Add(1) == 1 {
				return errors.New("boom")
			}
			cancel()
			return nil
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume = %v", err)
	}
	if calls.Load() != 2 || len(failures) != 1 {
		t.Errorf("handler called %d times with %d failures, want 2 and 1", calls.Load(), len(failures))
	}
}

// TestOpenTransactionHoldsDelivery is trap (a): a write transaction that
// stays open holds back every later event (never skips it), the age of the
// oldest open transaction shows it, and the idle-in-transaction timeout
// ends it.
func TestOpenTransactionHoldsDelivery(t *testing.T) {
	db, dsn := pgtest.DBWithURL(t)
	s := postgres.New(db, nil)
	defer s.Close()
	ctx := context.Background()
	short, err := postgres.Open(ctx, dsn, postgres.OpenOptions{IdleInTransactionTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	tx, err := short.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	held := storetest.Stream("t1")
	if _, err := postgres.AppendInTx(ctx, tx, held, eventstore.NoStream, []eventstore.EventData{storetest.Ev("held", 1)}); err != nil {
		t.Fatal(err)
	}
	later := storetest.Stream("t1")
	if _, err := s.Append(ctx, later, eventstore.NoStream, []eventstore.EventData{storetest.Ev("later", 2)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if evs, err := s.ReadAll(ctx, eventstore.Query{TenantID: "t1"}); err != nil || len(evs) != 0 {
		t.Fatalf("ReadAll while a transaction is open = %d events, %v; want 0 (held back)", len(evs), err)
	}
	if age, err := s.OldestTransactionAge(ctx); err != nil || age < 200*time.Millisecond {
		t.Errorf("OldestTransactionAge = %v, %v; want at least 200ms", age, err)
	}
	// The session idles in its transaction past the timeout: the server ends
	// it, the held append is rolled back and delivery resumes.
	waitFor(t, "delivery to resume", func() bool {
		evs, err := s.ReadAll(ctx, eventstore.Query{TenantID: "t1"})
		return err == nil && len(evs) == 1 && evs[0].StreamID == later.ID
	}, nil)
	if err := tx.Commit(); err == nil {
		t.Error("commit after the idle timeout succeeded, want the session terminated")
	}
}

// TestAppendMustBeFirstWrite is trap (b): a transaction that took its id
// with an earlier write could sort its append ahead of an older event of
// the same stream, so such an append is refused.
func TestAppendMustBeFirstWrite(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	if _, err := db.Exec(`CREATE TABLE scratch (n int)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO scratch VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.AppendInTx(ctx, tx, storetest.Stream("t1"), eventstore.NoStream, []eventstore.EventData{storetest.Ev("a", 1)})
	if !errors.Is(err, postgres.ErrNotFirstWrite) {
		t.Fatalf("append after another write = %v, want ErrNotFirstWrite", err)
	}
}

// TestHotStreamOrder: many writers race on few streams with Any; every
// stream's versions reach a follower contiguous and in order.
func TestHotStreamOrder(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				st := eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: fmt.Sprintf("hot%d", (w+i)%3)}
				if _, err := s.Append(ctx, st, eventstore.Any, []eventstore.EventData{storetest.Ev("x", i)}); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Other tests' open transactions may hold some events back for a
	// moment: read until all are visible.
	var evs []eventstore.Event
	waitFor(t, "800 events to be readable", func() bool {
		var err error
		evs, err = s.ReadAll(ctx, eventstore.Query{TenantID: "t1", Limit: 10000})
		return err == nil && len(evs) >= 800
	}, func() string { return fmt.Sprintf("%d readable", len(evs)) })
	c := newCollector()
	c.add(evs)
	if len(evs) != 800 || len(c.errs) > 0 {
		t.Fatalf("read %d events, want 800; errors: %v", len(evs), c.errs)
	}
}

// TestOrderAcrossDigitCounts pins the log order to the numeric order of
// transaction ids: 9999 comes before 10000, which a text sort reverses (transaction ids
// well below any running transaction, so the fence lets them through).
func TestOrderAcrossDigitCounts(t *testing.T) {
	db := pgtest.DB(t)
	s := postgres.New(db, nil)
	defer s.Close()
	for _, tx := range []string{"10000", "9999", "100000"} {
		if _, err := db.Exec(`INSERT INTO events (tx_id, event_id, tenant_id, stream_type, stream_id, version, event_type, data)
			VALUES ($1::xid8, $2, 't1', 'ticket', $1, 1, 'x', '{}')`, tx, storetest.NewID()); err != nil {
			t.Fatal(err)
		}
	}
	var got []uint64
	for q := (eventstore.Query{TenantID: "t1", Limit: 1}); ; {
		evs, err := s.ReadAll(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		got = append(got, evs[0].Position.TxID)
		q.After = evs[0].Position
	}
	if fmt.Sprint(got) != "[9999 10000 100000]" {
		t.Errorf("log order by transaction id = %v, want [9999 10000 100000]", got)
	}
	if head, err := s.Head(context.Background(), "t1"); err != nil || head.TxID != 100000 {
		t.Errorf("Head = %v, %v; want transaction 100000", head, err)
	}
}

// TestFollowLinger: after a batch of several events a live follower with a
// Linger lets the next events gather, so two appends made right after such
// a batch arrive as one batch.
func TestFollowLinger(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := make(chan []string, 16)
	go eventstore.Follow(ctx, s, eventstore.Query{TenantID: "acme", Limit: 100}, //nolint:errcheck // ends with ctx
		// Poll is short: the log's fence is cluster-wide, so other tests'
		// transactions may hold an event back past its wake-up.
		eventstore.FollowOptions{Notifier: s, Poll: 100 * time.Millisecond, Linger: 500 * time.Millisecond},
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
			data = append(data, eventstore.EventData{ID: uuid.NewString(), Type: ty, Data: []byte(`{}`)})
		}
		stream := eventstore.StreamRef{TenantID: "acme", Type: "ticket", ID: uuid.NewString()}
		if _, err := s.Append(ctx, stream, eventstore.NoStream, data); err != nil {
			t.Fatal(err)
		}
	}
	next := func() []string {
		t.Helper()
		select {
		case b := <-batches:
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("no batch within 10s")
			return nil
		}
	}
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
