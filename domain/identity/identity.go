// Package identity holds the reservations of the CRM's identity graph: one
// stream per identity (a normalised e-mail, phone, passport or external
// contact id) saying which customer holds it now. (Readable codes never
// move: they are the keys of the customers' own streams.)
//
// Event-store keys (eventstore.EventData.Key) are permanent, but an
// identity must move: an edit frees an e-mail address, a merge hands every
// identity of the merged customer to the survivor and an un-merge hands
// them back. A reservation is an ordinary stream, so the application layer
// claims and releases identities in the same atomic multi-stream append as
// the customer's own events, expecting each reservation stream at the
// version it read: of twenty concurrent creates with one e-mail address,
// exactly one append succeeds and the others, on re-reading, find the
// winner.
package identity

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of identity reservations. It is persisted.
const StreamType = "identity"

// StreamID returns the reservation stream id of the identity (kind, value):
// "<kind>:<value>", or "<kind>:sha256:<hex>" when that would be longer than
// maxID bytes. value must already be normalised.
func StreamID(kind, value string) string {
	const maxID = 200
	id := kind + ":" + value
	if len(id) <= maxID {
		return id
	}
	h := sha256.Sum256([]byte(value))
	return kind + ":sha256:" + hex.EncodeToString(h[:])
}

// Reservation events. They are not Audited: the customer event appended
// with them says who did what and when.
type (
	// Claimed gave the identity to Customer.
	Claimed struct {
		Customer string `json:"customer"`
	}
	// Released freed the identity, which Customer held.
	Released struct {
		Customer string `json:"customer"`
	}
)

// EventType returns "identity.claimed".
func (Claimed) EventType() string { return "identity.claimed" }

// EventType returns "identity.released".
func (Released) EventType() string { return "identity.released" }

var codec = domain.NewCodec("identity", domain.EventKindOf[Claimed](), domain.EventKindOf[Released]())

// Codec returns the codec of reservation events.
func Codec() *domain.Codec { return codec }

// Holder returns who holds an identity whose reservation stream holds
// history: the customer of the last claim, or "" if it was released or
// never claimed.
func Holder(history []domain.Event) string {
	holder := ""
	for _, e := range history {
		switch e := e.(type) {
		case Claimed:
			holder = e.Customer
		case Released:
			if e.Customer == holder {
				holder = ""
			}
		}
	}
	return holder
}
