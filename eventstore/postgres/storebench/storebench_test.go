package storebench_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
)

// TestRunSmall runs the whole benchmark on a small scale: every figure is
// produced, counts what it did, and the append figure carries its ratio.
func TestRunSmall(t *testing.T) {
	db := pgtest.DB(t)
	figs, err := storebench.Run(context.Background(), db, storebench.Options{Connections: 4, Duration: 300 * time.Millisecond, CatchUp: 3000, GroupCommit: 2})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"raw_insert", "append_distinct_streams", "append_grouped", "append_8_hot_streams", "catch_up_read"}
	if len(figs) != len(names) {
		t.Fatalf("got %d figures, want %d", len(figs), len(names))
	}
	for i, f := range figs {
		if f.Name != names[i] || f.Ops <= 0 || f.Rate <= 0 {
			t.Errorf("figure %d = %+v, want %s with ops and a rate", i, f, names[i])
		}
	}
	if figs[4].Ops != 3000 {
		t.Errorf("catch-up read %d events, want 3000", figs[3].Ops)
	}
	line, err := json.Marshal(figs[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"append_tps"`, `"raw_insert_tps"`, `"ratio"`} {
		if !strings.Contains(string(line), k) {
			t.Errorf("append figure JSON %s lacks %s", line, k)
		}
	}
	// Every append, counted or run during the warm-up, is stored; appends
	// still in flight when a run ended (at most one per connection and
	// figure) may be stored uncounted.
	var appended, counted int64
	for _, f := range figs[1:4] {
		if f.Warmup <= 0 {
			t.Errorf("%s ran no warm-up", f.Name)
		}
		counted += f.Ops + f.Warmup
	}
	if err := db.Get(&appended, `SELECT count(*) FROM events WHERE tenant_id = 'bench'`); err != nil || appended < counted || appended > counted+12 {
		t.Errorf("events stored = %d, %v; want %d..%d", appended, err, counted, counted+12)
	}
	for _, f := range figs {
		t.Logf("%s", mustJSON(t, f))
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
