package domain

import (
	"encoding/json"
	"fmt"
)

// EventKind is one event type a Codec knows: its persisted name and how to
// decode it. Make one with EventKindOf.
type EventKind struct {
	Type   string
	decode func([]byte) (Event, error)
}

// EventKindOf returns the EventKind of event type E (a value type).
func EventKindOf[E Event]() EventKind {
	var zero E
	return EventKind{Type: zero.EventType(), decode: func(data []byte) (Event, error) {
		var e E
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, err
		}
		return e, nil
	}}
}

// Codec turns one package's events into the JSON objects stores keep, and
// back. Unknown JSON members are ignored when decoding, so older code reads
// events written by newer code; an unknown type or malformed data is an
// error.
type Codec struct {
	pkg      string
	types    []string
	decoders map[string]func([]byte) (Event, error)
}

// NewCodec returns the codec of package pkg (named in errors) for kinds,
// listed in documentation order.
func NewCodec(pkg string, kinds ...EventKind) *Codec {
	c := &Codec{pkg: pkg, decoders: make(map[string]func([]byte) (Event, error), len(kinds))}
	for _, k := range kinds {
		c.types = append(c.types, k.Type)
		c.decoders[k.Type] = k.decode
	}
	return c
}

// Types returns every event type the codec knows, in documentation order.
func (c *Codec) Types() []string { return append([]string(nil), c.types...) }

// Encode returns the JSON object stored as e's data. Known events never
// fail to encode; the error is for foreign events.
func (c *Codec) Encode(e Event) ([]byte, error) {
	if _, ok := c.decoders[e.EventType()]; !ok {
		return nil, fmt.Errorf("%s: encode %T: unknown event type %q", c.pkg, e, e.EventType())
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("%s: encode %s: %w", c.pkg, e.EventType(), err)
	}
	return b, nil
}

// Decode turns stored data of the given event type back into the event (a
// value, not a pointer).
func (c *Codec) Decode(eventType string, data []byte) (Event, error) {
	d, ok := c.decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("%s: decode: unknown event type %q", c.pkg, eventType)
	}
	e, err := d(data)
	if err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", c.pkg, eventType, err)
	}
	return e, nil
}
