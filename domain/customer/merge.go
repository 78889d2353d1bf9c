package customer

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// Conflict is a field on which customers being merged hold different
// values, and whose value was chosen.
type Conflict struct {
	// Field is the field's JSON name, or "custom.<name>".
	Field  string          `json:"field"`
	Values []ConflictValue `json:"values"`
	// Chosen is the id of the customer whose value the survivor keeps.
	Chosen string `json:"chosen"`
}

// ConflictValue is one customer's value of a conflicting field.
type ConflictValue struct {
	Customer string `json:"customer"`
	Value    any    `json:"value"`
}

// scalar is a single-valued profile field: its JSON name, how to read it
// (nil or a zero value when empty) and how to set it.
type scalar struct {
	name string
	get  func(*Profile) any
	set  func(p *Profile, from *Profile)
}

// scalars are the profile's single-valued fields. A merge keeps the
// survivor's value of each unless it is empty or prefer says otherwise.
var scalars = []scalar{
	{"name", func(p *Profile) any { return p.Name }, func(p, f *Profile) { p.Name = f.Name }},
	{"last_name", func(p *Profile) any { return p.LastName }, func(p, f *Profile) { p.LastName = f.LastName }},
	{"title", func(p *Profile) any { return p.Title }, func(p, f *Profile) { p.Title = f.Title }},
	{"passport", func(p *Profile) any { return p.Passport }, func(p, f *Profile) { p.Passport = f.Passport }},
	{"gender", func(p *Profile) any {
		if p.Gender == nil {
			return nil
		}
		return int(*p.Gender)
	}, func(p, f *Profile) { p.Gender = f.Gender }},
	{"background", func(p *Profile) any { return p.Background }, func(p, f *Profile) { p.Background = f.Background }},
	{"date_of_birth", func(p *Profile) any { return p.DateOfBirth }, func(p, f *Profile) { p.DateOfBirth = f.DateOfBirth }},
	{"contact_id", func(p *Profile) any { return p.ContactID }, func(p, f *Profile) { p.ContactID = f.ContactID }},
	{"account_id", func(p *Profile) any { return p.Account }, func(p, f *Profile) { p.Account = f.Account }},
	{"owner", func(p *Profile) any { return p.Owner }, func(p, f *Profile) { p.Owner = f.Owner }},
	{"channel", func(p *Profile) any { return p.Channel }, func(p, f *Profile) { p.Channel = f.Channel }},
	{"permit", func(p *Profile) any {
		if p.Permit.Kind == "" || p.Permit.Kind == domain.PermitEverybody {
			return nil
		}
		return p.Permit
	}, func(p, f *Profile) { p.Permit = f.Permit }},
}

func empty(v any) bool { return v == nil || v == "" }

