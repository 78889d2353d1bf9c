package ticket

import (
	"encoding/json"

	"github.com/eventdesk/eventdesk/domain"
)

// Ticket events. Each embeds domain.Change (who, through which source,
// when: "by", "source", "at" in JSON) and records what changed, with the
// previous value where an audit trail needs it. Events are stored as JSON
// objects; their type strings (EventType) and JSON names are persisted and
// must never change meaning. Optional slices and maps are omitted when
// empty, so a decoded event equals the recorded one.
type (
	// TicketCreated opened a ticket. Source is both the ticket's source and
	// the channel of its creation.
	TicketCreated struct {
		domain.Change
		ID          string                     `json:"id"`
		TenantID    string                     `json:"tenant_id"`
		Number      int64                      `json:"number"`
		Title       string                     `json:"title"`
		Description string                     `json:"description,omitempty"`
		Category    string                     `json:"category,omitempty"`
		SubCategory string                     `json:"sub_category,omitempty"`
		Priority    Priority                   `json:"priority"`
		Status      string                     `json:"status"`
		StatusKind  StatusKind                 `json:"status_kind"`
		Channel     string                     `json:"channel,omitempty"`
		Tags        []string                   `json:"tags,omitempty"`
		Custom      map[string]json.RawMessage `json:"custom,omitempty"`
		CreatedBy   domain.Actor               `json:"created_by"`
		Assignee    *domain.Actor              `json:"assignee,omitempty"`
		Subscribers []string                   `json:"subscribers,omitempty"`
		Attachments []Attachment               `json:"attachments,omitempty"`
		References  References                 `json:"references,omitzero"`
		UserAgent   string                     `json:"user_agent,omitempty"`
		Form        *FormResponse              `json:"form,omitempty"`
		Integration map[string]json.RawMessage `json:"integration,omitempty"`
	}

	// TicketContentEdited changed the title, the description or both; a nil
	// field was left as it was.
	TicketContentEdited struct {
		domain.Change
		Title       *string `json:"title,omitempty"`
		Description *string `json:"description,omitempty"`
	}

	// TicketStatusChanged moved the ticket to another status. Kind is the
	// new status's kind at the time; FeedbackRequested is set when the
	// ticket entered a resolved status, which makes feedback pending.
	TicketStatusChanged struct {
		domain.Change
		From              string     `json:"from"`
		To                string     `json:"to"`
		Kind              StatusKind `json:"kind"`
		FeedbackRequested bool       `json:"feedback_requested,omitempty"`
	}

	// TicketReopened moved a closed ticket back to a status of kind open or
	// pending.
	TicketReopened struct {
		domain.Change
		From string     `json:"from"`
		To   string     `json:"to"`
		Kind StatusKind `json:"kind"`
	}

	// TicketPriorityChanged changed the priority.
	TicketPriorityChanged struct {
		domain.Change
		From Priority `json:"from"`
		To   Priority `json:"to"`
	}

	// TicketAssigned gave the ticket to Assignee, taking it from Previous
	// if it had one.
	TicketAssigned struct {
		domain.Change
		Assignee domain.Actor  `json:"assignee"`
		Previous *domain.Actor `json:"previous,omitempty"`
	}

	// TicketUnassigned took the ticket from Previous.
	TicketUnassigned struct {
		domain.Change
		Previous domain.Actor `json:"previous"`
	}

	// TicketCategorized set the category and sub-category (either may be
	// empty: uncategorized).
	TicketCategorized struct {
		domain.Change
		Category        string `json:"category,omitempty"`
		SubCategory     string `json:"sub_category,omitempty"`
		FromCategory    string `json:"from_category,omitempty"`
		FromSubCategory string `json:"from_sub_category,omitempty"`
	}

	// TicketTagged added Tags, none of which the ticket had.
	TicketTagged struct {
		domain.Change
		Tags []string `json:"tags"`
	}

	// TicketUntagged removed Tags, all of which the ticket had.
	TicketUntagged struct {
		domain.Change
		Tags []string `json:"tags"`
	}

	// CustomFieldsMerged merged Patch into the custom fields: each key is
	// set to its value, or deleted when the value is JSON null. Entries that
	// changed nothing are not in Patch.
	CustomFieldsMerged struct {
		domain.Change
		Patch map[string]json.RawMessage `json:"patch"`
	}

	// HistoryLogged added an entry to the ticket's history (Fynd
	// TicketHistory). A rating entry also ends pending feedback.
	HistoryLogged struct {
		domain.Change
		EntryID    string          `json:"entry_id"`
		Type       HistoryType     `json:"type"`
		Value      json.RawMessage `json:"value"`
		Visibility Visibility      `json:"visibility"`
	}

	// ActivityAdded recorded a portal activity (LeadSquared).
	ActivityAdded struct {
		domain.Change
		ActivityID string    `json:"activity_id"`
		Text       string    `json:"text"`
		Direction  Direction `json:"direction"`
	}

	// FeedbackSubmitted recorded the customer's rating; feedback is no
	// longer pending.
	FeedbackSubmitted struct {
		domain.Change
		Rating  int    `json:"rating"`
		Comment string `json:"comment,omitempty"`
	}

	// AttachmentAdded attached an asset or an uploaded file.
	AttachmentAdded struct {
		domain.Change
		Attachment Attachment `json:"attachment"`
	}

	// ReferencesLinked set the non-empty fields of References.
	ReferencesLinked struct {
		domain.Change
		References References `json:"references"`
	}

	// CustomerLinked linked the ticket to the CRM customer CustomerID (its
	// readable Code at the time: PID-n, CID-n or LID-n), found by the
	// identity Via (nil when the customer was named outright, e.g. when an
	// un-merge gave the ticket back to the customer it came from).
	// Previous is the customer the ticket was linked to before, if any.
	CustomerLinked struct {
		domain.Change
		CustomerID string            `json:"customer_id"`
		Code       string            `json:"code,omitempty"`
		Via        *CustomerIdentity `json:"via,omitempty"`
		Previous   *CustomerRef      `json:"previous,omitempty"`
	}
)

