// Package pubsub exposes the event log as a watermill Pub/Sub, so that
// consumers can run as watermill handlers (router, middleware) and so that
// committed events can be forwarded to another Pub/Sub, such as Redis
// Streams, for fan-out across nodes (see Forward).
//
// The package owns the small interfaces it needs (Appender, Reader,
// Consumer), which *postgres.Store satisfies; cmd passes the store in.
//
// # Mapping
//
// A message published to a topic becomes one event; an event read from the
// log becomes one message:
//
//   - topic ↔ event type. This is watermill's own convention (its cqrs
//     EventBus publishes each event under its name). Subscribing to
//     AllTopics delivers every event type.
//   - message UUID ↔ event id. The event id is EventID(tenant, topic, UUID):
//     a name-based (version 5 style, SHA-1) UUID, so that a retried Publish
//     of the same message is recognised by the store's idempotent append,
//     while the same message published to two topics (a legitimate
//     watermill pattern) makes two events. The message's UUID, which
//     watermill does not require to be a UUID, is kept in the event's
//     metadata and restored on delivery. Events appended without this
//     package are delivered with their event id as the UUID.
//   - metadata ↔ event metadata. The keys listed as Meta* constants are
//     well known: tenant, stream, expected version and schema version say
//     where and how to append; correlation id, causation id, actor and
//     source fill Metadata's fields. All other entries go to Metadata.Extra.
//     On delivery the well-known keys are set from the stored event, plus
//     its id, type, version, position and recording time (MetaPosition
//     lets consumers downstream of a forwarder stay idempotent).
//   - payload ↔ data. A payload that is a JSON object is the event's data
//     as is, so that projections and queries can read it; PostgreSQL
//     stores it as jsonb and hands back the same JSON value, though not
//     necessarily the same bytes (whitespace, key order and duplicate keys
//     are normalised). Any other payload (binary, text, JSON that is not an
//     object or that jsonb cannot hold) is wrapped as
//     {"payload_base64": "..."} and unwrapped on delivery, byte for byte.
//   - stream. A message names its stream with MetaTenantID, MetaStreamType
//     and MetaStreamID, defaulting to the publisher's tenant and stream
//     type and to the event id: a message that names no stream is a
//     one-event stream of its own, so concurrent publishers never contend.
//     MetaExpectedVersion ("any", "none" or a version; default any) makes
//     the append conditional.
//
// # Delivery
//
// A Subscriber delivers the committed log for a topic in log order and
// without gaps: each stream's events in version order, and messages
// published one after the other in the order they were published. The
// next message is sent only after the previous one is acked; a nack sends
// the same message again. Delivery is at least once.
//
// With a ConsumerGroup, each (group, topic) pair is a durable consumer of
// the store (see CheckpointName): a batch of events is delivered inside the
// consumer's checkpoint transaction, and the checkpoint advances when the
// whole batch is acked. Instances of a group share the work, one batch at a
// time and in order. It is not exactly once: a crash, a Close or a failed
// commit after an ack delivers the acked messages of the unfinished batch
// again, and after a nack another instance of the group may do so too.
//
// The checkpoint transaction stays open while handlers run, and an open
// transaction holds back the delivery of every later event in the cluster
// (that is how the log stays gap-free). So handlers should be quick; a
// batch (SubscriberConfig.BatchSize) that takes longer than the store's
// idle-in-transaction timeout is cut off and retried; and a handler must
// never wait for an event published after the message it handles (a
// request/reply over this Pub/Sub from inside a handler would wait for
// itself).
//
// Without a ConsumerGroup, each Subscribe reads the topic from the start of
// the log and keeps its position in memory only.
package pubsub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/eventdesk/eventdesk/eventstore"
)

// AllTopics subscribes to every event type. It cannot be published to.
const AllTopics = "*"

