package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Option tunes a Store.
type Option func(*Store)

// WithGroupCommit lets up to n appends to different streams that arrive
// while earlier ones are being written share one INSERT and one commit
// (group commit): under concurrency each commit — its round trip, its WAL
// flush, its transaction — is paid once per group instead of once per
// append. n is how many groups are written at once. An append that finds
// a writer idle is written at once, alone, so nothing waits for company.
//
// Every guarantee of Append holds unchanged. A group is one statement run
// as its own transaction, so its appends keep the first-write rule and
// land in one transaction, each stream's events contiguous and in version
// order. Whatever a group cannot settle on its own — an expected version
// that did not hold, a retried or reused event id, a claimed key, a second
// append to a stream already in the group, any error — sends the appends
// concerned back to the one-by-one path, which decides them exactly as
// without grouping.
func WithGroupCommit(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.groups = make(chan *groupAppend)
			s.groupWriters = n
		}
	}
}

// Group limits: appends per group, and events per group.
const (
	maxGroupAppends = 64
	maxGroupEvents  = eventstore.MaxEventsPerAppend
)

// groupTimeout bounds a group's statement; it runs for many callers, so it
// follows none of their contexts.
const groupTimeout = 30 * time.Second

// groupAppend is one caller's append waiting for its group.
type groupAppend struct {
	ctx      context.Context
	stream   eventstore.StreamRef
	expected eventstore.ExpectedVersion
	b        batch
	done     chan groupResult // buffered: the writer never blocks on it
}

// groupResult is a group's answer to one append. alone means the group
// did not settle it: the caller appends it one by one.
type groupResult struct {
	res   eventstore.AppendResult
	alone bool
}

// appendGrouped hands an append to the group writers and waits for its
// result, appending alone when the group could not settle it.
func (s *Store) appendGrouped(ctx context.Context, stream eventstore.StreamRef, expected eventstore.ExpectedVersion, b batch) (eventstore.AppendResult, error) {
	a := &groupAppend{ctx: ctx, stream: stream, expected: expected, b: b, done: make(chan groupResult, 1)}
	select {
	case s.groups <- a:
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	case <-s.done:
		return s.appendAlone(ctx, stream, expected, b)
	}
	select {
	case r := <-a.done:
		if r.alone {
			return s.appendAlone(ctx, stream, expected, b)
		}
		return r.res, nil
	case <-ctx.Done():
		// The group may still land it, as a cancelled statement may have
		// committed: the caller cannot tell, as without grouping.
		return eventstore.AppendResult{}, ctx.Err()
	}
}

// groupWriter takes the first waiting append, adds every other one that is
// already waiting (up to the limits) and writes them as one group.
func (s *Store) groupWriter() {
	defer s.wg.Done()
	for {
		var first *groupAppend
		select {
		case <-s.done:
			return
		case first = <-s.groups:
		}
		group := []*groupAppend{first}
		streams := map[eventstore.StreamRef]bool{first.stream: true}
		events := len(first.b.ids)
	gather:
		for len(group) < maxGroupAppends {
			select {
			case a := <-s.groups:
				if streams[a.stream] || events+len(a.b.ids) > maxGroupEvents {
					a.done <- groupResult{alone: true}
					continue
				}
				streams[a.stream] = true
				events += len(a.b.ids)
				group = append(group, a)
			default:
				break gather
			}
		}
		s.writeGroup(group)
	}
}

// groupSQL is appendSQL for many streams at once: each request's expected
// version is checked against its own stream, and only the requests whose
// check holds are inserted.
var groupSQL = `
WITH req AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS r(tenant, stype, sid, expected, idx)
), cur AS (
	SELECT r.idx, r.tenant, r.stype, r.sid, r.expected,
		` + streamVersion("r.tenant", "r.stype", "r.sid") + ` AS v
	FROM req r
)
INSERT INTO events (event_id, tenant_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, unique_key)
SELECT e.id, c.tenant, c.stype, c.sid, c.v + e.ord, e.typ, e.sv, e.data::jsonb, e.meta::jsonb, nullif(e.key, '')
FROM unnest($5::bigint[], $6::bigint[], $7::uuid[], $8::text[], $9::int[], $10::text[], $11::text[], $12::text[])
	AS e(req, ord, id, typ, sv, data, meta, key)
JOIN cur c ON c.idx = e.req
WHERE c.expected < 0 OR c.v = c.expected
ORDER BY e.req, e.ord
RETURNING event_id::text, tx_id::text, position, version`

