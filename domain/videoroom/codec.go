package videoroom

import (
	"encoding/json"
	"fmt"

	"github.com/eventdesk/eventdesk/domain"
)

// decoders maps every event type this package records to its decoder.
var decoders = map[string]func([]byte) (domain.Event, error){
	RoomOpened{}.EventType():        decode[RoomOpened],
	ParticipantJoined{}.EventType(): decode[ParticipantJoined],
	ParticipantLeft{}.EventType():   decode[ParticipantLeft],
	RoomClosed{}.EventType():        decode[RoomClosed],
}

// EventTypes returns the type of every event a Room records, in
// documentation order.
func EventTypes() []string {
	return []string{"video_room.opened", "video_room.participant_joined", "video_room.participant_left", "video_room.closed"}
}

// Encode returns the JSON object stored as e's data. Events of this
// package never fail to encode; the error is for foreign events.
func Encode(e domain.Event) ([]byte, error) {
	if _, ok := decoders[e.EventType()]; !ok {
		return nil, fmt.Errorf("videoroom: encode %T: unknown event type %q", e, e.EventType())
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("videoroom: encode %s: %w", e.EventType(), err)
	}
	return b, nil
}

// Decode turns stored data of the given event type back into the event
// (a value, e.g. RoomOpened). Unknown JSON members are ignored so that
// older code can read events written by newer code; an unknown type or
// malformed data is an error.
func Decode(eventType string, data []byte) (domain.Event, error) {
	d, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("videoroom: decode: unknown event type %q", eventType)
	}
	e, err := d(data)
	if err != nil {
		return nil, fmt.Errorf("videoroom: decode %s: %w", eventType, err)
	}
	return e, nil
}

func decode[E domain.Event](data []byte) (domain.Event, error) {
	var e E
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return e, nil
}
