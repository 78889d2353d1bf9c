package ticket

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// Config is a tenant's ticket configuration: its categories, its statuses
// and how its four priorities look. It is the state of a TenantConfig and
// the input of the ticket commands that check keys against it (New,
// ChangeStatus, Reopen, Categorize). Tickets record keys (and a status's
// kind), never displays or colors: renaming a status changes how old
// tickets read without touching their history.
type Config struct {
	Categories []Category      `json:"categories"`
	Statuses   []Status        `json:"statuses"`
	Priorities []PriorityStyle `json:"priorities"`
}

// Category is a configured ticket category.
type Category struct {
	Key           string        `json:"key"`
	Display       string        `json:"display"`
	SubCategories []SubCategory `json:"sub_categories,omitempty"`
}

// SubCategory is one of a Category's sub-categories.
type SubCategory struct {
	Key     string `json:"key"`
	Display string `json:"display"`
}

// Status is a configured ticket status. Its Kind decides the rules.
type Status struct {
	Key     string     `json:"key"`
	Display string     `json:"display"`
	Color   string     `json:"color"`
	Kind    StatusKind `json:"kind"`
}

// PriorityStyle is how a tenant shows one of the fixed priorities.
type PriorityStyle struct {
	Key     Priority `json:"key"`
	Display string   `json:"display"`
	Color   string   `json:"color"`
}

// KeyPattern is the form of category, sub-category and status keys.
const KeyPattern = `^[a-z][a-z0-9_]{0,63}$`

// Limits on configuration lists and displays.
const (
	MaxCategories    = 200
	MaxSubCategories = 100
	MaxStatuses      = 50
	MaxDisplayLength = 100
)

// fallbackColor is the color of a status the tenant has since removed.
const fallbackColor = "#9b9b9b"

// DefaultConfig is the configuration of a tenant that never changed it (an
// empty config stream): statuses open, in_progress (both of kind open),
// pending, resolved and closed; priorities Low, Medium, High and Urgent; one
// category, general.
func DefaultConfig() Config {
	return Config{
		Categories: []Category{{Key: "general", Display: "General"}},
		Statuses: []Status{
			{Key: "open", Display: "Open", Color: "#ffa951", Kind: KindOpen},
			{Key: "in_progress", Display: "In Progress", Color: "#5c6bdd", Kind: KindOpen},
			{Key: "pending", Display: "Pending", Color: "#f3c33f", Kind: KindPending},
			{Key: "resolved", Display: "Resolved", Color: "#20c3a6", Kind: KindResolved},
			{Key: "closed", Display: "Closed", Color: fallbackColor, Kind: KindClosed},
		},
		Priorities: defaultPriorities(),
	}
}

func defaultPriorities() []PriorityStyle {
	return []PriorityStyle{
		{Key: PriorityLow, Display: "Low", Color: "#41a6ff"},
		{Key: PriorityMedium, Display: "Medium", Color: "#ffa951"},
		{Key: PriorityHigh, Display: "High", Color: "#fa6d6d"},
		{Key: PriorityUrgent, Display: "Urgent", Color: "#e02020"},
	}
}

// Status returns the configured status with the key.
func (c Config) Status(key string) (Status, bool) {
	for _, s := range c.Statuses {
		if s.Key == key {
			return s, true
		}
	}
	return Status{}, false
}

// LookupStatus returns the configured status with the key or, when the
// tenant has since removed it, a stand-in whose display is the key. Read
// models use it to render a ticket's status.
func (c Config) LookupStatus(key string, kind StatusKind) Status {
	if s, ok := c.Status(key); ok {
		return s
	}
	return Status{Key: key, Display: key, Color: fallbackColor, Kind: kind}
}

// DefaultStatus is the status of new tickets created without one and of
// reopened tickets: the first status of kind open.
func (c Config) DefaultStatus() Status {
	for _, s := range c.Statuses {
		if s.Kind == KindOpen {
			return s
		}
	}
	return DefaultConfig().Statuses[0] // unreachable: SetStatuses keeps one
}

// Category returns the configured category with the key.
func (c Config) Category(key string) (Category, bool) {
	for _, cat := range c.Categories {
		if cat.Key == key {
			return cat, true
		}
	}
	return Category{}, false
}

// SubCategory returns the category's sub-category with the key.
func (c Category) SubCategory(key string) (SubCategory, bool) {
	for _, s := range c.SubCategories {
		if s.Key == key {
			return s, true
		}
	}
	return SubCategory{}, false
}

// Priority returns how the tenant shows p (the default style if p is not
// configured).
func (c Config) Priority(p Priority) PriorityStyle {
	for _, s := range c.Priorities {
		if s.Key == p {
			return s
		}
	}
	for _, s := range defaultPriorities() {
		if s.Key == p {
			return s
		}
	}
	return PriorityStyle{Key: p, Display: string(p), Color: fallbackColor}
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	out := Config{
		Statuses:   slices.Clone(c.Statuses),
		Priorities: slices.Clone(c.Priorities),
	}
	if c.Categories != nil {
		out.Categories = make([]Category, len(c.Categories))
		for i, cat := range c.Categories {
			cat.SubCategories = slices.Clone(cat.SubCategories)
			out.Categories[i] = cat
		}
	}
	return out
}

