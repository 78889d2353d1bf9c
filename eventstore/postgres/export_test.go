package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/eventstore"
)

// ErrNotFirstWrite is returned by AppendInTx when tx already holds a
// transaction id: its events could then sort ahead of an older event of the
// same stream.
var ErrNotFirstWrite = errors.New("append must be the first write of its transaction")

// AppendInTx runs the append statement inside tx, so tests can hold
// appends open, commit them out of order or roll them back. It refuses to
// run as anything but tx's first write, the rule Append keeps by running
// as its own transaction. When the stream is not at the expected version,
// or a concurrent append took the version first, it returns an error
// matching eventstore.ErrVersionConflict (tx is then unusable).
func AppendInTx(ctx context.Context, tx *sql.Tx, stream eventstore.StreamRef, expected eventstore.ExpectedVersion, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	var first bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_current_xact_id_if_assigned() IS NULL`).Scan(&first); err != nil {
		return eventstore.AppendResult{}, err
	}
	if !first {
		return eventstore.AppendResult{}, ErrNotFirstWrite
	}
	b, err := columns(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	unprepared := &Store{append: &prepared{query: appendSQL}}
	res, err := unprepared.insert(ctx, tx, []part{{stream: stream, expected: expected, b: b}})
	var pqErr *pq.Error
	if errors.Is(err, errNoRows) || errors.As(err, &pqErr) && pqErr.Constraint == "events_stream_version_key" {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, eventstore.ErrVersionConflict)
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return res[0], nil
}

// oneStreamArgs are multiArgs for one event of stream s1 of tenant t.
const oneStreamArgs = `('{t}', '{ticket}', '{s1}', '{-1}', '{0}', '{1}', '{1}', ` +
	`'{00000000-0000-0000-0000-000000000001}', '{x}', '{1}', '{"{}"}', '{"{}"}', '{""}')`

// Statements are the store's prepared statements that find a stream's
// events, with arguments for EXPLAIN EXECUTE: one stream of tenant t.
var Statements = []struct{ Name, SQL, Args string }{
	{"append", appendSQL, `('t', 'ticket', 's1', -1, '{}', '{}', '{}', '{}', '{}', '{}')`},
	{"multi", multiSQL, oneStreamArgs},
	{"group", groupSQL, oneStreamArgs},
	{"version", `SELECT ` + streamVersionSQL, `('t', 'ticket', 's1')`},
	{"read stream", readStreamSQL, `('t', 'ticket', 's1', 1, 100)`},
	{"read streams", readStreamsSQL, `('{t}', '{ticket}', '{s1}', '{1}', 100)`},
}

// ReadStreamsSQL is ReadStreams's prepared statement.
const ReadStreamsSQL = readStreamsSQL
