package customer_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/domaintest"
)

const thirdID = "3eab7f4b-6d4c-4f9b-8d86-8a4c5e6f7a8b"

func snap(id string, p customer.Profile) customer.Snapshot {
	return customer.Snapshot{ID: id, Kind: customer.Contact, Profile: p}
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestMergeProfiles(t *testing.T) {
	survivor := snap(id, customer.Profile{Name: "Ana", Title: "CEO",
		Emails:    []customer.Email{{Type: "Work", Value: "ana@example.com"}},
		Phones:    []customer.Phone{{Value: "0905 000 001", Normalized: "+84905000001"}},
		Addresses: []customer.Address{{City: "Hue"}},
		Websites:  []string{"https://a.example"},
		IMs:       []customer.IM{{Protocol: "Skype", Value: "ana"}},
		Tags:      []string{"vip"},
		Custom:    map[string]json.RawMessage{"Size": raw(`"L"`)},
		Permit:    everybody})
	other := snap(otherID, customer.Profile{Name: "Ana Le", Title: "CTO", Passport: "B1234567", Gender: ptr(customer.Female),
		Emails:    []customer.Email{{Value: "ana.le@example.com"}, {Type: "Home", Value: "ana@example.com"}},
		Phones:    []customer.Phone{{Value: "+84905000001", Normalized: "+84905000001"}, {Value: "0905 000 002", Normalized: "+84905000002"}},
		Addresses: []customer.Address{{City: "Hue"}, {City: "Da Nang"}},
		Websites:  []string{"https://a.example", "https://b.example"},
		IMs:       []customer.IM{{Protocol: "Viber", Value: "ana"}},
		Tags:      []string{"lead", "vip"},
		Custom:    map[string]json.RawMessage{"Size": raw(`"M"`), "Color": raw(`"red"`)},
		Owner:     owner,
		Permit:    domain.Permit{Kind: domain.PermitOwner}})
	third := snap(thirdID, customer.Profile{Name: "A.", Passport: "C7654321", LastName: "Le", Permit: everybody})

	union := customer.Profile{Name: "Ana", Title: "CEO", Passport: "B1234567", Gender: ptr(customer.Female),
		Emails:    []customer.Email{{Type: "Work", Value: "ana@example.com"}, {Value: "ana.le@example.com"}},
		Phones:    []customer.Phone{{Value: "0905 000 001", Normalized: "+84905000001"}, {Value: "0905 000 002", Normalized: "+84905000002"}},
		Addresses: []customer.Address{{City: "Hue"}, {City: "Da Nang"}},
		Websites:  []string{"https://a.example", "https://b.example"},
		IMs:       []customer.IM{{Protocol: "Skype", Value: "ana"}, {Protocol: "Viber", Value: "ana"}},
		Tags:      []string{"vip", "lead"},
		Custom:    map[string]json.RawMessage{"Size": raw(`"L"`), "Color": raw(`"red"`)},
		Owner:     owner,
		Permit:    domain.Permit{Kind: domain.PermitOwner}}
	conflicts := []customer.Conflict{
		{Field: "name", Values: []customer.ConflictValue{{Customer: id, Value: "Ana"}, {Customer: otherID, Value: "Ana Le"}}, Chosen: id},
		{Field: "title", Values: []customer.ConflictValue{{Customer: id, Value: "CEO"}, {Customer: otherID, Value: "CTO"}}, Chosen: id},
		{Field: "custom.Size", Values: []customer.ConflictValue{{Customer: id, Value: raw(`"L"`)}, {Customer: otherID, Value: raw(`"M"`)}}, Chosen: id},
	}
	preferred := union
	preferred.Title = "CTO"
	preferred.Custom = map[string]json.RawMessage{"Size": raw(`"M"`), "Color": raw(`"red"`)}
	conflictsPreferred := []customer.Conflict{conflicts[0],
		{Field: "title", Values: conflicts[1].Values, Chosen: otherID},
		{Field: "custom.Size", Values: conflicts[2].Values, Chosen: otherID}}

	three := union
	three.LastName = "Le"
	threeConflicts := []customer.Conflict{
		{Field: "name", Values: []customer.ConflictValue{{Customer: id, Value: "Ana"}, {Customer: otherID, Value: "Ana Le"}, {Customer: thirdID, Value: "A."}}, Chosen: id},
		conflicts[1],
		{Field: "passport", Values: []customer.ConflictValue{{Customer: otherID, Value: "B1234567"}, {Customer: thirdID, Value: "C7654321"}}, Chosen: otherID},
		conflicts[2]}
	threePreferred := three
	threePreferred.Passport = "C7654321"
	threePreferredConflicts := append([]customer.Conflict{}, threeConflicts...)
	threePreferredConflicts[2].Chosen = thirdID

	tests := []struct {
		name          string
		from          []customer.Snapshot
		prefer        map[string]string
		want          customer.Profile
		wantConflicts []customer.Conflict
	}{
		{"lists united, empty scalars filled, conflicts named", []customer.Snapshot{other}, nil, union, conflicts},
		{"prefer the other's title and custom field", []customer.Snapshot{other}, map[string]string{"title": otherID, "custom.Size": otherID},
			preferred, conflictsPreferred},
		{"prefer the survivor itself", []customer.Snapshot{other}, map[string]string{"title": id}, union, conflicts},
		{"three: the first non-empty in from's order", []customer.Snapshot{other, third}, nil, three, threeConflicts},
		{"three, the last preferred", []customer.Snapshot{other, third}, map[string]string{"passport": thirdID}, threePreferred, threePreferredConflicts},
		{"equal values are no conflict", []customer.Snapshot{snap(otherID, customer.Profile{Name: "Ana", Title: "CEO", Permit: everybody})}, nil,
			survivor.Profile, nil},
		{"nothing to merge", nil, nil, survivor.Profile, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, gotConflicts, err := customer.MergeProfiles(survivor, tt.from, tt.prefer)
			if err != nil {
				t.Fatalf("MergeProfiles() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("profile (-want +got):\n%s", diff)
			}
			if !equalJSON(gotConflicts, tt.wantConflicts) {
				t.Errorf("conflicts:\n got %s\nwant %s", show(gotConflicts), show(tt.wantConflicts))
			}
			if _, err := customer.Normalize(got); err != nil {
				t.Errorf("Normalize(merged) = %v, want a valid profile", err)
			}
		})
	}

	for _, tt := range []struct {
		name   string
		prefer map[string]string
		field  string
	}{
		{"a list field", map[string]string{"emails": otherID}, "prefer.emails"},
		{"an unknown field", map[string]string{"shoe_size": otherID}, "prefer.shoe_size"},
		{"a customer not merged", map[string]string{"title": thirdID}, "prefer.title"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := customer.MergeProfiles(survivor, []customer.Snapshot{other}, tt.prefer)
			domaintest.CheckErr(t, err, customer.ErrInvalidField.At(tt.field))
		})
	}
}

