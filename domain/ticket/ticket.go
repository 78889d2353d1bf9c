package ticket

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// Stream names, shared by everyone who loads or appends these aggregates.
// They are persisted.
const (
	// StreamType is the stream type of tickets; the stream id is the
	// ticket's id.
	StreamType = "ticket"
	// ConfigStreamType and ConfigStreamID name a tenant's TenantConfig
	// stream (one per tenant).
	ConfigStreamType = "ticket_config"
	ConfigStreamID   = "default"
)

// Ticket is the ticket aggregate. Its methods check a command against the
// ticket's state and record events; they never read the clock or do I/O.
// A Ticket is not safe for concurrent use: load, decide, append, discard.
type Ticket struct {
	id, tenantID                string
	number                      int64
	title, description          string
	category, subCategory       string
	priority                    Priority
	status                      string
	statusKind                  StatusKind
	source                      domain.Source
	channel                     string
	tags                        []string
	custom                      map[string]json.RawMessage
	createdBy                   domain.Actor
	assignee                    *domain.Actor
	subscribers                 []string
	attachments                 []Attachment
	refs                        References
	customer                    *CustomerRef
	userAgent                   string
	form                        *FormResponse
	integration                 map[string]json.RawMessage
	feedbackPending             bool
	feedback                    *Feedback
	usedIDs                     map[string]bool // history entry, activity and attachment ids
	historyCount, activityCount int
	createdAt, updatedAt        time.Time
	domain.Root
}

// Rehydrate rebuilds a Ticket from its stored history at version. Only
// stores and their callers use it. An empty history gives a ticket that
// does not exist: every command on it returns ErrNotFound.
func Rehydrate(history []domain.Event, version int64) *Ticket {
	t := &Ticket{Root: domain.LoadedAt(version)}
	for _, e := range history {
		t.apply(e)
	}
	return t
}

// Exists reports whether the ticket has been created.
func (t *Ticket) Exists() bool { return t.id != "" }

// ID returns the ticket's id.
func (t *Ticket) ID() string { return t.id }

