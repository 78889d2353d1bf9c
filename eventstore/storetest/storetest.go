// Package storetest is the conformance suite every eventstore.Store must
// pass: Run checks the Store contract (multi-stream appends included),
// RunFollow that eventstore.Follow over the store delivers every committed
// event once, in order, and RunConsumer the eventstore.Consumer contract.
// A store package runs them from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) eventstore.Store { return postgres.New(pgtest.DB(t), nil) })
//	}
//
//	func TestConsumer(t *testing.T) {
//		storetest.RunConsumer(t, func(t *testing.T) storetest.Harness { ... })
//	}
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Run checks stores from newStore against the Store contract. Each subtest
// gets its own store.
func Run(t *testing.T, newStore func(*testing.T) eventstore.Store) {
	runCases(t, newStore, []testCase[eventstore.Store]{
		{"AppendRead", appendRead},
		{"ReadStreamFrom", readStreamFrom},
		{"ReadStreams", readStreams},
		{"StaleVersion", staleVersion},
		{"StreamMustNotExist", streamMustNotExist},
		{"AnyVersion", anyVersion},
		{"AtomicMultiEvent", atomicMultiEvent},
		{"IdempotentRetry", idempotentRetry},
		{"DuplicateIDElsewhere", duplicateIDElsewhere},
		{"RaceOneWinner", raceOneWinner},
		{"ReadAllFilters", readAllFilters},
		{"TenantIsolation", tenantIsolation},
		{"BadInput", badInput},
		{"KeyClaim", keyClaim},
		{"KeyTaken", keyTaken},
		{"KeyScope", keyScope},
		{"KeyIdempotentRetry", keyIdempotentRetry},
		{"KeyRaceOneWinner", keyRaceOneWinner},
		{"KeyBadInput", keyBadInput},
		{"HotStreamOrder", hotStreamOrder},
		{"MultiAppendRead", multiAppendRead},
		{"MultiAtomic", multiAtomic},
		{"MultiKeyTaken", multiKeyTaken},
		{"MultiIdempotentRetry", multiIdempotentRetry},
		{"MultiPartialOverlap", multiPartialOverlap},
		{"MultiBadInput", multiBadInput},
		{"MultiRaceOneWinner", multiRaceOneWinner},
		{"MultiAnyRace", multiAnyRace},
		{"MultiCheck", multiCheck},
	})
}

// testCase is one case of a suite, run on a fixture of its own (a store,
// a harness).
type testCase[F any] struct {
	name string
	fn   func(*testing.T, F)
}

// runCases runs each case as a parallel subtest on a fixture from
// newFixture.
func runCases[F any](t *testing.T, newFixture func(*testing.T) F, cases []testCase[F]) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, newFixture(t))
		})
	}
}

// NewID returns a random UUID (v4) for test events.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Ev returns an event of type typ whose data is {"n": n}.
func Ev(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID:       NewID(),
		Type:     typ,
		Data:     json.RawMessage(fmt.Sprintf(`{"n": %d}`, n)),
		Metadata: eventstore.Metadata{Actor: "tester", Source: "test", CorrelationID: "c-1"},
	}
}

// Stream returns a fresh stream reference of type "ticket" in tenant.
func Stream(tenant string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: "ticket", ID: NewID()}
}

func mustAppend(t *testing.T, s eventstore.Store, st eventstore.StreamRef, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), st, exp, evs)
	if err != nil {
		t.Fatalf("Append(%s, %d) = %v, want nil", st, exp, err)
	}
	return res
}

func readStream(t *testing.T, s eventstore.Store, st eventstore.StreamRef) []eventstore.Event {
	t.Helper()
	evs, err := s.ReadStream(context.Background(), st, 1, 0)
	if err != nil {
		t.Fatalf("ReadStream(%s) = %v", st, err)
	}
	return evs
}

