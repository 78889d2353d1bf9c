package pubsub

import (
	"github.com/ThreeDotsLabs/watermill/message"
)

// Forward adds to r a handler, called name, that republishes every message
// of fromTopic on from to toTopic on to, e.g. the committed log (a
// Subscriber with a ConsumerGroup, on AllTopics) to one Redis stream for
// fan-out to other nodes.
//
// Messages keep their UUID, payload and metadata (MetaEventType,
// MetaPosition, ...). Each one is published before it is acked, and the
// next one is read only after that, so the order of the log is kept
// downstream as long as to publishes synchronously and in order (as
// watermill-redisstream does). Delivery is at least once: consumers
// downstream should be idempotent, e.g. by remembering MetaPosition.
func Forward(r *message.Router, name string, from message.Subscriber, fromTopic string, to message.Publisher, toTopic string) *message.Handler {
	return r.AddHandler(name, fromTopic, from, toTopic, to, func(msg *message.Message) ([]*message.Message, error) {
		return []*message.Message{msg.Copy()}, nil
	})
}
