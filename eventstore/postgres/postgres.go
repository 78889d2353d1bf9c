// Package postgres is the PostgreSQL implementation of eventstore.Store,
// with durable checkpointed consumers and LISTEN/NOTIFY wake-ups.
//
// Ordering. Every row stores the id of the transaction that wrote it
// (pg_current_xact_id()). Readers only return rows whose transaction id is
// below the xmin of their own snapshot and order them by (tx_id, position):
// a transaction that could still commit holds delivery back instead of
// being skipped. An append is one INSERT statement run as its own
// transaction, so its transaction id is taken by the insert itself, after
// the stream's previous version committed; that keeps each stream's events
// in version order in the global log.
//
// Wake-ups. NOTIFY inside the appending transaction would take a
// cluster-wide lock at commit and serialise all writers, so the store sends
// one coalesced NOTIFY after commit from a single goroutine instead.
package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Channel is the LISTEN/NOTIFY channel that announces new events.
const Channel = "eventdesk_events"

var _ eventstore.Store = (*Store)(nil)

// Store is the PostgreSQL event store. Create it with New and Close it when
// done.
type Store struct {
	db     *sqlx.DB
	append *sql.Stmt // appendSQL, prepared; nil if preparing failed
	log    *slog.Logger
	local  eventstore.Broadcaster
	notify chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
	close  sync.Once
}

// New returns a store over db, which must be migrated. log may be nil.
func New(db *sqlx.DB, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, log: log, notify: make(chan struct{}, 1), done: make(chan struct{})}
	// Prepared once, the append is parsed and planned once per connection
	// instead of on every call.
	if stmt, err := db.Prepare(appendSQL); err == nil {
		s.append = stmt
	} else {
		log.Warn("prepare append; appends will be planned each time", "err", err)
	}
	s.wg.Add(1)
	go s.notifier()
	return s
}

// DB returns the underlying handle, for consumers that write read models in
// the same database.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close stops the store's background work. It does not close the database.
func (s *Store) Close() error {
	s.close.Do(func() { close(s.done) })
	s.wg.Wait()
	if s.append != nil {
		return s.append.Close()
	}
	return nil
}

// Notify implements eventstore.Notifier: it wakes on appends made through
// this Store and, once Listen runs, on appends by other processes.
func (s *Store) Notify() (<-chan struct{}, func()) { return s.local.Notify() }

func (s *Store) committed() {
	s.local.Signal()
	select {
	case s.notify <- struct{}{}:
	default: // a NOTIFY is already pending; it covers this append too
	}
}

// notifyEvery is the shortest gap between two NOTIFYs: under load one
// wake-up covers many appends, and other processes' followers lose at most
// this much latency.
const notifyEvery = 10 * time.Millisecond

