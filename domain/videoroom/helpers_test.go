package videoroom_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/videoroom"
)

// Fixtures: a room opened by an agent at t0 for a ticket, which a customer
// joined at t1; the commands under test run at noon, by the agent, through
// the API.
const (
	ticketID  = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	ticketID2 = "11111111-1111-4111-8111-111111111111"
	room      = ticketID
	api       = domain.SourceAPI
)

var (
	t0   = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	t1   = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	t2   = time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	noon = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	agent    = domain.Actor{ID: "u-1", Name: "Ana Agent", Email: "ana@example.com", Kind: domain.ActorAgent}
	customer = domain.Actor{Email: "cara@example.com", Name: "Cara", Kind: domain.ActorUser}

	atOpening = domain.Change{By: agent, Source: api, At: t0}
	before    = domain.Change{By: agent, Source: api, At: t1}
	later     = domain.Change{By: agent, Source: api, At: t2}
	now       = domain.Change{By: agent, Source: api, At: noon}

	opened     = videoroom.RoomOpened{Change: atOpening, UniqueName: room, TicketID: ticketID}
	caraJoined = videoroom.ParticipantJoined{Change: before, Identity: "cara", User: customer}
	anaJoined  = videoroom.ParticipantJoined{Change: before, Identity: "ana", User: agent}
	caraLeft   = videoroom.ParticipantLeft{Change: later, Identity: "cara"}
	closed     = videoroom.RoomClosed{Change: later}
)

func given(events ...domain.Event) []domain.Event { return events }

// scenario is one given/when/then case: given stored events, when a
// command runs at noon, then it records these events or fails with wantErr
// (recording nothing).
type scenario struct {
	name    string
	given   []domain.Event
	when    func(*videoroom.Room) error
	then    []domain.Event
	wantErr error
}

func run(t *testing.T, tests []scenario) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := videoroom.Rehydrate(tt.given, int64(len(tt.given)))
			err := tt.when(r)
			checkErr(t, err, tt.wantErr)
			if got := r.Pending(); (len(got) > 0 || len(tt.then) > 0) && !cmp.Equal(got, tt.then) {
				t.Fatalf("recorded events (-got +want):\n%s", cmp.Diff(got, tt.then))
			}
			if got, want := r.Version(), int64(len(tt.given)); got != want {
				t.Fatalf("Version() = %d, want %d", got, want)
			}
			checkReplay(t, append(append([]domain.Event{}, tt.given...), r.Pending()...), r.Snapshot())
		})
	}
}

// checkReplay checks that the events, stored and loaded, rebuild want
// (Rehydrate) and that read models folding Evolve over them agree.
func checkReplay(t *testing.T, all []domain.Event, want videoroom.Snapshot) {
	t.Helper()
	if got := videoroom.Rehydrate(roundTrip(t, all), int64(len(all))).Snapshot(); !cmp.Equal(got, want) {
		t.Fatalf("state after replay (-got +want):\n%s", cmp.Diff(got, want))
	}
	if len(all) == 0 {
		return
	}
	var folded videoroom.Snapshot
	for _, e := range all {
		folded = videoroom.Evolve(folded, e)
	}
	if !cmp.Equal(folded, want) {
		t.Fatalf("Evolve over the events (-got +want):\n%s", cmp.Diff(folded, want))
	}
}

// checkErr fails unless err matches want (both nil, or errors.Is with the
// same Kind).
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	if want != nil && domain.KindOf(err) != domain.KindOf(want) {
		t.Fatalf("got error kind %v, want %v", domain.KindOf(err), domain.KindOf(want))
	}
}

// roundTrip encodes and decodes events as a store would.
func roundTrip(t *testing.T, events []domain.Event) []domain.Event {
	t.Helper()
	out := make([]domain.Event, len(events))
	for i, e := range events {
		b, err := videoroom.Encode(e)
		if err != nil {
			t.Fatalf("Encode(%T) = %v", e, err)
		}
		if out[i], err = videoroom.Decode(e.EventType(), b); err != nil {
			t.Fatalf("Decode(%s) = %v", e.EventType(), err)
		}
	}
	return out
}
