package videoroom_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/videoroom"
)

func TestRoom_Open(t *testing.T) {
	open := func(name, ticket string) func(*videoroom.Room) error {
		return func(r *videoroom.Room) error {
			return r.Open(videoroom.OpenRoom{By: agent, Source: api, UniqueName: name, TicketID: ticket}, noon)
		}
	}
	run(t, []scenario{
		{"new room", nil, open(room, ticketID), given(videoroom.RoomOpened{Change: now, UniqueName: room, TicketID: ticketID}), nil},
		{"name of 128 characters", nil, open("R"+strings.Repeat("_-9", 42)+"x", ticketID),
			given(videoroom.RoomOpened{Change: now, UniqueName: "R" + strings.Repeat("_-9", 42) + "x", TicketID: ticketID}), nil},
		{"open again for the same ticket: no event", given(opened, caraJoined), open(room, ticketID), nil, nil},
		{"closed room: a new session", given(opened, caraJoined, closed), open(room, ticketID),
			given(videoroom.RoomOpened{Change: now, UniqueName: room, TicketID: ticketID}), nil},
		{"closed room, for another ticket", given(opened, closed), open(room, ticketID2),
			given(videoroom.RoomOpened{Change: now, UniqueName: room, TicketID: ticketID2}), nil},
		{"open for another ticket", given(opened), open(room, ticketID2), nil, videoroom.ErrNameTaken},
		{"empty name", nil, open("", ticketID), nil, videoroom.ErrInvalidUniqueName.At("unique_name")},
		{"name starting with a dash", nil, open("-room", ticketID), nil, videoroom.ErrInvalidUniqueName},
		{"name with a slash", nil, open("a/b", ticketID), nil, videoroom.ErrInvalidUniqueName},
		{"name with a dot", nil, open("..", ticketID), nil, videoroom.ErrInvalidUniqueName},
		{"name too long", nil, open(strings.Repeat("a", 129), ticketID), nil, videoroom.ErrInvalidUniqueName},
		{"ticket id not a UUID", nil, open(room, "42"), nil, videoroom.ErrInvalidField.At("ticket_id")},
		{"invalid actor", nil, func(r *videoroom.Room) error {
			return r.Open(videoroom.OpenRoom{By: domain.Actor{Kind: domain.ActorUser}, Source: api, UniqueName: room, TicketID: ticketID}, noon)
		}, nil, domain.ErrInvalidActor.At("by")},
		{"unknown source", nil, func(r *videoroom.Room) error {
			return r.Open(videoroom.OpenRoom{By: agent, Source: "fax", UniqueName: room, TicketID: ticketID}, noon)
		}, nil, domain.ErrUnknownSource},
		{"invalid input beats state", given(opened), open(room, "42"), nil, videoroom.ErrInvalidField},
	})

	t.Run("every problem is reported", func(t *testing.T) {
		err := videoroom.Rehydrate(nil, 0).Open(videoroom.OpenRoom{Source: api, UniqueName: "a b", TicketID: "x"}, noon)
		var got []string
		for _, e := range domain.Errors(err) {
			got = append(got, e.Code+"@"+e.Field)
		}
		want := []string{"invalid_actor@by", "invalid_unique_name@unique_name", "invalid_field@ticket_id"}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Fatalf("Open() errors (-got +want):\n%s", diff)
		}
	})
	t.Run("another room than the one loaded", func(t *testing.T) {
		err := videoroom.Rehydrate(given(opened), 1).Open(videoroom.OpenRoom{By: agent, Source: api, UniqueName: "other", TicketID: ticketID}, noon)
		if err == nil || domain.KindOf(err) != domain.Internal {
			t.Fatalf("Open(other name) = %v, want an internal error", err)
		}
	})
	t.Run("zero time", func(t *testing.T) {
		err := videoroom.Rehydrate(nil, 0).Open(videoroom.OpenRoom{By: agent, Source: api, UniqueName: room, TicketID: ticketID}, time.Time{})
		if err == nil || domain.KindOf(err) != domain.Internal {
			t.Fatalf("Open(zero time) = %v, want an internal error", err)
		}
	})
}

