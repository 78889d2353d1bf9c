package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/lib/pq"

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
		p := tenantFeedPlan(t, conn, fmt.Sprintf("feed%d", events))
		if !strings.Contains(p, "events_tenant_log_idx") {
			t.Errorf("with %d events, the tenant feed does not use the tenant's index:\n%s", events, p)
		}
	}
}

// tenantFeedPlan explains the query eventdesk_read_log runs for one
// tenant's events (its source, from pg_proc, with its parameters
// numbered), under the function's own settings.
func tenantFeedPlan(t *testing.T, conn *sql.Conn, name string) string {
	t.Helper()
	ctx := context.Background()
	var src string
	var settings []string
	if err := conn.QueryRowContext(ctx, `SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'eventdesk_read_log'`).
		Scan(&src, pq.Array(&settings)); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)ELSE\s+RETURN QUERY (SELECT .*?);`).FindStringSubmatch(src)
	if m == nil {
		t.Fatalf("no tenant branch in eventdesk_read_log:\n%s", src)
	}
	query := m[1]
	for i, param := range []string{"after_tx", "after_seq", "tenant", "stype", "types", "lim"} {
		query = regexp.MustCompile(`\b`+param+`\b`).ReplaceAllLiteralString(query, fmt.Sprintf("$%d", i+1))
	}
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `COMMIT`) //nolint:errcheck // read only
	for _, kv := range settings {         // e.g. enable_sort=off
		k, v, _ := strings.Cut(kv, "=")
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`SET LOCAL %s = %s`, k, v)); err != nil {
			t.Fatal(err)
		}
	}
	if len(settings) < 2 {
		t.Errorf("eventdesk_read_log sets %v, want enable_bitmapscan and enable_sort off", settings)
	}
	if _, err := conn.ExecContext(ctx, `PREPARE `+name+`(xid8, bigint, text, text, text[], int) AS `+query); err != nil {
		t.Fatalf("prepare: %v\n%s", err, query)
	}
	return explainLines(t, conn, `EXPLAIN EXECUTE `+name+`('0', 0, 't', NULL, NULL, 100)`)
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
