// Package domaintest holds checks every aggregate package's tests share.
// Only test files import it.
package domaintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// CodecRoundTrip checks that samples holds one event of every type c
// knows, in documentation order, and that each is Audited, encodes to a
// JSON object carrying "by", "source" and "at", and decodes (at its current
// schema version) back to an equal value.
func CodecRoundTrip(t *testing.T, samples []domain.Event, c *domain.Codec) {
	t.Helper()
	types := c.Types()
	var covered []string
	for _, e := range samples {
		typ := e.EventType()
		covered = append(covered, typ)
		t.Run(typ, func(t *testing.T) {
			if _, ok := e.(domain.Audited); !ok {
				t.Fatalf("%T is not domain.Audited", e)
			}
			b, err := c.Encode(e)
			if err != nil {
				t.Fatalf("Encode() = %v", err)
			}
			if !bytes.HasPrefix(b, []byte("{")) || !json.Valid(b) {
				t.Fatalf("Encode() = %s, want a JSON object", b)
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal(b, &members); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"by", "source", "at"} {
				if _, ok := members[k]; !ok {
					t.Errorf("encoded %s lacks %q: %s", typ, k, b)
				}
			}
			got, err := c.Decode(typ, c.Version(typ), b)
			if err != nil {
				t.Fatalf("Decode() = %v", err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("Decode(Encode(e)):\n got %#v\nwant %#v", got, e)
			}
		})
	}
	if !reflect.DeepEqual(covered, types) {
		t.Fatalf("samples cover %q, want every type %q", covered, types)
	}
}

// CheckErr fails unless err matches want: both nil, or errors.Is(err,
// want) with the same Kind.
func CheckErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	if want != nil && domain.KindOf(err) != domain.KindOf(want) {
		t.Fatalf("got error kind %v, want %v", domain.KindOf(err), domain.KindOf(want))
	}
}

// RoundTrip encodes and decodes events with c as a store would, each at
// its type's current schema version.
func RoundTrip(t testing.TB, events []domain.Event, c *domain.Codec) []domain.Event {
	t.Helper()
	out := make([]domain.Event, len(events))
	for i, e := range events {
		b, err := c.Encode(e)
		if err != nil {
			t.Fatalf("Encode(%T) = %v", e, err)
		}
		if out[i], err = c.Decode(e.EventType(), c.Version(e.EventType()), b); err != nil {
			t.Fatalf("Decode(%s) = %v", e.EventType(), err)
		}
	}
	return out
}

// CheckReplay checks that all, stored and loaded, rebuild the state want
// (through rehydrate) and that read models folding evolve over them agree.
// States compare by their JSON form, which is what read models keep.
func CheckReplay[A interface{ Snapshot() S }, S any](t testing.TB, all []domain.Event, want S, c *domain.Codec,
	rehydrate func([]domain.Event, int64) A, evolve func(S, domain.Event) S) {
	t.Helper()
	if got := rehydrate(RoundTrip(t, all, c), int64(len(all))).Snapshot(); !sameJSON(got, want) {
		t.Fatalf("state after replay:\n got %s\nwant %s", show(got), show(want))
	}
	if len(all) == 0 {
		return
	}
	var folded S
	for _, e := range all {
		folded = evolve(folded, e)
	}
	if !sameJSON(folded, want) {
		t.Fatalf("Evolve over the events:\n got %s\nwant %s", show(folded), show(want))
	}
}

// CheckEvents fails unless the recorded events equal want (none equals
// none).
func CheckEvents(t testing.TB, got, want []domain.Event) {
	t.Helper()
	if (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded events:\n got %s\nwant %s", show(got), show(want))
	}
}

func sameJSON(a, b any) bool { return show(a) == show(b) }

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// Scenario is one given/when/then case of an aggregate's command: given
// stored events, when the command runs, then it records exactly Then or
// fails with WantErr (recording nothing). Test packages define their own
// type on it (type scenario domaintest.Scenario[*ticket.Ticket]) and
// write their tables with unkeyed fields.
type Scenario[A any] struct {
	Name    string
	Given   []domain.Event
	When    func(A) error
	Then    []domain.Event
	WantErr error
}

// Aggregate is what Run needs of an aggregate with snapshots of type S.
type Aggregate[S any] interface {
	Version() int64
	Pending() []domain.Event
	Snapshot() S
}

// Run runs scenarios against aggregates rebuilt by rehydrate: for each it
// checks the error and the recorded events, that recording did not move
// the loaded version, and that what was recorded rebuilds the same state
// from storage and through evolve (CheckReplay).
func Run[C ~struct {
	Name    string
	Given   []domain.Event
	When    func(A) error
	Then    []domain.Event
	WantErr error
}, A Aggregate[S], S any](t *testing.T, tests []C, c *domain.Codec, rehydrate func([]domain.Event, int64) A, evolve func(S, domain.Event) S) {
	t.Helper()
	for _, tc := range tests {
		tt := Scenario[A](tc)
		t.Run(tt.Name, func(t *testing.T) {
			a := rehydrate(tt.Given, int64(len(tt.Given)))
			err := tt.When(a)
			CheckErr(t, err, tt.WantErr)
			CheckEvents(t, a.Pending(), tt.Then)
			if got, want := a.Version(), int64(len(tt.Given)); got != want {
				t.Fatalf("Version() = %d, want %d", got, want)
			}
			CheckReplay(t, append(append([]domain.Event{}, tt.Given...), a.Pending()...), a.Snapshot(), c, rehydrate, evolve)
		})
	}
}

// The times and the actor every aggregate's tests share: a thing is
// created at T0 and changed at T1 (and T2), and the commands under test run
// at Noon, by Agent.
var (
	T0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	T1    = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	T2    = time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	Noon  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	Agent = domain.Actor{ID: "u-1", Name: "Ana Agent", Email: "ana@example.com", Kind: domain.ActorAgent}
)
