// Package catalog knows every event type Eventdesk stores: it holds the
// codec of every domain package, so that code which handles events of any
// type can ask for a type's current schema version (the application layer,
// when it appends) or bring stored data up to it (the event feed, which
// shows what the log holds in today's shape).
//
// A new domain package that stores events adds its codec to the catalog;
// a test fails until it does.
package catalog

import (
	"encoding/json"
	"fmt"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/domain/identity"
	"github.com/eventdesk/eventdesk/domain/listener"
	"github.com/eventdesk/eventdesk/domain/outbox"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/domain/tenant"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/domain/videoroom"
)

// Catalog is a set of codecs whose event types are disjoint. It is
// immutable and safe for concurrent use.
type Catalog struct {
	codecs []*domain.Codec
	byType map[string]*domain.Codec
}

// New returns the catalog of codecs. It panics if two codecs know the same
// event type, which is a programming error: a type has one shape.
func New(codecs ...*domain.Codec) *Catalog {
	c := &Catalog{codecs: append([]*domain.Codec(nil), codecs...), byType: map[string]*domain.Codec{}}
	for _, cd := range codecs {
		for _, t := range cd.Types() {
			if prev, dup := c.byType[t]; dup {
				panic(fmt.Sprintf("catalog: event type %q is known to codecs %s and %s", t, prev.Package(), cd.Package()))
			}
			c.byType[t] = cd
		}
	}
	return c
}

// Codecs returns the catalog's codecs, in the order given to New.
func (c *Catalog) Codecs() []*domain.Codec { return append([]*domain.Codec(nil), c.codecs...) }

// Version returns the current schema version of eventType and whether the
// catalog knows the type.
func (c *Catalog) Version(eventType string) (int, bool) {
	cd, ok := c.byType[eventType]
	if !ok {
		return 0, false
	}
	return cd.Version(eventType), true
}

// Upcast brings data, stored as eventType at schema version version (0
// means 1), to the type's current schema version and returns that version
// and the data. Data of a type the catalog does not know passes through
// unchanged, version and all. Errors are those of domain.Codec.Upcast:
// domain.ErrUnknownSchemaVersion for a version newer than the code knows,
// or an upcaster's failure on malformed data.
func (c *Catalog) Upcast(eventType string, version int, data json.RawMessage) (int, json.RawMessage, error) {
	cd, ok := c.byType[eventType]
	if !ok {
		return version, data, nil
	}
	return cd.Upcast(eventType, version, data)
}

// events is the catalog of every event type Eventdesk stores.
var events = New(ticket.Codec(), form.Codec(), form.IndexCodec(), videoroom.Codec(), tenant.Codec(),
	agent.Codec(), agent.IndexCodec(), group.Codec(), group.IndexCodec(),
	crm.Codec(), pipeline.Codec(), pipeline.IndexCodec(), deal.Codec(), deal.IndexCodec(), identity.Codec(), customer.Codec(),
	outbox.Codec(), listener.Codec(), listener.IndexCodec())

// Events returns the catalog of every event type Eventdesk stores.
func Events() *Catalog { return events }

// Version returns the current schema version of eventType, the version an
// append must store with data encoded today, and whether any domain
// package knows the type.
func Version(eventType string) (int, bool) { return events.Version(eventType) }

// Upcast brings any stored event's data to the current schema version of
// its type; see Catalog.Upcast. The event feed calls it on each event it
// shows:
//
//	v, data, err := catalog.Upcast(e.Type, e.SchemaVersion, e.Data)
func Upcast(eventType string, version int, data json.RawMessage) (int, json.RawMessage, error) {
	return events.Upcast(eventType, version, data)
}
