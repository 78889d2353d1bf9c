package realtime

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
)

// TestEncoder_MessageIsEncodingJSONs: the framed message equals what
// encoding/json makes of the message struct, for each topic sharing the
// event's cached encoding (HTML-escaping included).
func TestEncoder_MessageIsEncodingJSONs(t *testing.T) {
	type eventMessage struct {
		Type     string              `json:"type"`
		Topic    string              `json:"topic"`
		Position eventstore.Position `json:"position"`
		Event    feed.Item           `json:"event"`
	}
	e := eventstore.Event{ID: "0b5e8a57-7a4c-4c39-9d5a-8d0b9d1f0c11", TenantID: "acme", StreamType: "ticket",
		StreamID: "t-1", Version: 3, Type: "ticket.history_logged", SchemaVersion: 1,
		Position: eventstore.Position{TxID: 18446744073709551615, Seq: 4}, RecordedAt: time.Date(2026, 12, 4, 19, 0, 0, 123, time.UTC),
		Data:     json.RawMessage(`{"body":"<b>fire</b> & smoke","visibility":"public"}`),
		Metadata: eventstore.Metadata{Actor: "agent:7", Source: "api"}}
	en := newEncoder()
	for _, topic := range []string{"ticket:34", "ticket:<&>", "tenant", "ticket:34"} {
		topicJSON, _ := json.Marshal(topic)
		got, err := en.message(topicJSON, &e)
		if err != nil {
			t.Fatal(err)
		}
		it, err := feed.ItemOf(e)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(eventMessage{Type: "event", Topic: topic, Position: e.Position, Event: it})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("message(%q) =\n%s\nwant\n%s", topic, got, want)
		}
	}
	// A topic's watchers share one message.
	topicJSON, _ := json.Marshal("ticket:34")
	m1, _ := en.message(topicJSON, &e)
	m2, _ := en.message(topicJSON, &e)
	if &m1[0] != &m2[0] {
		t.Error("two messages of one event on one topic were framed apart, want one shared")
	}
	if en.items.Len() != 1 {
		t.Errorf("encoder holds %d encodings of one event, want 1", en.items.Len())
	}
}
