package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Conformance cases for multi-stream appends (Store.AppendStreams).

func part(st eventstore.StreamRef, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) eventstore.StreamAppend {
	return eventstore.StreamAppend{Stream: st, Expected: exp, Events: evs}
}

func mustAppendStreams(t *testing.T, s eventstore.Store, parts ...eventstore.StreamAppend) []eventstore.AppendResult {
	t.Helper()
	res, err := s.AppendStreams(context.Background(), parts)
	if err != nil {
		t.Fatalf("AppendStreams(%s) = %v, want nil", streamsOf(parts), err)
	}
	if len(res) != len(parts) {
		t.Fatalf("AppendStreams(%s) returned %d results, want one per part (%d)", streamsOf(parts), len(res), len(parts))
	}
	return res
}

func streamsOf(parts []eventstore.StreamAppend) string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Stream.String()
	}
	return strings.Join(names, ", ")
}

// idsOf returns the ids of a stream's stored events.
func idsOf(evs []eventstore.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

func dataIDs(evs []eventstore.EventData) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = strings.ToLower(e.ID)
	}
	return ids
}

func multiAppendRead(t *testing.T, s eventstore.Store) {
	ticket, form := Stream("t1"), eventstore.StreamRef{TenantID: "t1", Type: "form", ID: NewID()}
	index := eventstore.StreamRef{TenantID: "t1", Type: "form_index", ID: "all"}
	mustAppend(t, s, ticket, eventstore.NoStream, Ev("ticket.created", 1))
	first := mustAppendStreams(t, s,
		part(form, eventstore.NoStream, Ev("form.created", 2), Ev("form.published", 3)),
		part(index, eventstore.Any, Ev("form.listed", 4)),
		part(ticket, eventstore.Exact(1), Ev("ticket.linked", 5)))
	want := []struct{ first, last int64 }{{1, 2}, {1, 1}, {2, 2}}
	for i, r := range first {
		if r.FirstVersion != want[i].first || r.LastVersion != want[i].last || r.Duplicate {
			t.Errorf("result %d = %+v, want versions %d..%d, not duplicate", i, r, want[i].first, want[i].last)
		}
	}
	if first[0].Positions[0] == first[2].Positions[0] || len(first[0].Positions) != 2 {
		t.Errorf("positions %v, want one per event, all distinct", first)
	}
	second := mustAppendStreams(t, s,
		part(index, eventstore.Exact(1), Ev("form.listed", 6)),
		part(form, eventstore.Exact(2), Ev("form.retitled", 7)))
	if second[0].LastVersion != 2 || second[1].LastVersion != 3 {
		t.Errorf("second append landed at %+v, want index version 2 and form version 3", second)
	}
	if got := readStream(t, s, form); len(got) != 3 || got[2].Type != "form.retitled" || got[0].Stream() != form {
		t.Errorf("form stream = %d events, want created, published, retitled", len(got))
	}

	// Gap-free in the global log: exactly the appended events, in Position
	// order, each at the position its result named, each stream in
	// version order.
	positions := map[eventstore.Position]bool{}
	for _, r := range append(append([]eventstore.AppendResult{}, first...), second...) {
		for _, p := range r.Positions {
			positions[p] = true
		}
	}
	all := readAll(t, s, eventstore.Query{TenantID: "t1", Limit: 2}, 7)
	c := newCollector()
	c.add(all)
	for _, e := range c.errs {
		t.Error(e)
	}
	if len(all) != 7 {
		t.Fatalf("ReadAll = %d events, want 7", len(all))
	}
	for _, e := range all[1:] {
		if !positions[e.Position] {
			t.Errorf("event %s (%s) at %v, a position no result named", e.ID, e.Type, e.Position)
		}
	}
}