func TestCustomer_Absorb(t *testing.T) {
	from := snap(otherID, customer.Profile{Name: "Bo", Emails: []customer.Email{{Value: "bo@example.com"}}, Passport: "B1", Permit: everybody})
	from.Codes = []string{"PID-2"}
	profile := anaProfile
	profile.Emails = append(profile.Emails, customer.Email{Value: "bo@example.com"})
	profile.Passport = "B1"
	absorbed := customer.CustomerAbsorbed{Change: now, From: otherID, MergeID: mergeID,
		Identities: []customer.Identity{{Kind: customer.ByEmail, Value: "bo@example.com"}, {Kind: customer.ByPassport, Value: "B1"}},
		Before:     anaProfile, Profile: profile}
	absorb := func(f customer.Snapshot) func(*customer.Customer) error {
		return func(c *customer.Customer) error { return c.Absorb(admin, api, f, mergeID, profile, noon) }
	}
	asLead := from
	asLead.Kind = customer.Lead
	gone := from
	gone.MergedInto = thirdID
	run(t, []scenario{
		{"absorbed: identities without codes, before and after", []domain.Event{created}, absorb(from), []domain.Event{absorbed}, nil},
		{"of another kind", []domain.Event{created}, absorb(asLead), nil, customer.ErrKindMismatch},
		{"itself", []domain.Event{created}, absorb(snap(id, anaProfile)), nil, customer.ErrInvalidField.At("from")},
		{"one already merged", []domain.Event{created}, absorb(gone), nil, customer.ErrMerged},
		{"a survivor merged away", []domain.Event{created, merged}, absorb(from), nil, customer.ErrMerged},
		{"no customer", nil, absorb(from), nil, customer.ErrNotFound},
	})

	c := customer.Rehydrate([]domain.Event{created, absorbed}, 2)
	if s := c.Snapshot(); len(s.MergedFrom) != 1 || s.MergedFrom[0] != otherID || !equalJSON(s.Profile, profile) {
		t.Errorf("after Absorb: merged from %v, profile %+v; want [%s] and the merged profile", s.MergedFrom, s.Profile, otherID)
	}
}

