package tenant

import (
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the type of a tenant's stream; its id is the tenant id.
const StreamType = "tenant"

// TenantCreated is the tenant stream's first event. Credentials are not in
// it (see the package doc). Its JSON names are persisted.
type TenantCreated struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// EventType implements domain.Event.
func (TenantCreated) EventType() string { return "tenant.created" }

// codec knows every event of a tenant's stream, in documentation order.
var codec = domain.NewCodec("tenant", domain.EventKindOf[TenantCreated]())

// EventTypes returns the type of every event of a tenant's stream.
func EventTypes() []string { return codec.Types() }

// Codec returns the codec of a tenant stream's events. It is immutable;
// tests derive variants from it with With.
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
