package form

import (
	"reflect"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// Commands. Every command names who issues it (By) and through which
// channel (Source); both are recorded in the resulting event, with the time
// the caller passes in. On a form that does not exist they return
// ErrNotFound; input is checked before state; a command that would change
// nothing records nothing.
type (
	// CreateForm creates a form. ID (a lower-case UUID) is chosen by the
	// caller; Slug (SlugPattern) becomes the stream id.
	CreateForm struct {
		By     domain.Actor
		Source domain.Source
		ID     string
		Slug   string
		Definition
	}

	// UpdateForm replaces the form's Definition (PUT semantics: fields left
	// empty get their defaults, not their previous values).
	UpdateForm struct {
		By     domain.Actor
		Source domain.Source
		Definition
	}

	// Disable stops the form from taking submissions; it stays readable and
	// editable.
	Disable struct {
		By     domain.Actor
		Source domain.Source
	}

	// Enable lets a disabled form take submissions again.
	Enable struct {
		By     domain.Actor
		Source domain.Source
	}
)

// New decides CreateForm against the tenant's ticket configuration (for
// the category) and returns the new form, whose Pending holds one
// FormCreated. It checks every field and returns all problems joined (see
// domain.Errors). Whether the slug is free is for the store to say: append
// at eventstore.NoStream and report a conflict as ErrAlreadyExists.
func New(c CreateForm, cfg ticket.Config, at time.Time) (*Form, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id %q is not a lower-case UUID", c.ID))
	}
	if !ValidSlug(c.Slug) {
		errs = append(errs, ErrInvalidSlug.At("slug").Withf("slug %q must match %s", c.Slug, SlugPattern))
	}
	def, err := normDefinition(c.Definition, cfg)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	f := &Form{}
	f.record(FormCreated{Change: ch, ID: c.ID, Slug: c.Slug, Definition: def})
	return f, nil
}

// start runs the checks every command shares: the form exists and the
// actor, source and time are valid.
func (f *Form) start(by domain.Actor, source domain.Source, at time.Time) (domain.Change, error) {
	if !f.Exists() {
		return domain.Change{}, ErrNotFound
	}
	return domain.NewChange(by, source, at)
}

// Update replaces the definition, checked like New's (all problems
// joined). A definition equal to the current one, once normalised, records
// nothing.
func (f *Form) Update(c UpdateForm, cfg ticket.Config, at time.Time) error {
	if !f.Exists() {
		return ErrNotFound
	}
	ch, chErr := domain.NewChange(c.By, c.Source, at)
	def, err := normDefinition(c.Definition, cfg)
	if err := domain.Join(chErr, err); err != nil {
		return err
	}
	if reflect.DeepEqual(def, f.def) {
		return nil
	}
	f.record(FormUpdated{Change: ch, Definition: def})
	return nil
}

// Disable stops submissions; disabling a disabled form records nothing.
func (f *Form) Disable(c Disable, at time.Time) error {
	ch, err := f.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if f.disabled {
		return nil
	}
	f.record(FormDisabled{Change: ch})
	return nil
}

// Enable allows submissions again; enabling an enabled form records
// nothing.
func (f *Form) Enable(c Enable, at time.Time) error {
	ch, err := f.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if !f.disabled {
		return nil
	}
	f.record(FormEnabled{Change: ch})
	return nil
}
