package videoroom

import "github.com/eventdesk/eventdesk/domain"

// Room events. Each embeds domain.Change (who, through which source, when:
// "by", "source", "at" in JSON). Type strings (EventType) and JSON names
// are persisted and must never change meaning.
type (
	// RoomOpened opened the room for a ticket: the first session, or a new
	// one after the room was closed (it then starts with no participants).
	RoomOpened struct {
		domain.Change
		UniqueName string `json:"unique_name"`
		TicketID   string `json:"ticket_id"`
	}

	// ParticipantJoined connected Identity to the room. User is who the
	// participant is.
	ParticipantJoined struct {
		domain.Change
		Identity string       `json:"identity"`
		User     domain.Actor `json:"user"`
	}

	// ParticipantLeft disconnected Identity from the room.
	ParticipantLeft struct {
		domain.Change
		Identity string `json:"identity"`
	}

	// RoomClosed ended the session, disconnecting the identities in
	// Disconnected (those still connected, in join order).
	RoomClosed struct {
		domain.Change
		Disconnected []string `json:"disconnected,omitempty"`
	}
)

// EventType returns "video_room.opened".
func (RoomOpened) EventType() string { return "video_room.opened" }

// EventType returns "video_room.participant_joined".
func (ParticipantJoined) EventType() string { return "video_room.participant_joined" }

// EventType returns "video_room.participant_left".
func (ParticipantLeft) EventType() string { return "video_room.participant_left" }

// EventType returns "video_room.closed".
func (RoomClosed) EventType() string { return "video_room.closed" }
