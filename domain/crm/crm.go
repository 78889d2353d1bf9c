// Package crm holds the tenant's CRM configuration aggregate: its default
// phone region, its lists of deal categories and packages, and the
// definitions of its custom fields — one stream per tenant. It also holds
// the pure checks the whole CRM uses: custom values against their
// definitions (CheckCustom), phone regions (ValidRegion), ISO 4217
// currencies (ValidCurrency) and dates (NormalizeDate).
package crm

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType and StreamID name a tenant's CRM configuration stream: one per
// tenant. Both are persisted.
const (
	StreamType = "crm_config"
	StreamID   = "crm"
)

// Limits on the configuration.
const (
	// MaxNameLength bounds a category, package, field or option name, in
	// characters.
	MaxNameLength = 200
	// MaxListLength bounds the categories, packages, fields and options.
	MaxListLength = 500
	// MaxTextLength bounds a text custom value, in characters.
	MaxTextLength = 65536
)

// Entity is the kind of record a custom field belongs to. Values are
// persisted.
type Entity string

// The entities that have custom fields.
const (
	EntityContact Entity = "contact"
	EntityAccount Entity = "account"
	EntityLead    Entity = "lead"
	EntityDeal    Entity = "deal"
)

// Entities returns every Entity.
func Entities() []Entity { return []Entity{EntityContact, EntityAccount, EntityLead, EntityDeal} }

// FieldType is the type of a custom field. Values are persisted.
type FieldType string

// The custom field types.
const (
	// Text: a string of at most MaxTextLength characters.
	Text FieldType = "text"
	// Number: an exact decimal, stored as a JSON number.
	Number FieldType = "number"
	// Date: a day ("YYYY-MM-DD") or an instant (RFC 3339).
	Date FieldType = "date"
	// Checkbox: any number of the field's options (seed 004 joins them
	// with "|").
	Checkbox FieldType = "checkbox"
	// Select: one of the field's options.
	Select FieldType = "select"
)

// FieldTypes returns every FieldType.
func FieldTypes() []FieldType { return []FieldType{Text, Number, Date, Checkbox, Select} }

// FieldDef defines one custom field of an entity. Its JSON form is stored
// in events.
type FieldDef struct {
	Name   string    `json:"name"`
	Entity Entity    `json:"entity"`
	Type   FieldType `json:"type"`
	// Options are the allowed values of checkbox and select fields.
	Options []string `json:"options,omitempty"`
}

// Config is the CRM configuration aggregate. Its methods check a command
// and record events; they never read the clock or do I/O. A Config that
// was never set is the default one (no region, no lists, no fields).
type Config struct {
	region               string
	categories, packages []string
	fields               []FieldDef
	updatedAt            time.Time
	domain.Root
}

// Rehydrate rebuilds a Config from its stored history at version.
func Rehydrate(history []domain.Event, version int64) *Config {
	c := &Config{Root: domain.LoadedAt(version)}
	for _, e := range history {
		c.apply(e)
	}
	return c
}

// Snapshot is a read-only copy of the configuration.
type Snapshot struct {
	// Region is the default phone region (ISO 3166 alpha-2, e.g. "VN"); empty
	// for none.
	Region         string     `json:"region"`
	DealCategories []string   `json:"deal_categories"`
	Packages       []string   `json:"packages"`
	CustomFields   []FieldDef `json:"custom_fields"`
	// UpdatedAt is the time of the last change; zero if never set.
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// Snapshot returns a copy of the current configuration; lists are never nil.
func (c *Config) Snapshot() Snapshot {
	s := Snapshot{Region: c.region, DealCategories: append([]string{}, c.categories...),
		Packages: append([]string{}, c.packages...), CustomFields: make([]FieldDef, 0, len(c.fields)),
		UpdatedAt: c.updatedAt, Version: c.Current()}
	for _, f := range c.fields {
		f.Options = slices.Clone(f.Options)
		s.CustomFields = append(s.CustomFields, f)
	}
	return s
}

// Evolve returns s after e, applying e exactly as the aggregate does.
func Evolve(s Snapshot, e domain.Event) Snapshot {
	c := &Config{region: s.Region, categories: slices.Clone(s.DealCategories), packages: slices.Clone(s.Packages),
		fields: slices.Clone(s.CustomFields), updatedAt: s.UpdatedAt, Root: domain.LoadedAt(s.Version + 1)}
	c.apply(e)
	return c.Snapshot()
}

// Fields returns the definitions of entity's custom fields, in order.
func (s Snapshot) Fields(entity Entity) []FieldDef {
	var out []FieldDef
	for _, f := range s.CustomFields {
		if f.Entity == entity {
			out = append(out, f)
		}
	}
	return out
}

// HasCategory reports whether name is one of the deal categories.
func (s Snapshot) HasCategory(name string) bool { return slices.Contains(s.DealCategories, name) }

// HasPackage reports whether name is one of the deal packages.
func (s Snapshot) HasPackage(name string) bool { return slices.Contains(s.Packages, name) }

// SetConfig is what Config.Set changes: the region and both lists, whole.
type SetConfig struct {
	Region         string
	DealCategories []string
	Packages       []string
}

// Set replaces the region and the lists; the same values record nothing.
// That the region is one a phone library supports is the caller's to check
// (ValidRegion only checks its form).
func (c *Config) Set(s SetConfig, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	errs := []error{err}
	region := strings.ToUpper(strings.TrimSpace(s.Region))
	if region != "" && !ValidRegion(region) {
		errs = append(errs, ErrInvalidRegion.At("region").Withf("region %q is not an ISO 3166 alpha-2 code such as \"VN\"", s.Region))
	}
	cats, err := validNames("deal_categories", s.DealCategories)
	errs = append(errs, err)
	pkgs, err := validNames("packages", s.Packages)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return err
	}
	if region == c.region && slices.Equal(cats, c.categories) && slices.Equal(pkgs, c.packages) {
		return nil
	}
	c.record(ConfigSet{Change: ch, Region: region, DealCategories: cats, Packages: pkgs})
	return nil
}

