package pubsub

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/eventdesk/eventdesk/eventstore"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// TenantID is the tenant of messages without MetaTenantID. Required.
	TenantID string
	// StreamType is the stream type of messages without MetaStreamType;
	// empty means "message".
	StreamType string
}

var _ message.Publisher = (*Publisher)(nil)

// Publisher appends watermill messages to the event log, one event per
// message (see the package documentation for the mapping).
type Publisher struct {
	store  Appender
	cfg    PublisherConfig
	logger watermill.LoggerAdapter
	closed atomic.Bool
}

// NewPublisher returns a Publisher appending to store. logger may be nil.
func NewPublisher(store Appender, cfg PublisherConfig, logger watermill.LoggerAdapter) (*Publisher, error) {
	if store == nil {
		return nil, fmt.Errorf("pubsub: new publisher: no store")
	}
	if cfg.TenantID == "" {
		return nil, fmt.Errorf("pubsub: new publisher: no default tenant id")
	}
	if cfg.StreamType == "" {
		cfg.StreamType = "message"
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &Publisher{store: store, cfg: cfg, logger: logger}, nil
}

// Publish appends each message, in order, as an event of type topic, and
// returns once it is committed or at the first failure (earlier messages
// stay appended; publishing them again is harmless, as retries are
// idempotent). Each append runs with its message's context. Version
// conflicts and invalid input come back as the store's errors, wrapped.
// Publish is safe for concurrent use.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed.Load() {
		return ErrPublisherClosed
	}
	if topic == "" || topic == AllTopics {
		return fmt.Errorf("pubsub: publish to %q: %w", topic,
			&eventstore.InvalidError{Field: "topic", Reason: "must name one event type"})
	}
	for _, msg := range msgs {
		stream, expected, ev, err := p.event(topic, msg)
		if err == nil {
			_, err = p.store.Append(msg.Context(), stream, expected, []eventstore.EventData{ev})
		}
		if err != nil {
			return fmt.Errorf("pubsub: publish message %s to %s: %w", msg.UUID, topic, err)
		}
		p.logger.Trace("Message published", watermill.LogFields{"uuid": msg.UUID, "topic": topic, "event_id": ev.ID})
	}
	return nil
}

// Close makes later Publish calls fail. It does not close the store.
func (p *Publisher) Close() error {
	p.closed.Store(true)
	return nil
}

// event maps a message to the append it stands for.
func (p *Publisher) event(topic string, msg *message.Message) (eventstore.StreamRef, eventstore.ExpectedVersion, eventstore.EventData, error) {
	md := msg.Metadata
	if msg.UUID == "" {
		return eventstore.StreamRef{}, 0, eventstore.EventData{}, &eventstore.InvalidError{Field: "message uuid", Reason: "empty"}
	}
	stream := eventstore.StreamRef{
		TenantID: orDefault(md.Get(MetaTenantID), p.cfg.TenantID),
		Type:     orDefault(md.Get(MetaStreamType), p.cfg.StreamType),
	}
	id := EventID(stream.TenantID, topic, msg.UUID)
	stream.ID = orDefault(md.Get(MetaStreamID), id)

	expected, err := parseExpected(md.Get(MetaExpectedVersion))
	if err != nil {
		return stream, 0, eventstore.EventData{}, err
	}
	schema := 0
	if s := md.Get(MetaSchemaVersion); s != "" {
		if schema, err = strconv.Atoi(s); err != nil || schema < 1 {
			return stream, 0, eventstore.EventData{}, &eventstore.InvalidError{Field: "metadata " + MetaSchemaVersion, Reason: fmt.Sprintf("%q is not a positive integer", s)}
		}
	}

	data, wrapped := encodePayload(msg.Payload)
	extra := map[string]string{extraMessageUUID: msg.UUID}
	if wrapped {
		extra[extraPayloadEncoding] = payloadBase64
	}
	for k, v := range md {
		switch k {
		case MetaTenantID, MetaStreamType, MetaStreamID, MetaExpectedVersion, MetaSchemaVersion,
			MetaCorrelationID, MetaCausationID, MetaActor, MetaSource, MetaPrincipal,
			MetaEventID, MetaEventType, MetaVersion, MetaPosition, MetaRecordedAt,
			extraMessageUUID, extraPayloadEncoding:
		default:
			extra[k] = v
		}
	}
	return stream, expected, eventstore.EventData{
		ID:            id,
		Type:          topic,
		SchemaVersion: schema,
		Data:          data,
		Metadata: eventstore.Metadata{
			CorrelationID: md.Get(MetaCorrelationID),
			CausationID:   md.Get(MetaCausationID),
			Actor:         md.Get(MetaActor),
			Source:        md.Get(MetaSource),
			Principal:     md.Get(MetaPrincipal),
			Extra:         extra,
		},
	}, nil
}

func parseExpected(s string) (eventstore.ExpectedVersion, error) {
	switch strings.ToLower(s) {
	case "", "any":
		return eventstore.Any, nil
	case "none":
		return eventstore.NoStream, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, &eventstore.InvalidError{Field: "metadata " + MetaExpectedVersion, Reason: fmt.Sprintf("%q is neither any, none nor a version", s)}
	}
	return eventstore.Exact(v), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
