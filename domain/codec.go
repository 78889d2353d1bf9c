package domain

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Upcaster turns the stored data of one event type at one schema version
// into the data of the next version (a JSON object in, a JSON object out).
// It must be pure: no clock, no I/O, the same output for the same input,
// and it must not modify data, which may be shared. Data it cannot read is
// an error, never a guess.
type Upcaster func(data []byte) ([]byte, error)

// UpcastMembers returns an Upcaster that decodes the stored JSON object
// into its members, lets edit add, rename, rewrite or delete them, and
// encodes the result. Most shape changes are one such edit:
//
//	domain.UpcastMembers(func(m map[string]json.RawMessage) error {
//		m["body"] = m["description"] // v1 called it description
//		delete(m, "description")
//		return nil
//	})
func UpcastMembers(edit func(members map[string]json.RawMessage) error) Upcaster {
	return func(data []byte) ([]byte, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		if m == nil {
			return nil, errors.New("data is null, want a JSON object")
		}
		if err := edit(m); err != nil {
			return nil, err
		}
		return json.Marshal(m)
	}
}

// Errors of the codecs. Both are Internal: stored data a deployment cannot
// read is an operator's problem, not a client's.
var (
	// ErrUnknownEventType reports an event type a codec does not know.
	ErrUnknownEventType = &Error{Kind: Internal, Code: "unknown_event_type", Msg: "unknown event type"}
	// ErrUnknownSchemaVersion reports stored data at a schema version the
	// code does not know: written by a newer release (roll forward, never
	// back past a version bump) or corrupt.
	ErrUnknownSchemaVersion = &Error{Kind: Internal, Code: "unknown_schema_version", Msg: "unknown event schema version"}
)

// EventKind is one event type a Codec knows: its persisted name, how to
// decode its current shape, and the upcasters that bring every older
// stored shape up to the current one. Make one with EventKindOf.
type EventKind struct {
	Type      string
	decode    func([]byte) (Event, error)
	upcasters []Upcaster // upcasters[i] turns version i+1 into i+2
}

// EventKindOf returns the EventKind of event type E (a value type). E's
// JSON form is the type's current schema version, which is
// 1 + len(upcasters): upcasters[0] turns stored version 1 into 2,
// upcasters[1] turns 2 into 3, and so on. Changing E's shape in a way old
// data does not fit means appending an upcaster here, never editing one.
func EventKindOf[E Event](upcasters ...Upcaster) EventKind {
	var zero E
	return EventKind{Type: zero.EventType(), upcasters: upcasters, decode: func(data []byte) (Event, error) {
		var e E
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, err
		}
		return e, nil
	}}
}

// Version returns k's current schema version (1 when it has no upcasters).
func (k EventKind) Version() int { return 1 + len(k.upcasters) }

// Codec turns one package's events into the JSON objects stores keep, and
// back, through the schema versions of each event type.
//
// Encode writes the current version (Version). Decode takes the version
// the data was stored at, upcasts it one step at a time to the current
// version, then unmarshals it. Unknown JSON members are ignored, so older
// code reads additive changes of newer code without a version bump; an
// unknown type, a version newer than the code knows or malformed data is
// an error.
//
// A Codec is immutable and safe for concurrent use; With derives a
// variant (tests use it to add a version without touching the package's
// own codec).
type Codec struct {
	pkg   string
	types []string
	kinds map[string]EventKind
}

// NewCodec returns the codec of package pkg (named in errors) for kinds,
// listed in documentation order. It panics if a type is listed twice,
// which is a programming error.
func NewCodec(pkg string, kinds ...EventKind) *Codec {
	c := &Codec{pkg: pkg, kinds: make(map[string]EventKind, len(kinds))}
	for _, k := range kinds {
		if _, dup := c.kinds[k.Type]; dup {
			panic(fmt.Sprintf("domain: codec %s lists event type %q twice", pkg, k.Type))
		}
		c.types = append(c.types, k.Type)
		c.kinds[k.Type] = k
	}
	return c
}

// With returns a copy of c in which each of kinds replaces the kind of the
// same type, or is added after the others. c itself is unchanged.
func (c *Codec) With(kinds ...EventKind) *Codec {
	out := &Codec{pkg: c.pkg, types: append([]string(nil), c.types...), kinds: make(map[string]EventKind, len(c.kinds)+len(kinds))}
	for t, k := range c.kinds {
		out.kinds[t] = k
	}
	for _, k := range kinds {
		if _, ok := out.kinds[k.Type]; !ok {
			out.types = append(out.types, k.Type)
		}
		out.kinds[k.Type] = k
	}
	return out
}

// Package returns the name of the package whose events c knows.
func (c *Codec) Package() string { return c.pkg }

// Types returns every event type the codec knows, in documentation order.
func (c *Codec) Types() []string { return append([]string(nil), c.types...) }

// Version returns the current schema version of eventType, the version
// Encode writes and every append must store with the data; 0 if c does
// not know the type.
func (c *Codec) Version(eventType string) int {
	k, ok := c.kinds[eventType]
	if !ok {
		return 0
	}
	return k.Version()
}

// Encode returns the JSON object stored as e's data, at the current schema
// version of its type (Version). Known events never fail to encode; the
// error is for foreign events.
func (c *Codec) Encode(e Event) ([]byte, error) {
	if _, ok := c.kinds[e.EventType()]; !ok {
		return nil, ErrUnknownEventType.Withf("%s: encode %T: unknown event type %q", c.pkg, e, e.EventType())
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("%s: encode %s: %w", c.pkg, e.EventType(), err)
	}
	return b, nil
}

// Upcast brings data, stored as eventType at schema version version (0
// means 1), to the type's current version and returns that version and
// the data. Data already current is returned as it is, unparsed. Errors:
// ErrUnknownEventType, ErrUnknownSchemaVersion (a version below 1 or above
// the current one), or the failure of an upcaster on malformed data.
func (c *Codec) Upcast(eventType string, version int, data []byte) (int, []byte, error) {
	k, ok := c.kinds[eventType]
	if !ok {
		return 0, nil, ErrUnknownEventType.Withf("%s: unknown event type %q", c.pkg, eventType)
	}
	if version == 0 {
		version = 1
	}
	current := k.Version()
	if version < 1 || version > current {
		return 0, nil, ErrUnknownSchemaVersion.Withf("%s: %s is stored at schema version %d; this code knows versions 1 to %d",
			c.pkg, eventType, version, current)
	}
	for v := version; v < current; v++ {
		out, err := k.upcasters[v-1](data)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: upcast %s from schema version %d to %d: %w", c.pkg, eventType, v, v+1, err)
		}
		data = out
	}
	return current, data, nil
}

// Decode turns data, stored as eventType at schema version version (0
// means 1), back into the event (a value, not a pointer): it upcasts the
// data to the current version, then unmarshals it. Errors are those of
// Upcast and malformed data.
func (c *Codec) Decode(eventType string, version int, data []byte) (Event, error) {
	_, data, err := c.Upcast(eventType, version, data)
	if err != nil {
		return nil, err
	}
	e, err := c.kinds[eventType].decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", c.pkg, eventType, err)
	}
	return e, nil
}