// MergeProfiles returns the profile the survivor has once the customers
// from are merged into it, and every conflict:
//
//   - lists (e-mails, phones, addresses, websites, IMs, tags) are unions,
//     the survivor's first, without repeats;
//   - custom fields are united by name;
//   - a single-valued field keeps the survivor's value unless it is empty,
//     then the first non-empty value in from's order;
//   - prefer maps a field's JSON name ("title", "custom.Size") to the id of
//     the customer whose value wins.
//
// A conflict is a field on which two or more customers hold different
// non-empty values. prefer naming an unknown field, or a customer that is
// not among those merged, is ErrInvalidField at "prefer.<field>".
func MergeProfiles(survivor Snapshot, from []Snapshot, prefer map[string]string) (Profile, []Conflict, error) {
	all := append([]Snapshot{survivor}, from...)
	var errs []error
	for _, field := range slices.Sorted(maps.Keys(prefer)) {
		id := prefer[field]
		known := strings.HasPrefix(field, "custom.") || slices.ContainsFunc(scalars, func(s scalar) bool { return s.name == field })
		if !known {
			errs = append(errs, ErrInvalidField.At("prefer."+field).Withf("prefer: %q is not a single-valued field or custom.<name>", field))
		}
		if !slices.ContainsFunc(all, func(s Snapshot) bool { return s.ID == id }) {
			errs = append(errs, ErrInvalidField.At("prefer."+field).Withf("prefer.%s: %s is not one of the customers merged", field, id))
		}
	}
	if err := domain.Join(errs...); err != nil {
		return Profile{}, nil, err
	}
	out := survivor.Profile
	var conflicts []Conflict
	for _, sc := range scalars {
		var values []ConflictValue
		chosen := ""
		for i := range all {
			v := sc.get(&all[i].Profile)
			if empty(v) {
				continue
			}
			values = append(values, ConflictValue{Customer: all[i].ID, Value: v})
			if chosen == "" {
				chosen = all[i].ID
			}
		}
		if id, ok := prefer[sc.name]; ok {
			chosen = id
		}
		for i := range all {
			if all[i].ID == chosen {
				sc.set(&out, &all[i].Profile)
			}
		}
		if differ(values) {
			conflicts = append(conflicts, Conflict{Field: sc.name, Values: values, Chosen: chosen})
		}
	}
	// Custom fields, by name.
	names := map[string]bool{}
	for _, s := range all {
		for n := range s.Profile.Custom {
			names[n] = true
		}
	}
	if len(names) > 0 {
		custom := map[string]json.RawMessage{}
		for _, n := range slices.Sorted(maps.Keys(names)) {
			var values []ConflictValue
			chosen := ""
			var raw json.RawMessage
			for _, s := range all {
				v, ok := s.Profile.Custom[n]
				if !ok {
					continue
				}
				values = append(values, ConflictValue{Customer: s.ID, Value: v})
				if chosen == "" {
					chosen, raw = s.ID, v
				}
			}
			if id, ok := prefer["custom."+n]; ok {
				for _, s := range all {
					if v, has := s.Profile.Custom[n]; s.ID == id && has {
						chosen, raw = id, v
					}
				}
			}
			custom[n] = raw
			if differ(values) {
				conflicts = append(conflicts, Conflict{Field: "custom." + n, Values: values, Chosen: chosen})
			}
		}
		out.Custom = custom
	}
	// Lists: unions.
	for _, s := range from {
		p := s.Profile
		out.Emails = union(out.Emails, p.Emails, func(a, b Email) bool { return a.Value == b.Value })
		out.Phones = union(out.Phones, p.Phones, func(a, b Phone) bool { return a.Normalized == b.Normalized })
		out.Addresses = union(out.Addresses, p.Addresses, func(a, b Address) bool { return a == b })
		out.Websites = union(out.Websites, p.Websites, func(a, b string) bool { return a == b })
		out.IMs = union(out.IMs, p.IMs, func(a, b IM) bool { return a == b })
		out.Tags = union(out.Tags, p.Tags, func(a, b string) bool { return a == b })
	}
	return out, conflicts, nil
}

// differ reports whether values hold two that encode differently.
func differ(values []ConflictValue) bool {
	for _, v := range values[min(1, len(values)):] {
		if !sameJSON(v.Value, values[0].Value) {
			return true
		}
	}
	return false
}

// union returns a followed by the members of b not in it.
func union[T any](a, b []T, same func(x, y T) bool) []T {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.ContainsFunc(out, func(y T) bool { return same(x, y) }) {
			out = append(out, x)
		}
	}
	return out
}

// Absorb records, on the survivor, that it absorbed from in merge mergeID
// and that its profile became profile (MergeProfiles of the two): from's
// identities, codes aside, move to it.
func (c *Customer) Absorb(by domain.Actor, src domain.Source, from Snapshot, mergeID string, profile Profile, at time.Time) error {
	ch, err := c.live(by, src, at)
	switch {
	case err != nil:
		return err
	case from.ID == c.id:
		return ErrInvalidField.At("from").Withf("a customer cannot be merged into itself")
	case !from.Exists():
		return ErrNotFound
	case from.MergedInto != "":
		return ErrMerged.Withf("customer %s is already merged into %s", from.ID, from.MergedInto)
	case from.Kind != c.kind:
		return ErrKindMismatch.Withf("%s is a %s; %s is a %s", from.ID, from.Kind, c.id, c.kind)
	case !domain.ValidUUID(mergeID):
		return ErrInvalidField.At("merge_id").Withf("merge_id must be a lower-case UUID")
	}
	c.record(CustomerAbsorbed{Change: ch, From: from.ID, MergeID: mergeID, Identities: from.Profile.Identities(),
		Before: c.profile, Profile: profile})
	return nil
}

