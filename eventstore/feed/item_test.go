package feed

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/catalog"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// ticketCodecV2 is the ticket codec as it would be after ticket.created
// moved to schema version 2: its upcaster renames title to subject.
var ticketCodecV2 = ticket.Codec().With(domain.EventKindOf[ticket.TicketCreated](
	domain.UpcastMembers(func(m map[string]json.RawMessage) error {
		m["subject"] = m["title"]
		delete(m, "title")
		return nil
	})))

func stored(typ string, version int, data string) eventstore.Event {
	return eventstore.Event{ID: "0b6f4f5e-4a55-4c1e-9d1f-5f6c2a1b3c4d", TenantID: "acme", StreamType: "ticket", StreamID: "t-1",
		Version: 1, Type: typ, SchemaVersion: version, Data: json.RawMessage(data),
		Metadata:   eventstore.Metadata{Actor: "agent:ana", Source: "api", CorrelationID: "req-1"},
		RecordedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Position: eventstore.Position{TxID: 812, Seq: 4}}
}

func TestItemOf_Upcasts(t *testing.T) {
	item, err := itemOf(catalog.New(ticketCodecV2), stored("ticket.created", 1, `{"title":"Parcel damaged"}`))
	if err != nil {
		t.Fatalf("itemOf() = %v", err)
	}
	if item.SchemaVersion != 2 || string(item.Data) != `{"subject":"Parcel damaged"}` {
		t.Errorf("got schema_version %d, data %s; want 2, the upcast data", item.SchemaVersion, item.Data)
	}
	// Today's catalog shows it as stored.
	item, err = ItemOf(stored("ticket.created", 0, `{"title":"Parcel damaged"}`))
	if err != nil || item.SchemaVersion != 1 || string(item.Data) != `{"title":"Parcel damaged"}` {
		t.Errorf("ItemOf() = %d %s, %v; want 1 and the stored data", item.SchemaVersion, item.Data, err)
	}
}

func TestItemOf_UnknownType(t *testing.T) {
	// A type no domain package knows (say, an integration's) is shown as
	// stored; a missing schema version is the first.
	item, err := ItemOf(stored("partner.synced", 0, `{"x":1}`))
	if err != nil || item.SchemaVersion != 1 || string(item.Data) != `{"x":1}` {
		t.Errorf("ItemOf() = %d %s, %v; want 1 and the stored data", item.SchemaVersion, item.Data, err)
	}
}

func TestItemOf_TooNew(t *testing.T) {
	_, err := ItemOf(stored("ticket.created", 9, `{"title":"x"}`))
	if !errors.Is(err, domain.ErrUnknownSchemaVersion) {
		t.Errorf("ItemOf(v9) = %v, want domain.ErrUnknownSchemaVersion", err)
	}
}

// TestItem_JSON pins the JSON members: the OpenAPI schema Event, which
// the native API's conformance test checks responses against.
func TestItem_JSON(t *testing.T) {
	item, err := ItemOf(stored("ticket.created", 1, `{"title":"Parcel damaged"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"data", "id", "metadata", "position", "recorded_at", "schema_version", "stream_id", "stream_type", "type", "version"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("JSON members (-want +got):\n%s", diff)
	}
	if got := string(m["position"]); got != `"812-4"` {
		t.Errorf("position = %s, want \"812-4\"", got)
	}
}