// readAll reads the whole log selected by q, waiting (up to 30s) until at
// least want events are visible: ReadAll holds events back while any older
// transaction in the cluster is still open, and other tests hold some.
func readAll(t *testing.T, s eventstore.Store, q eventstore.Query, want int) []eventstore.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out []eventstore.Event
		for qq := q; ; {
			evs, err := s.ReadAll(context.Background(), qq)
			if err != nil {
				t.Fatalf("ReadAll = %v", err)
			}
			out = append(out, evs...)
			if len(evs) == 0 {
				break
			}
			qq.After = evs[len(evs)-1].Position
		}
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func appendRead(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	in := []eventstore.EventData{Ev("ticket.created", 1), Ev("ticket.commented", 2)}
	in[1].SchemaVersion = 3
	res := mustAppend(t, s, st, eventstore.NoStream, in...)
	if res.FirstVersion != 1 || res.LastVersion != 2 || len(res.Positions) != 2 || res.Duplicate {
		t.Fatalf("Append result = %+v, want versions 1..2, 2 positions, not duplicate", res)
	}
	if !res.Positions[0].Less(res.Positions[1]) {
		t.Errorf("positions %v, want increasing", res.Positions)
	}
	got := readStream(t, s, st)
	if len(got) != 2 {
		t.Fatalf("ReadStream returned %d events, want 2", len(got))
	}
	for i, e := range got {
		want := in[i]
		if e.ID != want.ID || e.Type != want.Type || e.Version != int64(i+1) || e.Stream() != st {
			t.Errorf("event %d = %+v, want id %s type %s version %d", i, e, want.ID, want.Type, i+1)
		}
		if e.Position != res.Positions[i] {
			t.Errorf("event %d position %v, want %v", i, e.Position, res.Positions[i])
		}
		if diff := cmp.Diff(want.Metadata, e.Metadata); diff != "" {
			t.Errorf("event %d metadata (-want +got):\n%s", i, diff)
		}
		var d map[string]int
		if err := json.Unmarshal(e.Data, &d); err != nil || d["n"] != i+1 {
			t.Errorf("event %d data = %s, want {\"n\": %d}", i, e.Data, i+1)
		}
		if e.RecordedAt.IsZero() {
			t.Errorf("event %d has no recorded-at time", i)
		}
	}
	if got[0].SchemaVersion != 1 || got[1].SchemaVersion != 3 {
		t.Errorf("schema versions %d, %d, want 1 (default) and 3", got[0].SchemaVersion, got[1].SchemaVersion)
	}
	if evs, err := s.ReadStream(context.Background(), Stream("t1"), 1, 0); err != nil || len(evs) != 0 {
		t.Errorf("ReadStream(unknown) = %d events, %v; want none, nil", len(evs), err)
	}
}

