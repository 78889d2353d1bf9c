package form

import "github.com/eventdesk/eventdesk/domain"

// Form events. Each embeds domain.Change (who, through which source, when:
// "by", "source", "at" in JSON). FormCreated and FormUpdated embed the
// whole Definition, whose members appear at the top level of their JSON.
// Type strings (EventType) and JSON names are persisted and must never
// change meaning.
type (
	// FormCreated created the form, enabled. Definition holds the resolved
	// defaults.
	FormCreated struct {
		domain.Change
		ID   string `json:"id"`
		Slug string `json:"slug"`
		Definition
	}

	// FormUpdated replaced the form's Definition.
	FormUpdated struct {
		domain.Change
		Definition
	}

	// FormDisabled stopped the form from taking submissions.
	FormDisabled struct {
		domain.Change
	}

	// FormEnabled let a disabled form take submissions again.
	FormEnabled struct {
		domain.Change
	}
)

// EventType returns "form.created".
func (FormCreated) EventType() string { return "form.created" }

// EventType returns "form.updated".
func (FormUpdated) EventType() string { return "form.updated" }

// EventType returns "form.disabled".
func (FormDisabled) EventType() string { return "form.disabled" }

// EventType returns "form.enabled".
func (FormEnabled) EventType() string { return "form.enabled" }
