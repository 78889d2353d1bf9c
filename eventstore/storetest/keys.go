package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Conformance cases for stream keys (eventstore.EventData.Key and
// Store.Lookup).

// keyed returns Ev(typ, n) claiming key for its stream.
func keyed(typ string, n int, key string) eventstore.EventData {
	e := Ev(typ, n)
	e.Key = key
	return e
}

func wantLookup(t *testing.T, s eventstore.Store, tenant, streamType, key, wantID string) {
	t.Helper()
	id, ok, err := s.Lookup(context.Background(), tenant, streamType, key)
	if err != nil || !ok || id != wantID {
		t.Errorf("Lookup(%s, %s, %q) = %q, %t, %v; want %q, true, nil", tenant, streamType, key, id, ok, err, wantID)
	}
}

func wantNoLookup(t *testing.T, s eventstore.Store, tenant, streamType, key string) {
	t.Helper()
	id, ok, err := s.Lookup(context.Background(), tenant, streamType, key)
	if err != nil || ok {
		t.Errorf("Lookup(%s, %s, %q) = %q, %t, %v; want \"\", false, nil", tenant, streamType, key, id, ok, err)
	}
}

func wantKeyTaken(t *testing.T, err error, stream eventstore.StreamRef, key string) {
	t.Helper()
	var kt *eventstore.KeyTakenError
	if !errors.Is(err, eventstore.ErrKeyTaken) || !errors.As(err, &kt) {
		t.Fatalf("Append(%s) = %v, want a KeyTakenError", stream, err)
	}
	if kt.Key != key || kt.Stream != stream {
		t.Errorf("KeyTakenError{Stream: %s, Key: %q}, want {Stream: %s, Key: %q}", kt.Stream, kt.Key, stream, key)
	}
}

func keysOf(evs []eventstore.Event) []string {
	keys := make([]string, len(evs))
	for i, e := range evs {
		keys[i] = e.Key
	}
	return keys
}

func keyClaim(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	mustAppend(t, s, st, eventstore.NoStream, keyed("ticket.created", 1, "T-1"), Ev("ticket.commented", 2))
	wantLookup(t, s, "t1", "ticket", "T-1", st.ID)
	wantNoLookup(t, s, "t1", "ticket", "T-2")
	// A later event may give the stream a second name; the first one stays.
	mustAppend(t, s, st, eventstore.Exact(2), keyed("ticket.renumbered", 3, "T-1-b"))
	wantLookup(t, s, "t1", "ticket", "T-1-b", st.ID)
	wantLookup(t, s, "t1", "ticket", "T-1", st.ID)

	want := []string{"T-1", "", "T-1-b"}
	if diff := cmp.Diff(want, keysOf(readStream(t, s, st))); diff != "" {
		t.Errorf("ReadStream keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, keysOf(readAll(t, s, eventstore.Query{TenantID: "t1"}, 3))); diff != "" {
		t.Errorf("ReadAll keys (-want +got):\n%s", diff)
	}
}

func keyTaken(t *testing.T, s eventstore.Store) {
	first := Stream("t1")
	mustAppend(t, s, first, eventstore.NoStream, keyed("ticket.created", 1, "T-1"))
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Any} {
		// Only the middle event claims the key: the whole append must fail.
		second := Stream("t1")
		in := []eventstore.EventData{Ev("ticket.created", 2), keyed("ticket.numbered", 3, "T-1"), Ev("ticket.commented", 4)}
		_, err := s.Append(context.Background(), second, exp, in)
		wantKeyTaken(t, err, second, "T-1")
		if n := len(readStream(t, s, second)); n != 0 {
			t.Errorf("expected %d: stream has %d events after a key conflict, want 0", exp, n)
		}
		// Had any of the rejected events been stored, reusing their ids
		// would be a retry or a duplicate, not a fresh append.
		res := mustAppend(t, s, second, eventstore.NoStream, in[0], in[2])
		if res.Duplicate || res.FirstVersion != 1 || res.LastVersion != 2 {
			t.Errorf("expected %d: re-append of the unkeyed events = %+v, want versions 1..2, not duplicate", exp, res)
		}
	}
	// A stream that already has events keeps exactly those.
	third := Stream("t1")
	mustAppend(t, s, third, eventstore.NoStream, Ev("ticket.created", 5))
	_, err := s.Append(context.Background(), third, eventstore.Exact(1), []eventstore.EventData{keyed("ticket.numbered", 6, "T-1")})
	wantKeyTaken(t, err, third, "T-1")
	if n := len(readStream(t, s, third)); n != 1 {
		t.Errorf("existing stream has %d events after a key conflict, want 1", n)
	}
	wantLookup(t, s, "t1", "ticket", "T-1", first.ID)
}

func keyScope(t *testing.T, s eventstore.Store) {
	ticket := Stream("t1")
	otherTenant := Stream("t2")
	otherType := eventstore.StreamRef{TenantID: "t1", Type: "contact", ID: NewID()}
	for _, st := range []eventstore.StreamRef{ticket, otherTenant, otherType} {
		mustAppend(t, s, st, eventstore.NoStream, keyed("created", 1, "K-1"))
	}
	wantLookup(t, s, "t1", "ticket", "K-1", ticket.ID)
	wantLookup(t, s, "t2", "ticket", "K-1", otherTenant.ID)
	wantLookup(t, s, "t1", "contact", "K-1", otherType.ID)
	wantNoLookup(t, s, "t2", "contact", "K-1")
}

func keyIdempotentRetry(t *testing.T, s eventstore.Store) {
	for i, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Any} {
		st := Stream("t1")
		key := fmt.Sprintf("T-%d", i)
		in := []eventstore.EventData{keyed("ticket.created", 1, key), Ev("ticket.commented", 2)}
		first := mustAppend(t, s, st, exp, in...)
		mustAppend(t, s, st, eventstore.Any, Ev("later", 3))
		again, err := s.Append(context.Background(), st, exp, in)
		if err != nil {
			t.Fatalf("keyed retry with expected %d = %v, want the original result", exp, err)
		}
		if !again.Duplicate || again.FirstVersion != first.FirstVersion || again.LastVersion != first.LastVersion ||
			!cmp.Equal(again.Positions, first.Positions) {
			t.Errorf("keyed retry result = %+v, want %+v marked duplicate", again, first)
		}
		if n := len(readStream(t, s, st)); n != 3 {
			t.Errorf("stream has %d events after a keyed retry, want 3", n)
		}
		wantLookup(t, s, "t1", "ticket", key, st.ID)
	}
	// Concurrent retries of one keyed append: one write, same answer for all.
	st := Stream("t1")
	in := []eventstore.EventData{keyed("ticket.created", 1, "T-c")}
	results := make([]eventstore.AppendResult, 8)
	errs := make([]error, 8)
	race(len(results), func(i int) { results[i], errs[i] = s.Append(context.Background(), st, eventstore.NoStream, in) })
	for i := range results {
		if errs[i] != nil || results[i].LastVersion != 1 || !cmp.Equal(results[i].Positions, results[0].Positions) {
			t.Errorf("concurrent keyed retry %d = %+v, %v; want version 1 at %v", i, results[i], errs[i], results[0].Positions)
		}
	}
	if n := len(readStream(t, s, st)); n != 1 {
		t.Errorf("stream has %d events after concurrent keyed retries, want 1", n)
	}
	wantLookup(t, s, "t1", "ticket", "T-c", st.ID)
}