func readStreamFrom(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	for i := range 5 {
		mustAppend(t, s, st, eventstore.Exact(int64(i)), Ev("e", i))
	}
	evs, err := s.ReadStream(context.Background(), st, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Version != 3 || evs[1].Version != 4 {
		t.Fatalf("ReadStream(from 3, limit 2) = %d events, want versions 3 and 4", len(evs))
	}
}

// readStreams: one call reads several streams, each from its own version,
// in the order asked, with unknown streams empty, other tenants' streams
// their own, the limit per stream, and a stream asked twice refused.
func readStreams(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	a, b, other := Stream("t1"), Stream("t1"), Stream("t2")
	for i := range 4 {
		mustAppend(t, s, a, eventstore.Exact(int64(i)), Ev("a", i))
	}
	mustAppend(t, s, b, eventstore.NoStream, Ev("b", 0), Ev("b", 1))
	mustAppend(t, s, other, eventstore.NoStream, Ev("o", 0))
	got, err := s.ReadStreams(ctx, []eventstore.StreamRead{{Stream: b, From: 2}, {Stream: Stream("t1")}, {Stream: a, From: 2}, {Stream: other, From: 1}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	versions := func(evs []eventstore.Event, st eventstore.StreamRef) []int64 {
		var v []int64
		for _, e := range evs {
			if e.Stream() != st {
				t.Errorf("an event of %s among those of %s", e.Stream(), st)
			}
			v = append(v, e.Version)
		}
		return v
	}
	if len(got) != 4 {
		t.Fatalf("ReadStreams returned %d results for 4 reads", len(got))
	}
	for i, want := range [][]int64{{2}, nil, {2, 3}, {1}} {
		st := []eventstore.StreamRef{b, {}, a, other}[i]
		if i == 1 {
			if len(got[1]) != 0 {
				t.Errorf("an unknown stream read %d events", len(got[1]))
			}
			continue
		}
		if diff := cmp.Diff(want, versions(got[i], st)); diff != "" {
			t.Errorf("read %d versions (-want +got):\n%s", i, diff)
		}
	}
	if got[2][0].Type != "a" || got[3][0].TenantID != other.TenantID {
		t.Errorf("read events %+v, %+v", got[2][0], got[3][0])
	}
	if got, err := s.ReadStreams(ctx, []eventstore.StreamRead{{Stream: a, From: 1}}, 2); err != nil || len(got[0]) != 2 {
		t.Errorf("ReadStreams(limit 2) = %v, %v; want versions 1 and 2", got, err)
	}
	if _, err := s.ReadStreams(ctx, []eventstore.StreamRead{{Stream: a}, {Stream: a, From: 3}}, 0); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("ReadStreams(a stream twice) = %v, want ErrInvalid", err)
	}
	if got, err := s.ReadStreams(ctx, nil, 0); err != nil || len(got) != 0 {
		t.Errorf("ReadStreams(none) = %v, %v", got, err)
	}
}

func wantConflict(t *testing.T, err error, actual int64) {
	t.Helper()
	var vc *eventstore.VersionConflictError
	if !errors.Is(err, eventstore.ErrVersionConflict) || !errors.As(err, &vc) {
		t.Fatalf("err = %v, want ErrVersionConflict", err)
	}
	if vc.Actual != actual {
		t.Errorf("conflict actual version = %d, want %d", vc.Actual, actual)
	}
}

func staleVersion(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	mustAppend(t, s, st, eventstore.NoStream, Ev("a", 1), Ev("b", 2))
	_, err := s.Append(context.Background(), st, eventstore.Exact(1), []eventstore.EventData{Ev("c", 3)})
	wantConflict(t, err, 2)
	_, err = s.Append(context.Background(), st, eventstore.Exact(7), []eventstore.EventData{Ev("c", 3)})
	wantConflict(t, err, 2)
	if n := len(readStream(t, s, st)); n != 2 {
		t.Errorf("stream has %d events after rejected appends, want 2", n)
	}
	mustAppend(t, s, st, eventstore.Exact(2), Ev("c", 3))
}

func streamMustNotExist(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	mustAppend(t, s, st, eventstore.NoStream, Ev("a", 1))
	_, err := s.Append(context.Background(), st, eventstore.NoStream, []eventstore.EventData{Ev("a", 1)})
	wantConflict(t, err, 1)
}

func anyVersion(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	for i := range 3 {
		res := mustAppend(t, s, st, eventstore.Any, Ev("a", i))
		if res.LastVersion != int64(i+1) {
			t.Fatalf("Any append %d landed at version %d, want %d", i, res.LastVersion, i+1)
		}
	}
}

func atomicMultiEvent(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	mustAppend(t, s, st, eventstore.NoStream, Ev("a", 1))
	// The second event reuses the first one's id: the whole append must fail
	// and leave nothing behind.
	bad := []eventstore.EventData{Ev("b", 2), Ev("c", 3), Ev("d", 4)}
	bad[2].Data = json.RawMessage(`[1, 2]`)
	if _, err := s.Append(context.Background(), st, eventstore.Exact(1), bad); !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("Append with one bad event = %v, want ErrInvalid", err)
	}
	if n := len(readStream(t, s, st)); n != 1 {
		t.Fatalf("stream has %d events after a failed multi-event append, want 1", n)
	}
	res := mustAppend(t, s, st, eventstore.Exact(1), Ev("b", 2), Ev("c", 3), Ev("d", 4))
	if res.FirstVersion != 2 || res.LastVersion != 4 {
		t.Fatalf("versions %d..%d, want 2..4", res.FirstVersion, res.LastVersion)
	}
	evs := readAll(t, s, eventstore.Query{TenantID: "t1"}, 4)
	if len(evs) != 4 {
		t.Fatalf("log has %d events, want 4", len(evs))
	}
}

func idempotentRetry(t *testing.T, s eventstore.Store) {
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Any} {
		st := Stream("t1")
		in := []eventstore.EventData{Ev("a", 1), Ev("b", 2)}
		first := mustAppend(t, s, st, exp, in...)
		mustAppend(t, s, st, eventstore.Any, Ev("later", 3))
		again, err := s.Append(context.Background(), st, exp, in)
		if err != nil {
			t.Fatalf("retry with expected %d = %v, want the original result", exp, err)
		}
		if !again.Duplicate || again.FirstVersion != first.FirstVersion || again.LastVersion != first.LastVersion ||
			!cmp.Equal(again.Positions, first.Positions) {
			t.Errorf("retry result = %+v, want %+v marked duplicate", again, first)
		}
		if n := len(readStream(t, s, st)); n != 3 {
			t.Errorf("stream has %d events after a retry, want 3", n)
		}
	}
	// Concurrent retries of one append: one write, same answer for all.
	st := Stream("t1")
	in := []eventstore.EventData{Ev("a", 1)}
	results := make([]eventstore.AppendResult, 8)
	errs := make([]error, 8)
	race(len(results), func(i int) { results[i], errs[i] = s.Append(context.Background(), st, eventstore.NoStream, in) })
	for i := range results {
		if errs[i] != nil || results[i].LastVersion != 1 || !cmp.Equal(results[i].Positions, results[0].Positions) {
			t.Errorf("concurrent retry %d = %+v, %v; want version 1 at %v", i, results[i], errs[i], results[0].Positions)
		}
	}
	if n := len(readStream(t, s, st)); n != 1 {
		t.Errorf("stream has %d events after concurrent retries, want 1", n)
	}
}

