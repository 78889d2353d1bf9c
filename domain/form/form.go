package form

import (
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of forms; the stream id is the form's slug,
// unique within its tenant because streams are. It is persisted.
const StreamType = "form"

// Form is the custom form aggregate. Its methods check a command against
// the form's state and record events; they never read the clock or do I/O.
// A Form is not safe for concurrent use: load, decide, append, discard.
type Form struct {
	id, slug             string
	def                  Definition
	disabled             bool
	createdBy            domain.Actor
	createdAt, updatedAt time.Time
	domain.Root
}

// Rehydrate rebuilds a Form from its stored history at version. Only stores
// and their callers use it. An empty history gives a form that does not
// exist: every command on it returns ErrNotFound.
func Rehydrate(history []domain.Event, version int64) *Form {
	f := &Form{Root: domain.LoadedAt(version)}
	for _, e := range history {
		f.apply(e)
	}
	return f
}

// Exists reports whether the form has been created.
func (f *Form) Exists() bool { return f.slug != "" }

// Slug returns the form's slug (its stream id).
func (f *Form) Slug() string { return f.slug }

// Snapshot is a read-only copy of a form's state: what command responses
// and read models show, and what submissions are checked against. Its
// Definition members appear at the top level of its JSON.
type Snapshot struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Definition
	// Enabled is false once the form is disabled; it then takes no
	// submissions.
	Enabled   bool         `json:"enabled"`
	CreatedBy domain.Actor `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Exists reports whether s is the snapshot of a form that has been created.
func (s Snapshot) Exists() bool { return s.Slug != "" }

// Snapshot returns a copy of the form's current state, pending events
// included.
func (f *Form) Snapshot() Snapshot {
	return Snapshot{
		ID: f.id, Slug: f.slug,
		Definition: f.def.clone(),
		Enabled:    f.Exists() && !f.disabled,
		CreatedBy:  f.createdBy,
		CreatedAt:  f.createdAt,
		UpdatedAt:  f.updatedAt,
		Version:    f.Current(),
	}
}

// Evolve returns the snapshot s after event e, applying e exactly as the
// aggregate does. Read models keep a snapshot per form and evolve it one
// event at a time instead of replaying the form's history. A zero s is a
// form that does not exist yet (e should then be FormCreated).
func Evolve(s Snapshot, e domain.Event) Snapshot {
	f := &Form{
		id: s.ID, slug: s.Slug,
		def:       s.Definition.clone(),
		disabled:  s.Exists() && !s.Enabled,
		createdBy: s.CreatedBy,
		createdAt: s.CreatedAt,
		updatedAt: s.UpdatedAt,
		Root:      domain.LoadedAt(s.Version + 1),
	}
	f.apply(e)
	return f.Snapshot()
}

func (f *Form) record(e domain.Event) { f.Record(e, f.apply) }

// apply evolves the state by one event. It never fails and never consults
// anything but the event.
func (f *Form) apply(e domain.Event) {
	if a, ok := e.(domain.Audited); ok {
		f.updatedAt = a.Audit().At
	}
	switch e := e.(type) {
	case FormCreated:
		f.id, f.slug = e.ID, e.Slug
		f.def = e.Definition.clone()
		f.disabled = false
		f.createdBy, f.createdAt = e.By, e.At
	case FormUpdated:
		f.def = e.Definition.clone()
	case FormDisabled:
		f.disabled = true
	case FormEnabled:
		f.disabled = false
	}
}
