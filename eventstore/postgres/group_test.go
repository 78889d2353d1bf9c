package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/storetest"
)

func newGroupedStore(t *testing.T) *postgres.Store {
	s := postgres.New(pgtest.DB(t), nil, postgres.WithGroupCommit(4))
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStoreGrouped runs the whole contract with group commit on: every
// guarantee of Append must hold unchanged.
func TestStoreGrouped(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store { return newGroupedStore(t) })
}

// TestFollowGrouped: followers miss nothing of grouped appends either.
func TestFollowGrouped(t *testing.T) {
	storetest.RunFollow(t, func(t *testing.T) storetest.Harness { return harness(t, postgres.WithGroupCommit(4)) })
}

// TestGroupCommit has 32 writers append to 72 streams through a grouped
// store — exact expectations on their own streams, Any on shared ones,
// keyed, multi-event and two-stream appends — while a follower reads
// live. Every append that succeeded is delivered exactly once, each
// stream in version order with no gap, and appends of different streams
// did share commits (several streams in one transaction), which is the
// point of grouping, two-stream appends among them.
func TestGroupCommit(t *testing.T) {
	s := newGroupedStore(t)
	ctx := context.Background()
	check := storetest.CheckFollow(t, s, s, "t1")
	var (
		mu        sync.Mutex
		committed = map[string]bool{}
		wg        sync.WaitGroup
	)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: fmt.Sprintf("own%d", w)}
			version := int64(0)
			for i := range 60 {
				st, exp := own, eventstore.Exact(version)
				evs := []eventstore.EventData{storetest.Ev("x", i)}
				switch {
				case i%5 == 0:
					st, exp = eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: fmt.Sprintf("shared%d", i%8)}, eventstore.Any
				case i%7 == 0:
					evs = append(evs, storetest.Ev("y", i), storetest.Ev("z", i))
				case i%11 == 0:
					evs[0].Key = fmt.Sprintf("k-%d-%d", w, i)
				}
				var res eventstore.AppendResult
				var err error
				stored := evs
				if i%13 == 0 && i%5 != 0 {
					for k := range evs {
						evs[k].Type = "multi"
					}
					second := []eventstore.EventData{storetest.Ev("multi", i)}
					var rs []eventstore.AppendResult
					rs, err = s.AppendStreams(ctx, []eventstore.StreamAppend{
						{Stream: st, Expected: exp, Events: evs},
						{Stream: eventstore.StreamRef{TenantID: "t1", Type: "contact", ID: own.ID}, Expected: eventstore.Any, Events: second},
					})
					if err == nil {
						res, stored = rs[0], append(second, evs...)
					}
				} else {
					res, err = s.Append(ctx, st, exp, evs)
				}
				if err != nil {
					t.Errorf("writer %d append %d to %s: %v", w, i, st.ID, err)
					return
				}
				if st == own {
					if res.FirstVersion != version+1 || res.LastVersion != version+int64(len(evs)) {
						t.Errorf("writer %d: landed at %d..%d, want from %d", w, res.FirstVersion, res.LastVersion, version+1)
					}
					version = res.LastVersion
				}
				mu.Lock()
				for _, e := range stored {
					committed[e.ID] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	check(committed)

	evs, err := s.ReadAll(ctx, eventstore.Query{TenantID: "t1", Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	streamsPerTx := map[uint64]map[eventstore.StreamRef]bool{}
	multiTx := map[uint64]bool{}
	for _, e := range evs {
		if streamsPerTx[e.Position.TxID] == nil {
			streamsPerTx[e.Position.TxID] = map[eventstore.StreamRef]bool{}
		}
		streamsPerTx[e.Position.TxID][e.Stream()] = true
		multiTx[e.Position.TxID] = multiTx[e.Position.TxID] || e.Type == "multi"
	}
	shared, joined := 0, 0
	for tx, streams := range streamsPerTx {
		if len(streams) > 1 {
			shared++
		}
		if multiTx[tx] && len(streams) > 2 {
			joined++ // a two-stream append and another one
		}
	}
	if shared == 0 {
		t.Errorf("%d appends in %d transactions, none shared by two streams: nothing was grouped", 32*60, len(streamsPerTx))
	}
	if joined == 0 {
		t.Errorf("no two-stream append shared its transaction: they never joined a group")
	}
	t.Logf("%d events in %d transactions; %d held several streams, %d a two-stream append and more", len(evs), len(streamsPerTx), shared, joined)
}

// TestGroupSettlesConflictsAlone puts a stale append in a group with good
// ones: the stale one fails with the stream's actual version, the others
// land, and nothing of the stale one is stored.
func TestGroupSettlesConflictsAlone(t *testing.T) {
	s := newGroupedStore(t)
	ctx := context.Background()
	stale := eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: "stale"}
	if _, err := s.Append(ctx, stale, eventstore.NoStream, []eventstore.EventData{storetest.Ev("x", 0), storetest.Ev("x", 1)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, exp := eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: fmt.Sprintf("good%d", i)}, eventstore.NoStream
			if i%4 == 0 {
				st, exp = stale, eventstore.Exact(1)
			}
			_, errs[i] = s.Append(ctx, st, exp, []eventstore.EventData{storetest.Ev("y", i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var vc *eventstore.VersionConflictError
		switch {
		case i%4 == 0 && (!errors.As(err, &vc) || vc.Actual != 2):
			t.Errorf("stale append %d: %v, want a version conflict at actual version 2", i, err)
		case i%4 != 0 && err != nil:
			t.Errorf("append %d: %v", i, err)
		}
	}
	evs, err := s.ReadStream(ctx, stale, 1, 100)
	if err != nil || len(evs) != 2 {
		t.Errorf("stale stream holds %d events (%v), want its 2", len(evs), err)
	}
}
