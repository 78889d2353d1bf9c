package form

import "github.com/eventdesk/eventdesk/domain"

// codec knows every event a Form records, in documentation order.
var codec = domain.NewCodec("form",
	domain.EventKindOf[FormCreated](), domain.EventKindOf[FormUpdated](), domain.EventKindOf[FormDisabled](), domain.EventKindOf[FormEnabled]())

// EventTypes returns the type of every event a Form records.
func EventTypes() []string { return codec.Types() }

// Codec returns the codec of the events a Form records. It is immutable; tests
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