func TestRoom_Join(t *testing.T) {
	join := func(identity string, user *domain.Actor) func(*videoroom.Room) error {
		return func(r *videoroom.Room) error {
			return r.Join(videoroom.JoinRoom{By: agent, Source: api, Identity: identity, User: user}, noon)
		}
	}
	full := given(opened)
	for i := range videoroom.MaxParticipants {
		full = append(full, videoroom.ParticipantJoined{Change: before, Identity: fmt.Sprintf("p%d", i), User: customer})
	}
	run(t, []scenario{
		{"first participant", given(opened), join("cara", &customer),
			given(videoroom.ParticipantJoined{Change: now, Identity: "cara", User: customer}), nil},
		{"user defaults to the actor", given(opened), join("ana", nil),
			given(videoroom.ParticipantJoined{Change: now, Identity: "ana", User: agent}), nil},
		{"second participant", given(opened, caraJoined), join("ana", nil),
			given(videoroom.ParticipantJoined{Change: now, Identity: "ana", User: agent}), nil},
		{"identity with spaces inside and non-ASCII", given(opened), join("Cara Núñez <cara@example.com>", &customer),
			given(videoroom.ParticipantJoined{Change: now, Identity: "Cara Núñez <cara@example.com>", User: customer}), nil},
		{"identity of 128 bytes", given(opened), join(strings.Repeat("i", 128), nil),
			given(videoroom.ParticipantJoined{Change: now, Identity: strings.Repeat("i", 128), User: agent}), nil},
		{"connected already: no event", given(opened, caraJoined), join("cara", &agent), nil, nil},
		{"rejoin after leaving", given(opened, caraJoined, caraLeft), join("cara", &customer),
			given(videoroom.ParticipantJoined{Change: now, Identity: "cara", User: customer}), nil},
		{"rejoin in a new session", given(opened, caraJoined, closed, videoroom.RoomOpened{Change: later, UniqueName: room, TicketID: ticketID}), join("cara", &customer),
			given(videoroom.ParticipantJoined{Change: now, Identity: "cara", User: customer}), nil},
		{"room full", full, join("one-more", nil), nil, videoroom.ErrRoomFull},
		{"room full, but connected already: no event", full, join("p0", nil), nil, nil},
		{"room full after a leave is not", append(full, videoroom.ParticipantLeft{Change: later, Identity: "p3"}), join("one-more", nil),
			given(videoroom.ParticipantJoined{Change: now, Identity: "one-more", User: agent}), nil},
		{"closed room", given(opened, closed), join("cara", nil), nil, videoroom.ErrClosed},
		{"empty identity", given(opened), join("", nil), nil, videoroom.ErrInvalidIdentity.At("identity")},
		{"identity too long", given(opened), join(strings.Repeat("i", 129), nil), nil, videoroom.ErrInvalidIdentity},
		{"identity with surrounding space", given(opened), join(" cara", nil), nil, videoroom.ErrInvalidIdentity},
		{"identity with a control character", given(opened), join("ca\nra", nil), nil, videoroom.ErrInvalidIdentity},
		{"identity not UTF-8", given(opened), join("ca\xffra", nil), nil, videoroom.ErrInvalidIdentity},
		{"invalid user", given(opened), join("cara", &domain.Actor{Kind: domain.ActorUser}), nil, domain.ErrInvalidActor.At("user")},
		{"invalid input beats a closed room", given(opened, closed), join("", nil), nil, videoroom.ErrInvalidIdentity},
		{"no room", nil, join("cara", nil), nil, videoroom.ErrNotFound},
	})
}

func TestRoom_Leave(t *testing.T) {
	leave := func(identity string) func(*videoroom.Room) error {
		return func(r *videoroom.Room) error {
			return r.Leave(videoroom.LeaveRoom{By: agent, Source: api, Identity: identity}, noon)
		}
	}
	run(t, []scenario{
		{"connected participant", given(opened, caraJoined, anaJoined), leave("cara"),
			given(videoroom.ParticipantLeft{Change: now, Identity: "cara"}), nil},
		{"after rejoining", given(opened, caraJoined, caraLeft, videoroom.ParticipantJoined{Change: later, Identity: "cara", User: customer}), leave("cara"),
			given(videoroom.ParticipantLeft{Change: now, Identity: "cara"}), nil},
		{"left already", given(opened, caraJoined, caraLeft), leave("cara"), nil, videoroom.ErrParticipantNotFound.At("identity")},
		{"never joined", given(opened, caraJoined), leave("bob"), nil, videoroom.ErrParticipantNotFound},
		{"joined in an earlier session only", given(opened, caraJoined, closed, videoroom.RoomOpened{Change: later, UniqueName: room, TicketID: ticketID}), leave("cara"),
			nil, videoroom.ErrParticipantNotFound},
		{"closed room", given(opened, caraJoined, closed), leave("cara"), nil, videoroom.ErrClosed},
		{"invalid identity", given(opened, caraJoined), leave(""), nil, videoroom.ErrInvalidIdentity},
		{"invalid actor", given(opened, caraJoined), func(r *videoroom.Room) error {
			return r.Leave(videoroom.LeaveRoom{By: domain.Actor{}, Source: api, Identity: "cara"}, noon)
		}, nil, domain.ErrInvalidActor},
		{"no room", nil, leave("cara"), nil, videoroom.ErrNotFound},
	})
}