func (c Config) statusKeys() string {
	keys := make([]string, len(c.Statuses))
	for i, s := range c.Statuses {
		keys[i] = s.Key
	}
	return strings.Join(keys, ", ")
}

func (c Config) categoryKeys() string {
	keys := make([]string, len(c.Categories))
	for i, s := range c.Categories {
		keys[i] = s.Key
	}
	return strings.Join(keys, ", ")
}

// Configuration events. Each carries the whole new list: configuration is
// small, and a projection then needs no rule to apply it.
type (
	// CategoriesSet replaced the tenant's categories.
	CategoriesSet struct {
		domain.Change
		Categories []Category `json:"categories"`
	}
	// StatusesSet replaced the tenant's statuses.
	StatusesSet struct {
		domain.Change
		Statuses []Status `json:"statuses"`
	}
	// PrioritiesSet replaced how the tenant shows priorities; it always
	// lists all four, least urgent first.
	PrioritiesSet struct {
		domain.Change
		Priorities []PriorityStyle `json:"priorities"`
	}
)

// EventType returns "ticket_config.categories_set".
func (CategoriesSet) EventType() string { return "ticket_config.categories_set" }

// EventType returns "ticket_config.statuses_set".
func (StatusesSet) EventType() string { return "ticket_config.statuses_set" }

// EventType returns "ticket_config.priorities_set".
func (PrioritiesSet) EventType() string { return "ticket_config.priorities_set" }

// Configuration commands. Each replaces one list wholesale (PUT
// semantics); setting a list equal to the current one records nothing.
type (
	// SetCategories replaces the categories. An empty list is allowed:
	// tickets are then uncategorized.
	SetCategories struct {
		By         domain.Actor
		Source     domain.Source
		Categories []Category
	}
	// SetStatuses replaces the statuses. The list needs a status of kind
	// open and one of kind closed. Tickets in a removed status keep it.
	SetStatuses struct {
		By       domain.Actor
		Source   domain.Source
		Statuses []Status
	}
	// SetPriorities restyles priorities. Priorities left out get their
	// default style.
	SetPriorities struct {
		By         domain.Actor
		Source     domain.Source
		Priorities []PriorityStyle
	}
)

// TenantConfig is the event-sourced aggregate holding one tenant's Config,
// in the stream (ConfigStreamType, ConfigStreamID) of the tenant.
type TenantConfig struct {
	cfg Config
	domain.Root
}

// RehydrateConfig rebuilds a TenantConfig from stored history at version.
// An empty history gives DefaultConfig. Only stores and their callers use
// it.
func RehydrateConfig(history []domain.Event, version int64) *TenantConfig {
	c := &TenantConfig{cfg: DefaultConfig(), Root: domain.LoadedAt(version)}
	for _, e := range history {
		c.apply(e)
	}
	return c
}

// Config returns a copy of the current configuration.
func (c *TenantConfig) Config() Config { return c.cfg.Clone() }

// SetCategories validates and replaces the categories.
func (c *TenantConfig) SetCategories(cmd SetCategories, at time.Time) error {
	ch, chErr := domain.NewChange(cmd.By, cmd.Source, at)
	cats, err := normalizeCategories(cmd.Categories)
	if err := domain.Join(chErr, err); err != nil {
		return err
	}
	if reflect.DeepEqual(cats, c.cfg.Categories) {
		return nil
	}
	c.record(CategoriesSet{Change: ch, Categories: cats})
	return nil
}

// SetStatuses validates and replaces the statuses.
func (c *TenantConfig) SetStatuses(cmd SetStatuses, at time.Time) error {
	ch, chErr := domain.NewChange(cmd.By, cmd.Source, at)
	sts, err := normalizeStatuses(cmd.Statuses)
	if err := domain.Join(chErr, err); err != nil {
		return err
	}
	if reflect.DeepEqual(sts, c.cfg.Statuses) {
		return nil
	}
	c.record(StatusesSet{Change: ch, Statuses: sts})
	return nil
}

// SetPriorities validates and replaces the priority styles.
func (c *TenantConfig) SetPriorities(cmd SetPriorities, at time.Time) error {
	ch, chErr := domain.NewChange(cmd.By, cmd.Source, at)
	ps, err := normalizePriorities(cmd.Priorities)
	if err := domain.Join(chErr, err); err != nil {
		return err
	}
	if reflect.DeepEqual(ps, c.cfg.Priorities) {
		return nil
	}
	c.record(PrioritiesSet{Change: ch, Priorities: ps})
	return nil
}

func (c *TenantConfig) record(e domain.Event) { c.Record(e, c.apply) }