func duplicateIDElsewhere(t *testing.T, s eventstore.Store) {
	e := Ev("a", 1)
	mustAppend(t, s, Stream("t1"), eventstore.NoStream, e)
	other := Stream("t2")
	if _, err := s.Append(context.Background(), other, eventstore.NoStream, []eventstore.EventData{e}); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Errorf("reusing an event id in another tenant's stream = %v, want ErrDuplicateEvent", err)
	}
	// Part of an earlier append plus a new event is not a retry either.
	st := Stream("t1")
	a, b := Ev("a", 1), Ev("b", 2)
	mustAppend(t, s, st, eventstore.NoStream, a)
	if _, err := s.Append(context.Background(), st, eventstore.Exact(1), []eventstore.EventData{a, b}); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Errorf("partial retry = %v, want ErrDuplicateEvent", err)
	}
	if n := len(readStream(t, s, other)) + len(readStream(t, s, st)); n != 1 {
		t.Errorf("%d events stored by rejected appends, want only the original", n-1)
	}
}

func raceOneWinner(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	mustAppend(t, s, st, eventstore.NoStream, Ev("a", 0))
	const n = 20
	errs := make([]error, n)
	race(n, func(i int) {
		_, errs[i] = s.Append(context.Background(), st, eventstore.Exact(1), []eventstore.EventData{Ev("b", i)})
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, eventstore.ErrVersionConflict):
		default:
			t.Errorf("append = %v, want nil or ErrVersionConflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d appends won at version 1, want exactly 1", wins)
	}
	if got := readStream(t, s, st); len(got) != 2 || got[1].Version != 2 {
		t.Fatalf("stream has %d events, want 2", len(got))
	}
}

