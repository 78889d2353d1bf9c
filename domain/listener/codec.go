package listener

import "github.com/eventdesk/eventdesk/domain"

// codec knows every event a Listener records, in documentation order.
var codec = domain.NewCodec("listener",
	domain.EventKindOf[ListenerCreated](), domain.EventKindOf[ListenerUpdated](),
	domain.EventKindOf[ListenerRotated](), domain.EventKindOf[ListenerDeleted]())

// indexCodec knows the events of the listener index.
var indexCodec = domain.NewCodec("listener index", domain.EventKindOf[ListenerIndexed]())

// Codec returns the codec of the events a Listener records.
func Codec() *domain.Codec { return codec }

// IndexCodec returns the codec of the listener index's events.
func IndexCodec() *domain.Codec { return indexCodec }

// Encode returns the JSON object stored as e's data, at the current schema
// version of its type.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns data stored as eventType at schema version version (0 means
// 1) back into the event, upcasting older versions first.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}
