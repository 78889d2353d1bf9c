package form

import (
	"encoding/json"
	"fmt"

	"github.com/eventdesk/eventdesk/domain"
)

// decoders maps every event type this package records to its decoder.
var decoders = map[string]func([]byte) (domain.Event, error){
	FormCreated{}.EventType():  decode[FormCreated],
	FormUpdated{}.EventType():  decode[FormUpdated],
	FormDisabled{}.EventType(): decode[FormDisabled],
	FormEnabled{}.EventType():  decode[FormEnabled],
}

// EventTypes returns the type of every event a Form records, in
// documentation order.
func EventTypes() []string {
	return []string{"form.created", "form.updated", "form.disabled", "form.enabled"}
}

// Encode returns the JSON object stored as e's data. Events of this
// package never fail to encode; the error is for foreign events.
func Encode(e domain.Event) ([]byte, error) {
	if _, ok := decoders[e.EventType()]; !ok {
		return nil, fmt.Errorf("form: encode %T: unknown event type %q", e, e.EventType())
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("form: encode %s: %w", e.EventType(), err)
	}
	return b, nil
}

// Decode turns stored data of the given event type back into the event
// (a value, e.g. FormCreated). Unknown JSON members are ignored so that
// older code can read events written by newer code; an unknown type or
// malformed data is an error.
func Decode(eventType string, data []byte) (domain.Event, error) {
	d, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("form: decode: unknown event type %q", eventType)
	}
	e, err := d(data)
	if err != nil {
		return nil, fmt.Errorf("form: decode %s: %w", eventType, err)
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
