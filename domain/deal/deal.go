// Package deal holds the Deal aggregate: a sale in progress with a
// customer, at a stage of one of the tenant's pipelines, with its notes.
//
// Commands are decided against a Context the caller loads: the tenant's
// CRM configuration (categories, packages, custom fields) and the pipeline
// the deal is (or moves) in. That owners, permit groups and customers
// exist in the tenant is the application layer's to check, as is the
// uniqueness of the external id (claimed as the event-store key
// ExternalKey of the deal's stream).
package deal

import (
	"encoding/json"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/pipeline"
)

// StreamType is the stream type of deals; the stream id is the deal's id.
// It is persisted.
const StreamType = "deal"

// Limits on deals, in characters or entries.
const (
	MaxNameLength        = 200
	MaxDescriptionLength = 65536
	MaxNoteLength        = 65536
	MaxExternalIDLength  = 200
	MaxTagLength         = 200
	MaxRefs              = 100 // owners of each kind, related contacts
)

// ExternalKey is the event-store key a deal's stream claims for its
// external id (seed 004's dealId).
func ExternalKey(externalID string) string { return "ext:" + externalID }

// Owners are the agents and groups that manage a deal (seed 004's
// owner_opportunity), by id.
type Owners struct {
	Agents []string `json:"agents"`
	Groups []string `json:"groups"`
}

// Details are a deal's fields. Their JSON form is stored in DealCreated.
type Details struct {
	// ExternalID is the deal's id in an outside system (seed 004's dealId);
	// set at creation only.
	ExternalID string `json:"external_id,omitempty"`
	Name       string `json:"name"`
	// Value is an exact decimal ("50000", "1234.50"); empty for none.
	Value       string `json:"value,omitempty"`
	Currency    string `json:"currency,omitempty"`
	Description string `json:"description,omitempty"`
	Pipeline    string `json:"pipeline"`
	Stage       string `json:"stage"`
	// CloseDate is "YYYY-MM-DD" or RFC 3339; empty for none.
	CloseDate string `json:"close_date,omitempty"`
	Category  string `json:"category,omitempty"`
	Package   string `json:"package,omitempty"`
	Owners    Owners `json:"owners"`
	// Customer is the id of the customer the deal is with (seed 004's
	// dealWith); Contacts are related customers' ids.
	Customer string                     `json:"customer,omitempty"`
	Contacts []string                   `json:"contacts"`
	Custom   map[string]json.RawMessage `json:"custom,omitempty"`
	Permit   domain.Permit              `json:"permit"`
	// Owner is the agent that owns the deal for its Permit.
	Owner string `json:"owner,omitempty"`
}

// Note is a note on a deal.
type Note struct {
	ID      string        `json:"id"`
	Body    string        `json:"body"`
	Author  domain.Actor  `json:"author"`
	Owner   string        `json:"owner,omitempty"`
	Permit  domain.Permit `json:"permit"`
	Tag     string        `json:"tag,omitempty"`
	Channel string        `json:"channel,omitempty"`
	At      time.Time     `json:"created_at"`
}

// Deal is the deal aggregate. Not safe for concurrent use.
type Deal struct {
	id                   string
	d                    Details
	notes                []Note
	createdAt, updatedAt time.Time
	domain.Root
}

// Rehydrate rebuilds a Deal from its stored history at version.
func Rehydrate(history []domain.Event, version int64) *Deal {
	d := &Deal{Root: domain.LoadedAt(version)}
	for _, e := range history {
		d.apply(e)
	}
	return d
}

// Exists reports whether the deal was created.
func (d *Deal) Exists() bool { return d.id != "" }

