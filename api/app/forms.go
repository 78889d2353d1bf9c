package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

var formKind = kind[*form.Form]{encode: form.Encode, decode: form.Decode, rehydrate: form.Rehydrate}

// formIndex is a tenant's list of form slugs: one form.FormIndexed per
// created form, so listing forms needs no scan of the whole log.
func formIndex(tenant string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: form.IndexStreamType, ID: form.IndexStreamID}
}

// Forms runs custom-form commands and submissions.
type Forms struct {
	store   eventstore.Store
	forms   *repository[*form.Form]
	tickets *Tickets
	now     func() time.Time
}

// NewForms returns the form service.
func NewForms(store eventstore.Store, tickets *Tickets, now func() time.Time) *Forms {
	if now == nil {
		now = time.Now
	}
	return &Forms{store: store, forms: newRepository(formKind, store), tickets: tickets, now: now}
}

func formStream(tenant, slug string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: form.StreamType, ID: slug}
}

// Create makes a form; a taken slug is form.ErrAlreadyExists. The form's
// stream and the tenant's form index are written in one atomic append
// (eventstore.Store.AppendStreams), so a form is listed the moment it
// exists, and never without existing.
func (s *Forms) Create(ctx context.Context, tenant, slug string, d form.Definition, m Meta) (form.Snapshot, eventstore.Position, error) {
	cfg, _, err := s.tickets.Config(ctx, tenant)
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, err
	}
	f, err := form.New(form.CreateForm{By: m.By, Source: m.Source, ID: m.derivedID("form"), Slug: slug, Definition: d}, cfg, s.now())
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, err
	}
	data, err := encode(f.Pending(), m, form.Encode)
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, err
	}
	entry, err := encode([]domain.Event{form.FormIndexed{Slug: slug}}, m, form.IndexCodec().Encode)
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, fmt.Errorf("index form %s: %w", slug, err)
	}
	entry[0].ID = m.eventID(len(data))
	stream := formStream(tenant, slug)
	crashPoint(ctx, StepDecided)
	res, err := s.store.AppendStreams(ctx, []eventstore.StreamAppend{
		{Stream: stream, Expected: eventstore.NoStream, Events: data},
		{Stream: formIndex(tenant), Expected: eventstore.Any, Events: entry},
	})
	if errors.Is(err, eventstore.ErrVersionConflict) {
		// Perhaps an earlier attempt of this very request created it.
		h, rerr := s.forms.read(ctx, stream)
		if rerr != nil {
			return form.Snapshot{}, eventstore.Position{}, rerr
		}
		if at, ok := h.landed(m); ok {
			o := s.forms.replay(h, at)
			return o.agg.Snapshot(), o.pos, nil
		}
		return form.Snapshot{}, eventstore.Position{}, form.ErrAlreadyExists.Withf("a form with slug %q already exists", slug)
	}
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, fmt.Errorf("create form %s: %w", slug, err)
	}
	if res[0].Duplicate {
		f2, err := s.Get(ctx, tenant, slug)
		return f2, res[0].Last(), err
	}
	crashPoint(ctx, StepAppended)
	return f.Snapshot(), res[0].Last(), nil
}

// Update replaces a form's definition (PUT semantics).
func (s *Forms) Update(ctx context.Context, tenant, slug string, d form.Definition, m Meta) (form.Snapshot, eventstore.Position, error) {
	cfg, _, err := s.tickets.Config(ctx, tenant)
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, err
	}
	o, err := s.forms.run(ctx, formStream(tenant, slug), s.now, m, func(f *form.Form, at time.Time) error {
		return f.Update(form.UpdateForm{By: m.By, Source: m.Source, Definition: d}, cfg, at)
	})
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// Get returns a form; an unknown slug is form.ErrNotFound.
func (s *Forms) Get(ctx context.Context, tenant, slug string) (form.Snapshot, error) {
	if !form.ValidSlug(slug) {
		return form.Snapshot{}, form.ErrNotFound
	}
	f, _, err := s.forms.load(ctx, formStream(tenant, slug))
	if err != nil {
		return form.Snapshot{}, err
	}
	if !f.Exists() {
		return form.Snapshot{}, form.ErrNotFound
	}
	return f.Snapshot(), nil
}

// List returns every form of the tenant, oldest first.
func (s *Forms) List(ctx context.Context, tenant string) ([]form.Snapshot, error) {
	evs, err := readStream(ctx, s.store, formIndex(tenant))
	if err != nil {
		return nil, err
	}
	out := make([]form.Snapshot, 0, len(evs))
	for _, e := range evs {
		de, err := form.IndexCodec().Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return nil, fmt.Errorf("form index event %s: %w", e.ID, err)
		}
		entry, ok := de.(form.FormIndexed)
		if !ok {
			continue // the index has no other events yet
		}
		f, err := s.Get(ctx, tenant, entry.Slug)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Submission is a form submission: the answers and any assets the client
// attached (Fynd's TicketAsset list).
type Submission struct {
	Responses   []form.Response
	Attachments []ticket.Attachment
	UserAgent   string
	ResponseID  string
}

// Submit validates a submission against the form and, when it is valid,
// opens a ticket (source form) holding the answers.
func (s *Forms) Submit(ctx context.Context, tenant, slug string, sub Submission, m Meta) (form.Snapshot, Result, error) {
	f, err := s.Get(ctx, tenant, slug)
	if err != nil {
		return form.Snapshot{}, Result{}, err
	}
	fields, err := f.ValidateSubmission(sub.Responses)
	if err != nil {
		return form.Snapshot{}, Result{}, err
	}
	c := f.CreateTicket(fields)
	c.Attachments = append(c.Attachments, sub.Attachments...)
	c.UserAgent = sub.UserAgent
	if c.Form != nil {
		c.Form.ResponseID = sub.ResponseID
	}
	m.Source = domain.SourceForm
	res, err := s.tickets.Create(ctx, tenant, c, m)
	return f, res, err
}

// Disable stops a form's submissions; disabling a disabled form records
// nothing.
func (s *Forms) Disable(ctx context.Context, tenant, slug string, m Meta) (form.Snapshot, eventstore.Position, error) {
	return s.change(ctx, tenant, slug, m, func(f *form.Form, at time.Time) error {
		return f.Disable(form.Disable{By: m.By, Source: m.Source}, at)
	})
}

// Enable lets a disabled form take submissions again.
func (s *Forms) Enable(ctx context.Context, tenant, slug string, m Meta) (form.Snapshot, eventstore.Position, error) {
	return s.change(ctx, tenant, slug, m, func(f *form.Form, at time.Time) error {
		return f.Enable(form.Enable{By: m.By, Source: m.Source}, at)
	})
}

// change runs decide on form slug, which must exist.
func (s *Forms) change(ctx context.Context, tenant, slug string, m Meta, decide func(*form.Form, time.Time) error) (form.Snapshot, eventstore.Position, error) {
	if !form.ValidSlug(slug) {
		return form.Snapshot{}, eventstore.Position{}, form.ErrNotFound
	}
	o, err := s.forms.run(ctx, formStream(tenant, slug), s.now, m, func(f *form.Form, at time.Time) error {
		if !f.Exists() {
			return form.ErrNotFound
		}
		return decide(f, at)
	})
	if err != nil {
		return form.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}