func multiAtomic(t *testing.T, s eventstore.Store) {
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Exact(1), eventstore.Exact(5)} {
		// a may be written; b is not at exp: neither may be.
		a, b := Stream("t1"), Stream("t1")
		mustAppend(t, s, b, eventstore.NoStream, Ev("b.created", 1), Ev("b.changed", 2))
		parts := []eventstore.StreamAppend{
			part(a, eventstore.NoStream, Ev("a.created", 3), Ev("a.changed", 4)),
			part(b, exp, Ev("b.changed", 5)),
		}
		_, err := s.AppendStreams(context.Background(), parts)
		wantConflictOn(t, err, b, exp, 2)
		if n := len(readStream(t, s, a)); n != 0 {
			t.Fatalf("stream a has %d events after a conflict on stream b, want 0", n)
		}
		// Had any rejected event been stored, reusing the ids would be a
		// retry or a duplicate, not a fresh append.
		res := mustAppendStreams(t, s, part(a, eventstore.NoStream, parts[0].Events...), part(b, eventstore.Exact(2), parts[1].Events...))
		if res[0].Duplicate || res[0].LastVersion != 2 || res[1].LastVersion != 3 {
			t.Fatalf("re-append of the rejected events = %+v, want a fresh append at a@2, b@3", res)
		}
	}
	// A conflict on the first part names the first stream.
	x, y := Stream("t1"), Stream("t1")
	mustAppend(t, s, x, eventstore.NoStream, Ev("x", 1))
	_, err := s.AppendStreams(context.Background(), []eventstore.StreamAppend{
		part(x, eventstore.NoStream, Ev("x", 2)), part(y, eventstore.NoStream, Ev("y", 3))})
	wantConflictOn(t, err, x, eventstore.NoStream, 1)
	if n := len(readStream(t, s, y)); n != 0 {
		t.Errorf("stream y has %d events after a conflict on x, want 0", n)
	}
}

// wantConflictOn checks that err is a *VersionConflictError naming stream.
func wantConflictOn(t *testing.T, err error, stream eventstore.StreamRef, exp eventstore.ExpectedVersion, actual int64) {
	t.Helper()
	var vc *eventstore.VersionConflictError
	if !errors.Is(err, eventstore.ErrVersionConflict) || !errors.As(err, &vc) {
		t.Fatalf("AppendStreams = %v, want a VersionConflictError on %s", err, stream)
	}
	if vc.Stream != stream || vc.Expected != exp || vc.Actual != actual {
		t.Errorf("VersionConflictError{Stream: %s, Expected: %d, Actual: %d}, want {%s, %d, %d}", vc.Stream, vc.Expected, vc.Actual, stream, exp, actual)
	}
}

func multiKeyTaken(t *testing.T, s eventstore.Store) {
	owner := Stream("t1")
	mustAppend(t, s, owner, eventstore.NoStream, keyed("ticket.created", 1, "T-1"))
	for i, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Any} {
		contact := eventstore.StreamRef{TenantID: "t1", Type: "contact", ID: NewID()}
		second := Stream("t1")
		contactKey := fmt.Sprintf("C-%d", i)
		parts := []eventstore.StreamAppend{
			part(contact, exp, keyed("contact.created", 2, contactKey)),
			part(second, exp, Ev("ticket.created", 3), keyed("ticket.numbered", 4, "T-1")),
		}
		_, err := s.AppendStreams(context.Background(), parts)
		wantKeyTaken(t, err, second, "T-1")
		if n := len(readStream(t, s, contact)) + len(readStream(t, s, second)); n != 0 {
			t.Errorf("expected %d: %d events stored by an append whose key was taken, want 0", exp, n)
		}
		wantNoLookup(t, s, "t1", "contact", contactKey)
		// Nothing was stored: the same ids append afresh.
		res := mustAppendStreams(t, s, parts[0], part(second, exp, parts[1].Events[0]))
		if res[0].Duplicate || res[1].Duplicate {
			t.Errorf("expected %d: re-append after a key conflict = %+v, want fresh", exp, res)
		}
		wantLookup(t, s, "t1", "contact", contactKey, contact.ID)
	}
	wantLookup(t, s, "t1", "ticket", "T-1", owner.ID)
}

