// Package ticket is the ticket domain: the Ticket aggregate and the
// tenant's ticket configuration (TenantConfig), both event-sourced, and the
// codec that stores their events as JSON objects.
//
// The model is the superset of the vendor APIs Eventdesk speaks (Fynd
// tickets and history, LeadSquared tickets and portal activities, the
// support-message API), so that each vendor surface is a thin translation.
//
// # Writing
//
// A command is a method taking a command struct and the time it happens:
//
//	history, version := load(ticket.StreamType, id)       // decoded with Decode
//	t := ticket.Rehydrate(history, version)
//	if err := t.ChangeStatus(ticket.ChangeStatus{By: me, Source: domain.SourceAPI, Status: "closed"}, cfg, now); err != nil {
//		return err // a *domain.Error; errors.Is(err, ticket.ErrAlreadyClosed)
//	}
//	appendAt(ticket.StreamType, id, t.Version(), t.Pending()) // encoded with Encode
//
// Methods decide and record events; apply never fails and reads nothing
// but the event. Commands that would change nothing record nothing.
//
// # Event types
//
// These strings are persisted; never rename one. All are at schema version
// 1; to change a shape, bump its version with an upcaster in codec.go (see
// "Event versions" in package domain).
//
//	ticket.created               TicketCreated
//	ticket.content_edited        TicketContentEdited
//	ticket.status_changed        TicketStatusChanged
//	ticket.reopened              TicketReopened
//	ticket.priority_changed      TicketPriorityChanged
//	ticket.assigned              TicketAssigned
//	ticket.unassigned            TicketUnassigned
//	ticket.categorized           TicketCategorized
//	ticket.tagged                TicketTagged
//	ticket.untagged              TicketUntagged
//	ticket.custom_fields_merged  CustomFieldsMerged
//	ticket.history_logged        HistoryLogged
//	ticket.activity_added        ActivityAdded
//	ticket.feedback_submitted    FeedbackSubmitted
//	ticket.attachment_added      AttachmentAdded
//	ticket.references_linked     ReferencesLinked
//	ticket.customer_linked       CustomerLinked
//	ticket_config.categories_set CategoriesSet
//	ticket_config.statuses_set   StatusesSet
//	ticket_config.priorities_set PrioritiesSet
//
// # Decisions
//
//   - Priority defaults to low. Status defaults to the tenant's first status
//     of kind open. An empty category means uncategorized.
//   - Statuses are tenant-configured, but rules depend only on a status's
//     kind (open, pending, resolved, closed), recorded in the event so that
//     later configuration changes cannot rewrite history. Entering a
//     resolved status requests feedback (is_feedback_pending); a rating
//     history entry or SubmitFeedback ends it. Only Reopen leaves closed.
//   - Tickets record category and status keys, not displays or colors:
//     read models render them with the current Config (Config.LookupStatus
//     for statuses since removed).
//   - Ids of tickets, history entries, activities and attachments are
//     lower-case UUIDs chosen by the caller, so a retried command is
//     recognisable; the readable number is allocated by the caller too and
//     rendered by Key.
//   - No-op commands succeed without an event rather than fail.
package ticket