// Well-known metadata keys.
const (
	// MetaTenantID is the tenant that owns the event's stream.
	MetaTenantID = "tenant_id"
	// MetaStreamType is the type of the event's stream, e.g. "ticket".
	MetaStreamType = "stream_type"
	// MetaStreamID is the id of the event's stream within tenant and type.
	MetaStreamID = "stream_id"
	// MetaExpectedVersion is read on publish only: "any" (the default),
	// "none" (the stream must not exist yet) or an exact version.
	MetaExpectedVersion = "expected_version"
	// MetaSchemaVersion is the version of the event's data schema
	// (default 1).
	MetaSchemaVersion = "schema_version"
	// MetaCorrelationID is Metadata.CorrelationID; watermill's
	// CorrelationID middleware uses the same key.
	MetaCorrelationID = "correlation_id"
	// MetaCausationID is Metadata.CausationID.
	MetaCausationID = "causation_id"
	// MetaActor is Metadata.Actor: who caused the event.
	MetaActor = "actor"
	// MetaSource is Metadata.Source: the entry point or channel.
	MetaSource = "source"
	// MetaPrincipal is Metadata.Principal: the credential that let the
	// change in.
	MetaPrincipal = "principal"

	// The keys below are set on delivery and ignored on publish.

	// MetaEventID is the stored event's id.
	MetaEventID = "event_id"
	// MetaEventType is the event's type, i.e. the topic it was published
	// to; forwarded messages need it, as they share one downstream topic.
	MetaEventType = "event_type"
	// MetaVersion is the event's version within its stream.
	MetaVersion = "version"
	// MetaPosition is the event's place in the global log, in the form of
	// eventstore.Position.String; compare with eventstore.ParsePosition.
	MetaPosition = "position"
	// MetaRecordedAt is when the event was stored, in RFC 3339 form.
	MetaRecordedAt = "recorded_at"
)

// Keys this package keeps in Metadata.Extra for itself; they never reach
// a delivered message's metadata.
const (
	extraMessageUUID     = "watermill_uuid"
	extraPayloadEncoding = "payload_encoding"
	payloadBase64        = "base64"
)

var (
	// ErrPublisherClosed is returned by Publish after Close.
	ErrPublisherClosed = errors.New("pubsub: publisher closed")
	// ErrSubscriberClosed is returned by Subscribe after Close.
	ErrSubscriberClosed = errors.New("pubsub: subscriber closed")
)

// Appender appends events; *postgres.Store satisfies it.
type Appender interface {
	// Append adds events to a stream atomically if it is at the expected
	// version; re-appending stored event ids returns the original result.
	// See eventstore.Store for the errors it returns.
	Append(ctx context.Context, stream eventstore.StreamRef, expected eventstore.ExpectedVersion, events []eventstore.EventData) (eventstore.AppendResult, error)
}

// Reader reads the committed log; *postgres.Store satisfies it.
type Reader interface {
	// ReadAll returns events after q.After in log order, never one that a
	// transaction still in flight could precede. Safe for concurrent use.
	ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error)
	eventstore.Notifier
}

// Consumer runs durable, checkpointed consumers; *postgres.Store
// satisfies it (it is the part of eventstore.Consumer a Subscriber needs).
type Consumer interface {
	// Consume resumes the consumer name after its checkpoint and hands
	// each batch of the events opt.Query selects to h inside a transaction
	// that also stores the new checkpoint; an error from h rolls the batch
	// back. With opt.OnError nil, as a Subscriber calls it, it returns at
	// the first failure, or with ctx.Err() once ctx is done. Safe for
	// concurrent use, also with the same name.
	Consume(ctx context.Context, name string, opt eventstore.ConsumeOptions, h eventstore.BatchHandler) error
}

// CheckpointName is the store consumer that holds the position of a
// consumer group on a topic. Both parts are escaped, so distinct pairs
// never share a checkpoint.
func CheckpointName(consumerGroup, topic string) string {
	return "watermill/" + url.PathEscape(consumerGroup) + "/" + url.PathEscape(topic)
}

// namespace makes EventID's ids distinct from those of other name-based
// UUID schemes.
var namespace = [16]byte{0x5b, 0x0e, 0x4d, 0x1c, 0x2f, 0x8a, 0x4e, 0x53, 0x9d, 0x61, 0x0c, 0x7e, 0x33, 0xa4, 0x19, 0xf2}

