package ticket

import (
	"encoding/json"
	"fmt"

	"github.com/eventdesk/eventdesk/domain"
)

// decoders maps every event type this package records to its decoder.
var decoders = map[string]func([]byte) (domain.Event, error){
	TicketCreated{}.EventType():         decode[TicketCreated],
	TicketContentEdited{}.EventType():   decode[TicketContentEdited],
	TicketStatusChanged{}.EventType():   decode[TicketStatusChanged],
	TicketReopened{}.EventType():        decode[TicketReopened],
	TicketPriorityChanged{}.EventType(): decode[TicketPriorityChanged],
	TicketAssigned{}.EventType():        decode[TicketAssigned],
	TicketUnassigned{}.EventType():      decode[TicketUnassigned],
	TicketCategorized{}.EventType():     decode[TicketCategorized],
	TicketTagged{}.EventType():          decode[TicketTagged],
	TicketUntagged{}.EventType():        decode[TicketUntagged],
	CustomFieldsMerged{}.EventType():    decode[CustomFieldsMerged],
	HistoryLogged{}.EventType():         decode[HistoryLogged],
	ActivityAdded{}.EventType():         decode[ActivityAdded],
	FeedbackSubmitted{}.EventType():     decode[FeedbackSubmitted],
	AttachmentAdded{}.EventType():       decode[AttachmentAdded],
	ReferencesLinked{}.EventType():      decode[ReferencesLinked],

	CategoriesSet{}.EventType(): decode[CategoriesSet],
	StatusesSet{}.EventType():   decode[StatusesSet],
	PrioritiesSet{}.EventType(): decode[PrioritiesSet],
}

// TicketEventTypes returns the type of every event a Ticket records, in
// documentation order.
func TicketEventTypes() []string {
	return []string{
		"ticket.created", "ticket.content_edited", "ticket.status_changed", "ticket.reopened",
		"ticket.priority_changed", "ticket.assigned", "ticket.unassigned", "ticket.categorized",
		"ticket.tagged", "ticket.untagged", "ticket.custom_fields_merged", "ticket.history_logged",
		"ticket.activity_added", "ticket.feedback_submitted", "ticket.attachment_added",
		"ticket.references_linked",
	}
}

// ConfigEventTypes returns the type of every event a TenantConfig records.
func ConfigEventTypes() []string {
	return []string{"ticket_config.categories_set", "ticket_config.statuses_set", "ticket_config.priorities_set"}
}

// EventTypes returns every event type Decode knows: TicketEventTypes, then
// ConfigEventTypes.
func EventTypes() []string { return append(TicketEventTypes(), ConfigEventTypes()...) }

// Encode returns the JSON object stored as e's data. Events of this
// package never fail to encode; the error is for foreign events.
func Encode(e domain.Event) ([]byte, error) {
	if _, ok := decoders[e.EventType()]; !ok {
		return nil, fmt.Errorf("ticket: encode %T: unknown event type %q", e, e.EventType())
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("ticket: encode %s: %w", e.EventType(), err)
	}
	return b, nil
}

// Decode turns stored data of the given event type back into the event
// (a value, e.g. TicketCreated). Unknown JSON members are ignored so that
// older code can read events written by newer code; an unknown type or
// malformed data is an error.
func Decode(eventType string, data []byte) (domain.Event, error) {
	d, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("ticket: decode: unknown event type %q", eventType)
	}
	e, err := d(data)
	if err != nil {
		return nil, fmt.Errorf("ticket: decode %s: %w", eventType, err)
	}
	return e, nil
}

func decode[E domain.Event](data []byte) (domain.Event, error) {
	var e E
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return e, nil
}