func readAllFilters(t *testing.T, s eventstore.Store) {
	tick := eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: "x"}
	cont := eventstore.StreamRef{TenantID: "t1", Type: "contact", ID: "x"}
	mustAppend(t, s, tick, eventstore.NoStream, Ev("ticket.created", 1), Ev("ticket.commented", 2))
	mustAppend(t, s, cont, eventstore.NoStream, Ev("contact.added", 3))
	mustAppend(t, s, tick, eventstore.Exact(2), Ev("ticket.closed", 4))
	all := readAll(t, s, eventstore.Query{TenantID: "t1", Limit: 1}, 4)
	if len(all) != 4 {
		t.Fatalf("ReadAll = %d events, want 4", len(all))
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Position.Less(all[i].Position) {
			t.Errorf("positions out of order: %v then %v", all[i-1].Position, all[i].Position)
		}
	}
	if got := readAll(t, s, eventstore.Query{TenantID: "t1", StreamType: "contact"}, 1); len(got) != 1 || got[0].Type != "contact.added" {
		t.Errorf("stream type filter returned %d events", len(got))
	}
	got := readAll(t, s, eventstore.Query{TenantID: "t1", Types: []string{"ticket.created", "ticket.closed"}}, 2)
	if len(got) != 2 || got[0].Type != "ticket.created" || got[1].Type != "ticket.closed" {
		t.Errorf("type filter returned %d events, want created and closed", len(got))
	}
	after := readAll(t, s, eventstore.Query{TenantID: "t1", After: all[1].Position}, 2)
	if len(after) != 2 || after[0].ID != all[2].ID {
		t.Errorf("ReadAll after %v returned %d events, want the last 2", all[1].Position, len(after))
	}
	head, err := s.Head(context.Background(), "t1")
	if err != nil || head != all[3].Position {
		t.Errorf("Head = %v, %v; want %v", head, err, all[3].Position)
	}

	// One stream: the same id in another stream type or tenant is not it.
	mustAppend(t, s, eventstore.StreamRef{TenantID: "t2", Type: "ticket", ID: "x"}, eventstore.NoStream, Ev("ticket.created", 5))
	mustAppend(t, s, eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: "y"}, eventstore.NoStream, Ev("ticket.created", 6))
	one := eventstore.Query{TenantID: "t1", StreamType: "ticket", StreamID: "x", Limit: 1}
	got = readAll(t, s, one, 3)
	if len(got) != 3 || got[0].ID != all[0].ID || got[1].ID != all[1].ID || got[2].ID != all[3].ID {
		t.Errorf("stream filter returned %d events, want the ticket's 3 in log order", len(got))
	}
	one.After, one.Limit = all[0].Position, 10
	if got := readAll(t, s, one, 2); len(got) != 2 || got[0].ID != all[1].ID || got[1].ID != all[3].ID {
		t.Errorf("stream filter after %v returned %d events, want the ticket's last 2", all[0].Position, len(got))
	}
	for _, q := range []eventstore.Query{{TenantID: "t1", StreamID: "x"}, {StreamType: "ticket", StreamID: "x"}} {
		if _, err := s.ReadAll(context.Background(), q); !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("ReadAll(%+v) = %v, want ErrInvalid (a stream id needs its tenant and type)", q, err)
		}
	}
}

