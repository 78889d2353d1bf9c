package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// BenchmarkAppend measures appends from 16 writers to streams of their
// own, without and with group commit: one stream per append (Append), and
// two (AppendStreams, a ticket and its contact). groups=2 is the engine's
// default.
func BenchmarkAppend(b *testing.B) {
	data := json.RawMessage(`{"title":"Printer on fire","priority":"high","tags":["hardware"]}`)
	event := func() eventstore.EventData {
		return eventstore.EventData{ID: uuid.NewString(), Type: "ticket.created", Data: data}
	}
	for _, groups := range []int{0, 2} {
		for _, streams := range []int{1, 2} {
			b.Run(fmt.Sprintf("groups=%d/streams=%d", groups, streams), func(b *testing.B) {
				var opts []postgres.Option
				if groups > 0 {
					opts = append(opts, postgres.WithGroupCommit(groups))
				}
				s := postgres.New(pgtest.DB(b), nil, opts...)
				defer s.Close()
				var next atomic.Int64
				b.SetParallelism(8) // 16 writers on 2 CPUs
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						id := fmt.Sprint(next.Add(1))
						ticket := eventstore.StreamRef{TenantID: "bench", Type: "ticket", ID: id}
						var err error
						if streams == 1 {
							_, err = s.Append(ctx, ticket, eventstore.NoStream, []eventstore.EventData{event()})
						} else {
							contact := eventstore.StreamRef{TenantID: "bench", Type: "contact", ID: id}
							_, err = s.AppendStreams(ctx, []eventstore.StreamAppend{
								{Stream: ticket, Expected: eventstore.NoStream, Events: []eventstore.EventData{event()}},
								{Stream: contact, Expected: eventstore.NoStream, Events: []eventstore.EventData{event()}},
							})
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			})
		}
	}
}
