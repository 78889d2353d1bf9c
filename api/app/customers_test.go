package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// customers returns the services over a fresh database with two tenants,
// the first with the default phone region VN.
func customers(t *testing.T) (*Services, Tenant, Tenant) {
	t.Helper()
	s, a, b, _ := customersNode(t)
	return s, a, b
}

// customersNode is customers that also returns a function starting
// another node: services of their own over the same database.
func customersNode(t *testing.T) (*Services, Tenant, Tenant, func() *Services) {
	t.Helper()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	node := func() *Services { return NewServices(store, db.DB, Config{FilesDir: t.TempDir(), Now: clock}) }
	s := node()
	ctx := context.Background()
	a, _, err := s.Tenants.Create(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.Tenants.Create(ctx, "Beta")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CRM.SetConfig(ctx, a.ID, crmconfig.SetConfig{Region: "VN"}, byAPI); err != nil {
		t.Fatal(err)
	}
	return s, a, b, node
}

func person(name string, emails []string, phones ...string) customer.Profile {
	p := customer.Profile{Name: name}
	for _, e := range emails {
		p.Emails = append(p.Emails, customer.Email{Value: e})
	}
	for _, ph := range phones {
		p.Phones = append(p.Phones, customer.Phone{Value: ph})
	}
	return p
}

func mustCreate(t *testing.T, s *Customers, tenant string, kind customer.Kind, p customer.Profile) customer.Snapshot {
	t.Helper()
	res, err := s.Create(context.Background(), tenant, kind, p, byAPI)
	if err != nil {
		t.Fatalf("Create(%s) = %v", p.Name, err)
	}
	if res.Duplicate {
		t.Fatalf("Create(%s) found a duplicate: %s", p.Name, res.Customer.ID)
	}
	return res.Customer
}

// TestCustomers_CreateRaceOneWinner: twenty creates with one e-mail
// address (differently written) at once make exactly one customer; every
// other answer names it as the duplicate and leaves a duplicate submission
// on its history.
func TestCustomers_CreateRaceOneWinner(t *testing.T) {
	s, acme, _ := customers(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]int{}
	dups := map[string]int{}
	for i := range 20 {
		wg.Go(func() {
			email := "Ana@Example.com"
			if i%2 == 1 {
				email = " ana@example.COM"
			}
			res, err := s.Customers.Create(ctx, acme.ID, customer.Contact, person("Ana", []string{email}), byAPI)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("Create() = %v", err)
			case res.Duplicate:
				dups[res.Customer.ID]++
			default:
				created[res.Customer.ID]++
			}
		})
	}
	wg.Wait()
	if len(created) != 1 {
		t.Fatalf("created %v, want exactly one customer", created)
	}
	var winner string
	for id := range created {
		winner = id
	}
	if len(dups) != 1 || dups[winner] != 19 {
		t.Errorf("duplicates answered %v, want 19 naming %s", dups, winner)
	}
	evs, err := readStream(ctx, s.Customers.store, customerStream(acme.ID, winner))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == "customer.duplicate_submitted" {
			n++
		}
	}
	if n != 19 {
		t.Errorf("the winner's history has %d duplicate submissions, want 19", n)
	}
	// The losers took codes and wrote nothing: they gave them back. The
	// winner and 19 more contacts have PID-1 .. PID-20, no gap between.
	codes := map[string]bool{mustGet(t, s, acme.ID, winner).Code: true}
	for i := range 19 {
		codes[mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Bea", []string{fmt.Sprintf("bea%d@example.com", i)})).Code] = true
	}
	for i := 1; i <= 20; i++ {
		if !codes[fmt.Sprintf("PID-%d", i)] {
			t.Errorf("codes after the race = %v, want PID-1 .. PID-20: the duplicates left gaps", codes)
			break
		}
	}
}

// mustGet reads customer ref of tenant.
func mustGet(t *testing.T, s *Services, tenant, ref string) customer.Snapshot {
	t.Helper()
	c, _, err := s.Customers.Get(context.Background(), tenant, ref)
	if err != nil {
		t.Fatalf("Get(%s) = %v", ref, err)
	}
	return c
}

