package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/eventstore"
)

// RunConsumer checks h.Consumer against the eventstore.Consumer contract:
// with the checkpoint written in the consumer's own transaction, every
// event is applied exactly once, in position order, across handler
// errors, crashes, restarts and competing instances. Each subtest gets its
// own harness.
func RunConsumer(t *testing.T, newHarness func(*testing.T) Harness) {
	runCases(t, newHarness, []testCase[Harness]{
		{"Checkpoint", consumerCheckpoint},
		{"HandlerErrorRedelivers", handlerErrorRedelivers},
		{"Crash", consumerCrash},
		{"Resume", consumerResume},
		{"SameNameTwice", consumerSameNameTwice},
	})
}

// applied is a consumer's own table in the harness's database. Handlers
// record each event there inside the batch's transaction, so the table
// holds what the consumer's committed transactions applied, and in which
// order.
type applied struct {
	db   *sql.DB
	name string
	n    atomic.Int64 // application order
}

func newApplied(t *testing.T, db *sql.DB) *applied {
	t.Helper()
	a := &applied{db: db, name: "storetest_applied_" + strings.ReplaceAll(NewID(), "-", "")[:16]}
	if _, err := db.Exec(`CREATE TABLE ` + a.name + ` (n bigint NOT NULL, event_id varchar(36) NOT NULL,
		tenant_id varchar(64) NOT NULL, stream_type varchar(64) NOT NULL, stream_id varchar(200) NOT NULL,
		version bigint NOT NULL, tx_id varchar(20) NOT NULL, seq bigint NOT NULL)`); err != nil {
		t.Fatalf("create the consumer's table: %v", err)
	}
	t.Cleanup(func() { _, _ = db.Exec(`DROP TABLE ` + a.name) })
	return a
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// record applies evs inside tx: one row each. No constraint refuses a
// repeat, so that a second application shows instead of failing.
func (a *applied) record(ctx context.Context, tx *sql.Tx, evs []eventstore.Event) error {
	if len(evs) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO ` + a.name + ` (n, event_id, tenant_id, stream_type, stream_id, version, tx_id, seq) VALUES `)
	for i, e := range evs {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "(%d, %s, %s, %s, %s, %d, '%d', %d)", a.n.Add(1), quote(e.ID), quote(e.TenantID), quote(e.StreamType),
			quote(e.StreamID), e.Version, e.Position.TxID, e.Position.Seq)
	}
	_, err := tx.ExecContext(ctx, q.String())
	return err
}

func (a *applied) handler(ctx context.Context, tx *sql.Tx, evs []eventstore.Event) error {
	return a.record(ctx, tx, evs)
}

// events returns what the table holds, in the order it was applied.
func (a *applied) events(t *testing.T) []eventstore.Event {
	t.Helper()
	rows, err := a.db.Query(`SELECT event_id, tenant_id, stream_type, stream_id, version, tx_id, seq FROM ` + a.name + ` ORDER BY n`)
	if err != nil {
		t.Fatalf("read the consumer's table: %v", err)
	}
	defer rows.Close()
	var out []eventstore.Event
	for rows.Next() {
		var e eventstore.Event
		var tx string
		if err := rows.Scan(&e.ID, &e.TenantID, &e.StreamType, &e.StreamID, &e.Version, &tx, &e.Position.Seq); err != nil {
			t.Fatal(err)
		}
		if e.Position.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (a *applied) count() int {
	var n int
	_ = a.db.QueryRow(`SELECT count(*) FROM ` + a.name).Scan(&n)
	return n
}

// consume runs h.Consumer's Consume in a goroutine; the channel receives
// what it returns.
func consume(ctx context.Context, h Harness, name string, opt eventstore.ConsumeOptions, fn eventstore.BatchHandler) <-chan error {
	done := make(chan error, 1)
	go func() { done <- h.Consumer.Consume(ctx, name, opt, fn) }()
	return done
}

// wantStopped waits for a Consume that was stopped through its context.
func wantStopped(t *testing.T, done <-chan error) {
	t.Helper()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume = %v, want context.Canceled", err)
	}
}

// appendN appends n events of tenant, one stream each, and returns them
// as the log holds them.
func appendN(t *testing.T, s eventstore.Store, tenant string, n int) []eventstore.Event {
	t.Helper()
	for i := range n {
		mustAppend(t, s, Stream(tenant), eventstore.NoStream, Ev("e", i))
	}
	return readAll(t, s, eventstore.Query{TenantID: tenant}, n)
}

func wantCheckpoint(t *testing.T, c eventstore.Consumer, name string, want eventstore.Position) {
	t.Helper()
	if got, err := c.Checkpoint(context.Background(), name); err != nil || got != want {
		t.Errorf("Checkpoint(%s) = %v, %v; want %v", name, got, err, want)
	}
}

func consumerCheckpoint(t *testing.T, h Harness) {
	ctx := context.Background()
	evs := appendN(t, h.Store, "t1", 2)
	wantCheckpoint(t, h.Consumer, "fresh", eventstore.Position{})
	save := func(p eventstore.Position, commit bool) {
		t.Helper()
		tx, err := h.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // no-op after Commit
		if _, err := h.Consumer.LockCheckpoint(ctx, tx, "cp"); err != nil {
			t.Fatalf("LockCheckpoint = %v", err)
		}
		if err := h.Consumer.SaveCheckpoint(ctx, tx, "cp", p); err != nil {
			t.Fatalf("SaveCheckpoint = %v", err)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	save(evs[1].Position, false)
	wantCheckpoint(t, h.Consumer, "cp", eventstore.Position{})
	save(evs[0].Position, true)
	wantCheckpoint(t, h.Consumer, "cp", evs[0].Position)

	// A locked checkpoint holds other batches of the same consumer until
	// the lock's transaction ends; they then see its checkpoint.
	tx, err := h.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if p, err := h.Consumer.LockCheckpoint(ctx, tx, "cp"); err != nil || p != evs[0].Position {
		t.Fatalf("LockCheckpoint = %v, %v; want %v", p, err, evs[0].Position)
	}
	got := make(chan eventstore.Position, 1)
	go func() {
		tx2, err := h.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		defer tx2.Rollback() //nolint:errcheck // read only
		p, err := h.Consumer.LockCheckpoint(ctx, tx2, "cp")
		if err != nil {
			t.Errorf("second LockCheckpoint = %v", err)
		}
		got <- p
	}()
	select {
	case p := <-got:
		t.Fatalf("second LockCheckpoint returned %v while the first lock was held", p)
	case <-time.After(300 * time.Millisecond):
	}
	if err := h.Consumer.SaveCheckpoint(ctx, tx, "cp", evs[1].Position); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if p := <-got; p != evs[1].Position {
		t.Errorf("second LockCheckpoint = %v, want %v, the checkpoint the first lock saved", p, evs[1].Position)
	}
}

// handlerErrorRedelivers: a failed batch is rolled back, its writes and
// checkpoint included, and delivered again.
func handlerErrorRedelivers(t *testing.T, h Harness) {
	evs := appendN(t, h.Store, "t1", 3)
	a := newApplied(t, h.DB)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu        sync.Mutex
		delivered [][]string
		failures  []error
	)
	done := consume(ctx, h, "flaky", eventstore.ConsumeOptions{
		Query: eventstore.Query{TenantID: "t1"}, Poll: 10 * time.Millisecond,
		OnError: func(err error) { mu.Lock(); failures = append(failures, err); mu.Unlock() },
	}, func(ctx context.Context, tx *sql.Tx, batch []eventstore.Event) error {
		if err := a.record(ctx, tx, batch); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		delivered = append(delivered, idsOf(batch))
		if len(delivered) == 1 {
			return errors.New("boom") // after writing: the write must roll back too
		}
		return nil
	})
	WaitFor(t, "the batch to be applied", func() bool { return a.count() >= len(evs) }, nil)
	cancel()
	wantStopped(t, done)
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) != 2 || !cmp.Equal(delivered[0], delivered[1]) || len(failures) != 1 {
		t.Errorf("batches delivered %v with %d failures, want the same batch twice and 1 failure", delivered, len(failures))
	}
	if diff := cmp.Diff(idsOf(evs), idsOf(a.events(t))); diff != "" {
		t.Errorf("applied events (-want +got):\n%s", diff)
	}
	wantCheckpoint(t, h.Consumer, "flaky", evs[len(evs)-1].Position)
}

// consumerCrash stops a consumer in the middle of a batch, after its
// handler wrote part or all of it: the stopped batch's writes and its
// checkpoint stand or fall together, and a restart applies every event
// exactly once.
func consumerCrash(t *testing.T, h Harness) {
	evs := appendN(t, h.Store, "t1", 50)
	crashes := []struct {
		name  string
		crash func(ctx context.Context, cancel context.CancelFunc, a *applied, tx *sql.Tx, batch []eventstore.Event) error
	}{
		{"cancelled mid-batch", func(ctx context.Context, cancel context.CancelFunc, a *applied, tx *sql.Tx, batch []eventstore.Event) error {
			if err := a.record(ctx, tx, batch[:len(batch)/2]); err != nil {
				return err
			}
			cancel() // the process dies here
			return nil
		}},
		{"error after writing", func(ctx context.Context, cancel context.CancelFunc, a *applied, tx *sql.Tx, batch []eventstore.Event) error {
			if err := a.record(ctx, tx, batch); err != nil {
				return err
			}
			cancel()
			return errors.New("crash")
		}},
	}
	for i, c := range crashes {
		name := fmt.Sprintf("crash%d", i)
		a := newApplied(t, h.DB)
		opt := eventstore.ConsumeOptions{Query: eventstore.Query{TenantID: "t1", Limit: 10}, Poll: 10 * time.Millisecond}
		ctx, cancel := context.WithCancel(context.Background())
		batches := 0
		err := <-consume(ctx, h, name, opt, func(ctx context.Context, tx *sql.Tx, batch []eventstore.Event) error {
			if batches++; batches == 3 {
				return c.crash(ctx, cancel, a, tx, batch)
			}
			return a.record(ctx, tx, batch)
		})
		cancel()
		if err == nil {
			t.Fatalf("%s: Consume = nil, want an error", c.name)
		}
		cp, err := h.Consumer.Checkpoint(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		var upTo []string // the events up to the checkpoint
		for _, e := range evs {
			if !cp.Less(e.Position) {
				upTo = append(upTo, e.ID)
			}
		}
		if diff := cmp.Diff(upTo, idsOf(a.events(t))); diff != "" {
			t.Errorf("%s: applied events differ from those up to the checkpoint %v (-want +got):\n%s", c.name, cp, diff)
		}

		ctx, cancel = context.WithCancel(context.Background())
		done := consume(ctx, h, name, opt, a.handler)
		WaitFor(t, c.name+": the restart to catch up", func() bool { return a.count() >= len(evs) }, nil)
		cancel()
		wantStopped(t, done)
		if diff := cmp.Diff(idsOf(evs), idsOf(a.events(t))); diff != "" {
			t.Errorf("%s: applied events after the restart (-want +got):\n%s", c.name, diff)
		}
		wantCheckpoint(t, h.Consumer, name, evs[len(evs)-1].Position)
	}
}

// consumerResume stops a consumer mid-stream, while writers still run,
// and restarts it from its checkpoint: every committed event is applied
// exactly once across the two runs. What counts is what the consumer's
// transactions committed, not what its handler saw: a batch cut off by
// the stop is rolled back with its checkpoint and delivered again, as it
// must be.
func consumerResume(t *testing.T, h Harness) {
	a := newApplied(t, h.DB)
	opt := eventstore.ConsumeOptions{Query: eventstore.Query{TenantID: "t1", Limit: 50}, Poll: 50 * time.Millisecond}
	writes := make(chan map[string]bool, 1)
	go func() { writes <- writeLoad(t, h, "t1", 16, 200, 20) }()

	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := consume(ctx1, h, "resume", opt, a.handler)
	WaitFor(t, "the first run to apply 500 events", func() bool { return a.count() >= 500 }, nil)
	stop1()
	wantStopped(t, done1)
	firstRun := a.count()

	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	done2 := consume(ctx2, h, "resume", opt, a.handler)
	committed := <-writes
	WaitFor(t, "the second run to catch up", func() bool { return a.count() >= len(committed) },
		func() string { return fmt.Sprintf("applied %d of %d", a.count(), len(committed)) })
	stop2()
	wantStopped(t, done2)
	c := newCollector()
	c.add(a.events(t))
	c.check(t, committed)
	wantCheckpoint(t, h.Consumer, "resume", c.last)
	t.Logf("first run applied %d, second %d of %d committed", firstRun, len(committed)-firstRun, len(committed))
}

// consumerSameNameTwice runs two instances of one consumer side by side
// while writers run: together they apply each event exactly once, in
// position order.
func consumerSameNameTwice(t *testing.T, h Harness) {
	a := newApplied(t, h.DB)
	opt := eventstore.ConsumeOptions{Query: eventstore.Query{TenantID: "t1", Limit: 20}, Poll: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls [2]atomic.Int64
	var dones [2]<-chan error
	for i := range dones {
		dones[i] = consume(ctx, h, "twice", opt, func(ctx context.Context, tx *sql.Tx, batch []eventstore.Event) error {
			calls[i].Add(1)
			return a.record(ctx, tx, batch)
		})
	}
	committed := writeLoad(t, h, "t1", 8, 100, 10)
	WaitFor(t, "every committed event to be applied", func() bool { return a.count() >= len(committed) },
		func() string { return fmt.Sprintf("applied %d of %d", a.count(), len(committed)) })
	time.Sleep(200 * time.Millisecond) // let any extra (wrong) application show up
	cancel()
	for _, done := range dones {
		wantStopped(t, done)
	}
	c := newCollector()
	c.add(a.events(t))
	c.check(t, committed)
	t.Logf("%d events; the instances' handlers ran %d and %d times", len(committed), calls[0].Load(), calls[1].Load())
}