// MergeInto records that the customer was merged into survivor into by
// merge mergeID; it is frozen until restored.
func (c *Customer) MergeInto(by domain.Actor, src domain.Source, into, mergeID string, at time.Time) error {
	ch, err := c.live(by, src, at)
	if err != nil {
		return err
	}
	if into == c.id || !domain.ValidUUID(into) {
		return ErrInvalidField.At("into").Withf("into must be another customer's id")
	}
	if !domain.ValidUUID(mergeID) {
		return ErrInvalidField.At("merge_id").Withf("merge_id must be a lower-case UUID")
	}
	c.record(CustomerMerged{Change: ch, Into: into, MergeID: mergeID})
	return nil
}

// Unmerge records, on the survivor, that restored — merged into it — is
// split off again, and returns the event: the identities restored brought
// go back, the survivor's profile gives back what restored brought (list
// values only restored had, and single values the merge took from it that
// nobody changed since), and the items attached since the merge through
// restored's identities move to it.
func (c *Customer) Unmerge(by domain.Actor, src domain.Source, restored Snapshot, at time.Time) (CustomerUnmerged, error) {
	ch, err := c.live(by, src, at)
	if err != nil {
		return CustomerUnmerged{}, err
	}
	a, ok := c.absorbed[restored.ID]
	if !ok {
		return CustomerUnmerged{}, ErrNotMerged.Withf("%s is not merged into %s", restored.ID, c.id)
	}
	abs := a.event
	p := c.profile
	before, brought := abs.Before, restored.Profile
	p.Emails = giveBack(p.Emails, before.Emails, brought.Emails, func(a, b Email) bool { return a.Value == b.Value })
	p.Phones = giveBack(p.Phones, before.Phones, brought.Phones, func(a, b Phone) bool { return a.Normalized == b.Normalized })
	p.Addresses = giveBack(p.Addresses, before.Addresses, brought.Addresses, func(a, b Address) bool { return a == b })
	p.Websites = giveBack(p.Websites, before.Websites, brought.Websites, func(a, b string) bool { return a == b })
	p.IMs = giveBack(p.IMs, before.IMs, brought.IMs, func(a, b IM) bool { return a == b })
	p.Tags = giveBack(p.Tags, before.Tags, brought.Tags, func(a, b string) bool { return a == b })
	merged := abs.Profile
	for _, sc := range scalars {
		if !sameJSON(sc.get(&before), sc.get(&merged)) && sameJSON(sc.get(&p), sc.get(&merged)) {
			sc.set(&p, &before)
		}
	}
	if len(merged.Custom) > 0 {
		custom := maps.Clone(p.Custom)
		for n, v := range merged.Custom {
			old, had := before.Custom[n]
			if cur, ok := custom[n]; ok && string(cur) == string(v) && (!had || string(old) != string(v)) {
				if had {
					custom[n] = old
				} else {
					delete(custom, n)
				}
			}
		}
		if len(custom) == 0 {
			custom = nil
		}
		p.Custom = custom
	}
	var items []Item
	for _, x := range a.since {
		if x.via != nil && slices.Contains(abs.Identities, *x.via) && c.has(x.item) && !slices.Contains(items, x.item) {
			items = append(items, x.item)
		}
	}
	e := CustomerUnmerged{Change: ch, Restored: restored.ID, MergeID: abs.MergeID, Identities: abs.Identities, Profile: p, Items: items}
	c.record(e)
	return e, nil
}

// giveBack returns cur without the values only brought (and not before)
// held.
func giveBack[T any](cur, before, brought []T, same func(a, b T) bool) []T {
	out := slices.DeleteFunc(slices.Clone(cur), func(x T) bool {
		in := func(list []T) bool { return slices.ContainsFunc(list, func(y T) bool { return same(x, y) }) }
		return in(brought) && !in(before)
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

// Restore records, on a customer merged into from by merge mergeID, that
// the merge is undone: it is live again as it was, and items moved to it.
func (c *Customer) Restore(by domain.Actor, src domain.Source, from, mergeID string, items []Item, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	switch {
	case err != nil:
		return err
	case !c.Exists():
		return ErrNotFound
	case c.mergedInto != from || c.mergeID != mergeID:
		return ErrNotMerged.Withf("%s is not merged into %s", c.id, from)
	}
	c.record(CustomerRestored{Change: ch, From: from, MergeID: mergeID, Items: items})
	return nil
}
