package videoroom

import "github.com/eventdesk/eventdesk/domain"

// codec knows every event a Room records, in documentation order.
var codec = domain.NewCodec("videoroom",
	domain.EventKindOf[RoomOpened](), domain.EventKindOf[ParticipantJoined](), domain.EventKindOf[ParticipantLeft](), domain.EventKindOf[RoomClosed]())

// EventTypes returns the type of every event a Room records.
func EventTypes() []string { return codec.Types() }

// Codec returns the codec of the events a Room records. It is immutable; tests
// derive variants from it with With.
func Codec() *domain.Codec { return codec }

// Encode returns the JSON object stored as e's data, at the current schema
// version of its type (Codec().Version), which the append must store with
// it.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns data stored as eventType at schema version version (0 means
// 1) back into the event, upcasting older versions first.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}