// notifier sends at most one NOTIFY at a time, outside any append
// transaction, however many appends commit meanwhile.
func (s *Store) notifier() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.notify:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, '')`, Channel); err != nil {
			s.log.Warn("notify failed", "err", err)
		}
		cancel()
		select {
		case <-s.done:
			return
		case <-time.After(notifyEvery):
		}
	}
}

// Listen relays NOTIFYs from other processes to this store's followers
// until ctx is done. dsn is the connection string of the same database.
func (s *Store) Listen(ctx context.Context, dsn string) error {
	l := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			s.log.Warn("listener", "event", int(ev), "err", err)
		}
		if ev == pq.ListenerEventReconnected {
			s.local.Signal() // notifications may have been lost meanwhile
		}
	})
	defer l.Close()
	if err := l.Listen(Channel); err != nil {
		return fmt.Errorf("listen %s: %w", Channel, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.Notify:
			s.local.Signal()
		case <-time.After(time.Minute):
			go func() { _ = l.Ping() }()
		}
	}
}

const appendSQL = `
WITH cur AS (
	SELECT coalesce(max(version), 0) AS v FROM events
	WHERE tenant_id = $1 AND stream_type = $2 AND stream_id = $3
)
INSERT INTO events (event_id, tenant_id, stream_type, stream_id, version, event_type, schema_version, data, metadata)
SELECT e.id, $1, $2, $3, cur.v + e.ord, e.typ, e.sv, e.data::jsonb, e.meta::jsonb
FROM cur, unnest($5::uuid[], $6::text[], $7::int[], $8::text[], $9::text[]) WITH ORDINALITY AS e(id, typ, sv, data, meta, ord)
WHERE $4::bigint < 0 OR cur.v = $4::bigint
ORDER BY e.ord
RETURNING tx_id::text, position, version`

// maxAnyRetries bounds how often an Any append retries after losing a race
// for the next version.
const maxAnyRetries = 100

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream eventstore.StreamRef, expected eventstore.ExpectedVersion, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	ids, types, svs, datas, metas, err := columns(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	for attempt := 0; ; attempt++ {
		var res eventstore.AppendResult
		var err error
		if attempt == 0 {
			res, err = insert(ctx, s.query(nil), stream, expected, ids, types, svs, datas, metas)
		} else {
			res, err = s.insertLocked(ctx, stream, expected, ids, types, svs, datas, metas)
		}
		if err == nil {
			s.committed()
			return res, nil
		}
		var pqErr *pq.Error
		raced := errors.As(err, &pqErr) && pqErr.Code == "23505"
		if !raced && !errors.Is(err, errNoRows) {
			return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, translate(err))
		}
		// Either the expected version did not hold or a unique key was hit.
		// A retry of an append that already landed looks exactly like that,
		// so check for it first.
		if res, ok, err := s.original(ctx, stream, ids); err != nil || ok {
			return res, err
		}
		if raced && pqErr.Constraint == "events_event_id_key" && attempt < maxAnyRetries {
			// Our ids are not stored now, so the concurrent owner rolled back.
			continue
		}
		if expected == eventstore.Any && attempt < maxAnyRetries {
			continue // lost the race for the next version; take the new one
		}
		actual, err := s.version(ctx, stream)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if raced && int64(expected) == actual && attempt < maxAnyRetries {
			continue // the winner rolled back; try again at the same version
		}
		return eventstore.AppendResult{}, &eventstore.VersionConflictError{Stream: stream, Expected: expected, Actual: actual}
	}
}

var errNoRows = errors.New("expected version did not hold")

// columns turns events into the parallel arrays appendSQL unnests.
func columns(events []eventstore.EventData) (ids, types []string, svs []int64, datas, metas []string, err error) {
	n := len(events)
	ids, types, metas, datas = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	svs = make([]int64, n)
	for i, e := range events {
		ids[i], types[i], datas[i] = strings.ToLower(e.ID), e.Type, string(e.Data)
		svs[i] = int64(max(e.SchemaVersion, 1))
		m, err := json.Marshal(e.Metadata)
		if err != nil {
			return nil, nil, nil, nil, nil, &eventstore.InvalidError{Field: fmt.Sprintf("events[%d].metadata", i), Reason: err.Error()}
		}
		metas[i] = string(m)
	}
	return ids, types, svs, datas, metas, nil
}

// insertLocked is the contended path: it queues behind other contended
// appends to the same stream on a transaction-scoped advisory lock, so a
// hot stream's writers take turns instead of retrying in a herd. The lock
// is no write, so the insert is still the transaction's first write.
func (s *Store) insertLocked(ctx context.Context, stream eventstore.StreamRef, expected eventstore.ExpectedVersion,
	ids, types []string, svs []int64, datas, metas []string) (eventstore.AppendResult, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, stream.String()); err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := insert(ctx, s.query(tx), stream, expected, ids, types, svs, datas, metas)
	if err != nil {
		return res, err
	}
	return res, tx.Commit()
}

// runAppend runs appendSQL with args.
type runAppend func(ctx context.Context, args ...any) (*sql.Rows, error)

// query runs the prepared append on the pool, or inside tx if not nil.
func (s *Store) query(tx *sql.Tx) runAppend {
	switch {
	case s.append != nil && tx != nil:
		return func(ctx context.Context, args ...any) (*sql.Rows, error) {
			return tx.StmtContext(ctx, s.append).QueryContext(ctx, args...)
		}
	case s.append != nil:
		return s.append.QueryContext
	case tx != nil:
		return func(ctx context.Context, args ...any) (*sql.Rows, error) {
			return tx.QueryContext(ctx, appendSQL, args...)
		}
	}
	return func(ctx context.Context, args ...any) (*sql.Rows, error) {
		return s.db.QueryContext(ctx, appendSQL, args...)
	}
}

func insert(ctx context.Context, query runAppend, stream eventstore.StreamRef, expected eventstore.ExpectedVersion,
	ids, types []string, svs []int64, datas, metas []string) (eventstore.AppendResult, error) {
	rows, err := query(ctx, stream.TenantID, stream.Type, stream.ID, int64(expected),
		pq.Array(ids), pq.Array(types), pq.Array(svs), pq.Array(datas), pq.Array(metas))
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	defer rows.Close()
	type landed struct {
		pos     eventstore.Position
		version int64
	}
	var got []landed
	for rows.Next() {
		var tx string
		var l landed
		if err := rows.Scan(&tx, &l.pos.Seq, &l.version); err != nil {
			return eventstore.AppendResult{}, err
		}
		if l.pos.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return eventstore.AppendResult{}, err
		}
		got = append(got, l)
	}
	if err := rows.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if len(got) == 0 {
		return eventstore.AppendResult{}, errNoRows
	}
	sort.Slice(got, func(i, j int) bool { return got[i].version < got[j].version })
	res := eventstore.AppendResult{FirstVersion: got[0].version, LastVersion: got[len(got)-1].version}
	for _, l := range got {
		res.Positions = append(res.Positions, l.pos)
	}
	return res, nil
}

// original looks for an earlier append of the same event ids. ok is true
// when all of them are stored, contiguously and in order, in this stream.
func (s *Store) original(ctx context.Context, stream eventstore.StreamRef, ids []string) (eventstore.AppendResult, bool, error) {
	var rows []struct {
		ID         string `db:"event_id"`
		TenantID   string `db:"tenant_id"`
		StreamType string `db:"stream_type"`
		StreamID   string `db:"stream_id"`
		Version    int64  `db:"version"`
		TxID       string `db:"tx_id"`
		Seq        int64  `db:"position"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT event_id::text, tenant_id, stream_type, stream_id, version, tx_id::text, position
		FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY version`, pq.Array(ids))
	if err != nil {
		return eventstore.AppendResult{}, false, fmt.Errorf("append to %s: look up retried ids: %w", stream, translate(err))
	}
	if len(rows) == 0 {
		return eventstore.AppendResult{}, false, nil
	}
	dup := fmt.Errorf("append to %s: %w", stream, eventstore.ErrDuplicateEvent)
	if len(rows) != len(ids) {
		return eventstore.AppendResult{}, false, dup
	}
	res := eventstore.AppendResult{FirstVersion: rows[0].Version, LastVersion: rows[len(rows)-1].Version, Duplicate: true}
	for i, r := range rows {
		if r.ID != ids[i] || r.TenantID != stream.TenantID || r.StreamType != stream.Type || r.StreamID != stream.ID ||
			r.Version != rows[0].Version+int64(i) {
			return eventstore.AppendResult{}, false, dup
		}
		tx, err := strconv.ParseUint(r.TxID, 10, 64)
		if err != nil {
			return eventstore.AppendResult{}, false, err
		}
		res.Positions = append(res.Positions, eventstore.Position{TxID: tx, Seq: r.Seq})
	}
	return res, true, nil
}

func (s *Store) version(ctx context.Context, stream eventstore.StreamRef) (int64, error) {
	var v int64
	err := s.db.GetContext(ctx, &v, `SELECT coalesce(max(version), 0) FROM events
		WHERE tenant_id = $1 AND stream_type = $2 AND stream_id = $3`, stream.TenantID, stream.Type, stream.ID)
	if err != nil {
		return 0, fmt.Errorf("version of %s: %w", stream, translate(err))
	}
	return v, nil
}

// selectEvent names the text form of tx_id tx_text: an output column named
// tx_id would capture "ORDER BY tx_id" and sort transaction ids as text.
const selectEvent = `SELECT position, tx_id::text AS tx_text, event_id::text AS event_id, tenant_id, stream_type, stream_id,
	version, event_type, schema_version, data, metadata, recorded_at FROM events`

// logPlan pins the plan of reads of the log to an ordered index scan. With
// statistics that lag the table (a fresh database, a bulk import) the
// planner believes a range holds a handful of rows and picks a bitmap scan
// plus a sort over everything after the position: every batch of a
// catch-up would then cost the whole remaining log, 7x slower at 200,000
// events. An ordered index scan costs the batch alone, whatever the stats.
const logPlan = `SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off`

// readLog runs a selectEvent query over the global log with logPlan, in a
// read-only transaction of its own (which takes no transaction id, so it
// holds nobody back).
func (s *Store) readLog(ctx context.Context, query string, args ...any) ([]eventstore.Event, error) {
	var evs []eventstore.Event
	err := s.inLogPlan(ctx, func(tx *sql.Tx) (err error) {
		evs, err = scanEvents(tx.QueryContext(ctx, query, args...))
		return err
	})
	return evs, err
}

// inLogPlan runs fn in a read-only transaction planned with logPlan.
func (s *Store) inLogPlan(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if _, err := tx.ExecContext(ctx, logPlan); err != nil {
		return err
	}
	return fn(tx)
}

// queryEvents runs a selectEvent query on the pool.
func (s *Store) queryEvents(ctx context.Context, query string, args ...any) ([]eventstore.Event, error) {
	return scanEvents(s.db.QueryContext(ctx, query, args...))
}

// scanEvents scans selectEvent rows straight into events (no reflection:
// this is every follower's hot path).
func scanEvents(rows *sql.Rows, err error) ([]eventstore.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []eventstore.Event
	for rows.Next() {
		var (
			e        eventstore.Event
			tx       string
			data     []byte
			metadata []byte
		)
		if err := rows.Scan(&e.Position.Seq, &tx, &e.ID, &e.TenantID, &e.StreamType, &e.StreamID, &e.Version,
			&e.Type, &e.SchemaVersion, &data, &metadata, &e.RecordedAt); err != nil {
			return nil, err
		}
		if e.Position.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return nil, fmt.Errorf("tx id %q: %w", tx, err)
		}
		e.Data = data
		if len(metadata) > 2 { // "{}" is the common empty case
			if err := json.Unmarshal(metadata, &e.Metadata); err != nil {
				return nil, fmt.Errorf("metadata of event %s: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream eventstore.StreamRef, from int64, limit int) ([]eventstore.Event, error) {
	if err := eventstore.ValidateStream(stream); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1000
	}
	evs, err := s.queryEvents(ctx, selectEvent+` WHERE tenant_id = $1 AND stream_type = $2 AND stream_id = $3
		AND version >= $4 ORDER BY version LIMIT $5`, stream.TenantID, stream.Type, stream.ID, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, translate(err))
	}
	return evs, nil
}

// fence keeps only rows no in-flight transaction can precede.
const fence = `tx_id < pg_snapshot_xmin(pg_current_snapshot())`

// filter renders q's conditions (fence included) and their arguments.
func filter(q eventstore.Query) (string, []any) {
	where := []string{`(tx_id, position) > ($1::text::xid8, $2)`, fence}
	args := []any{strconv.FormatUint(q.After.TxID, 10), q.After.Seq}
	if q.TenantID != "" {
		args = append(args, q.TenantID)
		where = append(where, fmt.Sprintf("tenant_id = $%d", len(args)))
	}
	if q.StreamType != "" {
		args = append(args, q.StreamType)
		where = append(where, fmt.Sprintf("stream_type = $%d", len(args)))
	}
	if len(q.Types) > 0 {
		args = append(args, pq.Array(q.Types))
		where = append(where, fmt.Sprintf("event_type = ANY($%d)", len(args)))
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	if q.Limit <= 0 {
		q.Limit = 500
	}
	where, args := filter(q)
	args = append(args, q.Limit)
	query := selectEvent + where + fmt.Sprintf(" ORDER BY events.tx_id, events.position LIMIT $%d", len(args))
	evs, err := s.readLog(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", q.After, translate(err))
	}
	return evs, nil
}

// Count returns how many events ReadAll could deliver for q (ignoring
// q.Limit), counting at most limit of them: consumers' lag.
func (s *Store) Count(ctx context.Context, q eventstore.Query, limit int64) (int64, error) {
	where, args := filter(q)
	args = append(args, limit)
	var n int64
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM (SELECT 1 FROM events`+where+
		fmt.Sprintf(" LIMIT $%d) counted", len(args)), args...)
	if err != nil {
		return 0, fmt.Errorf("count after %s: %w", q.After, translate(err))
	}
	return n, nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context, tenantID string) (eventstore.Position, error) {
	query := `SELECT tx_id::text, position FROM events WHERE ` + fence
	args := []any{}
	if tenantID != "" {
		query += ` AND tenant_id = $1`
		args = append(args, tenantID)
	}
	query += ` ORDER BY events.tx_id DESC, events.position DESC LIMIT 1`
	var tx string
	var p eventstore.Position
	err := s.inLogPlan(ctx, func(t *sql.Tx) error { return t.QueryRowContext(ctx, query, args...).Scan(&tx, &p.Seq) })
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("head: %w", translate(err))
	}
	if p.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
		return eventstore.Position{}, err
	}
	return p, nil
}

// OldestTransactionAge returns how long the oldest transaction holding a
// transaction id has been open anywhere in the cluster. Such a transaction
// holds back delivery of every later event, so it is exported as a metric.
func (s *Store) OldestTransactionAge(ctx context.Context) (time.Duration, error) {
	var secs float64
	err := s.db.GetContext(ctx, &secs, `SELECT coalesce(extract(epoch FROM now() - min(xact_start)), 0)::float8
		FROM pg_stat_activity WHERE backend_xid IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("oldest transaction: %w", err)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// translate turns driver errors that callers can act on into store errors.
func translate(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "22": // data exception: bad JSON, NUL characters, out of range
			return &eventstore.InvalidError{Field: "input", Reason: pqErr.Message}
		}
	}
	return err
}