func multiIdempotentRetry(t *testing.T, s eventstore.Store) {
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Any} {
		a, b := Stream("t1"), eventstore.StreamRef{TenantID: "t1", Type: "contact", ID: NewID()}
		parts := []eventstore.StreamAppend{
			part(a, exp, keyed("a", 1, "K-"+NewID()), Ev("b", 2)),
			part(b, exp, Ev("c", 3)),
		}
		first := mustAppendStreams(t, s, parts...)
		mustAppend(t, s, a, eventstore.Any, Ev("later", 4))
		again, err := s.AppendStreams(context.Background(), parts)
		if err != nil {
			t.Fatalf("retry with expected %d = %v, want the original results", exp, err)
		}
		for i := range first {
			want := first[i]
			want.Duplicate = true
			if diff := cmp.Diff(want, again[i]); diff != "" {
				t.Errorf("retry result %d (-want +got):\n%s", i, diff)
			}
		}
		if n := len(readStream(t, s, a)) + len(readStream(t, s, b)); n != 4 {
			t.Errorf("streams hold %d events after a retry, want 4", n)
		}
	}
	// Concurrent retries of one append: one write, the same answer for all.
	a, b := Stream("t1"), Stream("t1")
	parts := []eventstore.StreamAppend{part(a, eventstore.NoStream, Ev("a", 1)), part(b, eventstore.NoStream, Ev("b", 2))}
	results := make([][]eventstore.AppendResult, 8)
	errs := make([]error, 8)
	race(len(results), func(i int) { results[i], errs[i] = s.AppendStreams(context.Background(), parts) })
	for i := range results {
		if errs[i] != nil || len(results[i]) != 2 ||
			!cmp.Equal(results[i][0].Positions, results[0][0].Positions) || !cmp.Equal(results[i][1].Positions, results[0][1].Positions) {
			t.Errorf("concurrent retry %d = %+v, %v; want %+v", i, results[i], errs[i], results[0])
		}
	}
	if n := len(readStream(t, s, a)) + len(readStream(t, s, b)); n != 2 {
		t.Errorf("streams hold %d events after concurrent retries, want 2", n)
	}
}

func multiPartialOverlap(t *testing.T, s eventstore.Store) {
	a, b := Stream("t1"), Stream("t1")
	stored := []eventstore.StreamAppend{part(a, eventstore.NoStream, Ev("a", 1)), part(b, eventstore.NoStream, Ev("b", 2))}
	mustAppendStreams(t, s, stored...)
	c := Stream("t1")
	tests := []struct {
		name  string
		parts []eventstore.StreamAppend
	}{
		{"one part stored, one new", []eventstore.StreamAppend{stored[0], part(c, eventstore.NoStream, Ev("c", 3))}},
		{"a stored part plus an event", []eventstore.StreamAppend{
			part(a, eventstore.NoStream, append(stored[0].Events, Ev("a", 4))...), stored[1]}},
		{"stored events, streams swapped", []eventstore.StreamAppend{
			part(a, eventstore.Any, stored[1].Events...), part(b, eventstore.Any, stored[0].Events...)}},
		{"a subset of the parts", []eventstore.StreamAppend{stored[0], part(c, eventstore.Any, stored[1].Events...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.AppendStreams(context.Background(), tt.parts); !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Errorf("AppendStreams = %v, want ErrDuplicateEvent", err)
			}
		})
	}
	if n := len(readStream(t, s, a)) + len(readStream(t, s, b)) + len(readStream(t, s, c)); n != 2 {
		t.Errorf("%d events stored, want only the original 2", n)
	}
}

func multiBadInput(t *testing.T, s eventstore.Store) {
	a, b := Stream("t1"), Stream("t1")
	many := make([]eventstore.EventData, eventstore.MaxEventsPerAppend/2+1)
	more := make([]eventstore.EventData, len(many))
	for i := range many {
		many[i], more[i] = Ev("a", i), Ev("b", i)
	}
	shared := Ev("a", 1)
	tests := []struct {
		name  string
		parts []eventstore.StreamAppend
	}{
		{"no parts", nil},
		{"mixed tenants", []eventstore.StreamAppend{part(a, eventstore.Any, Ev("a", 1)), part(Stream("t2"), eventstore.Any, Ev("b", 2))}},
		{"a stream twice", []eventstore.StreamAppend{part(a, eventstore.Any, Ev("a", 1)), part(a, eventstore.Any, Ev("b", 2))}},
		{"a check of Any", []eventstore.StreamAppend{part(a, eventstore.Any, Ev("a", 1)), part(b, eventstore.Any)}},
		{"checks alone", []eventstore.StreamAppend{part(a, eventstore.NoStream), part(b, eventstore.Exact(3))}},
		{"a bad part", []eventstore.StreamAppend{part(a, eventstore.Any, Ev("a", 1)), part(b, eventstore.Any, eventstore.EventData{ID: "x", Type: "b"})}},
		{"bad expected version", []eventstore.StreamAppend{part(a, eventstore.Any, Ev("a", 1)), part(b, -2, Ev("b", 2))}},
		{"an event id in two parts", []eventstore.StreamAppend{part(a, eventstore.Any, shared), part(b, eventstore.Any, shared)}},
		{"a key claimed in two parts", []eventstore.StreamAppend{
			part(a, eventstore.Any, keyed("a", 1, "K")), part(b, eventstore.Any, keyed("b", 2, "K"))}},
		{"over MaxEventsPerAppend in all", []eventstore.StreamAppend{part(a, eventstore.Any, many...), part(b, eventstore.Any, more...)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AppendStreams(context.Background(), tt.parts)
			var inv *eventstore.InvalidError
			if !errors.Is(err, eventstore.ErrInvalid) || !errors.As(err, &inv) {
				t.Fatalf("AppendStreams = %v, want an InvalidError", err)
			}
		})
	}
	if n := len(readStream(t, s, a)) + len(readStream(t, s, b)); n != 0 {
		t.Errorf("%d events stored by invalid appends, want 0", n)
	}
	// The same key in streams of different types is two claims.
	contact := eventstore.StreamRef{TenantID: "t1", Type: "contact", ID: NewID()}
	mustAppendStreams(t, s, part(a, eventstore.NoStream, keyed("a", 1, "K")), part(contact, eventstore.NoStream, keyed("b", 2, "K")))
}

