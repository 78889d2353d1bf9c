package videoroom

import "github.com/eventdesk/eventdesk/domain"

// codec knows every event a Room records, in documentation order.
var codec = domain.NewCodec("videoroom",
	domain.EventKindOf[RoomOpened](), domain.EventKindOf[ParticipantJoined](), domain.EventKindOf[ParticipantLeft](), domain.EventKindOf[RoomClosed]())

// EventTypes returns the type of every event a Room records.
func EventTypes() []string { return codec.Types() }

// Encode returns the JSON object stored as e's data.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns stored data of the given event type back into the event.
func Decode(eventType string, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, data)
}
