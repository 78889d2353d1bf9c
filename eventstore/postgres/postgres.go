// Package postgres is the PostgreSQL implementation of eventstore.Store,
// with durable checkpointed consumers and LISTEN/NOTIFY wake-ups.
//
// Ordering. Every row stores the id of the transaction that wrote it
// (pg_current_xact_id()). Readers only return rows whose transaction id is
// below the xmin of their own snapshot and order them by (tx_id, position):
// a transaction that could still commit holds delivery back instead of
// being skipped. An append, to one stream or to several (AppendStreams),
// is one INSERT statement run as its own transaction, so its transaction
// id is taken by the insert itself, after the previous version of each of
// its streams committed; that keeps each stream's events in version order
// in the global log. A statement that appends to several streams inserts
// them in one order of streams, the same for every statement, so two of
// them cannot deadlock on each other's new versions.
//
// Group commit. With WithGroupCommit, concurrent appends to different
// streams share one statement and one commit (see group.go); every
// guarantee above holds unchanged.
//
// Keys. An event may claim a key (eventstore.EventData.Key), unique per
// tenant and stream type; a partial unique index enforces it and Lookup
// reads it.
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
	db          *sqlx.DB
	append      *prepared
	readStream  *prepared
	readStreams *prepared
	lookup      *prepared
	multi       *prepared
	group       *prepared
	readLog     *prepared
	head        *prepared
	// groups feeds the group writers (nil without WithGroupCommit).
	groups       chan *groupAppend
	groupWriters int
	log          *slog.Logger
	local        eventstore.Broadcaster
	notify       chan struct{}
	done         chan struct{}
	wg           sync.WaitGroup
	close        sync.Once
}

// New returns a store over db, which must be migrated. log may be nil.
func New(db *sqlx.DB, log *slog.Logger, opts ...Option) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, log: log, notify: make(chan struct{}, 1), done: make(chan struct{})}
	// The hot statements are parsed and planned once per connection, and
	// each then costs one round trip (lib/pq sends an unprepared query with
	// arguments in two).
	s.append = prepare(db, log, "append", appendSQL)
	s.readStream = prepare(db, log, "read stream", readStreamSQL)
	s.readStreams = prepare(db, log, "read streams", readStreamsSQL)
	s.lookup = prepare(db, log, "lookup", lookupSQL)
	s.multi = prepare(db, log, "multi-stream append", multiSQL)
	s.readLog = prepare(db, log, "read log", readLogSQL)
	s.head = prepare(db, log, "head", headSQL)
	for _, o := range opts {
		o(s)
	}
	if s.groups != nil {
		s.group = prepare(db, log, "group append", groupSQL)
		for range s.groupWriters {
			s.wg.Add(1)
			go s.groupWriter()
		}
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
	err := errors.Join(s.append.close(), s.readStream.close(), s.readStreams.close(), s.lookup.close(), s.multi.close(),
		s.readLog.close(), s.head.close())
	if s.group != nil {
		err = errors.Join(err, s.group.close())
	}
	return err
}

// prepared is a statement prepared on every pool connection that runs it,
// or run unprepared if preparing failed (say, before migrations ran).
type prepared struct {
	query string
	stmt  *sql.Stmt
	db    *sqlx.DB
}

func prepare(db *sqlx.DB, log *slog.Logger, name, query string) *prepared {
	p := &prepared{query: query, db: db}
	var err error
	if p.stmt, err = db.Prepare(query); err != nil {
		log.Warn("prepare "+name+"; it will be planned on every call", "err", err)
	}
	return p
}

// run queries on the pool, or inside tx if not nil.
func (p *prepared) run(ctx context.Context, tx *sql.Tx, args ...any) (*sql.Rows, error) {
	switch {
	case p.stmt != nil && tx != nil:
		return tx.StmtContext(ctx, p.stmt).QueryContext(ctx, args...)
	case p.stmt != nil:
		return p.stmt.QueryContext(ctx, args...)
	case tx != nil:
		return tx.QueryContext(ctx, p.query, args...)
	}
	return p.db.QueryContext(ctx, p.query, args...)
}

