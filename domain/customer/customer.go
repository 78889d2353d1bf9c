package customer

import (
	"slices"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// Customer is the customer aggregate. Its methods check a command against
// the customer's state and record events; they never read the clock or do
// I/O. A Customer is not safe for concurrent use: load, decide, append,
// discard.
type Customer struct {
	id         string
	kind       Kind
	code       string
	codes      []string
	profile    Profile
	mergedInto string
	mergeID    string
	mergedFrom []string
	items      []Item
	// absorbed remembers, per customer merged into this one, its absorption
	// and what was attached since, so that an un-merge can give back what
	// came through its identities.
	absorbed map[string]*absorption
	// dealRoles holds "<deal id>/<role>" for every deal link.
	dealRoles            map[string]bool
	createdAt, updatedAt time.Time
	domain.Root
}

// absorption is one merged customer as the survivor remembers it.
type absorption struct {
	event CustomerAbsorbed
	since []attached
}

// attached is an item attached to the survivor after an absorption, with
// the identity it came through.
type attached struct {
	item Item
	via  *Identity
}

// Rehydrate rebuilds a Customer from its stored history at version. An
// empty history gives a customer that does not exist: every command but
// New returns ErrNotFound.
func Rehydrate(history []domain.Event, version int64) *Customer {
	c := &Customer{Root: domain.LoadedAt(version)}
	for _, e := range history {
		c.apply(e)
	}
	return c
}

// Exists reports whether the customer was ever created.
func (c *Customer) Exists() bool { return c.id != "" }

// ID returns the customer's id.
func (c *Customer) ID() string { return c.id }

// Snapshot is a read-only copy of a customer's state.
type Snapshot struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Code is its current readable code; Codes every code it ever had (a
	// converted lead's LID, then its PID), all of which name it.
	Code    string   `json:"code"`
	Codes   []string `json:"codes"`
	Profile Profile  `json:"profile"`
	// MergedInto is the survivor this customer is merged into, if it is.
	MergedInto string `json:"merged_into,omitempty"`
	// MergedFrom lists the customers merged into this one (not un-merged).
	MergedFrom []string `json:"merged_from,omitempty"`
	// Items are the tickets, notes and deals attached to this customer's
	// own stream, oldest first.
	Items     []Item    `json:"items,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Exists reports whether s is the snapshot of a customer that was created.
func (s Snapshot) Exists() bool { return s.ID != "" }

// Identities returns every identity that names the customer: its
// profile's and its codes.
func (s Snapshot) Identities() []Identity {
	out := s.Profile.Identities()
	for _, code := range s.Codes {
		out = append(out, Identity{Kind: ByCode, Value: code})
	}
	return out
}

// Snapshot returns a copy of the customer's current state, pending events
// included.
func (c *Customer) Snapshot() Snapshot {
	return Snapshot{ID: c.id, Kind: c.kind, Code: c.code, Codes: slices.Clone(c.codes), Profile: c.profile,
		MergedInto: c.mergedInto, MergedFrom: slices.Clone(c.mergedFrom), Items: slices.Clone(c.items),
		CreatedAt: c.createdAt, UpdatedAt: c.updatedAt, Version: c.Current()}
}

// Evolve returns the snapshot s after event e, applying e exactly as the
// aggregate does (what a Snapshot shows; the aggregate's memory of
// absorptions, which only an un-merge decision needs, is not in it).
func Evolve(s Snapshot, e domain.Event) Snapshot {
	c := &Customer{id: s.ID, kind: s.Kind, code: s.Code, codes: slices.Clone(s.Codes), profile: s.Profile,
		mergedInto: s.MergedInto, mergedFrom: slices.Clone(s.MergedFrom), items: slices.Clone(s.Items),
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, Root: domain.LoadedAt(s.Version + 1)}
	c.apply(e)
	return c.Snapshot()
}

func (c *Customer) record(e domain.Event) { c.Record(e, c.apply) }

// attach adds it to the customer's items (once) and to what every
// absorption has seen attached since.
func (c *Customer) attach(it Item, via *Identity) {
	if !slices.Contains(c.items, it) {
		c.items = append(c.items, it)
	}
	for _, a := range c.absorbed {
		a.since = append(a.since, attached{item: it, via: via})
	}
}

// apply evolves the state by one event. It never fails.
func (c *Customer) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		c.updatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case CustomerCreated:
		c.id, c.kind, c.code, c.codes, c.profile, c.createdAt = e.ID, e.Kind, e.Code, []string{e.Code}, e.Profile, e.At
	case CustomerUpdated:
		c.profile = e.Profile
	case LeadConverted:
		c.kind, c.code, c.codes = Contact, e.Code, append(slices.Clone(c.codes), e.Code)
	case CustomerMerged:
		c.mergedInto, c.mergeID = e.Into, e.MergeID
	case CustomerAbsorbed:
		c.profile = e.Profile
		c.mergedFrom = append(slices.Clone(c.mergedFrom), e.From)
		if c.absorbed == nil {
			c.absorbed = map[string]*absorption{}
		}
		c.absorbed[e.From] = &absorption{event: e}
	case CustomerUnmerged:
		c.profile = e.Profile
		c.mergedFrom = slices.DeleteFunc(slices.Clone(c.mergedFrom), func(id string) bool { return id == e.Restored })
		delete(c.absorbed, e.Restored)
		c.items = slices.DeleteFunc(slices.Clone(c.items), func(it Item) bool { return slices.Contains(e.Items, it) })
		for _, it := range e.Items {
			if it.Kind == "deal" { // moved away: linking it again records it
				delete(c.dealRoles, it.ID+"/"+RoleCustomer)
				delete(c.dealRoles, it.ID+"/"+RoleContact)
			}
		}
	case CustomerRestored:
		c.mergedInto, c.mergeID = "", ""
		for _, it := range e.Items {
			if !slices.Contains(c.items, it) {
				c.items = append(c.items, it)
			}
		}
	case TicketLinked:
		c.attach(Item{Kind: "ticket", ID: e.TicketID}, e.Via)
	case NoteAdded:
		c.attach(Item{Kind: "note", ID: e.NoteID}, e.Via)
	case DealLinked:
		if c.dealRoles == nil {
			c.dealRoles = map[string]bool{}
		}
		c.dealRoles[e.DealID+"/"+e.Role] = true
		c.attach(Item{Kind: "deal", ID: e.DealID}, e.Via)
	}
}
