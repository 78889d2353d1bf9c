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

// BenchmarkReadAll reads a 20,000-event log in batches of 2,000: the
// catch-up path of every follower and projection.
func BenchmarkReadAll(b *testing.B) {
	s := postgres.New(pgtest.DB(b), nil)
	defer s.Close()
	ctx := context.Background()
	data := json.RawMessage(`{"title":"Printer on fire","priority":"high","tags":["hardware"]}`)
	for k := range 40 {
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
		if n != 20000 {
			b.Fatalf("read %d events, want 20000", n)
		}
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "events/s")
}
