// Package domain holds Eventdesk's business rules, free of infrastructure.
//
// The root package has what every aggregate shares: the Error type and its
// kinds, the Event interface, Root (the loaded version and the events
// recorded since, which every aggregate embeds), and the Actor, Source and
// Change that every recorded change carries so that an audit trail can say
// who did what, through which channel, and when. Aggregates live in
// subpackages (ticket, form, videoroom, agent, group, tenant); catalog knows
// all of their codecs.
//
// Nothing under domain imports anything but the standard library, reads the
// clock or does I/O: time is passed in, and stores, HTTP and logging live in
// the packages that call in.
//
// # Event versions
//
// Every stored event type has a schema version, 1 until its shape first
// changes. Each aggregate package has a Codec (NewCodec, EventKindOf) that
// encodes events at their type's current version (Codec.Version, which the
// append stores as the event's schema version) and decodes stored data from
// the version it was stored at: Codec.Decode upcasts it one version at a
// time with the type's Upcasters, then unmarshals it. A stored version of 0
// means 1; a version newer than the code knows is ErrUnknownSchemaVersion.
// Package catalog holds every codec, for code that sees events of any type
// (catalog.Version when appending, catalog.Upcast in the event feed).
//
// The rules for changing what an event stores:
//
//   - Stored events are never edited, migrated or deleted: the log is the
//     record. Old data is read through upcasters, for ever.
//   - Adding an optional member needs no new version: older code ignores
//     unknown members and newer code reads the zero value from older data.
//   - Any other change (a renamed, removed or retyped member, a new
//     required one, a changed meaning) changes the Go type to the new shape
//     and appends an upcaster to its EventKindOf, which bumps the version:
//     EventKindOf[TicketCreated](v1to2, v2to3). Never edit or remove an
//     upcaster once released; the next change appends the next one.
//   - Upcasters are pure functions of the stored JSON (UpcastMembers makes
//     most of them one edit of the object's members): no clock, no I/O, no
//     other events. What they cannot derive they leave at a default that
//     apply understands.
//   - Each upcaster gets a table test: data as stored at its version in,
//     the next version out, and malformed data refused.
//   - Roll forward only: while a release that writes version N+1 rolls
//     out, processes still on N fail on those events with
//     ErrUnknownSchemaVersion (they never misread them); rolling back past
//     a version bump leaves them unreadable until the release returns.
//   - Projections decode through the codec too, so an upcast type needs no
//     replay; a renamed event type is a new type, not a new version.
package domain

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is a fact recorded by an aggregate. EventType names it in the store
// ("ticket.created"). The name is persisted: renaming it orphans history.
type Event interface {
	EventType() string
}

// Audited is an Event that says who caused it, through which source and
// when. Every ticket and configuration event is Audited (through an
// embedded Change).
type Audited interface {
	Event
	Audit() Change
}

// ActorKind says what sort of party an Actor is.
type ActorKind string

// The kinds of actor.
const (
	// ActorUser is an end customer (a storefront shopper, a portal lead).
	ActorUser ActorKind = "user"
	// ActorAgent is a member of the tenant's support staff.
	ActorAgent ActorKind = "agent"
	// ActorIntegration is a machine client: an API key, a vendor-compatible
	// surface's credentials, a webhook listener.
	ActorIntegration ActorKind = "integration"
	// ActorSystem is Eventdesk itself (automations, imports, the CLI).
	ActorSystem ActorKind = "system"
)

// Actor is a party that makes changes or is assigned work. Its JSON form is
// what events store, so field names are persisted.
type Actor struct {
	ID    string    `json:"id,omitempty"`
	Name  string    `json:"name,omitempty"`
	Email string    `json:"email,omitempty"`
	Kind  ActorKind `json:"kind"`
}

// Limits on an Actor's fields, in bytes.
const (
	MaxActorIDLength   = 128
	MaxActorNameLength = 200
)

// ErrInvalidActor reports an actor that is incomplete or malformed.
var ErrInvalidActor = &Error{Kind: Invalid, Code: "invalid_actor", Msg: "invalid actor"}

