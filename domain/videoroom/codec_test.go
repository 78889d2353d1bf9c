package videoroom_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/videoroom"
)

// samples holds one fully populated event of every type.
func samples() []domain.Event {
	return []domain.Event{
		opened,
		caraJoined,
		caraLeft,
		videoroom.RoomClosed{Change: now, Disconnected: []string{"ana", "bob"}},
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	domaintest.CodecRoundTrip(t, samples(), videoroom.Codec())
}

// TestCodec_Persisted pins the stored form of the events: their JSON names
// are persisted and must not change.
func TestCodec_Persisted(t *testing.T) {
	change := `"by":{"id":"u-1","name":"Ana Agent","email":"ana@example.com","kind":"agent"},"source":"api","at":"2025-03-01T12:00:00Z"`
	tests := []struct {
		e    domain.Event
		want string
	}{
		{videoroom.RoomOpened{Change: now, UniqueName: "r1", TicketID: ticketID}, `{` + change + `,"unique_name":"r1","ticket_id":"` + ticketID + `"}`},
		{videoroom.ParticipantJoined{Change: now, Identity: "cara", User: customer}, `{` + change + `,"identity":"cara","user":{"name":"Cara","email":"cara@example.com","kind":"user"}}`},
		{videoroom.ParticipantLeft{Change: now, Identity: "cara"}, `{` + change + `,"identity":"cara"}`},
		{videoroom.RoomClosed{Change: now}, `{` + change + `}`},
		{videoroom.RoomClosed{Change: now, Disconnected: []string{"cara"}}, `{` + change + `,"disconnected":["cara"]}`},
	}
	for _, tt := range tests {
		b, err := videoroom.Encode(tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("Encode(%T) =\n%s\nwant\n%s", tt.e, b, tt.want)
		}
	}
}

func TestCodec_Errors(t *testing.T) {
	if _, err := videoroom.Decode("video_room.exploded", 1, []byte(`{}`)); err == nil {
		t.Errorf("Decode(unknown type) = nil error")
	}
	if _, err := videoroom.Decode("video_room.closed", 1, []byte(`{"disconnected":`)); err == nil {
		t.Errorf("Decode(malformed) = nil error")
	}
	if _, err := videoroom.Encode(foreign{}); err == nil {
		t.Errorf("Encode(foreign event) = nil error")
	}
	// Readers ignore members added by newer writers.
	e, err := videoroom.Decode("video_room.participant_left", 1, []byte(`{"identity":"cara","added_later":1}`))
	if err != nil || !cmp.Equal(e, videoroom.ParticipantLeft{Identity: "cara"}) {
		t.Errorf("Decode(with unknown member) = %#v, %v", e, err)
	}
}

type foreign struct{}

func (foreign) EventType() string { return "other.thing" }