func TestRoom_Close(t *testing.T) {
	closeRoom := func(r *videoroom.Room) error { return r.Close(videoroom.CloseRoom{By: agent, Source: api}, noon) }
	run(t, []scenario{
		{"empty room", given(opened), closeRoom, given(videoroom.RoomClosed{Change: now}), nil},
		{"disconnects those still connected", given(opened, caraJoined, anaJoined, caraLeft), closeRoom,
			given(videoroom.RoomClosed{Change: now, Disconnected: []string{"ana"}}), nil},
		{"closed already", given(opened, closed), closeRoom, nil, videoroom.ErrAlreadyClosed},
		{"unknown source", given(opened), func(r *videoroom.Room) error {
			return r.Close(videoroom.CloseRoom{By: agent, Source: ""}, noon)
		}, nil, domain.ErrUnknownSource},
		{"no room", nil, closeRoom, nil, videoroom.ErrNotFound},
	})
}

func TestRoom_CanJoin(t *testing.T) {
	full := given(opened)
	for i := range videoroom.MaxParticipants {
		full = append(full, videoroom.ParticipantJoined{Change: before, Identity: fmt.Sprintf("p%d", i), User: customer})
	}
	tests := []struct {
		name     string
		given    []domain.Event
		identity string
		wantErr  error
	}{
		{"open room", given(opened), "cara", nil},
		{"connected already", given(opened, caraJoined), "cara", nil},
		{"full room, connected already", full, "p1", nil},
		{"full room", full, "cara", videoroom.ErrRoomFull},
		{"closed room", given(opened, closed), "cara", videoroom.ErrClosed},
		{"invalid identity", given(opened), "", videoroom.ErrInvalidIdentity},
		{"no room", nil, "cara", videoroom.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := videoroom.Rehydrate(tt.given, int64(len(tt.given)))
			domaintest.CheckErr(t, r.CanJoin(tt.identity), tt.wantErr)
			if len(r.Pending()) != 0 {
				t.Fatalf("CanJoin recorded %v", r.Pending())
			}
		})
	}
}

func TestRoom_Snapshot(t *testing.T) {
	r := videoroom.Rehydrate(given(opened, caraJoined, anaJoined, caraLeft), 4)
	if err := r.Join(videoroom.JoinRoom{By: agent, Source: api, Identity: "bob", User: &domain.Actor{ID: "u-9", Kind: domain.ActorUser}}, noon); err != nil {
		t.Fatal(err)
	}
	want := videoroom.Snapshot{
		UniqueName: room, TicketID: ticketID, Status: videoroom.Open,
		OpenedBy: agent, OpenedAt: t0,
		Participants: []videoroom.Participant{
			{Identity: "cara", Status: videoroom.Disconnected, User: customer, JoinedAt: t1, LeftAt: t2},
			{Identity: "ana", Status: videoroom.Connected, User: agent, JoinedAt: t1},
			{Identity: "bob", Status: videoroom.Connected, User: domain.Actor{ID: "u-9", Kind: domain.ActorUser}, JoinedAt: noon},
		},
		UpdatedAt: noon, Version: 5,
	}
	got := r.Snapshot()
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("Snapshot() (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(got.Connected(), want.Participants[1:]); diff != "" {
		t.Fatalf("Connected() (-got +want):\n%s", diff)
	}
	got.Participants[0].Identity = "changed"
	if again := r.Snapshot(); again.Participants[0].Identity != "cara" {
		t.Fatalf("changing a snapshot changed the room")
	}

	// Closing disconnects everyone, at the closing time.
	if err := r.Close(videoroom.CloseRoom{By: agent, Source: api}, noon.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s := r.Snapshot()
	if s.Status != videoroom.Closed || !s.ClosedAt.Equal(noon.Add(time.Hour)) || len(s.Connected()) != 0 {
		t.Fatalf("after Close: %+v", s)
	}
	for _, p := range s.Participants {
		if p.Status != videoroom.Disconnected || p.LeftAt.IsZero() {
			t.Fatalf("after Close, participant %+v is not disconnected", p)
		}
	}

	if !r.Exists() || r.UniqueName() != room {
		t.Fatalf("Exists() = %v, UniqueName() = %q; want true, %q", r.Exists(), r.UniqueName(), room)
	}
	none := videoroom.Rehydrate(nil, 0).Snapshot()
	if none.Exists() || none.Participants == nil || none.Connected() == nil || len(none.Connected()) != 0 {
		t.Fatalf("Snapshot of no room = %+v, want not existing, with empty lists", none)
	}
}

func TestValidUniqueName(t *testing.T) {
	for s, want := range map[string]bool{
		ticketID: true, "6012f38557751ee8fc162cf7": true, "Room_1-a": true, "a": true,
		"": false, "_a": false, "a b": false, "a.b": false, "a/b": false, "ä": false, strings.Repeat("a", 129): false,
	} {
		if got := videoroom.ValidUniqueName(s); got != want {
			t.Errorf("ValidUniqueName(%q) = %v, want %v", s, got, want)
		}
	}
}
