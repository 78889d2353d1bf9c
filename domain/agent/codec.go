package agent

import "github.com/eventdesk/eventdesk/domain"

// codec knows every event an Agent records, in documentation order.
var codec = domain.NewCodec("agent",
	domain.EventKindOf[AgentCreated](), domain.EventKindOf[AgentUpdated](),
	domain.EventKindOf[AgentDeactivated](), domain.EventKindOf[AgentReactivated]())

// EventTypes returns the type of every event an Agent records.
func EventTypes() []string { return codec.Types() }

// Codec returns the codec of the events an Agent records.
func Codec() *domain.Codec { return codec }

// Encode returns the JSON object stored as e's data, at the current schema
// version of its type.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns data stored as eventType at schema version version (0 means
// 1) back into the event, upcasting older versions first.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}
