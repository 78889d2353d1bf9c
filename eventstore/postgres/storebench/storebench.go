// Package storebench measures the PostgreSQL event store against the
// machine's own ceiling, side by side in one run on one scratch database:
// a raw single-row INSERT of a row shaped like an event (same columns, same
// indexes, one commit each), Append to distinct streams (one commit each,
// and with group commit when asked), Append to a few hot streams, and the
// catch-up read rate of a subscription. Each throughput figure starts
// after a CHECKPOINT (Settle) and a warm-up. `eventdesk bench` runs it,
// and measures the HTTP path with Measure too; the figures go to the
// README.
package storebench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
)

// Figure is one measured result. Extra holds figure-specific numbers that
// go into its JSON line (e.g. the append-to-raw ratio).
type Figure struct {
	Name    string             `json:"figure"`
	Ops     int64              `json:"ops"`
	Warmup  int64              `json:"warmup_ops,omitempty"` // ops run before counting began
	Seconds float64            `json:"seconds"`
	Rate    float64            `json:"rate"`
	Unit    string             `json:"unit"`
	P50ms   float64            `json:"p50_ms,omitempty"`
	P99ms   float64            `json:"p99_ms,omitempty"`
	Extra   map[string]float64 `json:"-"`
}

// MarshalJSON flattens Extra into the figure's JSON object.
func (f Figure) MarshalJSON() ([]byte, error) {
	type plain Figure
	b, err := json.Marshal(plain(f))
	if err != nil || len(f.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range f.Extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// Settle flushes dirty buffers with a CHECKPOINT before a figure, so that
// the writes of whatever ran before (a bulk load, an earlier figure) do not
// land inside it, as pgbench advises. Without the privilege (superuser or
// pg_checkpoint) it does nothing.
func Settle(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CHECKPOINT`)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42501" { // insufficient_privilege
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint before a figure: %w", err)
	}
	return nil
}

// Warmup is how long Measure runs op before it starts counting: the
// pool opens its connections, statements get prepared and caches fill,
// none of which a long-running server pays again.
const Warmup = time.Second

// Measure runs op from workers goroutines for Warmup (at most d/2), then
// for d, and reports the throughput and latency percentiles of the ops
// started after the warm-up. op gets the worker number and a per-worker
// sequence number; its first error stops the run and is returned.
func Measure(ctx context.Context, name string, workers int, d time.Duration, op func(ctx context.Context, worker, i int) error) (Figure, error) {
	warm := min(Warmup, d/2)
	ctx, cancel := context.WithTimeout(ctx, warm+d)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lats     []time.Duration
		firstErr error
		ops      atomic.Int64
		warmOps  atomic.Int64
	)
	start := time.Now().Add(warm) // ops started before it are not counted
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for i := 0; ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := op(ctx, w, i)
				if ctx.Err() != nil {
					break // the op was cut short by the end of the run
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: worker %d op %d: %w", name, w, i, err)
					}
					mu.Unlock()
					cancel()
					break
				}
				if t0.Before(start) {
					warmOps.Add(1)
					continue
				}
				local = append(local, time.Since(t0))
				ops.Add(1)
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if firstErr != nil {
		return Figure{}, firstErr
	}
	slices.Sort(lats)
	f := Figure{Name: name, Ops: ops.Load(), Warmup: warmOps.Load(), Seconds: elapsed, Rate: float64(ops.Load()) / elapsed, Unit: "ops/s"}
	if len(lats) > 0 {
		f.P50ms = ms(lats[len(lats)/2])
		f.P99ms = ms(lats[len(lats)*99/100])
	}
	return f, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Options tune Run.
type Options struct {
	Connections int           // concurrent writers; 16 by default
	Duration    time.Duration // per throughput figure; 5s by default
	CatchUp     int           // events to catch up over; 200,000 by default
	Progress    func(string)  // told what is being measured, if set
	// GroupCommit, if positive, adds a figure for appends to distinct
	// streams through a store with postgres.WithGroupCommit(GroupCommit).
	GroupCommit int
}

// Run measures the store on db (a freshly migrated scratch database) and
// returns the figures in print order.
func Run(ctx context.Context, db *sqlx.DB, opt Options) ([]Figure, error) {
	if opt.Connections <= 0 {
		opt.Connections = 16
	}
	if opt.Duration <= 0 {
		opt.Duration = 5 * time.Second
	}
	if opt.CatchUp <= 0 {
		opt.CatchUp = 200_000
	}
	say := func(s string) {
		if opt.Progress != nil {
			opt.Progress(s)
		}
	}
	s := postgres.New(db, nil)
	defer s.Close()
	data := json.RawMessage(`{"title":"Printer on fire","priority":"high","tags":["hardware"]}`)
	meta := eventstore.Metadata{Actor: "bench", Source: "bench", CorrelationID: "bench"}
	metaJSON, _ := json.Marshal(meta)

	// The ceiling: the same row into a table with the same columns and
	// indexes, one autocommit INSERT each.
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_raw (LIKE events INCLUDING ALL)`); err != nil {
		return nil, fmt.Errorf("create raw table: %w", err)
	}
	// Prepared, as the store's append is: both pay one round trip per call.
	rawInsert, err := db.PrepareContext(ctx, `INSERT INTO bench_raw (event_id, tenant_id, stream_type, stream_id, version, event_type, data, metadata)
		VALUES ($1, 'bench', 'ticket', $2, 1, 'ticket.created', $3, $4)`)
	if err != nil {
		return nil, fmt.Errorf("prepare raw insert: %w", err)
	}
	defer rawInsert.Close()
	say("raw INSERT")
	if err := Settle(ctx, db.DB); err != nil {
		return nil, err
	}
	raw, err := Measure(ctx, "raw_insert", opt.Connections, opt.Duration, func(ctx context.Context, w, i int) error {
		_, err := rawInsert.ExecContext(ctx, uuid.NewString(), fmt.Sprintf("raw-%d-%d", w, i), string(data), string(metaJSON))
		return err
	})
	if err != nil {
		return nil, err
	}
	say("Append, distinct streams")
	if err := Settle(ctx, db.DB); err != nil {
		return nil, err
	}
	appendDistinct := func(s *postgres.Store, prefix string) func(ctx context.Context, w, i int) error {
		return func(ctx context.Context, w, i int) error {
			st := eventstore.StreamRef{TenantID: "bench", Type: "ticket", ID: fmt.Sprintf("%s-%d-%d", prefix, w, i)}
			_, err := s.Append(ctx, st, eventstore.NoStream, []eventstore.EventData{{ID: uuid.NewString(), Type: "ticket.created", Data: data, Metadata: meta}})
			return err
		}
	}
	distinct, err := Measure(ctx, "append_distinct_streams", opt.Connections, opt.Duration, appendDistinct(s, "d"))
	if err != nil {
		return nil, err
	}
	distinct.Extra = map[string]float64{"append_tps": distinct.Rate, "raw_insert_tps": raw.Rate, "ratio": distinct.Rate / raw.Rate}
	figs := []Figure{raw, distinct}
	if opt.GroupCommit > 0 {
		say(fmt.Sprintf("Append, distinct streams, group commit (%d groups)", opt.GroupCommit))
		if err := Settle(ctx, db.DB); err != nil {
			return nil, err
		}
		gs := postgres.New(db, nil, postgres.WithGroupCommit(opt.GroupCommit))
		grouped, err := Measure(ctx, "append_grouped", opt.Connections, opt.Duration, appendDistinct(gs, "g"))
		gs.Close()
		if err != nil {
			return nil, err
		}
		grouped.Extra = map[string]float64{"append_tps": grouped.Rate, "raw_insert_tps": raw.Rate, "ratio": grouped.Rate / raw.Rate}
		figs = append(figs, grouped)
	}
	say("Append, 8 hot streams")
	if err := Settle(ctx, db.DB); err != nil {
		return nil, err
	}
	hot, err := Measure(ctx, "append_8_hot_streams", opt.Connections, opt.Duration, func(ctx context.Context, w, i int) error {
		st := eventstore.StreamRef{TenantID: "bench", Type: "ticket", ID: fmt.Sprintf("hot-%d", (w+i)%8)}
		_, err := s.Append(ctx, st, eventstore.Any, []eventstore.EventData{{ID: uuid.NewString(), Type: "ticket.commented", Data: data, Metadata: meta}})
		return err
	})
	if err != nil {
		return nil, err
	}
	hot.Extra = map[string]float64{"append_tps": hot.Rate, "raw_insert_tps": raw.Rate, "ratio": hot.Rate / raw.Rate}

	say(fmt.Sprintf("loading %d events for catch-up", opt.CatchUp))
	catch, err := catchUp(ctx, s, data, meta, opt.CatchUp)
	if err != nil {
		return nil, err
	}
	// Settle the bulk load now, or autovacuum does it in the middle of
	// whatever is measured next.
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) events`); err != nil {
		return nil, fmt.Errorf("vacuum after the catch-up load: %w", err)
	}
	return append(figs, hot, catch), nil
}

// catchUp loads n events into a tenant of their own and times a follower
// reading all of them from the start of the log.
func catchUp(ctx context.Context, s *postgres.Store, data json.RawMessage, meta eventstore.Metadata, n int) (Figure, error) {
	const perAppend = 500
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	next := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k*perAppend >= n {
					return
				}
				evs := make([]eventstore.EventData, min(perAppend, n-k*perAppend))
				for i := range evs {
					evs[i] = eventstore.EventData{ID: uuid.NewString(), Type: "ticket.commented", Data: data, Metadata: meta}
				}
				st := eventstore.StreamRef{TenantID: "catchup", Type: "ticket", ID: fmt.Sprintf("c-%d", k)}
				if _, err := s.Append(ctx, st, eventstore.NoStream, evs); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return Figure{}, fmt.Errorf("load catch-up events: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := 0
	start := time.Now()
	err := eventstore.Follow(ctx, s, eventstore.Query{TenantID: "catchup", Limit: 2000}, eventstore.FollowOptions{Poll: 10 * time.Millisecond},
		func(_ context.Context, evs []eventstore.Event) error {
			got += len(evs)
			if got >= n {
				cancel()
			}
			return nil
		})
	elapsed := time.Since(start).Seconds()
	if got < n {
		return Figure{}, fmt.Errorf("catch-up read %d of %d events: %v", got, n, err)
	}
	return Figure{Name: "catch_up_read", Ops: int64(got), Seconds: elapsed, Rate: float64(got) / elapsed, Unit: "events/s"}, nil
}