// EventType returns "ticket.created".
func (TicketCreated) EventType() string { return "ticket.created" }

// EventType returns "ticket.content_edited".
func (TicketContentEdited) EventType() string { return "ticket.content_edited" }

// EventType returns "ticket.status_changed".
func (TicketStatusChanged) EventType() string { return "ticket.status_changed" }

// EventType returns "ticket.reopened".
func (TicketReopened) EventType() string { return "ticket.reopened" }

// EventType returns "ticket.priority_changed".
func (TicketPriorityChanged) EventType() string { return "ticket.priority_changed" }

// EventType returns "ticket.assigned".
func (TicketAssigned) EventType() string { return "ticket.assigned" }

// EventType returns "ticket.unassigned".
func (TicketUnassigned) EventType() string { return "ticket.unassigned" }

// EventType returns "ticket.categorized".
func (TicketCategorized) EventType() string { return "ticket.categorized" }

// EventType returns "ticket.tagged".
func (TicketTagged) EventType() string { return "ticket.tagged" }

// EventType returns "ticket.untagged".
func (TicketUntagged) EventType() string { return "ticket.untagged" }

// EventType returns "ticket.custom_fields_merged".
func (CustomFieldsMerged) EventType() string { return "ticket.custom_fields_merged" }

// EventType returns "ticket.history_logged".
func (HistoryLogged) EventType() string { return "ticket.history_logged" }

// EventType returns "ticket.activity_added".
func (ActivityAdded) EventType() string { return "ticket.activity_added" }

// EventType returns "ticket.feedback_submitted".
func (FeedbackSubmitted) EventType() string { return "ticket.feedback_submitted" }

// EventType returns "ticket.attachment_added".
func (AttachmentAdded) EventType() string { return "ticket.attachment_added" }

// EventType returns "ticket.references_linked".
func (ReferencesLinked) EventType() string { return "ticket.references_linked" }

// EventType returns "ticket.customer_linked".
func (CustomerLinked) EventType() string { return "ticket.customer_linked" }
