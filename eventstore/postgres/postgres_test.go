package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/storetest"
)

func newStore(t *testing.T) *postgres.Store {
	s := postgres.New(pgtest.DB(t), nil)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store { return newStore(t) })
}

// harness is the suites' view of a store on a database of its own; appends
// held open run with AppendInTx.
func harness(t *testing.T, opts ...postgres.Option) storetest.Harness {
	db := pgtest.DB(t)
	s := postgres.New(db, nil, opts...)
	t.Cleanup(func() { s.Close() })
	return storetest.Harness{Store: s, Notifier: s, Consumer: s, DB: db.DB,
		AppendOpen: func(ctx context.Context, st eventstore.StreamRef, exp eventstore.ExpectedVersion, evs []eventstore.EventData) (storetest.Pending, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return nil, err
			}
			if _, err := postgres.AppendInTx(ctx, tx, st, exp, evs); err != nil {
				tx.Rollback()
				return nil, err
			}
			return tx, nil
		}}
}

func TestFollow(t *testing.T) {
	storetest.RunFollow(t, func(t *testing.T) storetest.Harness { return harness(t) })
}

func TestConsumer(t *testing.T) {
	storetest.RunConsumer(t, func(t *testing.T) storetest.Harness { return harness(t) })
}

// TestCheckpointLockTakesNoTransactionID: a consumer's batch holds the
// log's fence only from its first write — locking its checkpoint takes
// no transaction id — and an append committed while a batch holds its
// lock (before writing) is delivered at once.
func TestCheckpointLockTakesNoTransactionID(t *testing.T) {
	ctx := context.Background()
	h := harness(t)
	s := h.Store.(*postgres.Store)
	tx, err := h.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := s.LockCheckpoint(ctx, tx, "cp"); err != nil {
		t.Fatal(err)
	}
	var xid sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT pg_current_xact_id_if_assigned()::text`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	if xid.Valid {
		t.Errorf("the checkpoint lock took transaction id %s", xid.String)
	}
	res, err := s.Append(ctx, storetest.Stream("t1"), eventstore.NoStream, []eventstore.EventData{storetest.Ev("x", 1)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		evs, err := s.ReadAll(rctx, eventstore.Query{TenantID: "t1"})
		if err != nil {
			t.Fatalf("the append committed during a held checkpoint lock is not readable: %v", err)
		}
		if len(evs) == 1 && evs[0].Position == res.Last() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConsumerCommitWakesFollowers: an event appended while a consumer's
// batch holds the log's fence (its transaction has written) reaches a
// follower as soon as the batch commits, not at the follower's next poll.
func TestConsumerCommitWakesFollowers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := harness(t)
	s := h.Store.(*postgres.Store)
	if _, err := h.DB.ExecContext(ctx, `CREATE TABLE held (n int)`); err != nil {
		t.Fatal(err)
	}
	mustAppendOne := func(tenant string) eventstore.AppendResult {
		t.Helper()
		res, err := s.Append(ctx, storetest.Stream(tenant), eventstore.NoStream, []eventstore.EventData{storetest.Ev("x", 1)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	mustAppendOne("t1") // the consumer's batch
	writing, release := make(chan struct{}), make(chan struct{})
	go s.Consume(ctx, "held", eventstore.ConsumeOptions{Query: eventstore.Query{TenantID: "t1"}, Poll: time.Minute}, //nolint:errcheck // ends with ctx
		func(ctx context.Context, tx *sql.Tx, _ []eventstore.Event) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO held VALUES (1)`); err != nil {
				return err
			}
			select {
			case <-writing:
			default:
				close(writing)
			}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
	<-writing
	got := make(chan eventstore.Position, 1)
	go eventstore.Follow(ctx, s, eventstore.Query{TenantID: "t2"}, eventstore.FollowOptions{Notifier: s, Poll: time.Minute}, //nolint:errcheck // ends with ctx
		func(_ context.Context, evs []eventstore.Event) error {
			select {
			case got <- evs[0].Position:
			default:
			}
			return nil
		})
	e := mustAppendOne("t2") // held back by the batch; its own wake-up finds nothing
	time.Sleep(200 * time.Millisecond)
	select {
	case p := <-got:
		t.Fatalf("the follower read %s while the batch held the fence", p)
	default:
	}
	released := time.Now()
	close(release)
	select {
	case p := <-got:
		if p != e.Last() {
			t.Errorf("the follower read %s, want %s", p, e.Last())
		}
		t.Logf("delivered %v after the batch's commit", time.Since(released))
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not read the held event within 10s of the batch's commit (poll: 1 minute)")
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
	storetest.WaitFor(t, "delivery to resume", func() bool {
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

// TestOrderAcrossDigitCounts pins the log order to the numeric order of
// transaction ids: 9999 comes before 10000, which a text sort reverses.
// The ids are derived from the cluster's, so the test holds on a fresh
// cluster as on an old one: powers of ten below the oldest transaction
// still running (the fence lets such rows through), spanning two digit
// counts.
func TestOrderAcrossDigitCounts(t *testing.T) {
	db := pgtest.DB(t)
	s := postgres.New(db, nil)
	defer s.Close()
	p := digitBoundary(t, db.DB)
	for _, tx := range []uint64{p / 10, p/10 - 1, p} { // 10000, 9999, 100000: neither in order nor in text order
		if _, err := db.Exec(`INSERT INTO events (tx_id, event_id, tenant_id, stream_type, stream_id, version, event_type, data)
			VALUES ($1::text::xid8, $2, 't1', 'ticket', $1, 1, 'x', '{}')`, strconv.FormatUint(tx, 10), storetest.NewID()); err != nil {
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
	if want := []uint64{p/10 - 1, p / 10, p}; !slices.Equal(got, want) {
		t.Errorf("log order by transaction id = %v, want %v", got, want)
	}
	if head, err := s.Head(context.Background(), "t1"); err != nil || head.TxID != p {
		t.Errorf("Head = %v, %v; want transaction %d", head, err, p)
	}
}

// digitBoundary returns the largest power of ten, at least 100, below the
// oldest transaction id still running anywhere in the cluster (the fence's
// xmin, which never moves back). A cluster so young that this is not yet
// above 100 gets transaction ids burnt until it is.
func digitBoundary(t *testing.T, db *sql.DB) uint64 {
	t.Helper()
	for range 1000 {
		var s string
		if err := db.QueryRow(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		xmin, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if xmin > 100 {
			p := uint64(100)
			for p*10 < xmin {
				p *= 10
			}
			return p
		}
		if _, err := db.Exec(`SELECT pg_current_xact_id()`); err != nil { // takes, and so burns, one id
			t.Fatal(err)
		}
	}
	t.Fatal("the cluster's oldest running transaction stays below id 100")
	return 0
}
