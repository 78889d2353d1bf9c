package pubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/pubsub"
)

// TestMapping checks how messages become events and events messages.
func TestMapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := postgres.New(pgtest.DB(t), nil)
	t.Cleanup(func() { st.Close() })
	pub, err := pubsub.NewPublisher(st, pubsub.PublisherConfig{TenantID: "t1"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	opened := message.NewMessage("not-a-uuid", []byte(`{"title": "printer", "n": 1}`))
	opened.Metadata = message.Metadata{
		"test":                     "kept",
		pubsub.MetaStreamType:      "ticket",
		pubsub.MetaStreamID:        "T-1",
		pubsub.MetaExpectedVersion: "none",
		pubsub.MetaSchemaVersion:   "2",
		pubsub.MetaCorrelationID:   "corr-1",
		pubsub.MetaCausationID:     "cause-1",
		pubsub.MetaActor:           "user-7",
		pubsub.MetaSource:          "api",
		pubsub.MetaPosition:        "1-1", // describes another event: ignored
	}
	noted := message.NewMessage("Note-2", []byte("\x00\xffnot json"))
	noted.Metadata = message.Metadata{
		pubsub.MetaStreamType:      "ticket",
		pubsub.MetaStreamID:        "T-1",
		pubsub.MetaExpectedVersion: "1",
	}
	plain := message.NewMessage("plain-3", []byte(`[1, 2]`))

	if err := pub.Publish("TicketOpened", opened); err != nil {
		t.Fatalf("publish opened: %v", err)
	}
	if err := pub.Publish("TicketNoted", noted); err != nil {
		t.Fatalf("publish noted: %v", err)
	}
	// A retry after a lost response stores nothing twice, even though the
	// expected version no longer holds.
	if err := pub.Publish("TicketOpened", opened); err != nil {
		t.Fatalf("publish opened again: %v", err)
	}
	// The same message on another topic is another event.
	if err := pub.Publish("Audit", plain); err != nil {
		t.Fatalf("publish plain: %v", err)
	}
	if err := pub.Publish("Audit2", plain); err != nil {
		t.Fatalf("publish plain to another topic: %v", err)
	}
	late := message.NewMessage("late-4", []byte(`{}`))
	late.Metadata = message.Metadata{pubsub.MetaStreamType: "ticket", pubsub.MetaStreamID: "T-1", pubsub.MetaExpectedVersion: "1"}
	var conflict *eventstore.VersionConflictError
	if err := pub.Publish("TicketNoted", late); !errors.As(err, &conflict) || conflict.Actual != 2 {
		t.Fatalf("publish at a stale version: got %v, want a version conflict at 2", err)
	}
	if err := pub.Publish(pubsub.AllTopics, late); !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("publish to AllTopics: got %v, want ErrInvalid", err)
	}

	stream, err := st.ReadStream(ctx, eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: "T-1"}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(stream) != 2 {
		t.Fatalf("stream T-1 holds %d events, want 2", len(stream))
	}
	ev := stream[0]
	want := eventstore.Event{
		ID: pubsub.EventID("t1", "TicketOpened", "not-a-uuid"), TenantID: "t1", StreamType: "ticket", StreamID: "T-1",
		Version: 1, Type: "TicketOpened", SchemaVersion: 2,
		Metadata: eventstore.Metadata{
			CorrelationID: "corr-1", CausationID: "cause-1", Actor: "user-7", Source: "api",
			Extra: map[string]string{"test": "kept", "watermill_uuid": "not-a-uuid"},
		},
	}
	ignore := func(p cmp.Path) bool {
		switch p.Last().String() {
		case ".Data", ".RecordedAt", ".Position":
			return true
		}
		return false
	}
	if diff := cmp.Diff(want, ev, cmp.FilterPath(ignore, cmp.Ignore())); diff != "" {
		t.Errorf("stored event (-want +got):\n%s", diff)
	}
	var data map[string]any
	if err := json.Unmarshal(ev.Data, &data); err != nil || data["title"] != "printer" {
		t.Errorf("stored data = %s, want the JSON object payload itself", ev.Data)
	}

	sub, err := pubsub.NewSubscriber(st, nil, pubsub.SubscriberConfig{Poll: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	msgs, err := sub.Subscribe(ctx, pubsub.AllTopics)
	if err != nil {
		t.Fatal(err)
	}
	var got []*message.Message
	for range 4 {
		select {
		case m := <-msgs:
			got = append(got, m)
			m.Ack()
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d messages, want 4", len(got))
		}
	}

	if got[0].UUID != "not-a-uuid" || got[1].UUID != "Note-2" || got[2].UUID != "plain-3" || got[3].UUID != "plain-3" {
		t.Errorf("got UUIDs %s, %s, %s, %s, want not-a-uuid, Note-2, plain-3, plain-3", got[0].UUID, got[1].UUID, got[2].UUID, got[3].UUID)
	}
	var payload map[string]any
	if err := json.Unmarshal(got[0].Payload, &payload); err != nil || payload["title"] != "printer" || payload["n"] != 1.0 {
		t.Errorf("JSON payload came back as %s, want the same JSON value", got[0].Payload)
	}
	if string(got[1].Payload) != "\x00\xffnot json" || string(got[2].Payload) != "[1, 2]" {
		t.Errorf("payloads came back as %q and %q, want them byte for byte", got[1].Payload, got[2].Payload)
	}
	wantMD := message.Metadata{
		"test":                   "kept",
		pubsub.MetaTenantID:      "t1",
		pubsub.MetaStreamType:    "ticket",
		pubsub.MetaStreamID:      "T-1",
		pubsub.MetaSchemaVersion: "2",
		pubsub.MetaCorrelationID: "corr-1",
		pubsub.MetaCausationID:   "cause-1",
		pubsub.MetaActor:         "user-7",
		pubsub.MetaSource:        "api",
		pubsub.MetaEventID:       ev.ID,
		pubsub.MetaEventType:     "TicketOpened",
		pubsub.MetaVersion:       "1",
		pubsub.MetaPosition:      ev.Position.String(),
		pubsub.MetaRecordedAt:    ev.RecordedAt.UTC().Format(time.RFC3339Nano),
	}
	if diff := cmp.Diff(wantMD, got[0].Metadata); diff != "" {
		t.Errorf("delivered metadata (-want +got):\n%s", diff)
	}
	// A message that names no stream is a stream of its own, named by
	// its event id, of the publisher's default stream type.
	if md := got[2].Metadata; md.Get(pubsub.MetaStreamType) != "message" || md.Get(pubsub.MetaStreamID) != md.Get(pubsub.MetaEventID) {
		t.Errorf("plain message landed in %s/%s, want message/%s", md.Get(pubsub.MetaStreamType), md.Get(pubsub.MetaStreamID), md.Get(pubsub.MetaEventID))
	}
}

// TestSubscriberFilters checks that a subscription sees only its topic,
// tenant and stream type.
func TestSubscriberFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := postgres.New(pgtest.DB(t), nil)
	t.Cleanup(func() { st.Close() })
	appendEvent := func(tenant, streamType, eventType string) {
		t.Helper()
		id := pubsub.EventID(tenant, eventType, streamType)
		_, err := st.Append(ctx, eventstore.StreamRef{TenantID: tenant, Type: streamType, ID: "s"}, eventstore.Any,
			[]eventstore.EventData{{ID: id, Type: eventType, Data: json.RawMessage(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	appendEvent("t1", "ticket", "Opened")
	appendEvent("t2", "ticket", "Opened")
	appendEvent("t1", "contact", "Opened")
	appendEvent("t1", "ticket", "Closed")

	sub, err := pubsub.NewSubscriber(st, st, pubsub.SubscriberConfig{
		ConsumerGroup: "filters", TenantID: "t1", StreamType: "ticket",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	msgs, err := sub.Subscribe(ctx, "Opened")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		md := m.Metadata
		if md.Get(pubsub.MetaTenantID) != "t1" || md.Get(pubsub.MetaStreamType) != "ticket" || md.Get(pubsub.MetaEventType) != "Opened" {
			t.Errorf("got %s/%s %s, want t1/ticket Opened", md.Get(pubsub.MetaTenantID), md.Get(pubsub.MetaStreamType), md.Get(pubsub.MetaEventType))
		}
		m.Ack()
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	select {
	case m := <-msgs:
		t.Errorf("got a second message %v, want only one", m.Metadata)
	case <-time.After(300 * time.Millisecond):
	}
}