// Validate checks a: a known Kind; for every kind but system, an ID or an
// Email; a well-formed Email; bounded lengths. Errors name field (e.g. "by",
// "assignee").
func (a Actor) Validate(field string) error {
	switch {
	case a.Kind != ActorUser && a.Kind != ActorAgent && a.Kind != ActorIntegration && a.Kind != ActorSystem:
		return ErrInvalidActor.At(field).Withf("%s: kind %q is not one of user, agent, integration, system", field, a.Kind)
	case a.Kind != ActorSystem && a.ID == "" && a.Email == "":
		return ErrInvalidActor.At(field).Withf("%s: an id or an email is required", field)
	case len(a.ID) > MaxActorIDLength || !utf8.ValidString(a.ID):
		return ErrInvalidActor.At(field).Withf("%s: id must be at most %d bytes of UTF-8", field, MaxActorIDLength)
	case len(a.Name) > MaxActorNameLength || !utf8.ValidString(a.Name):
		return ErrInvalidActor.At(field).Withf("%s: name must be at most %d bytes of UTF-8", field, MaxActorNameLength)
	case a.Email != "" && !ValidEmail(a.Email):
		return ErrInvalidActor.At(field).Withf("%s: email %q is not an e-mail address", field, a.Email)
	}
	return nil
}

// Source is the channel through which a ticket, or a change to it, entered
// Eventdesk. The first two are Fynd's TicketSourceEnum; the rest are ours.
// Values are persisted.
type Source string

// The sources.
const (
	// SourcePlatformPanel: the tenant's admin panel (Fynd "platform_panel").
	SourcePlatformPanel Source = "platform_panel"
	// SourceSalesChannel: a storefront application (Fynd "sales_channel").
	SourceSalesChannel Source = "sales_channel"
	// SourceAPI: the native REST API or another API client.
	SourceAPI Source = "api"
	// SourceForm: a custom form submission.
	SourceForm Source = "form"
	// SourceWebhook: an inbound webhook listener.
	SourceWebhook Source = "webhook"
	// SourcePortal: a customer portal (e.g. LeadSquared portal activities).
	SourcePortal Source = "portal"
	// SourceEmail: an e-mail or support-message channel.
	SourceEmail Source = "email"
)

// Sources returns every Source, in documentation order.
func Sources() []Source {
	return []Source{SourcePlatformPanel, SourceSalesChannel, SourceAPI, SourceForm, SourceWebhook, SourcePortal, SourceEmail}
}

// ErrUnknownSource reports a source that is not one of Sources.
var ErrUnknownSource = &Error{Kind: Invalid, Code: "unknown_source", Msg: "unknown source"}

// Valid reports whether s is one of Sources.
func (s Source) Valid() bool {
	switch s {
	case SourcePlatformPanel, SourceSalesChannel, SourceAPI, SourceForm, SourceWebhook, SourcePortal, SourceEmail:
		return true
	}
	return false
}

// ParseSource returns the Source named s (exactly, lower case) or
// ErrUnknownSource listing the allowed values.
func ParseSource(s string) (Source, error) {
	if src := Source(s); src.Valid() {
		return src, nil
	}
	return "", ErrUnknownSource.At("source").Withf("unknown source %q; allowed: %s", s, joinStrings(Sources()))
}

// Change is what every recorded change says about itself: who made it,
// through which source, and when. Events embed it, so its fields appear at
// the top level of their JSON ("by", "source", "at").
type Change struct {
	By     Actor     `json:"by"`
	Source Source    `json:"source"`
	At     time.Time `json:"at"`
}

// Audit returns c; through embedding it makes every event Audited.
func (c Change) Audit() Change { return c }

// NewChange validates by and source and returns the Change for a command
// executed at at, normalised to UTC without a monotonic reading so that it
// survives a JSON round trip unchanged. A zero at is a caller bug and is
// reported as Internal.
func NewChange(by Actor, source Source, at time.Time) (Change, error) {
	if at.IsZero() {
		return Change{}, &Error{Kind: Internal, Code: "missing_time", Msg: "domain: command time is zero"}
	}
	var errs []error
	if err := by.Validate("by"); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseSource(string(source)); err != nil {
		errs = append(errs, err)
	}
	if err := Join(errs...); err != nil {
		return Change{}, err
	}
	return Change{By: by, Source: source, At: at.UTC()}, nil
}

// ValidUUID reports whether s is a UUID in canonical lower-case form
// (8-4-4-4-12 hex digits). Aggregate and entry ids must be.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// MaxEmailLength is the longest e-mail address accepted (RFC 5321).
const MaxEmailLength = 254

// ValidEmail reports whether s is a bare e-mail address such as
// "ana@example.com": no display name, no angle brackets, no spaces.
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLength || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

func joinStrings[S ~string](xs []S) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(x))
	}
	return b.String()
}
