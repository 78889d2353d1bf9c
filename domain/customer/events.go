package customer

import "github.com/eventdesk/eventdesk/domain"

// Customer events. Each embeds domain.Change ("by", "source", "at" in
// JSON). Type strings and JSON names are persisted and must never change
// meaning.
//
// A customer's stream is its whole story, timeline included: notes, linked
// tickets and deals, duplicate submissions and merges are events of the
// customer's own stream, so that one projection (contacts.v1) reading one
// stream type builds both the list and every timeline.
type (
	// CustomerCreated created a customer of Kind with its first readable
	// Code (PID-n, CID-n or LID-n) and its Profile, normalised.
	CustomerCreated struct {
		domain.Change
		ID      string  `json:"id"`
		Kind    Kind    `json:"kind"`
		Code    string  `json:"code"`
		Profile Profile `json:"profile"`
	}

	// CustomerUpdated replaced the customer's profile with Profile (the
	// whole profile after the change, normalised).
	CustomerUpdated struct {
		domain.Change
		Profile Profile `json:"profile"`
	}

	// DuplicateSubmitted recorded that a create was submitted for a
	// customer who already exists: Matched are the identities of the
	// submission this customer holds; Submitted is what was sent. Nothing
	// else changed (seed 004's "duplicate" history line).
	DuplicateSubmitted struct {
		domain.Change
		Matched   []Identity `json:"matched"`
		Submitted Profile    `json:"submitted"`
	}

	// LeadConverted turned a lead into a contact with the new Code (PID-n).
	// Its lead code keeps resolving to it.
	LeadConverted struct {
		domain.Change
		Code string `json:"code"`
	}

	// CustomerMerged recorded, on a customer merged into another, that Into
	// (the survivor) absorbed it in merge MergeID. It is frozen from then on
	// until it is restored.
	CustomerMerged struct {
		domain.Change
		Into    string `json:"into"`
		MergeID string `json:"merge_id"`
	}

	// CustomerAbsorbed recorded, on the survivor of merge MergeID, that it
	// absorbed From: Identities moved from From to it, and its profile
	// became Profile (Before is what it was, so that an unmerge can give
	// back what From brought).
	CustomerAbsorbed struct {
		domain.Change
		From       string     `json:"from"`
		MergeID    string     `json:"merge_id"`
		Identities []Identity `json:"identities"`
		Before     Profile    `json:"before"`
		Profile    Profile    `json:"profile"`
	}

	// CustomerUnmerged recorded, on the survivor, that Restored was split
	// off again: Identities went back to it, the survivor's profile became
	// Profile, and Items — attached to the survivor through Restored's
	// identities since the merge — moved to Restored.
	CustomerUnmerged struct {
		domain.Change
		Restored   string     `json:"restored"`
		MergeID    string     `json:"merge_id"`
		Identities []Identity `json:"identities"`
		Profile    Profile    `json:"profile"`
		Items      []Item     `json:"items,omitempty"`
	}

	// CustomerRestored recorded, on a merged customer, that merge MergeID
	// into From was undone: it is live again, as it was, and Items moved to
	// it from From.
	CustomerRestored struct {
		domain.Change
		From    string `json:"from"`
		MergeID string `json:"merge_id"`
		Items   []Item `json:"items,omitempty"`
	}

	// TicketLinked linked a ticket to the customer. Via is the identity it
	// was found by (nil when named by id or code).
	TicketLinked struct {
		domain.Change
		TicketID string    `json:"ticket_id"`
		Number   int64     `json:"number,omitempty"`
		Title    string    `json:"title,omitempty"`
		Via      *Identity `json:"via,omitempty"`
	}

	// NoteAdded added a note to the customer's timeline. Its author is the
	// change's By; Owner is the agent id that owns it for its Permit.
	NoteAdded struct {
		domain.Change
		NoteID  string        `json:"note_id"`
		Body    string        `json:"body"`
		Owner   string        `json:"owner,omitempty"`
		Permit  domain.Permit `json:"permit"`
		Tag     string        `json:"tag,omitempty"`
		Channel string        `json:"channel,omitempty"`
		Via     *Identity     `json:"via,omitempty"`
	}

	// DealLinked linked a deal to the customer, as the customer the deal is
	// with (Role "customer") or as a related contact (Role "contact").
	DealLinked struct {
		domain.Change
		DealID string    `json:"deal_id"`
		Name   string    `json:"name,omitempty"`
		Role   string    `json:"role"`
		Via    *Identity `json:"via,omitempty"`
	}
)

// EventType returns "customer.created".
func (CustomerCreated) EventType() string { return "customer.created" }

// EventType returns "customer.updated".
func (CustomerUpdated) EventType() string { return "customer.updated" }

// EventType returns "customer.duplicate_submitted".
func (DuplicateSubmitted) EventType() string { return "customer.duplicate_submitted" }

// EventType returns "customer.converted".
func (LeadConverted) EventType() string { return "customer.converted" }

// EventType returns "customer.merged".
func (CustomerMerged) EventType() string { return "customer.merged" }

// EventType returns "customer.absorbed".
func (CustomerAbsorbed) EventType() string { return "customer.absorbed" }

// EventType returns "customer.unmerged".
func (CustomerUnmerged) EventType() string { return "customer.unmerged" }

// EventType returns "customer.restored".
func (CustomerRestored) EventType() string { return "customer.restored" }

// EventType returns "customer.ticket_linked".
func (TicketLinked) EventType() string { return "customer.ticket_linked" }

// EventType returns "customer.note_added".
func (NoteAdded) EventType() string { return "customer.note_added" }

// EventType returns "customer.deal_linked".
func (DealLinked) EventType() string { return "customer.deal_linked" }

// Item is something attached to a customer's timeline: a ticket, a note or
// a deal.
type Item struct {
	Kind string `json:"kind"` // "ticket", "note" or "deal"
	ID   string `json:"id"`
}