func (p *prepared) close() error {
	if p.stmt == nil {
		return nil
	}
	return p.stmt.Close()
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

// streamVersion is the SQL expression for a stream's current version, 0
// if it has no events, with the stream named by the SQL expressions
// tenant, streamType and id (parameters, or columns of an outer query).
// Prepared statements keep a generic plan priced once, possibly on a
// young table without statistics: written as ORDER BY ... LIMIT 1, not
// max(version), the lookup is one that only the stream's own index serves
// without a sort, and the tenant feed's index cannot serve it at all
// (migration 00007). TestGenericPlans checks the plans.
func streamVersion(tenant, streamType, id string) string {
	return `coalesce((SELECT version FROM events WHERE tenant_id = ` + tenant + ` AND stream_type = ` + streamType +
		` AND stream_id = ` + id + ` ORDER BY version DESC LIMIT 1), 0)`
}

// streamVersionSQL is streamVersion of the stream in parameters $1-$3.
var streamVersionSQL = streamVersion("$1", "$2", "$3")

var appendSQL = `
WITH cur AS (SELECT ` + streamVersionSQL + ` AS v)
INSERT INTO events (event_id, tenant_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, unique_key)
SELECT e.id, $1, $2, $3, cur.v + e.ord, e.typ, e.sv, e.data::jsonb, e.meta::jsonb, nullif(e.key, '')
FROM cur, unnest($5::uuid[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY AS e(id, typ, sv, data, meta, key, ord)
WHERE $4::bigint < 0 OR cur.v = $4::bigint
ORDER BY e.ord
RETURNING event_id::text, tx_id::text, position, version`

// maxAnyRetries bounds how often an append retries after losing a race it
// can win on another try (an Any append's next version, a winner that
// rolled back).
const maxAnyRetries = 100

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream eventstore.StreamRef, expected eventstore.ExpectedVersion, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	b, err := columns(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := s.write(ctx, []part{{stream: stream, expected: expected, b: b}})
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return res[0], nil
}

// AppendStreams implements eventstore.Store. The parts are one statement,
// run as its own transaction: a unique violation or an expected version
// that does not hold on any stream leaves nothing behind.
func (s *Store) AppendStreams(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppendStreams(appends); err != nil {
		return nil, err
	}
	parts := make([]part, len(appends))
	for i, a := range appends {
		b, err := columns(a.Events)
		if err != nil {
			return nil, fmt.Errorf("appends[%d]: %w", i, err)
		}
		parts[i] = part{stream: a.Stream, expected: a.Expected, b: b}
	}
	return s.write(ctx, parts)
}

// part is one stream's share of an append.
type part struct {
	stream   eventstore.StreamRef
	expected eventstore.ExpectedVersion
	b        batch
}

// isCheck reports whether p is a check: a part without events, which only
// states its stream's version.
func (p part) isCheck() bool { return len(p.b.ids) == 0 }

// target names the streams of parts in errors.
func target(parts []part) string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.stream.String()
	}
	return strings.Join(names, ", ")
}

// write appends validated parts, all or nothing, through the group
// writers when there are some.
func (s *Store) write(ctx context.Context, parts []part) ([]eventstore.AppendResult, error) {
	if s.groups != nil {
		return s.appendGrouped(ctx, parts)
	}
	return s.appendAlone(ctx, parts)
}