func TestCustomers_DuplicateRules(t *testing.T) {
	s, acme, beta := customers(t)
	ctx := context.Background()
	ana := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Ana", []string{"ana@example.com"}, "0905000001"))
	if got := ana.Profile.Phones[0].Normalized; got != "+84905000001" {
		t.Errorf("phone normalised to %q in region VN, want +84905000001", got)
	}
	bo := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Bo", []string{"bo@example.com"}))

	t.Run("same phone written otherwise is a duplicate", func(t *testing.T) {
		res, err := s.Customers.Create(ctx, acme.ID, customer.Lead, person("Ana B", nil, "+84 905 000 001"), byAPI)
		if err != nil || !res.Duplicate || res.Customer.ID != ana.ID {
			t.Fatalf("Create() = %+v, %v; want a duplicate of %s", res, err, ana.ID)
		}
		want := []customer.Identity{{Kind: customer.ByPhone, Value: "+84905000001"}}
		if diff := cmp.Diff(want, res.Matched); diff != "" {
			t.Errorf("matched (-want +got):\n%s", diff)
		}
	})
	t.Run("identities of two customers conflict", func(t *testing.T) {
		_, err := s.Customers.Create(ctx, acme.ID, customer.Contact, person("X", []string{"ana@example.com", "bo@example.com"}), byAPI)
		if !errors.Is(err, ErrIdentityConflict) {
			t.Fatalf("Create() = %v, want ErrIdentityConflict", err)
		}
		for _, id := range []string{ana.ID, bo.ID} {
			if !strings.Contains(err.Error(), id) {
				t.Errorf("error %q does not name %s", err, id)
			}
		}
	})
	t.Run("another tenant has its own graph", func(t *testing.T) {
		other := mustCreate(t, s.Customers, beta.ID, customer.Contact, person("Ana", []string{"ana@example.com"}))
		if other.ID == ana.ID || other.Code != "PID-1" {
			t.Errorf("other tenant's customer = %s %s, want a new PID-1", other.ID, other.Code)
		}
		if _, _, err := s.Customers.Get(ctx, beta.ID, ana.ID); !errors.Is(err, customer.ErrNotFound) {
			t.Errorf("Get(other tenant's id) = %v, want ErrNotFound", err)
		}
		if _, _, err := s.Customers.Get(ctx, beta.ID, "PID-2"); !errors.Is(err, customer.ErrNotFound) {
			t.Errorf("Get(code only the other tenant has) = %v, want ErrNotFound", err)
		}
	})
}

func TestCustomers_CodesConvertAndIdempotency(t *testing.T) {
	s, acme, _ := customers(t)
	ctx := context.Background()
	c := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Ana", nil))
	a := mustCreate(t, s.Customers, acme.ID, customer.Account, person("Acme Ltd", nil))
	l := mustCreate(t, s.Customers, acme.ID, customer.Lead, person("Lee", []string{"lee@example.com"}))
	if c.Code != "PID-1" || a.Code != "CID-1" || l.Code != "LID-1" {
		t.Fatalf("codes %s %s %s, want PID-1 CID-1 LID-1", c.Code, a.Code, l.Code)
	}
	got, _, err := s.Customers.Get(ctx, acme.ID, "cid-1")
	if err != nil || got.ID != a.ID {
		t.Fatalf("Get(cid-1) = %s, %v; want %s", got.ID, err, a.ID)
	}
	res, err := s.Customers.Convert(ctx, acme.ID, "LID-1", byAPI)
	if err != nil {
		t.Fatal(err)
	}
	if res.Customer.Kind != customer.Contact || res.Customer.Code != "PID-2" {
		t.Errorf("converted lead = %s %s, want contact PID-2", res.Customer.Kind, res.Customer.Code)
	}
	for _, code := range []string{"LID-1", "PID-2"} {
		if got, _, err := s.Customers.Get(ctx, acme.ID, code); err != nil || got.ID != l.ID {
			t.Errorf("Get(%s) = %s, %v; want the converted lead %s", code, got.ID, err, l.ID)
		}
	}
	if _, err := s.Customers.Convert(ctx, acme.ID, "PID-2", byAPI); !errors.Is(err, customer.ErrNotLead) {
		t.Errorf("Convert(contact) = %v, want ErrNotLead", err)
	}

	keyed := byAPI
	keyed.Idempotency = "tenant/key-1/fingerprint"
	first, err := s.Customers.Create(ctx, acme.ID, customer.Contact, person("Kay", []string{"kay@example.com"}), keyed)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Customers.Create(ctx, acme.ID, customer.Contact, person("Kay", []string{"kay@example.com"}), keyed)
	if err != nil || again.Duplicate || again.Customer.ID != first.Customer.ID {
		t.Fatalf("retry = %+v, %v; want the first answer (%s), not a duplicate", again, err, first.Customer.ID)
	}
}

