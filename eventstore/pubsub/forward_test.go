package pubsub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/pubsub"
	"github.com/eventdesk/eventdesk/eventstore/pubsub/redistest"
)

// TestForwardToRedis forwards the committed log to a Redis stream with a
// router handler, as nodes do to fan events out: events appended to the
// store, some before the forwarder starts and some after, come out of a
// Redis stream subscriber in log order.
func TestForwardToRedis(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logger := watermill.NewSlogLogger(slog.New(slog.NewJSONHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))

	st := postgres.New(pgtest.DB(t), nil)
	t.Cleanup(func() { st.Close() })
	stream := "eventdesk_test_" + watermill.NewShortUUID()
	admin := redistest.Client(t)
	t.Cleanup(func() { admin.Del(context.Background(), stream) })

	// Events appended one after another, round robin over three streams.
	var appended []eventstore.Event
	appendN := func(n int) {
		t.Helper()
		for range n {
			i := len(appended)
			ref := eventstore.StreamRef{TenantID: "t1", Type: "ticket", ID: fmt.Sprintf("T-%d", i%3)}
			ev := eventstore.EventData{
				ID:   pubsub.EventID("t1", "test", fmt.Sprint(i)),
				Type: []string{"TicketOpened", "TicketNoted"}[min(i/3, 1)],
				Data: json.RawMessage(fmt.Sprintf(`{"n": %d}`, i)),
			}
			res, err := st.Append(ctx, ref, eventstore.Any, []eventstore.EventData{ev})
			if err != nil {
				t.Fatalf("append event %d: %v", i, err)
			}
			appended = append(appended, eventstore.Event{ID: ev.ID, StreamID: ref.ID, Version: res.LastVersion, Type: ev.Type, Position: res.Last()})
		}
	}
	appendN(20) // before the forwarder runs: it catches up

	log, err := pubsub.NewSubscriber(nil, st, pubsub.SubscriberConfig{ConsumerGroup: "fanout"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	redisPub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: redistest.Client(t)}, logger)
	if err != nil {
		t.Fatal(err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 5 * time.Second}, logger)
	if err != nil {
		t.Fatal(err)
	}
	pubsub.Forward(router, "fanout", log, pubsub.AllTopics, redisPub, stream)
	go func() {
		if err := router.Run(ctx); err != nil {
			t.Errorf("router: %v", err)
		}
	}()
	t.Cleanup(func() { router.Close() })
	<-router.Running()

	redisSub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client:                        redistest.Client(t),
		ConsumerGroup:                 "node-a",
		DisableIndefiniteInitialBlock: true,
	}, watermill.NopLogger{}) // its reader logs on after Close, when t is gone
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { redisSub.Close() })
	msgs, err := redisSub.Subscribe(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	appendN(20) // while it runs: it follows live

	for i, want := range appended {
		var m *message.Message
		select {
		case m = <-msgs:
		case <-ctx.Done():
			t.Fatalf("got %d of %d events from Redis", i, len(appended))
		}
		md := m.Metadata
		got := fmt.Sprintf("%s %s v%s %s at %s", m.UUID, md.Get(pubsub.MetaStreamID), md.Get(pubsub.MetaVersion),
			md.Get(pubsub.MetaEventType), md.Get(pubsub.MetaPosition))
		wantS := fmt.Sprintf("%s %s v%d %s at %s", want.ID, want.StreamID, want.Version, want.Type, want.Position)
		if got != wantS {
			t.Fatalf("message %d from Redis: got %s, want %s", i, got, wantS)
		}
		var data struct{ N *int }
		if err := json.Unmarshal(m.Payload, &data); err != nil || data.N == nil || *data.N != i {
			t.Fatalf("message %d from Redis: payload %s, want {\"n\": %d}", i, m.Payload, i)
		}
		m.Ack()
	}
}