// appendAlone appends parts in a statement of their own, settling
// conflicts, retries and races.
func (s *Store) appendAlone(ctx context.Context, parts []part) ([]eventstore.AppendResult, error) {
	for attempt := 0; ; attempt++ {
		var res []eventstore.AppendResult
		var err error
		if attempt == 0 {
			res, err = s.insert(ctx, nil, parts)
		} else {
			res, err = s.insertLocked(ctx, parts)
		}
		if err == nil {
			s.committed()
			return res, nil
		}
		var pqErr *pq.Error
		isPQ := errors.As(err, &pqErr)
		raced := isPQ && pqErr.Code == "23505"
		// Inserts follow one order of streams (multiSQL), so only two
		// appends claiming keys crosswise can wait on each other; the
		// server then ends one of them, which tries again.
		deadlocked := isPQ && pqErr.Code == "40P01"
		if !raced && !deadlocked && !errors.Is(err, errNoRows) {
			return nil, fmt.Errorf("append to %s: %w", target(parts), translate(err))
		}
		// Either an expected version did not hold or a unique index was
		// hit. A retry of an append that already landed looks exactly like
		// that, so check for it first.
		if res, ok, err := s.original(ctx, parts); err != nil || ok {
			return res, err
		}
		again := attempt < maxAnyRetries
		switch {
		case deadlocked && again:
			continue
		case raced && pqErr.Constraint == "events_event_id_key" && again:
			continue // our ids are not stored now, so the concurrent owner rolled back
		case raced && pqErr.Constraint == "events_unique_key":
			if err := s.keyTaken(ctx, parts); err != nil {
				return nil, err
			}
			if again {
				continue // the claim we hit rolled back; try again
			}
			return nil, fmt.Errorf("append to %s: %w", target(parts), translate(err))
		}
		conflict, err := s.conflict(ctx, parts)
		switch {
		case err != nil:
			return nil, err
		case conflict != nil:
			return nil, conflict
		case again:
			// Every expectation holds now: an Any part lost the race for
			// its next version, the winner of a race rolled back, or an
			// append committed after our statement's snapshot was taken.
			continue
		}
		// Still losing races after all those attempts: report the first
		// stream as modified concurrently.
		actual, err := s.version(ctx, parts[0].stream)
		if err != nil {
			return nil, err
		}
		return nil, &eventstore.VersionConflictError{Stream: parts[0].stream, Expected: parts[0].expected, Actual: actual}
	}
}

var errNoRows = errors.New("expected version did not hold")

// conflict returns a *VersionConflictError for the first part whose
// stream is not at its expected version, nil if every expectation holds.
func (s *Store) conflict(ctx context.Context, parts []part) (*eventstore.VersionConflictError, error) {
	for _, p := range parts {
		if p.expected == eventstore.Any {
			continue
		}
		actual, err := s.version(ctx, p.stream)
		if err != nil {
			return nil, err
		}
		if actual != int64(p.expected) {
			return &eventstore.VersionConflictError{Stream: p.stream, Expected: p.expected, Actual: actual}, nil
		}
	}
	return nil, nil
}

// keyTaken reports a key of parts that a stream holds, as a
// *KeyTakenError naming the part's stream; nil if none does any more (the
// claim we hit rolled back).
func (s *Store) keyTaken(ctx context.Context, parts []part) error {
	for _, p := range parts {
		for _, k := range p.b.keys {
			if k == "" {
				continue
			}
			if _, ok, err := s.Lookup(ctx, p.stream.TenantID, p.stream.Type, k); err != nil || ok {
				if err == nil {
					err = &eventstore.KeyTakenError{Stream: p.stream, Key: k}
				}
				return fmt.Errorf("append to %s: %w", p.stream, err)
			}
		}
	}
	return nil
}

// batch holds an append's events as the parallel arrays appendSQL
// unnests.
type batch struct {
	ids, types, datas, metas, keys []string
	svs                            []int64
}

func columns(events []eventstore.EventData) (batch, error) {
	n := len(events)
	b := batch{ids: make([]string, n), types: make([]string, n), datas: make([]string, n), metas: make([]string, n),
		keys: make([]string, n), svs: make([]int64, n)}
	for i, e := range events {
		b.ids[i], b.types[i], b.datas[i], b.keys[i] = strings.ToLower(e.ID), e.Type, string(e.Data), e.Key
		b.svs[i] = int64(max(e.SchemaVersion, 1))
		m, err := json.Marshal(e.Metadata)
		if err != nil {
			return batch{}, &eventstore.InvalidError{Field: fmt.Sprintf("events[%d].metadata", i), Reason: err.Error()}
		}
		b.metas[i] = string(m)
	}
	return b, nil
}