func TestCustomers_UpdateMovesIdentities(t *testing.T) {
	s, acme, _ := customers(t)
	ctx := context.Background()
	ana := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Ana", []string{"old@example.com"}))
	bo := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Bo", []string{"bo@example.com"}))
	_, err := s.Customers.Update(ctx, acme.ID, ana.ID, func(p customer.Profile) customer.Profile {
		p.Emails = []customer.Email{{Value: "new@example.com"}}
		return p
	}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	// The old address is free again; the new one is Ana's.
	mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Cy", []string{"old@example.com"}))
	res, err := s.Customers.Create(ctx, acme.ID, customer.Contact, person("Ana?", []string{"NEW@example.com"}), byAPI)
	if err != nil || !res.Duplicate || res.Customer.ID != ana.ID {
		t.Errorf("Create(new address) = %+v, %v; want a duplicate of Ana", res.Customer.ID, err)
	}
	_, err = s.Customers.Update(ctx, acme.ID, ana.ID, func(p customer.Profile) customer.Profile {
		p.Emails = append(p.Emails, customer.Email{Value: "bo@example.com"})
		return p
	}, byAPI)
	if !errors.Is(err, ErrIdentityTaken) || !strings.Contains(err.Error(), bo.ID) {
		t.Errorf("Update(taking Bo's address) = %v, want ErrIdentityTaken naming %s", err, bo.ID)
	}
}

// TestCustomers_MergeUnmerge merges Bo into Ana, attaches a note and a
// ticket to the survivor through one of Bo's e-mail addresses, un-merges,
// and compares the restored Bo with what Bo was.
func TestCustomers_MergeUnmerge(t *testing.T) {
	s, acme, _ := customers(t)
	ctx := context.Background()
	ana := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Ana", []string{"ana@example.com"}))
	boIn := person("Bo", []string{"bo@example.com", "bo@work.example"}, "0905000002")
	boIn.Title = "Buyer"
	bo := mustCreate(t, s.Customers, acme.ID, customer.Contact, boIn)
	if _, _, err := s.Customers.AddNote(ctx, acme.ID, bo.ID, NoteInput{Body: "before the merge"}, byAPI); err != nil {
		t.Fatal(err)
	}
	boBefore, _, err := s.Customers.Get(ctx, acme.ID, bo.ID)
	if err != nil {
		t.Fatal(err)
	}

	dry, err := s.Customers.Merge(ctx, acme.ID, ana.ID, []string{bo.Code}, nil, true, byAPI)
	if err != nil || !dry.DryRun || len(dry.Conflicts) == 0 {
		t.Fatalf("dry run = %+v, %v; want the name conflict listed", dry, err)
	}
	if after, _, _ := s.Customers.Get(ctx, acme.ID, bo.ID); after.ID != bo.ID {
		t.Fatalf("a dry run merged: Get(Bo) = %s", after.ID)
	}
	merged, err := s.Customers.Merge(ctx, acme.ID, ana.ID, []string{bo.Code}, map[string]string{"title": bo.ID}, false, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Customer.Profile.Title != "Buyer" || merged.Customer.Profile.Name != "Ana" {
		t.Errorf("survivor = %+v, want Ana's name and Bo's title", merged.Customer.Profile)
	}
	got, _, err := s.Customers.Get(ctx, acme.ID, bo.Code)
	if err != nil || got.ID != ana.ID || !slices.Contains(got.MergedFrom, bo.ID) {
		t.Fatalf("Get(Bo's code) = %s (merged_from %v), %v; want Ana listing Bo", got.ID, got.MergedFrom, err)
	}
	ids, _ := s.Customers.Identify(ctx, acme.ID, []customer.Identity{{Kind: customer.ByEmail, Value: "BO@example.com"}})
	found, via, ok, err := s.Customers.Find(ctx, acme.ID, ids)
	if err != nil || !ok || found.ID != ana.ID {
		t.Fatalf("Find(Bo's address) = %s, %v, %v; want Ana", found.ID, ok, err)
	}
	note, _, err := s.Customers.AddNote(ctx, acme.ID, found.ID, NoteInput{Body: "after the merge", Via: &via}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	ticketID := "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	if _, err := s.Customers.LinkTicket(ctx, acme.ID, found.ID, ticketID, 7, "Help", &via, byAPI); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Customers.AddNote(ctx, acme.ID, ana.ID, NoteInput{Body: "Ana's own"}, byAPI); err != nil {
		t.Fatal(err)
	}

	res, err := s.Customers.Unmerge(ctx, acme.ID, ana.ID, bo.ID, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	restored := res.Customer
	if diff := cmp.Diff(boBefore.Profile, restored.Profile); diff != "" {
		t.Errorf("restored profile differs from Bo's before the merge (-before +restored):\n%s", diff)
	}
	wantItems := append(slices.Clone(boBefore.Items), customer.Item{Kind: "note", ID: note.NoteID}, customer.Item{Kind: "ticket", ID: ticketID})
	if diff := cmp.Diff(wantItems, restored.Items); diff != "" {
		t.Errorf("restored items (-want +got):\n%s", diff)
	}
	found, _, ok, err = s.Customers.Find(ctx, acme.ID, ids)
	if err != nil || !ok || found.ID != bo.ID {
		t.Errorf("Find(Bo's address) after the un-merge = %s, %v, %v; want Bo", found.ID, ok, err)
	}
	ana2, _, err := s.Customers.Get(ctx, acme.ID, ana.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ana.Profile, ana2.Profile); diff != "" {
		t.Errorf("Ana after the un-merge differs from Ana before the merge (-before +after):\n%s", diff)
	}
	if _, err := s.Customers.Unmerge(ctx, acme.ID, ana.ID, bo.ID, byAPI); !errors.Is(err, customer.ErrNotMerged) {
		t.Errorf("second Unmerge() = %v, want ErrNotMerged", err)
	}
}

// TestCustomers_DealLinks: a deal names its customer and contacts by id or
// code; each gets the deal on its own timeline in the deal's own append,
// once per role, and a reference to no customer is refused by field.
func TestCustomers_DealLinks(t *testing.T) {
	s, acme, beta := customers(t)
	ctx := context.Background()
	p, _, err := s.Pipelines.Create(ctx, acme.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{{Name: "Lead"}}}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	ana := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Ana", []string{"ana@example.com"}))
	bo := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Bo", nil))
	d, _, err := s.Deals.Create(ctx, acme.ID, deal.CreateDeal{Details: deal.Details{Name: "Booking", Pipeline: p.ID, Stage: "Lead",
		Customer: ana.Code, Contacts: []string{bo.ID, ana.ID}}}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	if d.Customer != ana.ID {
		t.Errorf("deal customer = %q, want Ana's id for her code", d.Customer)
	}
	for _, c := range []customer.Snapshot{ana, bo} {
		got, _, err := s.Customers.Get(ctx, acme.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := []customer.Item{{Kind: "deal", ID: d.ID}}; !slices.Equal(got.Items, want) {
			t.Errorf("%s items = %v, want %v", c.Profile.Name, got.Items, want)
		}
	}
	evs, err := readStream(ctx, s.Customers.store, customerStream(acme.ID, ana.ID))
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, e := range evs {
		if e.Type == "customer.deal_linked" {
			links++
		}
	}
	if links != 2 {
		t.Errorf("Ana has %d deal links, want 2 (customer and contact)", links)
	}
	other := mustCreate(t, s.Customers, beta.ID, customer.Contact, person("Cy", nil))
	_, _, err = s.Deals.Create(ctx, acme.ID, deal.CreateDeal{Details: deal.Details{Name: "X", Pipeline: p.ID, Stage: "Lead",
		Customer: other.ID, Contacts: []string{"PID-99"}}}, byAPI)
	for _, field := range []string{"customer", "contacts[0]"} {
		if !slices.ContainsFunc(domain.Errors(err), func(e *domain.Error) bool { return e.Field == field }) {
			t.Errorf("Create(unknown customers) = %v, want an error at %s", err, field)
		}
	}
}

// TestCustomers_CreateOnAStaleConfig: a node's create decides on the CRM
// configuration it holds and reads the configuration again along with the
// identities; a change another node made meanwhile (a new region, a new
// custom field) is what the create sees, never the stale copy.
func TestCustomers_CreateOnAStaleConfig(t *testing.T) {
	s, acme, _, node := customersNode(t)
	other := node()
	ctx := context.Background()
	mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Warm", []string{"warm@example.com"})) // s now holds the config

	if _, _, err := other.CRM.SetConfig(ctx, acme.ID, crmconfig.SetConfig{Region: "US"}, byAPI); err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, s.Customers, acme.ID, customer.Contact, person("Ana", nil, "202 555 0101"))
	if got := c.Profile.Phones[0].Normalized; got != "+12025550101" {
		t.Errorf("phone normalised to %q after the region became US elsewhere, want +12025550101", got)
	}
	if found, _, ok, err := s.Customers.Find(ctx, acme.ID, []customer.Identity{{Kind: customer.ByPhone, Value: "+12025550101"}}); err != nil || !ok || found.ID != c.ID {
		t.Errorf("Find(+12025550101) = %s, %t, %v; want %s", found.ID, ok, err, c.ID)
	}

	if _, _, err := other.CRM.SetCustomFields(ctx, acme.ID, []crmconfig.FieldDef{{Name: "Size", Entity: crmconfig.EntityContact, Type: crmconfig.Text}}, byAPI); err != nil {
		t.Fatal(err)
	}
	p := person("Bao", []string{"bao@example.com"})
	p.Custom = map[string]json.RawMessage{"Size": json.RawMessage(`"L"`)}
	if c := mustCreate(t, s.Customers, acme.ID, customer.Contact, p); string(c.Profile.Custom["Size"]) != `"L"` {
		t.Errorf("custom fields %v, want Size L (defined on another node)", c.Profile.Custom)
	}
}
