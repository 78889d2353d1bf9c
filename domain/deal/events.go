package deal

import (
	"encoding/json"

	"github.com/eventdesk/eventdesk/domain"
)

// Deal events. Each embeds domain.Change. Type strings and JSON names are
// persisted.
type (
	// DealCreated created a deal with its Details, normalised.
	DealCreated struct {
		domain.Change
		ID string `json:"id"`
		Details
	}

	// DealUpdated changed the fields it holds (nil: unchanged; an empty
	// string clears). Custom, when set, is the deal's whole custom values
	// after the change. Stage moves are StageChanged, never this.
	DealUpdated struct {
		domain.Change
		Name        *string                     `json:"name,omitempty"`
		Value       *string                     `json:"value,omitempty"`
		Currency    *string                     `json:"currency,omitempty"`
		Description *string                     `json:"description,omitempty"`
		CloseDate   *string                     `json:"close_date,omitempty"`
		Category    *string                     `json:"category,omitempty"`
		Package     *string                     `json:"package,omitempty"`
		Owners      *Owners                     `json:"owners,omitempty"`
		Customer    *string                     `json:"customer,omitempty"`
		Contacts    *[]string                   `json:"contacts,omitempty"`
		Custom      *map[string]json.RawMessage `json:"custom,omitempty"`
		Permit      *domain.Permit              `json:"permit,omitempty"`
		Owner       *string                     `json:"owner,omitempty"`
	}

	// StageChanged moved the deal from stage FromStage to ToStage of
	// Pipeline (from FromPipeline when it moved between pipelines). The
	// board and win rates are built from these.
	StageChanged struct {
		domain.Change
		Pipeline     string `json:"pipeline"`
		FromPipeline string `json:"from_pipeline,omitempty"`
		FromStage    string `json:"from_stage"`
		ToStage      string `json:"to_stage"`
	}

	// NoteAdded added a note to the deal's timeline. Its author is the
	// change's By; Owner is the agent that owns it for its Permit.
	NoteAdded struct {
		domain.Change
		NoteID  string        `json:"note_id"`
		Body    string        `json:"body"`
		Owner   string        `json:"owner,omitempty"`
		Permit  domain.Permit `json:"permit"`
		Tag     string        `json:"tag,omitempty"`
		Channel string        `json:"channel,omitempty"`
	}
)

// EventType returns "deal.created".
func (DealCreated) EventType() string { return "deal.created" }

// EventType returns "deal.updated".
func (DealUpdated) EventType() string { return "deal.updated" }

// EventType returns "deal.stage_changed".
func (StageChanged) EventType() string { return "deal.stage_changed" }

// EventType returns "deal.note_added".
func (NoteAdded) EventType() string { return "deal.note_added" }

var codec = domain.NewCodec("deal", domain.EventKindOf[DealCreated](), domain.EventKindOf[DealUpdated](),
	domain.EventKindOf[StageChanged](), domain.EventKindOf[NoteAdded]())

// Codec returns the codec of the events a Deal records.
func Codec() *domain.Codec { return codec }

// Encode returns the JSON object stored as e's data.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns stored data back into the event, upcasting older versions.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}

// Errors of deal commands. Match them with errors.Is.
var (
	// ErrNotFound: no such deal in the tenant (or one the viewer may not see).
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "deal_not_found", Msg: "deal not found"}
	// ErrAlreadyExists: the deal id is taken.
	ErrAlreadyExists = &domain.Error{Kind: domain.Conflict, Code: "deal_exists", Msg: "deal already exists"}
	// ErrExternalIDTaken: another deal of the tenant has the external id.
	ErrExternalIDTaken = &domain.Error{Kind: domain.Conflict, Code: "deal_external_id_taken", Msg: "a deal with this external id exists"}
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
	// ErrInvalidValue: a value that is not a decimal of at most 18 integer
	// and 6 fraction digits.
	ErrInvalidValue = &domain.Error{Kind: domain.Invalid, Code: "invalid_value", Msg: "invalid deal value"}
	// ErrUnknownStage: a stage the pipeline does not have.
	ErrUnknownStage = &domain.Error{Kind: domain.Invalid, Code: "unknown_stage", Msg: "unknown stage"}
)

// IndexStreamType and IndexStreamID name a tenant's deal index: one stream
// per tenant holding a DealIndexed per created deal, written in the
// creation's own atomic append.
const (
	IndexStreamType = "deal_index"
	IndexStreamID   = "deals"
)

// DealIndexed added a deal to its tenant's index. It is not Audited.
type DealIndexed struct {
	ID string `json:"id"`
}

// EventType returns "deal_index.added".
func (DealIndexed) EventType() string { return "deal_index.added" }

var indexCodec = domain.NewCodec("deal index", domain.EventKindOf[DealIndexed]())

// IndexCodec returns the codec of the deal index's events.
func IndexCodec() *domain.Codec { return indexCodec }
