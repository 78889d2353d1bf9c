package pubsub_test

import (
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/pubsub"
)

// The features the adapter has, and why:
//   - ConsumerGroups: a group's position on a topic is a checkpoint row;
//     instances of a group take turns on it, other groups read on their own.
//   - GuaranteedOrder: messages come in log order, and the checkpoint lock
//     lets only one instance of a group deliver at a time, in turn; so even
//     the suite's ten competing subscribers see publish order.
//   - Persistent: the log is PostgreSQL, kept across Pub/Sub instances.
//   - not ExactlyOnceDelivery: the checkpoint commits after the ack; a
//     crash, a Close or a lost commit in between delivers the message
//     again. (Only a handler writing in the checkpoint transaction would
//     apply it exactly once.)
//   - NewSubscriberReceivesOldMessages: only without a consumer group,
//     where every subscription reads the log from its start (see
//     TestPubSubWithoutConsumerGroup); the suite's new subscribers reuse one
//     group, which rightly resumes from its checkpoint.
//   - not ContextPreserved: a message's context does not travel through
//     the log.
var (
	_ pubsub.Appender = (*postgres.Store)(nil)
	_ pubsub.Reader   = (*postgres.Store)(nil)
	_ pubsub.Consumer = (*postgres.Store)(nil)
)

var durableFeatures = tests.Features{
	ConsumerGroups:      true,
	ExactlyOnceDelivery: false,
	GuaranteedOrder:     true,
	Persistent:          true,
}

func TestPubSub(t *testing.T) {
	t.Parallel()
	env := &testEnv{}
	tests.TestPubSub(t, durableFeatures,
		func(t *testing.T) (message.Publisher, message.Subscriber) { return env.pubSub(t, "test") },
		env.pubSub,
	)
}

// TestPubSubWithoutConsumerGroup runs the suite on subscribers that read
// the log from its start. It runs short: the suite's tests that start
// dozens of subscribers on thousands of messages would re-read the whole
// log for every one of them, which proves nothing more.
func TestPubSubWithoutConsumerGroup(t *testing.T) {
	t.Parallel()
	env := &testEnv{}
	tests.TestPubSub(t,
		tests.Features{
			GuaranteedOrder:                  true,
			Persistent:                       true,
			NewSubscriberReceivesOldMessages: true,
			ForceShort:                       true,
		},
		func(t *testing.T) (message.Publisher, message.Subscriber) { return env.pubSub(t, "") },
		nil,
	)
}

// testEnv shares one store (one database) between the Pub/Subs that a test
// of the suite creates, since they must see each other's messages.
type testEnv struct {
	mu     sync.Mutex
	stores map[string]*postgres.Store
}

func (e *testEnv) store(t *testing.T) *postgres.Store {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.stores[t.Name()]; ok {
		return st
	}
	db := pgtest.DB(t)
	// The suite runs dozens of subscribers per test; keep the server's
	// connection slots for the other packages testing meanwhile.
	db.SetMaxOpenConns(8)
	st := postgres.New(db, nil)
	if e.stores == nil {
		e.stores = map[string]*postgres.Store{}
	}
	e.stores[t.Name()] = st
	t.Cleanup(func() {
		e.mu.Lock()
		delete(e.stores, t.Name())
		e.mu.Unlock()
		st.Close()
	})
	return st
}

func (e *testEnv) pubSub(t *testing.T, consumerGroup string) (message.Publisher, message.Subscriber) {
	st := e.store(t)
	pub, err := pubsub.NewPublisher(st, pubsub.PublisherConfig{TenantID: "t1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pubsub.NewSubscriber(st, st, pubsub.SubscriberConfig{
		ConsumerGroup:   consumerGroup,
		Poll:            50 * time.Millisecond,
		NackResendSleep: 10 * time.Millisecond,
		RetryInterval:   100 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(); sub.Close() })
	return pub, sub
}