// SetCustomFields replaces every custom field definition; the same
// definitions record nothing. Values already stored under a removed or
// retyped field stay as they were; they are checked again only when a
// record's custom values are next written.
func (c *Config) SetCustomFields(defs []FieldDef, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	errs := []error{err}
	fields, err := validFields(defs)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return err
	}
	if slices.EqualFunc(fields, c.fields, func(a, b FieldDef) bool {
		return a.Name == b.Name && a.Entity == b.Entity && a.Type == b.Type && slices.Equal(a.Options, b.Options)
	}) {
		return nil
	}
	c.record(CustomFieldsSet{Change: ch, Fields: fields})
	return nil
}

func (c *Config) record(e domain.Event) { c.Record(e, c.apply) }

func (c *Config) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		c.updatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case ConfigSet:
		c.region, c.categories, c.packages = e.Region, slices.Clone(e.DealCategories), slices.Clone(e.Packages)
	case CustomFieldsSet:
		c.fields = slices.Clone(e.Fields)
	}
}

// validNames trims names and checks each is 1..MaxNameLength characters
// and unique (case-insensitively), keeping the order.
func validNames(field string, names []string) ([]string, error) {
	if len(names) > MaxListLength {
		return nil, ErrInvalidField.At(field).Withf("%s has at most %d entries", field, MaxListLength)
	}
	out := make([]string, 0, len(names))
	seen := map[string]bool{}
	var errs []error
	for i, n := range names {
		at := field + "[" + strconv.Itoa(i) + "]"
		n = strings.Join(strings.Fields(n), " ")
		if k := utf8.RuneCountInString(n); k == 0 || k > MaxNameLength || !utf8.ValidString(n) {
			errs = append(errs, ErrInvalidField.At(at).Withf("%s must be 1..%d characters", at, MaxNameLength))
			continue
		}
		if key := strings.ToLower(n); seen[key] {
			errs = append(errs, ErrInvalidField.At(at).Withf("%s %q is listed twice", at, n))
			continue
		} else {
			seen[key] = true
		}
		out = append(out, n)
	}
	return out, domain.Join(errs...)
}

func validFields(defs []FieldDef) ([]FieldDef, error) {
	if len(defs) > MaxListLength {
		return nil, ErrInvalidField.At("custom_fields").Withf("custom_fields has at most %d entries", MaxListLength)
	}
	out := make([]FieldDef, 0, len(defs))
	seen := map[[2]string]bool{}
	var errs []error
	for i, d := range defs {
		at := "custom_fields[" + strconv.Itoa(i) + "]"
		d.Name = strings.Join(strings.Fields(d.Name), " ")
		var bad []error
		if k := utf8.RuneCountInString(d.Name); k == 0 || k > MaxNameLength || !utf8.ValidString(d.Name) {
			bad = append(bad, ErrInvalidField.At(at+".name").Withf("%s.name must be 1..%d characters", at, MaxNameLength))
		} else if key := [2]string{string(d.Entity), strings.ToLower(d.Name)}; seen[key] {
			bad = append(bad, ErrInvalidField.At(at+".name").Withf("%s.name: %s already has a field named %q", at, d.Entity, d.Name))
		} else {
			seen[key] = true
		}
		if !slices.Contains(Entities(), d.Entity) {
			bad = append(bad, ErrInvalidField.At(at+".entity").Withf("%s.entity %q is not one of contact, account, lead, deal", at, d.Entity))
		}
		if !slices.Contains(FieldTypes(), d.Type) {
			bad = append(bad, ErrInvalidField.At(at+".type").Withf("%s.type %q is not one of text, number, date, checkbox, select", at, d.Type))
		}
		if d.Type == Checkbox || d.Type == Select {
			if len(d.Options) == 0 {
				bad = append(bad, ErrInvalidField.At(at+".options").Withf("%s.options: a %s field needs at least one option", at, d.Type))
			}
			opts, err := validNames(at+".options", d.Options)
			bad = append(bad, err)
			for _, o := range opts {
				if d.Type == Checkbox && strings.Contains(o, "|") {
					bad = append(bad, ErrInvalidField.At(at+".options").Withf("%s.options: checkbox option %q may not contain \"|\"", at, o))
				}
			}
			d.Options = opts
		} else if len(d.Options) > 0 {
			bad = append(bad, ErrInvalidField.At(at+".options").Withf("%s.options: only checkbox and select fields have options", at))
		} else {
			d.Options = nil
		}
		if err := domain.Join(bad...); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d)
	}
	return out, domain.Join(errs...)
}