// EventID is the id of the event that a message with the given UUID becomes
// when published to topic for tenantID: a version 5 style UUID derived with
// SHA-1, the same for every retry of that publish.
func EventID(tenantID, topic, messageUUID string) string {
	h := sha1.New()
	h.Write(namespace[:])
	for _, s := range []string{tenantID, topic, messageUUID} {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// encodePayload returns the event data for a payload, and whether it had to
// be wrapped.
func encodePayload(p []byte) (json.RawMessage, bool) {
	if jsonbObject(p) {
		return json.RawMessage(p), false
	}
	b, err := json.Marshal(struct {
		Payload string `json:"payload_base64"`
	}{base64.StdEncoding.EncodeToString(p)})
	if err != nil {
		panic(err) // a struct of one string always marshals
	}
	return b, true
}

// decodePayload reverses encodePayload. A wrapper that does not decode is
// delivered as stored rather than blocking the subscription.
func decodePayload(data json.RawMessage, wrapped bool) []byte {
	if !wrapped {
		return []byte(data)
	}
	var w struct {
		Payload *string `json:"payload_base64"`
	}
	if err := json.Unmarshal(data, &w); err != nil || w.Payload == nil {
		return []byte(data)
	}
	p, err := base64.StdEncoding.DecodeString(*w.Payload)
	if err != nil {
		return []byte(data)
	}
	return p
}

// jsonbObject reports whether p is a JSON object that PostgreSQL's jsonb
// accepts: valid JSON (which Go checks) without NUL characters or unpaired
// surrogates (which jsonb refuses and Go lets through).
func jsonbObject(p []byte) bool {
	t := bytes.TrimSpace(p)
	if len(t) < 2 || t[0] != '{' || !json.Valid(t) {
		return false
	}
	// In valid JSON a backslash only ever starts an escape inside a string.
	for i := 0; i < len(t); i++ {
		if t[i] != '\\' {
			continue
		}
		if t[i+1] != 'u' {
			i++
			continue
		}
		r := hex4(t[i+2 : i+6])
		i += 5
		switch {
		case r == 0, r >= 0xdc00 && r <= 0xdfff:
			return false
		case r >= 0xd800 && r <= 0xdbff:
			if i+6 >= len(t) || t[i+1] != '\\' || t[i+2] != 'u' {
				return false
			}
			if lo := hex4(t[i+3 : i+7]); lo < 0xdc00 || lo > 0xdfff {
				return false
			}
			i += 6
		}
	}
	return true
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 16) // json.Valid checked the digits
	return rune(n)
}

// toMessage turns a stored event into a message.
func toMessage(e eventstore.Event) *message.Message {
	uuid := e.ID
	wrapped := false
	md := make(message.Metadata, len(e.Metadata.Extra)+14)
	for k, v := range e.Metadata.Extra {
		switch k {
		case extraMessageUUID:
			uuid = v
		case extraPayloadEncoding:
			wrapped = v == payloadBase64
		default:
			md[k] = v
		}
	}
	msg := message.NewMessage(uuid, decodePayload(e.Data, wrapped))
	set := func(k, v string) {
		if v != "" {
			md[k] = v
		}
	}
	set(MetaTenantID, e.TenantID)
	set(MetaStreamType, e.StreamType)
	set(MetaStreamID, e.StreamID)
	set(MetaSchemaVersion, strconv.Itoa(max(e.SchemaVersion, 1)))
	set(MetaCorrelationID, e.Metadata.CorrelationID)
	set(MetaCausationID, e.Metadata.CausationID)
	set(MetaActor, e.Metadata.Actor)
	set(MetaSource, e.Metadata.Source)
	set(MetaPrincipal, e.Metadata.Principal)
	set(MetaEventID, e.ID)
	set(MetaEventType, e.Type)
	set(MetaVersion, strconv.FormatInt(e.Version, 10))
	set(MetaPosition, e.Position.String())
	if !e.RecordedAt.IsZero() {
		set(MetaRecordedAt, e.RecordedAt.UTC().Format(time.RFC3339Nano))
	}
	msg.Metadata = md
	return msg
}
