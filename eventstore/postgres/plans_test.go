package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// TestGenericPlans: prepared statements keep a generic plan, priced once
// on the table as it is then — possibly young, never analysed (as where
// autovacuum is off). Planned so at several sizes, the statements that
// find one stream's events must reach it through the stream's own index,
// never through the tenant's whole log or the whole table, or every
// append grows slower with the tenant's log; and the tenant feed must
// still use the tenant's index.
func TestGenericPlans(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t) // a fresh database: events is empty
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	conn, err := db.Conn(ctx) // one session, for the SETs and the PREPAREs
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	n := 0 // PREPAREd so far: names must not repeat in one session
	explain := func(sql, args string) string {
		t.Helper()
		n++
		name := fmt.Sprintf("p%d", n)
		if _, err := conn.ExecContext(ctx, `PREPARE `+name+` AS `+sql); err != nil {
			t.Fatalf("prepare: %v\n%s", err, sql)
		}
		return explainLines(t, conn, `EXPLAIN EXECUTE `+name+args)
	}
	for _, events := range []int{0, 30, 600} {
		appendEvents(t, store, events)
		for _, st := range postgres.Statements {
			p := explain(st.SQL, st.Args)
			if !strings.Contains(p, "using events_stream_version_key on events") ||
				strings.Contains(p, "events_tenant_log_idx") || strings.Contains(p, "Seq Scan on events") {
				t.Errorf("with %d events, the generic plan of %s does not find the stream by its index:\n%s", events, st.Name, p)
			}
		}
		if _, err := conn.ExecContext(ctx, `BEGIN; `+postgres.LogPlan); err != nil {
			t.Fatal(err)
		}
		p := explain(postgres.TenantFeed.SQL, postgres.TenantFeed.Args)
		if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p, "events_tenant_log_idx") {
			t.Errorf("with %d events, the tenant feed does not use the tenant's index:\n%s", events, p)
		}
	}
}

// TestReadStreamsPlannedOnce: left to choose (plan_cache_mode auto), a
// session keeps ReadStreams's generic plan after its first few runs
// instead of planning every call again — the cost that made identity
// reads plan-bound when the rows came from a bare unnest.
func TestReadStreamsPlannedOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	appendEvents(t, store, 200)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PREPARE reads AS `+postgres.ReadStreamsSQL); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := conn.ExecContext(ctx, `EXECUTE reads('{t0,t1,t2}', '{ticket,ticket,ticket}', '{s200-0,s200-2,s200-4}', '{1,1,1}', 100)`); err != nil {
			t.Fatal(err)
		}
	}
	var generic, custom int
	if err := conn.QueryRowContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'reads'`).Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic < 4 {
		t.Errorf("10 runs: %d generic plans, %d custom: want the generic plan kept after the first 5", generic, custom)
	}
}

// appendEvents appends n events, two per stream, over three tenants.
func appendEvents(t *testing.T, s *postgres.Store, n int) {
	t.Helper()
	for i := 0; i < n; i += 2 {
		stream := eventstore.StreamRef{TenantID: fmt.Sprintf("t%d", i%3), Type: "ticket", ID: fmt.Sprintf("s%d-%d", n, i)}
		if _, err := s.Append(context.Background(), stream, eventstore.NoStream, []eventstore.EventData{
			{ID: uuid.NewString(), Type: "x.happened", Data: []byte(`{"n":1}`)},
			{ID: uuid.NewString(), Type: "x.happened", Data: []byte(`{"n":2}`)}}); err != nil {
			t.Fatal(err)
		}
	}
}

func explainLines(t *testing.T, conn *sql.Conn, query string) string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
