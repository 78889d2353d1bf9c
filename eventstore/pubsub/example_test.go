package pubsub_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/pubsub"
)

// ExampleForward wires the adapter the way cmd does: the committed log, as
// the durable consumer group "fanout", forwarded in order to one Redis
// stream that every node reads.
func ExampleForward() {
	ctx := context.Background()
	logger := watermill.NewSlogLogger(slog.New(slog.NewJSONHandler(os.Stderr, nil)))

	db, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/eventdesk", postgres.OpenOptions{})
	if err != nil {
		panic(err)
	}
	store := postgres.New(db, nil)
	defer store.Close()

	committed, err := pubsub.NewSubscriber(store, store, pubsub.SubscriberConfig{ConsumerGroup: "fanout"}, logger)
	if err != nil {
		panic(err)
	}
	nodes, err := redisstream.NewPublisher(redisstream.PublisherConfig{
		Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}),
	}, logger)
	if err != nil {
		panic(err)
	}

	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		panic(err)
	}
	pubsub.Forward(router, "fanout", committed, pubsub.AllTopics, nodes, "eventdesk.events")
	if err := router.Run(ctx); err != nil { // until ctx is done
		panic(err)
	}
}
