package pubsub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/eventdesk/eventdesk/eventstore"
)

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// ConsumerGroup, if set, makes every subscription durable: the
	// position of the group on each topic is a checkpoint in the store
	// (see CheckpointName), shared by every instance of the group. If
	// empty, each Subscribe reads from the start of the log and remembers
	// its position in memory only.
	ConsumerGroup string
	// TenantID, if set, delivers only that tenant's events.
	TenantID string
	// StreamType, if set, delivers only events of that stream type.
	StreamType string
	// BatchSize caps the events read at once and, for a consumer group,
	// delivered in one checkpoint transaction; zero means 100.
	BatchSize int
	// Poll bounds the wait for new events when no wake-up arrives; zero
	// means 500ms.
	Poll time.Duration
	// NackResendSleep is the pause before a nacked message is sent again;
	// zero means 100ms.
	NackResendSleep time.Duration
	// RetryInterval is the pause after a store error; zero means 1s.
	RetryInterval time.Duration
}

var _ message.Subscriber = (*Subscriber)(nil)

// Subscriber delivers the committed event log as watermill messages, one
// topic (event type) per subscription; see the package documentation.
type Subscriber struct {
	reader   Reader
	consumer Consumer
	cfg      SubscriberConfig
	logger   watermill.LoggerAdapter

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and subs.Add
	closed bool
	subs   sync.WaitGroup
}

// NewSubscriber returns a Subscriber. With a ConsumerGroup it needs
// consumer; without, it needs reader. logger may be nil.
func NewSubscriber(reader Reader, consumer Consumer, cfg SubscriberConfig, logger watermill.LoggerAdapter) (*Subscriber, error) {
	switch {
	case cfg.ConsumerGroup != "" && consumer == nil:
		return nil, errors.New("pubsub: new subscriber: a consumer group needs a Consumer")
	case cfg.ConsumerGroup == "" && reader == nil:
		return nil, errors.New("pubsub: new subscriber: no Reader")
	case cfg.BatchSize < 0 || cfg.BatchSize > 10000:
		return nil, fmt.Errorf("pubsub: new subscriber: batch size %d, want 0..10000", cfg.BatchSize)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 100
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.NackResendSleep <= 0 {
		cfg.NackResendSleep = 100 * time.Millisecond
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = time.Second
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Subscriber{reader: reader, consumer: consumer, cfg: cfg, logger: logger, ctx: ctx, cancel: cancel}, nil
}

// Subscribe delivers the events of type topic (every type for AllTopics)
// on the returned channel, in log order, sending the next message only
// after the previous one is acked and sending a nacked one again. The
// channel is closed when ctx is done or the Subscriber is closed. Each
// message's context derives from ctx and is cancelled once the message is
// acked or nacked.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic == "" {
		return nil, errors.New("pubsub: subscribe: empty topic")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrSubscriberClosed
	}
	s.subs.Add(1)
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	sub := &subscription{
		Subscriber: s,
		topic:      topic,
		out:        make(chan *message.Message),
		fields:     watermill.LogFields{"topic": topic, "consumer_group": s.cfg.ConsumerGroup},
	}
	go func() {
		defer s.subs.Done()
		defer close(sub.out)
		defer stop()
		defer cancel()
		if s.cfg.ConsumerGroup != "" {
			sub.durable(ctx)
		} else {
			sub.follow(ctx)
		}
		s.logger.Debug("Subscription closed", sub.fields)
	}()
	return sub.out, nil
}

// Close ends every subscription, closes their channels and waits for them.
// Messages acked in an unfinished batch will be delivered again. Close does
// not close the store.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.subs.Wait()
	return nil
}

type subscription struct {
	*Subscriber
	topic  string
	out    chan *message.Message
	fields watermill.LogFields
}

func (s *subscription) query() eventstore.Query {
	q := eventstore.Query{TenantID: s.cfg.TenantID, StreamType: s.cfg.StreamType, Limit: s.cfg.BatchSize}
	if s.topic != AllTopics {
		q.Types = []string{s.topic}
	}
	return q
}

// errNacked rolls back the batch that holds a nacked message.
var errNacked = errors.New("message nacked")

// durable runs the group's store consumer until ctx is done. Each batch is
// delivered inside the checkpoint transaction; a nack rolls the batch back.
// The messages acked before it are not sent again by this subscription
// (acked remembers how far it got), only the nacked one and what follows.
func (s *subscription) durable(ctx context.Context) {
	name := CheckpointName(s.cfg.ConsumerGroup, s.topic)
	var acked eventstore.Position
	h := func(ctx context.Context, _ *sql.Tx, evs []eventstore.Event) error {
		for _, e := range evs {
			if !acked.Less(e.Position) {
				continue // acked before its batch was rolled back
			}
			ok, err := s.deliver(ctx, e)
			if err != nil {
				return err
			}
			if !ok {
				return errNacked
			}
			acked = e.Position
		}
		return nil
	}
	for {
		// OnError stays nil: failures come back here, which decides how
		// long to wait before resuming from the checkpoint.
		err := s.consumer.Consume(ctx, name, eventstore.ConsumeOptions{Query: s.query(), Poll: s.cfg.Poll}, h)
		if ctx.Err() != nil {
			return
		}
		pause := s.cfg.RetryInterval
		if errors.Is(err, errNacked) {
			pause = s.cfg.NackResendSleep
		} else {
			s.logger.Error("Consumer failed; retrying", err, s.fields)
		}
		if !sleep(ctx, pause) {
			return
		}
	}
}

// follow reads the log from its start until ctx is done, keeping its
// position in memory (eventstore.Follow's loop).
func (s *subscription) follow(ctx context.Context) {
	opt := eventstore.FollowOptions{Notifier: s.reader, Poll: s.cfg.Poll, OnError: func(err error) {
		s.logger.Error("Read failed; retrying", err, s.fields)
		sleep(ctx, s.cfg.RetryInterval)
	}}
	_ = eventstore.Follow(ctx, s.reader, s.query(), opt, func(ctx context.Context, evs []eventstore.Event) error {
		for _, e := range evs {
			for {
				ok, err := s.deliver(ctx, e)
				if err != nil {
					return err // ctx is done
				}
				if ok {
					break
				}
				if !sleep(ctx, s.cfg.NackResendSleep) {
					return ctx.Err()
				}
			}
		}
		return nil
	})
}

// deliver sends e as a new message and waits for its ack (true) or nack
// (false). It fails only when ctx is done.
func (s *subscription) deliver(ctx context.Context, e eventstore.Event) (bool, error) {
	msg := toMessage(e)
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(mctx)
	select {
	case s.out <- msg:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case <-msg.Acked():
		return true, nil
	case <-msg.Nacked():
		s.logger.Debug("Message nacked", s.fields.Add(watermill.LogFields{"uuid": msg.UUID, "position": e.Position.String()}))
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// sleep waits for d and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
