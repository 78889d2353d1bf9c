package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// TestGenericPlans: the statements that find a stream's events keep a
// generic plan once prepared, possibly planned while the events table was
// empty. Planned so, each must still reach the stream through its own
// index (tenant, stream type, stream id, version), never through the
// tenant's whole log or the whole table, which would make every append
// slower as the tenant's log grows.
func TestGenericPlans(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t) // a fresh database: events is empty
	ctx := context.Background()
	conn, err := db.Conn(ctx) // one session, for the SET and the PREPAREs
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	for i, st := range postgres.Statements {
		name := "s" + string(rune('a'+i))
		if _, err := conn.ExecContext(ctx, `PREPARE `+name+` AS `+st.SQL); err != nil {
			t.Fatalf("prepare %s: %v", st.Name, err)
		}
		rows, err := conn.QueryContext(ctx, `EXPLAIN EXECUTE `+name+st.Args)
		if err != nil {
			t.Fatalf("explain %s: %v", st.Name, err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		p := plan.String()
		if !strings.Contains(p, "using events_stream_version_key on events") ||
			strings.Contains(p, "events_tenant_log_idx") || strings.Contains(p, "Seq Scan on events") {
			t.Errorf("generic plan of %s does not find the stream by its index:\n%s", st.Name, p)
		}
	}
}
