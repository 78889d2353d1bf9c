package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/eventdesk/eventdesk/eventstore"
)

// ErrNotFirstWrite is returned by AppendInTx when tx already holds a
// transaction id: its events could then sort ahead of an older event of the
// same stream.
var ErrNotFirstWrite = errors.New("append must be the first write of its transaction")

// AppendInTx runs the append statement inside tx, so tests can hold
// appends open, commit them out of order or roll them back. It refuses to
// run as anything but tx's first write, the rule Append keeps by running
// as its own transaction.
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
	res, err := unprepared.insert(ctx, tx, stream, expected, b)
	if errors.Is(err, errNoRows) {
		return res, eventstore.ErrVersionConflict
	}
	return res, err
}

// Statements are the store's prepared statements that find a stream's
// events, with arguments for EXPLAIN EXECUTE: one stream of tenant t.
var Statements = []struct{ Name, SQL, Args string }{
	{"append", appendSQL, `('t', 'ticket', 's1', -1, '{}', '{}', '{}', '{}', '{}', '{}')`},
	{"group", groupSQL, `('{t}', '{ticket}', '{s1}', '{-1}', '{1}', '{1}', ` +
		`'{00000000-0000-0000-0000-000000000001}', '{x}', '{1}', '{"{}"}', '{"{}"}', '{""}')`},
	{"version", `SELECT ` + streamVersionSQL, `('t', 'ticket', 's1')`},
	{"read stream", readStreamSQL, `('t', 'ticket', 's1', 1, 100)`},
}

// TenantFeed is ReadAll's query for one tenant's events after the start,
// prepared as is, and the arguments of an EXECUTE of it.
var TenantFeed = struct{ SQL, Args string }{
	SQL:  func() string { q, _ := readAllSQL(eventstore.Query{TenantID: "t", Limit: 100}); return q }(),
	Args: `('0', 0, 't', 100)`,
}

// LogPlan is the planner settings readLog runs log queries under.
const LogPlan = logPlan
