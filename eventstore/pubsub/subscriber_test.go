package pubsub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/pubsub"
)

// TestDurableAckNack: acks advance the group's checkpoint, a nack in the
// middle of a batch sends that message again but not the ones acked before
// it, and a new instance of the group resumes after the checkpoint.
func TestDurableAckNack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := postgres.New(pgtest.DB(t), nil)
	t.Cleanup(func() { st.Close() })
	pub, err := pubsub.NewPublisher(st, pubsub.PublisherConfig{TenantID: "t1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			if err := pub.Publish("Noted", message.NewMessage(id, []byte(id))); err != nil {
				t.Fatal(err)
			}
		}
	}
	subscribe := func() (<-chan *message.Message, *pubsub.Subscriber) {
		t.Helper()
		sub, err := pubsub.NewSubscriber(st, st, pubsub.SubscriberConfig{
			ConsumerGroup: "g", BatchSize: 10, NackResendSleep: 10 * time.Millisecond,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		msgs, err := sub.Subscribe(ctx, "Noted")
		if err != nil {
			t.Fatal(err)
		}
		return msgs, sub
	}
	next := func(msgs <-chan *message.Message) *message.Message {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("no message")
			return nil
		}
	}

	publish("m1", "m2", "m3", "m4", "m5")
	msgs, sub := subscribe()
	var got []string
	for _, ack := range []bool{true, true, false, true, true, true} {
		m := next(msgs)
		got = append(got, m.UUID)
		if ack {
			m.Ack()
		} else {
			m.Nack()
		}
	}
	if want := "[m1 m2 m3 m3 m4 m5]"; fmt.Sprint(got) != want {
		t.Errorf("delivered %v, want %s", got, want)
	}

	evs, err := st.ReadAll(ctx, eventstore.Query{TenantID: "t1"})
	if err != nil || len(evs) != 5 {
		t.Fatalf("ReadAll = %d events, %v; want 5", len(evs), err)
	}
	var cp eventstore.Position
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cp, err = st.Checkpoint(ctx, pubsub.CheckpointName("g", "Noted")); err != nil || cp == evs[4].Position {
			break
		}
	}
	if cp != evs[4].Position {
		t.Fatalf("checkpoint = %v, %v; want %v, the last acked event", cp, err, evs[4].Position)
	}

	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-msgs; ok {
		t.Fatal("channel still open after Close")
	}
	publish("m6")
	msgs, _ = subscribe()
	if m := next(msgs); m.UUID != "m6" {
		t.Errorf("a new instance of the group got %s first, want m6", m.UUID)
	}
}