// lockStreamsSQL takes the transaction-scoped advisory locks of the
// streams in $1, in one order (of their hashes) for every caller, so that
// contended appends to several streams cannot deadlock on them.
const lockStreamsSQL = `SELECT count(pg_advisory_xact_lock(h))
	FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS locks`

// insertLocked is the contended path: it queues behind other contended
// appends to the same streams on transaction-scoped advisory locks, so a
// hot stream's writers take turns instead of retrying in a herd. A lock
// is no write, so the insert is still the transaction's first write.
func (s *Store) insertLocked(ctx context.Context, parts []part) ([]eventstore.AppendResult, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	keys := make([]string, len(parts))
	for i, p := range parts {
		keys[i] = p.stream.String()
	}
	if _, err := tx.ExecContext(ctx, lockStreamsSQL, pq.Array(keys)); err != nil {
		return nil, err
	}
	res, err := s.insert(ctx, tx, parts)
	if err != nil {
		return nil, err
	}
	return res, tx.Commit()
}

// insert runs the append statement for parts (appendSQL for one stream,
// multiSQL for several) on the pool, or inside tx if not nil. It returns
// errNoRows when an expected version did not hold.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, parts []part) ([]eventstore.AppendResult, error) {
	var rows *sql.Rows
	var err error
	if len(parts) == 1 {
		p := parts[0]
		rows, err = s.append.run(ctx, tx, p.stream.TenantID, p.stream.Type, p.stream.ID, int64(p.expected),
			pq.Array(p.b.ids), pq.Array(p.b.types), pq.Array(p.b.svs), pq.Array(p.b.datas), pq.Array(p.b.metas), pq.Array(p.b.keys))
	} else {
		rows, err = s.multi.run(ctx, tx, multiArgs([][]part{parts})...)
	}
	if err != nil {
		return nil, err
	}
	landed, err := scanLanded(rows)
	if err != nil {
		return nil, err
	}
	res, ok := results(parts, landed)
	if !ok {
		return nil, errNoRows
	}
	return res, nil
}