// writeGroup writes group in one statement and tells each append its
// result.
func (s *Store) writeGroup(group []*groupAppend) {
	live := group[:0]
	for _, a := range group {
		if a.ctx.Err() != nil {
			a.done <- groupResult{alone: true} // its caller has gone; it returns ctx.Err()
			continue
		}
		live = append(live, a)
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 {
		// No company: the plain statement. The writer still writes it,
		// so that appends arriving meanwhile queue up for the next group.
		a := live[0]
		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		res, err := s.insert(ctx, nil, a.stream, a.expected, a.b)
		cancel()
		if err == nil {
			s.committed()
		}
		a.done <- groupResult{res: res, alone: err != nil}
		return
	}
	landed, err := s.insertGroup(live)
	if err != nil {
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) {
			s.log.Warn("group append failed; appending one by one", "appends", len(live), "err", err)
		}
		for _, a := range live {
			a.done <- groupResult{alone: true}
		}
		return
	}
	if len(landed) > 0 {
		s.committed()
	}
	for _, a := range live {
		rows := make([]landedEvent, 0, len(a.b.ids))
		for _, id := range a.b.ids {
			if l, ok := landed[id]; ok {
				rows = append(rows, l)
			}
		}
		if len(rows) != len(a.b.ids) {
			a.done <- groupResult{alone: true} // its expected version did not hold
			continue
		}
		a.done <- groupResult{res: result(rows)}
	}
}

// landedEvent is where one appended event landed.
type landedEvent struct {
	pos     eventstore.Position
	version int64
}

// result orders landed events by version into an AppendResult.
func result(rows []landedEvent) eventstore.AppendResult {
	sort.Slice(rows, func(i, j int) bool { return rows[i].version < rows[j].version })
	res := eventstore.AppendResult{FirstVersion: rows[0].version, LastVersion: rows[len(rows)-1].version}
	for _, l := range rows {
		res.Positions = append(res.Positions, l.pos)
	}
	return res
}

// insertGroup runs groupSQL and returns where each event id landed.
func (s *Store) insertGroup(group []*groupAppend) (map[string]landedEvent, error) {
	var (
		tenants, types, ids                   []string
		expected                              []int64
		reqs, ords, svs                       []int64
		evTypes, datas, metas, keys, streamID []string
	)
	for i, a := range group {
		tenants, types, streamID = append(tenants, a.stream.TenantID), append(types, a.stream.Type), append(streamID, a.stream.ID)
		expected = append(expected, int64(a.expected))
		for j := range a.b.ids {
			reqs, ords = append(reqs, int64(i+1)), append(ords, int64(j+1))
			ids, evTypes, svs = append(ids, a.b.ids[j]), append(evTypes, a.b.types[j]), append(svs, a.b.svs[j])
			datas, metas, keys = append(datas, a.b.datas[j]), append(metas, a.b.metas[j]), append(keys, a.b.keys[j])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	rows, err := s.group.run(ctx, nil, pq.Array(tenants), pq.Array(types), pq.Array(streamID), pq.Array(expected),
		pq.Array(reqs), pq.Array(ords), pq.Array(ids), pq.Array(evTypes), pq.Array(svs), pq.Array(datas), pq.Array(metas), pq.Array(keys))
	if err != nil {
		return nil, err
	}
	return scanLanded(rows)
}

// scanLanded reads the rows an append statement returns (event id,
// transaction id, position, version) into where each event id landed,
// and closes them.
func scanLanded(rows *sql.Rows) (map[string]landedEvent, error) {
	defer rows.Close()
	landed := map[string]landedEvent{}
	for rows.Next() {
		var id, tx string
		var l landedEvent
		if err := rows.Scan(&id, &tx, &l.pos.Seq, &l.version); err != nil {
			return nil, err
		}
		var err error
		if l.pos.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return nil, fmt.Errorf("tx id %q: %w", tx, err)
		}
		landed[id] = l
	}
	return landed, rows.Err()
}