func TestCustomer_MergeInto(t *testing.T) {
	run(t, []scenario{
		{"merged", []domain.Event{created}, func(c *customer.Customer) error { return c.MergeInto(admin, api, otherID, mergeID, noon) },
			[]domain.Event{customer.CustomerMerged{Change: now, Into: otherID, MergeID: mergeID}}, nil},
		{"into itself", []domain.Event{created}, func(c *customer.Customer) error { return c.MergeInto(admin, api, id, mergeID, noon) },
			nil, customer.ErrInvalidField.At("into")},
		{"bad merge id", []domain.Event{created}, func(c *customer.Customer) error { return c.MergeInto(admin, api, otherID, "m1", noon) },
			nil, customer.ErrInvalidField.At("merge_id")},
		{"already merged", []domain.Event{created, merged}, func(c *customer.Customer) error { return c.MergeInto(admin, api, thirdID, mergeID, noon) },
			nil, customer.ErrMerged},
		{"no customer", nil, func(c *customer.Customer) error { return c.MergeInto(admin, api, otherID, mergeID, noon) }, nil, customer.ErrNotFound},
	})
}

func TestCustomer_Restore(t *testing.T) {
	items := []customer.Item{{Kind: "note", ID: note}}
	run(t, []scenario{
		{"restored with items", []domain.Event{created, merged}, func(c *customer.Customer) error {
			return c.Restore(admin, api, otherID, mergeID, items, noon)
		}, []domain.Event{customer.CustomerRestored{Change: now, From: otherID, MergeID: mergeID, Items: items}}, nil},
		{"another merge", []domain.Event{created, merged}, func(c *customer.Customer) error {
			return c.Restore(admin, api, otherID, thirdID, nil, noon)
		}, nil, customer.ErrNotMerged},
		{"another survivor", []domain.Event{created, merged}, func(c *customer.Customer) error {
			return c.Restore(admin, api, thirdID, mergeID, nil, noon)
		}, nil, customer.ErrNotMerged},
		{"not merged", []domain.Event{created}, func(c *customer.Customer) error {
			return c.Restore(admin, api, otherID, mergeID, nil, noon)
		}, nil, customer.ErrNotMerged},
		{"no customer", nil, func(c *customer.Customer) error { return c.Restore(admin, api, otherID, mergeID, nil, noon) }, nil, customer.ErrNotFound},
	})

	c := customer.Rehydrate([]domain.Event{created, merged, customer.CustomerRestored{Change: now, From: otherID, MergeID: mergeID, Items: items}}, 3)
	if s := c.Snapshot(); s.MergedInto != "" || !equalJSON(s.Items, items) {
		t.Errorf("after Restore: merged into %q, items %v; want live with %v", s.MergedInto, s.Items, items)
	}
	if err := c.Update(admin, api, customer.Profile{Name: "Ana B"}, noon); err != nil {
		t.Errorf("Update() after Restore = %v, want a live customer", err)
	}
}

