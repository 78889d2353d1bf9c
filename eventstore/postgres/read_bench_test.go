package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/storetest"
)

// benchStreams × 500 events make the log BenchmarkReadAll reads.
const benchStreams = 400

// BenchmarkReadAll reads a 200,000-event log in batches of 2,000: the
// catch-up path of every follower and projection.
func BenchmarkReadAll(b *testing.B) {
	// Fresh statistics-less tables, as after a bulk import: the read plan
	// must not depend on them.
	s := postgres.New(pgtest.DB(b), nil)
	defer s.Close()
	ctx := context.Background()
	data := json.RawMessage(`{"title":"Printer on fire","priority":"high","tags":["hardware"]}`)
	for k := range benchStreams {
		evs := make([]eventstore.EventData, 500)
		for i := range evs {
			evs[i] = storetest.Ev("ticket.commented", i)
			evs[i].Data = data
		}
		if _, err := s.Append(ctx, eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: fmt.Sprint(k)}, eventstore.NoStream, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		n := 0
		for q := (eventstore.Query{TenantID: "t1", Limit: 2000}); ; {
			evs, err := s.ReadAll(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			n += len(evs)
			q.After = evs[len(evs)-1].Position
		}
		if n != benchStreams*500 {
			b.Fatalf("read %d events, want %d", n, benchStreams*500)
		}
	}
	b.ReportMetric(float64(benchStreams*500*b.N)/b.Elapsed().Seconds(), "events/s")
}
