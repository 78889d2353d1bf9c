package crm

import "github.com/eventdesk/eventdesk/domain"

// CRM configuration events. Each embeds domain.Change ("by", "source",
// "at" in JSON). Type strings and JSON names are persisted.
type (
	// ConfigSet replaced the default phone region and the deal category and
	// package lists (each whole, in order).
	ConfigSet struct {
		domain.Change
		Region         string   `json:"region"`
		DealCategories []string `json:"deal_categories"`
		Packages       []string `json:"packages"`
	}

	// CustomFieldsSet replaced every custom field definition.
	CustomFieldsSet struct {
		domain.Change
		Fields []FieldDef `json:"fields"`
	}
)

// EventType returns "crm.config_set".
func (ConfigSet) EventType() string { return "crm.config_set" }

// EventType returns "crm.custom_fields_set".
func (CustomFieldsSet) EventType() string { return "crm.custom_fields_set" }

// codec knows every event of the CRM configuration.
var codec = domain.NewCodec("crm", domain.EventKindOf[ConfigSet](), domain.EventKindOf[CustomFieldsSet]())

// Codec returns the codec of the CRM configuration's events.
func Codec() *domain.Codec { return codec }

// Encode returns the JSON object stored as e's data.
func Encode(e domain.Event) ([]byte, error) { return codec.Encode(e) }

// Decode turns stored data back into the event, upcasting older versions.
func Decode(eventType string, version int, data []byte) (domain.Event, error) {
	return codec.Decode(eventType, version, data)
}

// Errors of the CRM configuration and of custom values. Match them with
// errors.Is.
var (
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
	// ErrInvalidRegion: a phone region that is not a supported ISO 3166
	// alpha-2 code.
	ErrInvalidRegion = &domain.Error{Kind: domain.Invalid, Code: "invalid_region", Msg: "invalid phone region"}
	// ErrUnknownCustomField: a custom value under a name the tenant has not
	// defined for the entity.
	ErrUnknownCustomField = &domain.Error{Kind: domain.Invalid, Code: "unknown_custom_field", Msg: "unknown custom field"}
	// ErrInvalidCurrency: not an active ISO 4217 code.
	ErrInvalidCurrency = &domain.Error{Kind: domain.Invalid, Code: "invalid_currency", Msg: "invalid currency"}
)