func keyRaceOneWinner(t *testing.T, s eventstore.Store) {
	const n = 20
	streams := make([]eventstore.StreamRef, n)
	errs := make([]error, n)
	for i := range n {
		streams[i] = Stream("t1")
	}
	race(n, func(i int) {
		_, errs[i] = s.Append(context.Background(), streams[i], eventstore.NoStream, []eventstore.EventData{keyed("ticket.created", i, "T-1")})
	})
	winner := -1
	wins := 0
	for i, err := range errs {
		var kt *eventstore.KeyTakenError
		switch {
		case err == nil:
			wins++
			winner = i
		case errors.As(err, &kt) && errors.Is(err, eventstore.ErrKeyTaken):
			if kt.Stream != streams[i] || kt.Key != "T-1" {
				t.Errorf("KeyTakenError{Stream: %s, Key: %q}, want {Stream: %s, Key: \"T-1\"}", kt.Stream, kt.Key, streams[i])
			}
			if n := len(readStream(t, s, streams[i])); n != 0 {
				t.Errorf("losing stream %d has %d events, want 0", i, n)
			}
		default:
			t.Errorf("append %d = %v, want nil or a KeyTakenError", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d appends claimed key T-1, want exactly 1", wins)
	}
	wantLookup(t, s, "t1", "ticket", "T-1", streams[winner].ID)
	if n := len(readStream(t, s, streams[winner])); n != 1 {
		t.Errorf("winning stream has %d events, want 1", n)
	}
}

func keyBadInput(t *testing.T, s eventstore.Store) {
	st := Stream("t1")
	tests := []struct {
		name   string
		events []eventstore.EventData
	}{
		{"key over MaxKeyLength", []eventstore.EventData{keyed("a", 1, strings.Repeat("k", eventstore.MaxKeyLength+1))}},
		// The limit is in bytes: 101 runes, 201 bytes.
		{"multi-byte key over MaxKeyLength", []eventstore.EventData{keyed("a", 1, strings.Repeat("é", eventstore.MaxKeyLength/2)+"k")}},
		{"key claimed twice", []eventstore.EventData{keyed("a", 1, "T-1"), Ev("b", 2), keyed("c", 3, "T-1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), st, eventstore.Any, tt.events)
			var inv *eventstore.InvalidError
			if !errors.Is(err, eventstore.ErrInvalid) || !errors.As(err, &inv) {
				t.Fatalf("Append = %v, want an InvalidError", err)
			}
		})
	}
	if n := len(readStream(t, s, st)); n != 0 {
		t.Errorf("%d events stored by invalid appends, want 0", n)
	}
	wantNoLookup(t, s, "t1", "ticket", "T-1")
	// Exactly MaxKeyLength bytes is allowed.
	long := strings.Repeat("é", eventstore.MaxKeyLength/2)
	mustAppend(t, s, st, eventstore.NoStream, keyed("a", 1, long))
	wantLookup(t, s, "t1", "ticket", long, st.ID)
}