// Snapshot is a read-only copy of a deal (its notes are Notes).
type Snapshot struct {
	ID string `json:"id"`
	Details
	NoteCount int       `json:"note_count"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// Snapshot returns a copy of the deal's state.
func (d *Deal) Snapshot() Snapshot {
	return Snapshot{ID: d.id, Details: cloneDetails(d.d), NoteCount: len(d.notes), CreatedAt: d.createdAt,
		UpdatedAt: d.updatedAt, Version: d.Current()}
}

// Notes returns the deal's notes, oldest first.
func (d *Deal) Notes() []Note { return slices.Clone(d.notes) }

// Evolve returns s after e, applying e as the aggregate does (notes are
// only counted).
func Evolve(s Snapshot, e domain.Event) Snapshot {
	d := &Deal{id: s.ID, d: cloneDetails(s.Details), notes: make([]Note, s.NoteCount), createdAt: s.CreatedAt,
		updatedAt: s.UpdatedAt, Root: domain.LoadedAt(s.Version + 1)}
	d.apply(e)
	return d.Snapshot()
}

func cloneDetails(x Details) Details {
	x.Owners = Owners{Agents: append([]string{}, x.Owners.Agents...), Groups: append([]string{}, x.Owners.Groups...)}
	x.Contacts = append([]string{}, x.Contacts...)
	x.Custom = maps.Clone(x.Custom)
	x.Permit.Agents = slices.Clone(x.Permit.Agents)
	return x
}

// Context is what deal commands are decided against: the tenant's CRM
// configuration and the pipeline the deal is in, or moves to.
type Context struct {
	Config   crm.Snapshot
	Pipeline pipeline.Snapshot
}

// CreateDeal creates a deal. ID is a lower-case UUID chosen by the caller;
// Pipeline must be Context.Pipeline's id and Stage one of its stages.
type CreateDeal struct {
	By     domain.Actor
	Source domain.Source
	ID     string
	Details
}

// New decides CreateDeal.
func New(c CreateDeal, ctx Context, at time.Time) (*Deal, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id must be a lower-case UUID"))
	}
	x := c.Details
	x.ExternalID = strings.TrimSpace(x.ExternalID)
	if n := utf8.RuneCountInString(x.ExternalID); n > MaxExternalIDLength {
		errs = append(errs, ErrInvalidField.At("external_id").Withf("external_id must be at most %d characters", MaxExternalIDLength))
	}
	if x.Stage == "" {
		errs = append(errs, ErrInvalidField.At("stage").Withf("stage is required when a deal is created"))
	} else {
		errs = append(errs, checkStage(ctx, x.Pipeline, x.Stage))
	}
	x, err = normalize(x, ctx, nil, nil)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	d := &Deal{}
	d.record(DealCreated{Change: ch, ID: c.ID, Details: x})
	return d, nil
}

func checkStage(ctx Context, pipelineID, stage string) error {
	if pipelineID == "" || pipelineID != ctx.Pipeline.ID {
		return ErrInvalidField.At("pipeline").Withf("pipeline %q is not a pipeline of this tenant", pipelineID)
	}
	if _, ok := ctx.Pipeline.Stage(stage); !ok {
		return ErrUnknownStage.At("stage").Withf("stage %q is not a stage of pipeline %q", stage, ctx.Pipeline.Name)
	}
	return nil
}

// UpdateDeal is what Update changes; nil members are unchanged, empty
// strings clear. Custom values are merged: a null removes one.
type UpdateDeal struct {
	Name, Value, Currency, Description, CloseDate, Category, Package, Customer, Owner *string
	Owners                                                                            *Owners
	Contacts                                                                          *[]string
	Custom                                                                            map[string]json.RawMessage
	Permit                                                                            *domain.Permit
	// Pipeline and Stage move the deal (StageChanged); a new pipeline needs
	// a stage of it. Context.Pipeline is the pipeline moved to (or the
	// deal's own, when only the stage changes).
	Pipeline, Stage *string
}

// Update applies u in one decision: DealUpdated with the fields that
// changed, then StageChanged if the stage moved. Nothing changed records
// nothing.
func (d *Deal) Update(u UpdateDeal, ctx Context, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	if !d.Exists() {
		return ErrNotFound
	}
	x := cloneDetails(d.d)
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&x.Name, u.Name)
	set(&x.Value, u.Value)
	set(&x.Currency, u.Currency)
	set(&x.Description, u.Description)
	set(&x.CloseDate, u.CloseDate)
	set(&x.Category, u.Category)
	set(&x.Package, u.Package)
	set(&x.Customer, u.Customer)
	set(&x.Owner, u.Owner)
	if u.Owners != nil {
		x.Owners = *u.Owners
	}
	if u.Contacts != nil {
		x.Contacts = *u.Contacts
	}
	if u.Permit != nil {
		x.Permit = *u.Permit
	}
	var errs []error
	pipelineID, stage := d.d.Pipeline, d.d.Stage
	if u.Pipeline != nil && *u.Pipeline != d.d.Pipeline {
		pipelineID = *u.Pipeline
		if u.Stage == nil {
			errs = append(errs, ErrInvalidField.At("stage").Withf("stage is required when a deal moves to another pipeline"))
		}
	}
	if u.Stage != nil {
		stage = *u.Stage
	}
	moved := pipelineID != d.d.Pipeline || stage != d.d.Stage
	if moved {
		errs = append(errs, checkStage(ctx, pipelineID, stage))
	}
	custom := maps.Clone(u.Custom)
	if custom == nil {
		custom = map[string]json.RawMessage{} // nothing new to check
	} else { // merge: keep the current values it does not name
		merged := maps.Clone(d.d.Custom)
		if merged == nil {
			merged = map[string]json.RawMessage{}
		}
		for k, v := range custom {
			if strings.TrimSpace(string(v)) == "null" {
				delete(merged, k)
				delete(custom, k)
			}
		}
		for k := range custom {
			delete(merged, k)
		}
		x.Custom = merged
	}
	x, err = normalize(x, ctx, custom, &d.d)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return err
	}
	e := DealUpdated{Change: ch}
	changed := false
	diff := func(dst **string, old, nu string) {
		if old != nu {
			v := nu
			*dst, changed = &v, true
		}
	}
	diff(&e.Name, d.d.Name, x.Name)
	diff(&e.Value, d.d.Value, x.Value)
	diff(&e.Currency, d.d.Currency, x.Currency)
	diff(&e.Description, d.d.Description, x.Description)
	diff(&e.CloseDate, d.d.CloseDate, x.CloseDate)
	diff(&e.Category, d.d.Category, x.Category)
	diff(&e.Package, d.d.Package, x.Package)
	diff(&e.Customer, d.d.Customer, x.Customer)
	diff(&e.Owner, d.d.Owner, x.Owner)
	if !slices.Equal(x.Owners.Agents, d.d.Owners.Agents) || !slices.Equal(x.Owners.Groups, d.d.Owners.Groups) {
		o := x.Owners
		e.Owners, changed = &o, true
	}
	if !slices.Equal(x.Contacts, d.d.Contacts) {
		c := x.Contacts
		e.Contacts, changed = &c, true
	}
	if !sameCustom(x.Custom, d.d.Custom) {
		c := x.Custom
		if c == nil {
			c = map[string]json.RawMessage{}
		}
		e.Custom, changed = &c, true
	}
	if x.Permit.Kind != d.d.Permit.Kind || x.Permit.Group != d.d.Permit.Group || !slices.Equal(x.Permit.Agents, d.d.Permit.Agents) {
		p := x.Permit
		e.Permit, changed = &p, true
	}
	if changed {
		d.record(e)
	}
	if moved {
		sc := StageChanged{Change: ch, Pipeline: pipelineID, FromStage: d.d.Stage, ToStage: stage}
		if pipelineID != d.d.Pipeline {
			sc.FromPipeline = d.d.Pipeline
		}
		d.record(sc)
	}
	return nil
}

func sameCustom(a, b map[string]json.RawMessage) bool {
	return maps.EqualFunc(a, b, func(x, y json.RawMessage) bool { return string(x) == string(y) })
}

// AddNote is a note to add to a deal. ID is a lower-case UUID chosen by
// the caller.
type AddNote struct {
	ID      string
	Body    string
	Owner   string
	Permit  domain.Permit
	Tag     string
	Channel string
}

// AddNote adds a note: a body of 1..MaxNoteLength characters.
func (d *Deal) AddNote(n AddNote, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	errs := []error{err}
	if !domain.ValidUUID(n.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id must be a lower-case UUID"))
	}
	if c := utf8.RuneCountInString(n.Body); strings.TrimSpace(n.Body) == "" || c > MaxNoteLength || !utf8.ValidString(n.Body) {
		errs = append(errs, ErrInvalidField.At("body").Withf("body must be 1..%d characters", MaxNoteLength))
	}
	if n.Owner != "" && !domain.ValidUUID(n.Owner) {
		errs = append(errs, ErrInvalidField.At("owner").Withf("owner must be an agent id"))
	}
	n.Permit, err = n.Permit.Normalize("permit")
	errs = append(errs, err)
	n.Tag, n.Channel = strings.TrimSpace(n.Tag), strings.TrimSpace(n.Channel)
	for f, v := range map[string]string{"tag": n.Tag, "channel": n.Channel} {
		if utf8.RuneCountInString(v) > MaxTagLength {
			errs = append(errs, ErrInvalidField.At(f).Withf("%s must be at most %d characters", f, MaxTagLength))
		}
	}
	if err := domain.Join(errs...); err != nil {
		return err
	}
	if !d.Exists() {
		return ErrNotFound
	}
	for _, x := range d.notes {
		if x.ID == n.ID {
			return nil // the same note again: recorded once
		}
	}
	d.record(NoteAdded{Change: ch, NoteID: n.ID, Body: n.Body, Owner: n.Owner, Permit: n.Permit, Tag: n.Tag, Channel: n.Channel})
	return nil
}

func (d *Deal) record(e domain.Event) { d.Record(e, d.apply) }

func (d *Deal) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		d.updatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case DealCreated:
		d.id, d.d, d.createdAt = e.ID, cloneDetails(e.Details), e.At
	case DealUpdated:
		pick := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		pick(&d.d.Name, e.Name)
		pick(&d.d.Value, e.Value)
		pick(&d.d.Currency, e.Currency)
		pick(&d.d.Description, e.Description)
		pick(&d.d.CloseDate, e.CloseDate)
		pick(&d.d.Category, e.Category)
		pick(&d.d.Package, e.Package)
		pick(&d.d.Customer, e.Customer)
		pick(&d.d.Owner, e.Owner)
		if e.Owners != nil {
			d.d.Owners = cloneDetails(Details{Owners: *e.Owners}).Owners
		}
		if e.Contacts != nil {
			d.d.Contacts = append([]string{}, *e.Contacts...)
		}
		if e.Custom != nil {
			d.d.Custom = maps.Clone(*e.Custom)
			if len(d.d.Custom) == 0 {
				d.d.Custom = nil
			}
		}
		if e.Permit != nil {
			d.d.Permit = *e.Permit
			d.d.Permit.Agents = slices.Clone(e.Permit.Agents)
		}
	case StageChanged:
		d.d.Pipeline, d.d.Stage = e.Pipeline, e.ToStage
	case NoteAdded:
		d.notes = append(d.notes, Note{ID: e.NoteID, Body: e.Body, Author: e.By, Owner: e.Owner,
			Permit: e.Permit, Tag: e.Tag, Channel: e.Channel, At: e.At})
	}
}

// normalize checks x (all but the stage) against ctx and returns it
// normalised. newCustom, if not nil, are custom values to check and add to
// x.Custom (already checked ones); on create x.Custom itself is checked.
// prior, on update, is the deal before: a category or package it already
// had passes even if the tenant's lists no longer have it.
func normalize(x Details, ctx Context, newCustom map[string]json.RawMessage, prior *Details) (Details, error) {
	var errs []error
	x.Name = strings.TrimSpace(x.Name)
	if n := utf8.RuneCountInString(x.Name); n == 0 || n > MaxNameLength || !utf8.ValidString(x.Name) {
		errs = append(errs, ErrInvalidField.At("name").Withf("name must be 1..%d characters", MaxNameLength))
	}
	if x.Value != "" {
		v, err := ParseValue(x.Value)
		errs = append(errs, err)
		x.Value = v
	}
	if x.Currency != "" {
		c, ok := crm.Currency(x.Currency)
		if !ok {
			errs = append(errs, crm.ErrInvalidCurrency.At("currency").Withf("currency %q is not an active ISO 4217 code", x.Currency))
		}
		x.Currency = c
	} else if x.Value != "" {
		errs = append(errs, ErrInvalidField.At("currency").Withf("currency is required when the deal has a value"))
	}
	if utf8.RuneCountInString(x.Description) > MaxDescriptionLength || !utf8.ValidString(x.Description) {
		errs = append(errs, ErrInvalidField.At("description").Withf("description must be at most %d characters", MaxDescriptionLength))
	}
	if x.CloseDate = strings.TrimSpace(x.CloseDate); x.CloseDate != "" {
		day, err := crm.NormalizeDate(x.CloseDate)
		if err != nil {
			errs = append(errs, ErrInvalidField.At("close_date").Withf("close_date %q is not a date (YYYY-MM-DD, ISO 8601, epoch milliseconds or JavaScript's Date.toString())", x.CloseDate))
		}
		x.CloseDate = day
	}
	if prior == nil || x.Category != prior.Category {
		x.Category, errs = listed(x.Category, "category", ctx.Config.DealCategories, errs)
	}
	if prior == nil || x.Package != prior.Package {
		x.Package, errs = listed(x.Package, "package", ctx.Config.Packages, errs)
	}
	var err error
	x.Owners.Agents, err = ids("owners.agents", x.Owners.Agents)
	errs = append(errs, err)
	x.Owners.Groups, err = ids("owners.groups", x.Owners.Groups)
	errs = append(errs, err)
	x.Contacts, err = ids("contacts", x.Contacts)
	errs = append(errs, err)
	if x.Customer = strings.TrimSpace(x.Customer); x.Customer != "" && !domain.ValidUUID(x.Customer) {
		errs = append(errs, ErrInvalidField.At("customer").Withf("customer must be a customer id (a lower-case UUID)"))
	}
	if x.Owner != "" && !domain.ValidUUID(x.Owner) {
		errs = append(errs, ErrInvalidField.At("owner").Withf("owner must be an agent id (a lower-case UUID)"))
	}
	x.Permit, err = x.Permit.Normalize("permit")
	errs = append(errs, err)
	defs := ctx.Config.CustomFields
	if newCustom == nil {
		x.Custom, _, err = crm.CheckCustom(defs, string(crm.EntityDeal), x.Custom, crm.Refuse)
		errs = append(errs, err)
	} else {
		checked, _, err := crm.CheckCustom(defs, string(crm.EntityDeal), newCustom, crm.Refuse)
		errs = append(errs, err)
		if x.Custom == nil && len(checked) > 0 {
			x.Custom = map[string]json.RawMessage{}
		}
		for k, v := range checked {
			x.Custom[k] = v
		}
		if len(x.Custom) == 0 {
			x.Custom = nil
		}
	}
	return x, domain.Join(errs...)
}

// listed returns the entry of list that v names (exactly, else
// case-insensitively), or notes an error.
func listed(v, field string, list []string, errs []error) (string, []error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errs
	}
	for _, x := range list {
		if x == v {
			return x, errs
		}
	}
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return x, errs
		}
	}
	return v, append(errs, ErrInvalidField.At(field).Withf("%s %q is not one of the tenant's deal %ss: %s", field, v, field, strings.Join(list, ", ")))
}

// ids checks a list of ids (lower-case UUIDs) and drops repeats; never nil.
func ids(field string, xs []string) ([]string, error) {
	if len(xs) > MaxRefs {
		return nil, ErrInvalidField.At(field).Withf("%s has at most %d entries", field, MaxRefs)
	}
	out := []string{}
	var errs []error
	for i, id := range xs {
		if !domain.ValidUUID(id) {
			errs = append(errs, ErrInvalidField.At(field+"["+strconv.Itoa(i)+"]").Withf("%s[%d] %q is not an id (a lower-case UUID)", field, i, id))
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, domain.Join(errs...)
}

var plainDecimal = regexp.MustCompile(`^([0-9]+)(\.[0-9]+)?$`)

// ParseValue reads a deal value: a non-negative decimal with at most 18
// integer and 6 fraction digits, written plainly ("1234.50") or as a JSON
// number in exponent form ("5e4"). It returns its canonical text: as
// written, without leading zeros ("0012.50" is "12.50"); an exponent form
// is written out with the fraction digits it needs ("5e4" is "50000"). It
// never goes through a float.
func ParseValue(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := ErrInvalidValue.At("value").Withf("value %q must be a non-negative decimal with at most 18 integer and 6 fraction digits", s)
	if m := plainDecimal.FindStringSubmatch(s); m != nil {
		intPart := strings.TrimLeft(m[1], "0")
		if intPart == "" {
			intPart = "0"
		}
		if len(intPart) > 18 || len(m[2]) > 7 {
			return "", bad
		}
		return intPart + m[2], nil
	}
	if len(s) > 40 || !crm.ValidNumber(s) {
		return "", bad
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return "", bad
	}
	for digits := 0; digits <= 6; digits++ {
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)))
		if scaled.IsInt() {
			out := r.FloatString(digits)
			if i, _, _ := strings.Cut(out, "."); len(i) > 18 {
				return "", bad
			}
			return out, nil
		}
	}
	return "", bad
}