// race runs fn(0) .. fn(n-1) in goroutines released at once and waits
// for them.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func multiRaceOneWinner(t *testing.T, s eventstore.Store) {
	x, y := Stream("t1"), eventstore.StreamRef{TenantID: "t1", Type: "contact", ID: NewID()}
	mustAppend(t, s, x, eventstore.NoStream, Ev("x.created", 0))
	const n = 20
	parts := make([][]eventstore.StreamAppend, n)
	errs := make([]error, n)
	for i := range parts {
		parts[i] = []eventstore.StreamAppend{
			part(x, eventstore.Exact(1), Ev("x.changed", i), Ev("x.changed", i)),
			part(y, eventstore.NoStream, Ev("y.created", i)),
		}
	}
	race(n, func(i int) { _, errs[i] = s.AppendStreams(context.Background(), parts[i]) })
	winner := -1
	for i, err := range errs {
		var vc *eventstore.VersionConflictError
		switch {
		case err == nil && winner >= 0:
			t.Errorf("appends %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case errors.As(err, &vc) && errors.Is(err, eventstore.ErrVersionConflict):
			if (vc.Stream != x || vc.Actual != 3) && (vc.Stream != y || vc.Actual != 1) {
				t.Errorf("append %d: VersionConflictError{Stream: %s, Actual: %d}, want %s at 3 or %s at 1", i, vc.Stream, vc.Actual, x, y)
			}
		default:
			t.Errorf("append %d = %v, want nil or a VersionConflictError", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no append won")
	}
	gotX, gotY := readStream(t, s, x), readStream(t, s, y)
	if len(gotX) != 3 || len(gotY) != 1 {
		t.Fatalf("streams hold %d and %d events, want 3 and 1", len(gotX), len(gotY))
	}
	if diff := cmp.Diff(dataIDs(parts[winner][0].Events), idsOf(gotX[1:])); diff != "" {
		t.Errorf("stream x after the race, not the winner's events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(dataIDs(parts[winner][1].Events), idsOf(gotY)); diff != "" {
		t.Errorf("stream y after the race, not the winner's events (-want +got):\n%s", diff)
	}
}

// multiAnyRace has writers append to the same two streams at Any, some
// with a stream of their own: all succeed, each stream's versions are
// contiguous, and each append's events are contiguous in its streams.
func multiAnyRace(t *testing.T, s eventstore.Store) {
	x, y := Stream("t1"), Stream("t1")
	const n = 10
	errs := make([]error, n)
	race(n, func(i int) {
		parts := []eventstore.StreamAppend{part(y, eventstore.Any, Ev("y", i)), part(x, eventstore.Any, Ev("x", i), Ev("x", i))}
		if i%2 == 0 {
			parts = append(parts, part(Stream("t1"), eventstore.NoStream, Ev("own", i)))
		}
		for range 3 {
			if _, errs[i] = s.AppendStreams(context.Background(), parts); errs[i] != nil {
				return
			}
			for j := range parts {
				for k := range parts[j].Events {
					parts[j].Events[k].ID = NewID()
				}
				parts[j].Expected = eventstore.Any
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	gotX, gotY := readStream(t, s, x), readStream(t, s, y)
	if len(gotX) != 2*3*n || len(gotY) != 3*n {
		t.Fatalf("streams hold %d and %d events, want %d and %d", len(gotX), len(gotY), 2*3*n, 3*n)
	}
	for i := 0; i < len(gotX); i += 2 {
		if string(gotX[i].Data) != string(gotX[i+1].Data) {
			t.Errorf("x versions %d and %d hold %s and %s: one append's events were split", i+1, i+2, gotX[i].Data, gotX[i+1].Data)
		}
	}
	all := readAll(t, s, eventstore.Query{TenantID: "t1"}, 2*3*n+3*n+3*(n/2))
	c := newCollector()
	c.add(all)
	for _, e := range c.errs {
		t.Error(e)
	}
}

// multiCheck covers checks, parts without events: the append lands only
// if each checked stream is at its expected version, and writes nothing
// to it.
func multiCheck(t *testing.T, s eventstore.Store) {
	cfg, a := eventstore.StreamRef{TenantID: "t1", Type: "config", ID: NewID()}, Stream("t1")
	mustAppend(t, s, cfg, eventstore.NoStream, Ev("cfg.set", 1), Ev("cfg.set", 2))
	parts := []eventstore.StreamAppend{part(a, eventstore.NoStream, Ev("a.created", 3)), part(cfg, eventstore.Exact(2))}
	res := mustAppendStreams(t, s, parts...)
	if want := (eventstore.AppendResult{FirstVersion: 2, LastVersion: 2}); !cmp.Equal(res[1], want) {
		t.Errorf("check result = %+v, want %+v", res[1], want)
	}
	if res[0].LastVersion != 1 || len(res[0].Positions) != 1 {
		t.Errorf("written part's result = %+v, want a@1", res[0])
	}
	if n := len(readStream(t, s, cfg)); n != 2 {
		t.Errorf("checked stream holds %d events, want its 2: a check writes nothing", n)
	}

	// A check that does not hold fails the append and names its stream.
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Exact(1), eventstore.Exact(3)} {
		b := Stream("t1")
		_, err := s.AppendStreams(context.Background(), []eventstore.StreamAppend{
			part(b, eventstore.NoStream, Ev("b.created", 4)), part(cfg, exp)})
		wantConflictOn(t, err, cfg, exp, 2)
		if n := len(readStream(t, s, b)); n != 0 {
			t.Errorf("check of %d: %d events stored, want 0", exp, n)
		}
	}
	// NoStream holds for a stream without events.
	mustAppendStreams(t, s, part(Stream("t1"), eventstore.NoStream, Ev("c.created", 5)),
		part(eventstore.StreamRef{TenantID: "t1", Type: "config", ID: NewID()}, eventstore.NoStream))

	// A retry after the checked stream moved on still answers the original.
	mustAppend(t, s, cfg, eventstore.Exact(2), Ev("cfg.set", 6))
	again, err := s.AppendStreams(context.Background(), parts)
	if err != nil {
		t.Fatalf("retry = %v, want the original results", err)
	}
	for i := range res {
		want := res[i]
		want.Duplicate = true
		if diff := cmp.Diff(want, again[i]); diff != "" {
			t.Errorf("retry result %d (-want +got):\n%s", i, diff)
		}
	}

	// Under concurrency, an append checking a stream never lands in the
	// transaction of a write to it (a group statement sees its streams as
	// of its start, so it would miss the write), and once the write has
	// returned, checks of the old version fail.
	const writers = 16
	var (
		mu     sync.Mutex
		landed []eventstore.Position
		after  []error
		w      eventstore.AppendResult
		wrote  = make(chan struct{})
	)
	race(writers+1, func(i int) {
		if i == writers {
			var err error
			if w, err = s.Append(context.Background(), cfg, eventstore.Exact(3), []eventstore.EventData{Ev("cfg.set", 7)}); err != nil {
				t.Errorf("write to the checked stream = %v", err)
			}
			close(wrote)
			return
		}
		done := false
		for j := 0; j < 200 && !done; j++ {
			select {
			case <-wrote:
				done = true
			default:
			}
			r, err := s.AppendStreams(context.Background(), []eventstore.StreamAppend{
				part(Stream("t1"), eventstore.NoStream, Ev("d.created", j)), part(cfg, eventstore.Exact(3))})
			mu.Lock()
			switch {
			case err == nil && done:
				after = append(after, fmt.Errorf("a check of version 3 landed after version 4 was written"))
			case err == nil:
				landed = append(landed, r[0].Last())
			case !errors.Is(err, eventstore.ErrVersionConflict):
				after = append(after, err)
			default:
				done = true // the write landed: every later check fails
			}
			mu.Unlock()
		}
	})
	for _, err := range after {
		t.Error(err)
	}
	for _, p := range landed {
		if p.TxID == w.Last().TxID {
			t.Errorf("a check of version 3 landed in the transaction that wrote version 4 (%v)", p)
		}
	}
}
