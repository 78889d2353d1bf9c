package feed_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/storetest"
)

// countingLog counts a store's ReadAll calls: the queries followers cost.
type countingLog struct {
	*postgres.Store
	reads atomic.Int64
}

func (l *countingLog) ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error) {
	l.reads.Add(1)
	return l.Store.ReadAll(ctx, q)
}

const benchFollowers = 100

// load is how the benchmark appends: writers appending events one per
// append, each waiting gap after each append.
type load struct {
	name             string
	writers, appends int
	gap              time.Duration
}

var loads = []load{
	{"burst", 4, 1000, 0},                    // as fast as 4 writers go
	{"paced", 1, 200, 10 * time.Millisecond}, // 100 appends/s: followers keep up
}

// BenchmarkFollowers measures what 100 live followers of one tenant's log
// cost the database while events are appended, one per append: the
// ReadAll queries per append and the time until every follower has
// received every event (burst: 1,000 appends by 4 writers at full speed;
// paced: 200 appends at 100/s).
//
//   - per-connection: each follower runs its own loop, as the NDJSON
//     follow stream did before the hub (eventstore.Follow woken by the
//     store's Notify, polling every second).
//   - hub: one feed.Hub follows the log; the followers subscribe to it.
//
// Run it with: go test -run '^$' -bench Followers -benchtime 1x ./eventstore/feed/
func BenchmarkFollowers(b *testing.B) {
	perConnection := func(b *testing.B, log *countingLog, got func(int)) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		b.Cleanup(func() { cancel(); wg.Wait() })
		for range benchFollowers {
			wg.Go(func() {
				_ = eventstore.Follow(ctx, log, eventstore.Query{TenantID: "acme"},
					eventstore.FollowOptions{Notifier: log, Poll: time.Second},
					func(_ context.Context, evs []eventstore.Event) error { got(len(evs)); return nil })
			})
		}
	}
	hub := func(b *testing.B, log *countingLog, got func(int)) {
		h := startHub(b, log, feed.Options{})
		for range benchFollowers {
			sub, err := h.Subscribe(feed.Filter{TenantID: "acme"}, eventstore.Position{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(sub.Close)
			go func() {
				for {
					evs, err := sub.Next(context.Background())
					if err != nil {
						return
					}
					got(len(evs))
				}
			}()
		}
	}
	for _, l := range loads {
		b.Run(l.name+"/per-connection", func(b *testing.B) { benchFollow(b, l, perConnection) })
		b.Run(l.name+"/hub", func(b *testing.B) { benchFollow(b, l, hub) })
	}
}

// benchFollow starts the followers with start, lets them settle, appends
// as l says and waits until each follower has received every event.
func benchFollow(b *testing.B, l load, start func(*testing.B, *countingLog, func(int))) {
	var reads, elapsed float64
	for b.Loop() {
		b.StopTimer()
		log := &countingLog{Store: newStore(b)}
		var received atomic.Int64
		start(b, log, func(n int) { received.Add(int64(n)) })
		time.Sleep(200 * time.Millisecond) // every follower idle and live
		streams := streamsOf("acme", 8)
		before := log.reads.Load()
		b.StartTimer()

		t0 := time.Now()
		var wg sync.WaitGroup
		for w := range l.writers {
			wg.Go(func() {
				for i := range l.appends / l.writers {
					if _, err := log.Store.Append(context.Background(), streams[(w+i)%len(streams)], eventstore.Any,
						[]eventstore.EventData{storetest.Ev("a", i)}); err != nil {
						b.Error(err)
						return
					}
					time.Sleep(l.gap)
				}
			})
		}
		wg.Wait()
		storetest.WaitFor(b, "every follower to receive every event",
			func() bool { return received.Load() == int64(benchFollowers*l.appends) }, nil)
		elapsed += float64(time.Since(t0).Milliseconds())
		reads += float64(log.reads.Load() - before)
	}
	b.ReportMetric(reads/float64(b.N)/float64(l.appends), "readall/append")
	b.ReportMetric(elapsed/float64(b.N), "ms_to_deliver_all")
	b.ReportMetric(0, "ns/op")
}