// original looks for an earlier append of the same event ids. ok is true
// when all of them are stored, each part's contiguously and in order in
// its stream.
func (s *Store) original(ctx context.Context, parts []part) ([]eventstore.AppendResult, bool, error) {
	var ids []string
	for _, p := range parts {
		ids = append(ids, p.b.ids...)
	}
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
		FROM events WHERE event_id = ANY($1::uuid[])`, pq.Array(ids))
	if err != nil {
		return nil, false, fmt.Errorf("append to %s: look up retried ids: %w", target(parts), translate(err))
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	dup := fmt.Errorf("append to %s: %w", target(parts), eventstore.ErrDuplicateEvent)
	if len(rows) != len(ids) {
		return nil, false, dup
	}
	byID := make(map[string]int, len(rows))
	for i, r := range rows {
		byID[r.ID] = i
	}
	res := make([]eventstore.AppendResult, len(parts))
	for i, p := range parts {
		if p.isCheck() { // it held when the original landed
			res[i] = checkResult(p)
			res[i].Duplicate = true
			continue
		}
		for j, id := range p.b.ids {
			r := rows[byID[id]]
			if j == 0 {
				res[i] = eventstore.AppendResult{FirstVersion: r.Version, Duplicate: true}
			}
			if r.TenantID != p.stream.TenantID || r.StreamType != p.stream.Type || r.StreamID != p.stream.ID ||
				r.Version != res[i].FirstVersion+int64(j) {
				return nil, false, dup
			}
			tx, err := strconv.ParseUint(r.TxID, 10, 64)
			if err != nil {
				return nil, false, err
			}
			res[i].LastVersion = r.Version
			res[i].Positions = append(res[i].Positions, eventstore.Position{TxID: tx, Seq: r.Seq})
		}
	}
	return res, true, nil
}

func (s *Store) version(ctx context.Context, stream eventstore.StreamRef) (int64, error) {
	var v int64
	err := s.db.GetContext(ctx, &v, `SELECT `+streamVersionSQL, stream.TenantID, stream.Type, stream.ID)
	if err != nil {
		return 0, fmt.Errorf("version of %s: %w", stream, translate(err))
	}
	return v, nil
}

// selectEvent names the text form of tx_id tx_text: an output column named
// tx_id would capture "ORDER BY tx_id" and sort transaction ids as text.
const selectEvent = `SELECT position, tx_id::text AS tx_text, event_id::text AS event_id, tenant_id, stream_type, stream_id,
	version, event_type, schema_version, data, metadata, coalesce(unique_key, ''), recorded_at FROM events`

// readLogSQL reads a batch of the global log through eventdesk_read_log
// (migration 00019), which pins its plan to an ordered index scan whatever
// the statistics say: with lagging ones (a fresh database, a bulk import)
// the planner would pick a bitmap scan plus a sort of the whole rest of
// the log, and every batch of a catch-up would cost the remaining log.
// Arguments: after (transaction id as text, sequence), tenant, stream type
// and event types (NULL for any), limit. The rows come in the order the
// function returned them, log order: a function scan reads its result
// back as it was written.
var readLogSQL = strings.TrimSuffix(selectEvent, "events") +
	`eventdesk_read_log($1::text::xid8, $2, $3, $4, $5, $6) AS events`

// headSQL is Head's query: the last event no in-flight transaction can
// precede, of tenant $1 (NULL: of all), through eventdesk_log_head.
const headSQL = `SELECT head_tx::text, head_position FROM eventdesk_log_head($1)`

// nullable passes "" as NULL.
func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

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
			&e.Type, &e.SchemaVersion, &data, &metadata, &e.Key, &e.RecordedAt); err != nil {
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
	evs, err := scanEvents(s.readStream.run(ctx, nil, stream.TenantID, stream.Type, stream.ID, from, limit))
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, translate(err))
	}
	return evs, nil
}

// ReadStreams implements eventstore.Store: one statement, each stream's
// events read through the stream index by a lateral subquery.
func (s *Store) ReadStreams(ctx context.Context, reads []eventstore.StreamRead, limit int) ([][]eventstore.Event, error) {
	if limit <= 0 {
		limit = 1000
	}
	index := make(map[eventstore.StreamRef]int, len(reads))
	tenants, types, ids, froms := make([]string, len(reads)), make([]string, len(reads)), make([]string, len(reads)), make([]int64, len(reads))
	for i, r := range reads {
		if err := eventstore.ValidateStream(r.Stream); err != nil {
			return nil, fmt.Errorf("reads[%d]: %w", i, err)
		}
		if _, dup := index[r.Stream]; dup {
			return nil, &eventstore.InvalidError{Field: fmt.Sprintf("reads[%d]", i), Reason: fmt.Sprintf("stream %s is read twice", r.Stream)}
		}
		index[r.Stream] = i
		tenants[i], types[i], ids[i], froms[i] = r.Stream.TenantID, r.Stream.Type, r.Stream.ID, r.From
	}
	out := make([][]eventstore.Event, len(reads))
	if len(reads) == 0 {
		return out, nil
	}
	evs, err := scanEvents(s.readStreams.run(ctx, nil, pq.Array(tenants), pq.Array(types), pq.Array(ids), pq.Array(froms), limit))
	if err != nil {
		return nil, fmt.Errorf("read %d streams: %w", len(reads), translate(err))
	}
	for _, e := range evs {
		i := index[e.Stream()]
		out[i] = append(out[i], e)
	}
	return out, nil
}

// readStreamsSQL reads each stream of the arrays as readStreamSQL does;
// rows come stream by stream in version order.
const readStreamsSQL = `SELECT e.* FROM eventdesk_stream_reads($1::text[], $2::text[], $3::text[], $4::bigint[]) r
	CROSS JOIN LATERAL (` + selectEvent + ` e WHERE e.tenant_id = r.tenant_id AND e.stream_type = r.stream_type
		AND e.stream_id = r.stream_id AND e.version >= r.from_version ORDER BY e.version LIMIT $5) e
	ORDER BY r.ord, e.version`

const readStreamSQL = selectEvent + ` WHERE tenant_id = $1 AND stream_type = $2 AND stream_id = $3
	AND version >= $4 ORDER BY version LIMIT $5`

// Lookup implements eventstore.Store.
func (s *Store) Lookup(ctx context.Context, tenantID, streamType, key string) (string, bool, error) {
	if err := eventstore.ValidateStreamType(tenantID, streamType); err != nil {
		return "", false, err
	}
	if key == "" || len(key) > eventstore.MaxKeyLength {
		return "", false, nil // no stream can hold it
	}
	rows, err := s.lookup.run(ctx, nil, tenantID, streamType, key)
	if err != nil {
		return "", false, fmt.Errorf("look up key %q of %s streams: %w", key, streamType, translate(err))
	}
	defer rows.Close()
	var id string
	if !rows.Next() {
		return "", false, translate(rows.Err())
	}
	if err := rows.Scan(&id); err != nil {
		return "", false, err
	}
	return id, true, rows.Err()
}

const lookupSQL = `SELECT stream_id FROM events WHERE tenant_id = $1 AND stream_type = $2 AND unique_key = $3`

// tenantKey is how a query over the log names its tenant to reach the
// tenant feed's index, which is keyed on tenant_id COLLATE "C" so that no
// lookup of one stream can choose it (migration 00007).
const tenantKey = `(tenant_id COLLATE "C")`

// fence keeps only rows no in-flight transaction can precede.
const fence = `tx_id < pg_snapshot_xmin(pg_current_snapshot())`

// filter renders q's conditions (fence included) and their arguments.
func filter(q eventstore.Query) (string, []any) {
	where := []string{`(tx_id, position) > ($1::text::xid8, $2)`, fence}
	args := []any{strconv.FormatUint(q.After.TxID, 10), q.After.Seq}
	if q.StreamID != "" { // the stream's index: tenant_id in its own collation
		args = append(args, q.TenantID, q.StreamID)
		where = append(where, fmt.Sprintf("tenant_id = $%d AND stream_id = $%d", len(args)-1, len(args)))
	} else if q.TenantID != "" {
		args = append(args, q.TenantID)
		where = append(where, fmt.Sprintf("%s = $%d", tenantKey, len(args)))
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
	if q.StreamID != "" {
		if err := eventstore.ValidateStream(eventstore.StreamRef{TenantID: q.TenantID, Type: q.StreamType, ID: q.StreamID}); err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		// One stream: its rows through the stream index, then sorted into
		// log order (which a multi-stream append may make differ from
		// version order), not the ordered walk of the whole log.
		query, args := readAllSQL(q)
		evs, err := scanEvents(s.db.QueryContext(ctx, query, args...))
		if err != nil {
			return nil, fmt.Errorf("read %s/%s/%s after %s: %w", q.TenantID, q.StreamType, q.StreamID, q.After, translate(err))
		}
		return evs, nil
	}
	var types any // NULL: any type
	if len(q.Types) > 0 {
		types = pq.Array(q.Types)
	}
	evs, err := scanEvents(s.readLog.run(ctx, nil, strconv.FormatUint(q.After.TxID, 10), q.After.Seq,
		nullable(q.TenantID), nullable(q.StreamType), types, q.Limit))
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", q.After, translate(err))
	}
	return evs, nil
}

// readAllSQL is ReadAll's query for q, a read of one stream, and its
// arguments.
func readAllSQL(q eventstore.Query) (string, []any) {
	where, args := filter(q)
	args = append(args, q.Limit)
	return selectEvent + where + fmt.Sprintf(" ORDER BY events.tx_id, events.position LIMIT $%d", len(args)), args
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
	rows, err := s.head.run(ctx, nil, nullable(tenantID))
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("head: %w", translate(err))
	}
	defer rows.Close()
	var p eventstore.Position
	if rows.Next() {
		var tx string
		if err := rows.Scan(&tx, &p.Seq); err != nil {
			return eventstore.Position{}, fmt.Errorf("head: %w", err)
		}
		if p.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return eventstore.Position{}, fmt.Errorf("head: tx id %q: %w", tx, err)
		}
	}
	if err := rows.Err(); err != nil {
		return eventstore.Position{}, fmt.Errorf("head: %w", translate(err))
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