func (c *TenantConfig) apply(e domain.Event) {
	switch e := e.(type) {
	case CategoriesSet:
		c.cfg.Categories = Config{Categories: e.Categories}.Clone().Categories
	case StatusesSet:
		c.cfg.Statuses = slices.Clone(e.Statuses)
	case PrioritiesSet:
		c.cfg.Priorities = slices.Clone(e.Priorities)
	}
}

func normalizeCategories(in []Category) ([]Category, error) {
	if len(in) > MaxCategories {
		return nil, ErrInvalidField.At("categories").Withf("at most %d categories", MaxCategories)
	}
	var errs []error
	out := make([]Category, 0, len(in))
	seen := map[string]bool{}
	for i, cat := range in {
		field := fmt.Sprintf("categories[%d]", i)
		errs = append(errs, checkKey(field+".key", cat.Key, seen))
		d, err := checkDisplay(field+".display", cat.Display)
		errs = append(errs, err)
		if len(cat.SubCategories) > MaxSubCategories {
			errs = append(errs, ErrInvalidField.At(field+".sub_categories").Withf("%s: at most %d sub-categories", field, MaxSubCategories))
		}
		var subs []SubCategory
		subSeen := map[string]bool{}
		for j, s := range cat.SubCategories {
			sf := fmt.Sprintf("%s.sub_categories[%d]", field, j)
			errs = append(errs, checkKey(sf+".key", s.Key, subSeen))
			sd, err := checkDisplay(sf+".display", s.Display)
			errs = append(errs, err)
			subs = append(subs, SubCategory{Key: s.Key, Display: sd})
		}
		out = append(out, Category{Key: cat.Key, Display: d, SubCategories: subs})
	}
	if len(out) == 0 {
		out = nil
	}
	return out, domain.Join(errs...)
}

func normalizeStatuses(in []Status) ([]Status, error) {
	if len(in) > MaxStatuses {
		return nil, ErrInvalidField.At("statuses").Withf("at most %d statuses", MaxStatuses)
	}
	var errs []error
	out := make([]Status, 0, len(in))
	seen := map[string]bool{}
	var open, closed bool
	for i, s := range in {
		field := fmt.Sprintf("statuses[%d]", i)
		errs = append(errs, checkKey(field+".key", s.Key, seen))
		d, err := checkDisplay(field+".display", s.Display)
		errs = append(errs, err)
		color, err := checkColor(field+".color", s.Color)
		errs = append(errs, err)
		if !s.Kind.Valid() {
			errs = append(errs, ErrUnknownStatusKind.At(field+".kind").Withf("%s: unknown kind %q; allowed: %s", field, s.Kind, list(StatusKinds())))
		}
		open = open || s.Kind == KindOpen
		closed = closed || s.Kind == KindClosed
		out = append(out, Status{Key: s.Key, Display: d, Color: color, Kind: s.Kind})
	}
	if !open || !closed {
		errs = append(errs, ErrStatusesIncomplete.At("statuses"))
	}
	return out, domain.Join(errs...)
}

func normalizePriorities(in []PriorityStyle) ([]PriorityStyle, error) {
	var errs []error
	given := map[Priority]PriorityStyle{}
	for i, p := range in {
		field := fmt.Sprintf("priorities[%d]", i)
		if !p.Key.Valid() {
			errs = append(errs, ErrUnknownPriority.At(field+".key").Withf("%s: unknown priority %q; allowed: %s", field, p.Key, list(Priorities())))
			continue
		}
		if _, dup := given[p.Key]; dup {
			errs = append(errs, ErrDuplicateKey.At(field+".key").Withf("%s: priority %q listed twice", field, p.Key))
			continue
		}
		d, err := checkDisplay(field+".display", p.Display)
		errs = append(errs, err)
		color, err := checkColor(field+".color", p.Color)
		errs = append(errs, err)
		given[p.Key] = PriorityStyle{Key: p.Key, Display: d, Color: color}
	}
	out := defaultPriorities()
	for i, p := range out {
		if g, ok := given[p.Key]; ok {
			out[i] = g
		}
	}
	return out, domain.Join(errs...)
}

// ValidKey reports whether s matches KeyPattern.
func ValidKey(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func checkKey(field, key string, seen map[string]bool) error {
	if !ValidKey(key) {
		return ErrInvalidKey.At(field).Withf("%s: %q must match %s", field, key, KeyPattern)
	}
	if seen[key] {
		return ErrDuplicateKey.At(field).Withf("%s: key %q listed twice", field, key)
	}
	seen[key] = true
	return nil
}

func checkDisplay(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > MaxDisplayLength || !utf8.ValidString(s) {
		return s, ErrInvalidField.At(field).Withf("%s: display must be 1..%d characters", field, MaxDisplayLength)
	}
	return s, nil
}

func checkColor(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	ok := len(s) == 7 && s[0] == '#'
	for i := 1; ok && i < len(s); i++ {
		ok = '0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f'
	}
	if !ok {
		return s, ErrInvalidColor.At(field).Withf("%s: color %q must be #rrggbb", field, s)
	}
	return s, nil
}
