package ticket

import "github.com/eventdesk/eventdesk/domain"

var (
	ticketKinds = []domain.EventKind{
		domain.EventKindOf[TicketCreated](), domain.EventKindOf[TicketContentEdited](), domain.EventKindOf[TicketStatusChanged](),
		domain.EventKindOf[TicketReopened](), domain.EventKindOf[TicketPriorityChanged](), domain.EventKindOf[TicketAssigned](),
		domain.EventKindOf[TicketUnassigned](), domain.EventKindOf[TicketCategorized](), domain.EventKindOf[TicketTagged](),
		domain.EventKindOf[TicketUntagged](), domain.EventKindOf[CustomFieldsMerged](), domain.EventKindOf[HistoryLogged](),
		domain.EventKindOf[ActivityAdded](), domain.EventKindOf[FeedbackSubmitted](), domain.EventKindOf[AttachmentAdded](),
		domain.EventKindOf[ReferencesLinked](), domain.EventKindOf[CustomerLinked](),
	}
	configKinds = []domain.EventKind{domain.EventKindOf[CategoriesSet](), domain.EventKindOf[StatusesSet](), domain.EventKindOf[PrioritiesSet]()}
	// codec knows the events of both aggregates of this package.
	codec = domain.NewCodec("ticket", append(ticketKinds, configKinds...)...)
)

func typesOf(kinds []domain.EventKind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Type
	}
	return out
}

// TicketEventTypes returns the type of every event a Ticket records, in
// documentation order.
func TicketEventTypes() []string { return typesOf(ticketKinds) }

// ConfigEventTypes returns the type of every event a TenantConfig records.
func ConfigEventTypes() []string { return typesOf(configKinds) }

// EventTypes returns every event type Decode knows: TicketEventTypes, then
// ConfigEventTypes.
func EventTypes() []string { return codec.Types() }

// Codec returns the codec of both aggregates' events. It is immutable;
// tests derive variants from it with With.
func Codec() *domain.Codec { return codec }

// Encode returns the JSON object stored as e's data, at the current schema
// version of its type (Codec().Version), which the append must store with
// it. Events of this package never fail to encode; the error is for
// foreign events.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns data stored as eventType at schema version version (0 means
// 1) back into the event (a value, e.g. TicketCreated), upcasting older
// versions first. Unknown JSON members are ignored so that older code can
// read events written by newer code; an unknown type, a version newer than
// this code knows or malformed data is an error.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}
