package outbox

import "github.com/eventdesk/eventdesk/domain"

// codec knows every event a Message records, in documentation order.
var codec = domain.NewCodec("outbox",
	domain.EventKindOf[MessageRequested](), domain.EventKindOf[AttemptFailed](), domain.EventKindOf[MessageSent](),
	domain.EventKindOf[MessageDeadLettered](), domain.EventKindOf[MessageRetried]())

// EventTypes returns the type of every event a Message records.
func EventTypes() []string { return codec.Types() }

// Codec returns the codec of the events a Message records.
func Codec() *domain.Codec { return codec }

// Encode returns the JSON object stored as e's data, at the current schema
// version of its type.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns data stored as eventType at schema version version (0 means
// 1) back into the event, upcasting older versions first.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}