// Snapshot is a read-only copy of a ticket's state, for building command
// responses. Read models have their own, richer views.
type Snapshot struct {
	ID          string                     `json:"id"`
	TenantID    string                     `json:"tenant_id"`
	Number      int64                      `json:"number"`
	Key         string                     `json:"key"`
	Title       string                     `json:"title"`
	Description string                     `json:"description"`
	Category    string                     `json:"category,omitempty"`
	SubCategory string                     `json:"sub_category,omitempty"`
	Priority    Priority                   `json:"priority"`
	Status      string                     `json:"status"`
	StatusKind  StatusKind                 `json:"status_kind"`
	Source      domain.Source              `json:"source"`
	Channel     string                     `json:"channel,omitempty"`
	Tags        []string                   `json:"tags"`
	Custom      map[string]json.RawMessage `json:"custom"`
	CreatedBy   domain.Actor               `json:"created_by"`
	Assignee    *domain.Actor              `json:"assignee"`
	Subscribers []string                   `json:"subscribers"`
	Attachments []Attachment               `json:"attachments"`
	References  References                 `json:"references"`
	// Customer is the CRM customer the ticket is linked to, if any.
	Customer          *CustomerRef               `json:"customer,omitempty"`
	UserAgent         string                     `json:"user_agent,omitempty"`
	Form              *FormResponse              `json:"form,omitempty"`
	Integration       map[string]json.RawMessage `json:"integration"`
	IsFeedbackPending bool                       `json:"is_feedback_pending"`
	Feedback          *Feedback                  `json:"feedback,omitempty"`
	HistoryCount      int                        `json:"history_count"`
	ActivityCount     int                        `json:"activity_count"`
	CreatedAt         time.Time                  `json:"created_at"`
	UpdatedAt         time.Time                  `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Snapshot returns a copy of the ticket's current state, pending events
// included. Slices and maps are never nil.
func (t *Ticket) Snapshot() Snapshot {
	s := Snapshot{
		ID: t.id, TenantID: t.tenantID, Number: t.number, Key: Key(t.number),
		Title: t.title, Description: t.description,
		Category: t.category, SubCategory: t.subCategory,
		Priority: t.priority, Status: t.status, StatusKind: t.statusKind,
		Source: t.source, Channel: t.channel,
		Tags:        append([]string{}, t.tags...),
		Custom:      cloneMap(t.custom),
		CreatedBy:   t.createdBy,
		Subscribers: append([]string{}, t.subscribers...),
		Attachments: make([]Attachment, 0, len(t.attachments)),
		References:  t.refs,
		UserAgent:   t.userAgent,
		Integration: cloneMap(t.integration),

		IsFeedbackPending: t.feedbackPending,
		HistoryCount:      t.historyCount,
		ActivityCount:     t.activityCount,
		CreatedAt:         t.createdAt,
		UpdatedAt:         t.updatedAt,
		Version:           t.Current(),
	}
	if t.assignee != nil {
		a := *t.assignee
		s.Assignee = &a
	}
	for _, a := range t.attachments {
		s.Attachments = append(s.Attachments, cloneAttachment(a))
	}
	if t.form != nil {
		f := *t.form
		f.Fields = slices.Clone(f.Fields)
		s.Form = &f
	}
	if t.feedback != nil {
		f := *t.feedback
		s.Feedback = &f
	}
	if t.customer != nil {
		c := *t.customer
		s.Customer = &c
	}
	return s
}

func (t *Ticket) record(e domain.Event) { t.Record(e, t.apply) }

// apply evolves the state by one event. It never fails and never consults
// anything but the event: configuration may have changed since.
func (t *Ticket) apply(e domain.Event) {
	if a, ok := e.(domain.Audited); ok {
		t.updatedAt = a.Audit().At
	}
	switch e := e.(type) {
	case TicketCreated:
		t.id, t.tenantID, t.number = e.ID, e.TenantID, e.Number
		t.title, t.description = e.Title, e.Description
		t.category, t.subCategory = e.Category, e.SubCategory
		t.priority, t.status, t.statusKind = e.Priority, e.Status, e.StatusKind
		t.source, t.channel = e.Source, e.Channel
		t.tags = slices.Clone(e.Tags)
		t.custom = cloneMap(e.Custom)
		t.createdBy = e.CreatedBy
		if e.Assignee != nil {
			a := *e.Assignee
			t.assignee = &a
		}
		t.subscribers = slices.Clone(e.Subscribers)
		t.usedIDs = map[string]bool{}
		for _, a := range e.Attachments {
			t.addAttachment(a)
		}
		t.refs = e.References
		t.userAgent = e.UserAgent
		if e.Form != nil {
			f := *e.Form
			f.Fields = slices.Clone(f.Fields)
			t.form = &f
		}
		t.integration = cloneMap(e.Integration)
		t.createdAt = e.At
	case TicketContentEdited:
		if e.Title != nil {
			t.title = *e.Title
		}
		if e.Description != nil {
			t.description = *e.Description
		}
	case TicketStatusChanged:
		t.status, t.statusKind = e.To, e.Kind
		if e.FeedbackRequested {
			t.feedbackPending = true
		}
	case TicketReopened:
		t.status, t.statusKind = e.To, e.Kind
	case TicketPriorityChanged:
		t.priority = e.To
	case TicketAssigned:
		a := e.Assignee
		t.assignee = &a
	case TicketUnassigned:
		t.assignee = nil
	case TicketCategorized:
		t.category, t.subCategory = e.Category, e.SubCategory
	case TicketTagged:
		t.tags = append(t.tags, e.Tags...)
	case TicketUntagged:
		t.tags = slices.DeleteFunc(t.tags, func(tag string) bool { return slices.Contains(e.Tags, tag) })
	case CustomFieldsMerged:
		if t.custom == nil {
			t.custom = map[string]json.RawMessage{}
		}
		for k, v := range e.Patch {
			if isNull(v) {
				delete(t.custom, k)
			} else {
				t.custom[k] = v
			}
		}
	case HistoryLogged:
		t.useID(e.EntryID)
		t.historyCount++
		if e.Type == HistoryRating {
			t.feedbackPending = false
		}
	case ActivityAdded:
		t.useID(e.ActivityID)
		t.activityCount++
	case FeedbackSubmitted:
		t.feedbackPending = false
		t.feedback = &Feedback{Rating: e.Rating, Comment: e.Comment}
	case AttachmentAdded:
		t.addAttachment(e.Attachment)
	case ReferencesLinked:
		t.refs = mergeRefs(t.refs, e.References)
	case CustomerLinked:
		t.customer = &CustomerRef{ID: e.CustomerID, Code: e.Code}
	}
}

func (t *Ticket) addAttachment(a Attachment) {
	t.attachments = append(t.attachments, cloneAttachment(a))
	if a.File != nil {
		t.useID(a.File.ID)
	}
}

func (t *Ticket) useID(id string) {
	if t.usedIDs == nil {
		t.usedIDs = map[string]bool{}
	}
	t.usedIDs[id] = true
}

func cloneAttachment(a Attachment) Attachment {
	if a.File != nil {
		f := *a.File
		a.File = &f
	}
	return a
}

func cloneMap(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	maps.Copy(out, m)
	return out
}

// mergeRefs returns cur with every non-empty field of add.
func mergeRefs(cur, add References) References {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cur.LeadID, add.LeadID)
	set(&cur.CustomerID, add.CustomerID)
	set(&cur.ContactName, add.ContactName)
	set(&cur.ContactEmail, add.ContactEmail)
	set(&cur.ContactPhone, add.ContactPhone)
	set(&cur.ClientTicketID, add.ClientTicketID)
	set(&cur.SupportTicketID, add.SupportTicketID)
	set(&cur.UserID, add.UserID)
	set(&cur.DeviceID, add.DeviceID)
	return cur
}
