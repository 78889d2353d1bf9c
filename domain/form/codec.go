package form

import "github.com/eventdesk/eventdesk/domain"

// codec knows every event a Form records, in documentation order.
var codec = domain.NewCodec("form",
	domain.EventKindOf[FormCreated](), domain.EventKindOf[FormUpdated](), domain.EventKindOf[FormDisabled](), domain.EventKindOf[FormEnabled]())

// EventTypes returns the type of every event a Form records.
func EventTypes() []string { return codec.Types() }

// Encode returns the JSON object stored as e's data.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns stored data of the given event type back into the event.
func Decode(eventType string, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, data)
}
