package feed

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/domain/catalog"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Item is a stored event as clients see it: one element of GET /v1/events
// (a page, or a line of its NDJSON stream) and the event the websocket
// gateway pushes. Its JSON members are the OpenAPI schema Event.
type Item struct {
	ID            string              `json:"id"`
	Position      eventstore.Position `json:"position"`
	StreamType    string              `json:"stream_type"`
	StreamID      string              `json:"stream_id"`
	Version       int64               `json:"version"`
	Type          string              `json:"type"`
	SchemaVersion int                 `json:"schema_version"`
	RecordedAt    time.Time           `json:"recorded_at"`
	Metadata      eventstore.Metadata `json:"metadata"`
	Data          json.RawMessage     `json:"data"`
}

// ItemOf returns e as clients see it: its data upcast to the current
// schema version of its type (catalog.Upcast), and that version. Clients
// thus read one shape per type, however old the stored event. An event of
// a type no domain package knows is shown as stored. The error, from
// catalog.Upcast, means this code cannot read the stored data (a schema
// version newer than it knows, or data an upcaster refuses).
func ItemOf(e eventstore.Event) (Item, error) { return itemOf(catalog.Events(), e) }

func itemOf(c *catalog.Catalog, e eventstore.Event) (Item, error) {
	v, data, err := c.Upcast(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return Item{}, fmt.Errorf("show event %s (%s at schema version %d): %w", e.ID, e.Type, e.SchemaVersion, err)
	}
	if v < 1 {
		v = 1 // stored without a version: the first one
	}
	return Item{ID: e.ID, Position: e.Position, StreamType: e.StreamType, StreamID: e.StreamID, Version: e.Version,
		Type: e.Type, SchemaVersion: v, RecordedAt: e.RecordedAt, Metadata: e.Metadata, Data: data}, nil
}