func tenantIsolation(t *testing.T, s eventstore.Store) {
	a := eventstore.StreamRef{TenantID: "tenant-a", Type: "ticket", ID: "same"}
	b := eventstore.StreamRef{TenantID: "tenant-b", Type: "ticket", ID: "same"}
	mustAppend(t, s, a, eventstore.NoStream, Ev("x", 1))
	// The same stream id in another tenant is another stream.
	mustAppend(t, s, b, eventstore.NoStream, Ev("x", 2))
	if got := readStream(t, s, a); len(got) != 1 || got[0].TenantID != "tenant-a" {
		t.Errorf("tenant-a stream = %d events", len(got))
	}
	evs := readAll(t, s, eventstore.Query{TenantID: "tenant-b"}, 1)
	if len(evs) != 1 {
		t.Errorf("ReadAll(tenant-b) = %d events, want 1", len(evs))
	}
	for _, e := range evs {
		if e.TenantID != "tenant-b" {
			t.Errorf("ReadAll(tenant-b) returned an event of %s", e.TenantID)
		}
	}
}

func badInput(t *testing.T, s eventstore.Store) {
	ok := Stream("t1")
	big := Ev("big", 0)
	big.Data = json.RawMessage(`{"s": "` + strings.Repeat("x", eventstore.MaxEventSize) + `"}`)
	tests := []struct {
		name   string
		stream eventstore.StreamRef
		events []eventstore.EventData
	}{
		{"empty stream id", eventstore.StreamRef{TenantID: "t1", Type: "ticket"}, []eventstore.EventData{Ev("a", 1)}},
		{"over-long stream id", eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: strings.Repeat("x", eventstore.MaxStreamIDLength+1)}, []eventstore.EventData{Ev("a", 1)}},
		{"empty tenant", eventstore.StreamRef{Type: "ticket", ID: "x"}, []eventstore.EventData{Ev("a", 1)}},
		{"bad stream type", eventstore.StreamRef{TenantID: "t1", Type: "Ticket!", ID: "x"}, []eventstore.EventData{Ev("a", 1)}},
		{"no events", ok, nil},
		{"array data", ok, []eventstore.EventData{{ID: NewID(), Type: "a", Data: json.RawMessage(`[1]`)}}},
		{"string data", ok, []eventstore.EventData{{ID: NewID(), Type: "a", Data: json.RawMessage(`"x"`)}}},
		{"malformed data", ok, []eventstore.EventData{{ID: NewID(), Type: "a", Data: json.RawMessage(`{"a":`)}}},
		{"NUL in data", ok, []eventstore.EventData{{ID: NewID(), Type: "a", Data: json.RawMessage(`{"a":"\u0000"}`)}}},
		{"non-UUID id", ok, []eventstore.EventData{{ID: "evt-1", Type: "a", Data: json.RawMessage(`{}`)}}},
		{"empty type", ok, []eventstore.EventData{{ID: NewID(), Data: json.RawMessage(`{}`)}}},
		{"oversized event", ok, []eventstore.EventData{Ev("a", 1), big}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tt.stream, eventstore.Any, tt.events)
			var inv *eventstore.InvalidError
			if !errors.Is(err, eventstore.ErrInvalid) || !errors.As(err, &inv) {
				t.Fatalf("Append = %v, want an InvalidError", err)
			}
		})
	}
	if n := len(readStream(t, s, ok)); n != 0 {
		t.Errorf("%d events stored by invalid appends, want 0", n)
	}
}

// hotStreamOrder: many writers race on few streams with Any; every
// stream's versions reach the log contiguous and in order.
func hotStreamOrder(t *testing.T, s eventstore.Store) {
	race(16, func(w int) {
		for i := range 50 {
			st := eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: fmt.Sprintf("hot%d", (w+i)%3)}
			if _, err := s.Append(context.Background(), st, eventstore.Any, []eventstore.EventData{Ev("x", i)}); err != nil {
				t.Errorf("append: %v", err)
				return
			}
		}
	})
	evs := readAll(t, s, eventstore.Query{TenantID: "t1", Limit: 10000}, 800)
	c := newCollector()
	c.add(evs)
	if len(evs) != 800 || len(c.errs) > 0 {
		t.Fatalf("read %d events, want 800; errors: %v", len(evs), c.errs)
	}
}