func TestCustomer_UnmergeRefused(t *testing.T) {
	from := snap(otherID, customer.Profile{Name: "Bo", Permit: everybody})
	unmerge := func(c *customer.Customer) error { _, err := c.Unmerge(admin, api, from, noon); return err }
	run(t, []scenario{
		{"never absorbed", []domain.Event{created}, unmerge, nil, customer.ErrNotMerged},
		{"absorbed and un-merged already", []domain.Event{created,
			customer.CustomerAbsorbed{Change: atCreation, From: otherID, MergeID: mergeID, Before: anaProfile, Profile: anaProfile},
			customer.CustomerUnmerged{Change: atCreation, Restored: otherID, MergeID: mergeID, Profile: anaProfile}}, unmerge, nil, customer.ErrNotMerged},
		{"merged away", []domain.Event{created, merged}, unmerge, nil, customer.ErrMerged},
		{"no customer", nil, unmerge, nil, customer.ErrNotFound},
	})
}

// TestMergeUnmerge_RoundTrip merges Bo into Ana, attaches a note through
// Bo's e-mail and a ticket through Ana's, edits Ana, and un-merges: Bo
// gets back exactly the profile it had and the note; Ana keeps what it had
// plus the edits, and the ticket.
func TestMergeUnmerge_RoundTrip(t *testing.T) {
	at := func(h int) time.Time { return noon.Add(time.Duration(h) * time.Hour) }
	newCustomer := func(id, code string, p customer.Profile) *customer.Customer {
		c, err := customer.New(customer.Create{By: admin, Source: api, ID: id, Kind: customer.Contact, Code: code, Profile: p}, at(0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ana := newCustomer(id, "PID-1", customer.Profile{Name: "Ana", Title: "CEO", Tags: []string{"vip"},
		Emails: []customer.Email{{Type: "Work", Value: "ana@example.com"}}})
	bo := newCustomer(otherID, "PID-2", customer.Profile{Name: "Bo", Title: "CTO", Passport: "B1", Gender: ptr(customer.Male), Tags: []string{"vip", "lead"},
		Emails: []customer.Email{{Value: "bo@example.com"}}, Phones: []customer.Phone{{Value: "0905 000 002", Normalized: "+84905000002"}},
		Custom: map[string]json.RawMessage{"Size": raw(`"M"`)}})
	anaBefore, boBefore := ana.Snapshot(), bo.Snapshot()

	// Merge, preferring Bo's title.
	profile, conflicts, err := customer.MergeProfiles(anaBefore, []customer.Snapshot{boBefore}, map[string]string{"title": otherID})
	if err != nil || len(conflicts) != 2 { // name and title
		t.Fatalf("MergeProfiles() = %v conflicts, %v; want name and title", conflicts, err)
	}
	if err := ana.Absorb(admin, api, boBefore, mergeID, profile, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := bo.MergeInto(admin, api, id, mergeID, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := bo.AddNote(admin, api, customer.NoteInput{NoteID: note, Body: "x"}, at(1)); !errors.Is(err, customer.ErrMerged) {
		t.Fatalf("AddNote() on the merged customer = %v, want ErrMerged", err)
	}

	// Attach through Bo's e-mail (moves back) and Ana's (stays), then edit:
	// a tag added and the gender (the merge brought it) changed.
	viaBo := &customer.Identity{Kind: customer.ByEmail, Value: "bo@example.com"}
	viaAna := &customer.Identity{Kind: customer.ByEmail, Value: "ana@example.com"}
	if err := ana.AddNote(admin, api, customer.NoteInput{NoteID: note, Body: "Called Bo", Via: viaBo}, at(2)); err != nil {
		t.Fatal(err)
	}
	if err := ana.LinkTicket(admin, api, ticket, 9, "Invoice", viaAna, at(2)); err != nil {
		t.Fatal(err)
	}
	if err := ana.LinkDeal(admin, api, deal, "Renewal", customer.RoleCustomer, &customer.Identity{Kind: customer.ByPhone, Value: "+84905000002"}, at(2)); err != nil {
		t.Fatal(err)
	}
	edited := ana.Snapshot().Profile
	edited.Tags = append(edited.Tags, "edited")
	edited.Gender = ptr(customer.Other)
	if err := ana.Update(admin, api, edited, at(3)); err != nil {
		t.Fatal(err)
	}

	// Un-merge.
	decided := len(ana.Pending())
	ev, err := ana.Unmerge(admin, api, bo.Snapshot(), at(4))
	if err != nil {
		t.Fatal(err)
	}
	moved := []customer.Item{{Kind: "note", ID: note}, {Kind: "deal", ID: deal}}
	if !equalJSON(ev.Items, moved) {
		t.Errorf("items moved = %v, want %v", ev.Items, moved)
	}
	if !equalJSON(ev.Identities, boBefore.Profile.Identities()) {
		t.Errorf("identities given back = %v, want Bo's %v", ev.Identities, boBefore.Profile.Identities())
	}
	if err := bo.Restore(admin, api, id, mergeID, ev.Items, at(4)); err != nil {
		t.Fatal(err)
	}

	wantAna := anaBefore.Profile
	wantAna.Tags = []string{"vip", "edited"}
	wantAna.Gender = ptr(customer.Other) // edited since the merge: kept
	if diff := cmp.Diff(wantAna, ana.Snapshot().Profile); diff != "" {
		t.Errorf("survivor's profile after the un-merge (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(boBefore.Profile, bo.Snapshot().Profile); diff != "" {
		t.Errorf("restored profile (-want +got):\n%s", diff)
	}
	if got, want := ana.Snapshot().Items, []customer.Item{{Kind: "ticket", ID: ticket}}; !equalJSON(got, want) {
		t.Errorf("survivor's items = %v, want %v", got, want)
	}
	if got := bo.Snapshot(); !equalJSON(got.Items, moved) || got.MergedInto != "" {
		t.Errorf("restored: items %v, merged into %q; want %v and live", got.Items, got.MergedInto, moved)
	}
	if got := ana.Snapshot().MergedFrom; len(got) != 0 {
		t.Errorf("survivor merged from %v after the un-merge, want none", got)
	}
	if err := bo.AddNote(admin, api, customer.NoteInput{NoteID: ticket, Body: "back"}, at(5)); err != nil {
		t.Errorf("AddNote() on the restored customer = %v, want nil", err)
	}
	// The deal moved away: linking it to the survivor again records it.
	if err := ana.LinkDeal(admin, api, deal, "Renewal", customer.RoleCustomer, nil, at(5)); err != nil {
		t.Fatal(err)
	}
	if p := ana.Pending(); p[len(p)-1].EventType() != "customer.deal_linked" {
		t.Errorf("LinkDeal() of a deal moved away recorded %s, want customer.deal_linked", p[len(p)-1].EventType())
	}
	for _, c := range []*customer.Customer{ana, bo} {
		domaintest.CheckReplay(t, c.Pending(), c.Snapshot(), customer.Codec(), customer.Rehydrate, customer.Evolve)
	}

	// The un-merge decided from stored history decides the same.
	again := customer.Rehydrate(domaintest.RoundTrip(t, ana.Pending()[:decided], customer.Codec()), int64(decided))
	ev2, err := again.Unmerge(admin, api, boBefore, at(4))
	if err != nil || !equalJSON(ev2, ev) {
		t.Errorf("Unmerge() after a reload = %s, %v; want %s", show(ev2), err, show(ev))
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
