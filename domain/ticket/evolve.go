package ticket

import (
	"slices"

	"github.com/eventdesk/eventdesk/domain"
)

// Evolve returns the snapshot s after events evs, applying them exactly as
// the aggregate does. Read models keep a snapshot per ticket and evolve it
// by the new events instead of replaying the ticket's history; sharing
// apply guarantees they show what the aggregate holds. A zero s is a
// ticket that does not exist yet (evs should then start with
// TicketCreated).
func Evolve(s Snapshot, evs ...domain.Event) Snapshot {
	t := fromSnapshot(s)
	for _, e := range evs {
		t.apply(e)
	}
	t.Root = domain.LoadedAt(s.Version + int64(len(evs)))
	return t.Snapshot()
}

func fromSnapshot(s Snapshot) *Ticket {
	t := &Ticket{
		id: s.ID, tenantID: s.TenantID, number: s.Number,
		title: s.Title, description: s.Description,
		category: s.Category, subCategory: s.SubCategory,
		priority: s.Priority, status: s.Status, statusKind: s.StatusKind,
		source: s.Source, channel: s.Channel,
		tags:        slices.Clone(s.Tags),
		custom:      cloneMap(s.Custom),
		createdBy:   s.CreatedBy,
		subscribers: slices.Clone(s.Subscribers),
		refs:        s.References,
		userAgent:   s.UserAgent,
		integration: cloneMap(s.Integration),

		feedbackPending: s.IsFeedbackPending,
		historyCount:    s.HistoryCount,
		activityCount:   s.ActivityCount,
		createdAt:       s.CreatedAt,
		updatedAt:       s.UpdatedAt,
		Root:            domain.LoadedAt(s.Version),
	}
	if s.Assignee != nil {
		a := *s.Assignee
		t.assignee = &a
	}
	for _, a := range s.Attachments {
		t.attachments = append(t.attachments, cloneAttachment(a))
	}
	if s.Form != nil {
		f := *s.Form
		f.Fields = slices.Clone(f.Fields)
		t.form = &f
	}
	if s.Feedback != nil {
		f := *s.Feedback
		t.feedback = &f
	}
	if s.Customer != nil {
		c := *s.Customer
		t.customer = &c
	}
	return t
}
