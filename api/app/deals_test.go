package app

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// dealsEnv is every service over a fresh database with two tenants.
func dealsEnv(t *testing.T) (*Services, eventstore.Store, Tenant, Tenant) {
	t.Helper()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	s := NewServices(store, db.DB, Config{FilesDir: t.TempDir(), Now: clock})
	a, _, err := s.Tenants.Create(context.Background(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.Tenants.Create(context.Background(), "Beta")
	if err != nil {
		t.Fatal(err)
	}
	return s, store, a, b
}

func keyed(key string) Meta { m := byAPI; m.Idempotency = key; return m }

func TestCRM_Config(t *testing.T) {
	s, _, acme, beta := dealsEnv(t)
	ctx := context.Background()
	if c, _, err := s.CRM.Get(ctx, acme.ID); err != nil || c.Region != "" || len(c.DealCategories) != 0 {
		t.Fatalf("Get(never set) = %+v, %v; want the empty default", c, err)
	}
	c, pos, err := s.CRM.SetConfig(ctx, acme.ID, crmconfig.SetConfig{Region: "vn", DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}, byAPI)
	if err != nil || c.Region != "VN" || pos.IsZero() {
		t.Fatalf("SetConfig() = %+v, %v, %v", c, pos, err)
	}
	_, _, err = s.CRM.SetConfig(ctx, acme.ID, crmconfig.SetConfig{Region: "QQ"}, byAPI)
	domaintest.CheckErr(t, err, crmconfig.ErrInvalidRegion.At("region"))
	if _, _, err := s.CRM.SetCustomFields(ctx, acme.ID, []crmconfig.FieldDef{{Name: "Budget", Entity: crmconfig.EntityDeal, Type: crmconfig.Number}}, byAPI); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.CRM.Get(ctx, acme.ID); len(got.CustomFields) != 1 || got.Version != 2 {
		t.Errorf("Get() = %+v, want one field at version 2", got)
	}
	if other, _, _ := s.CRM.Get(ctx, beta.ID); other.Version != 0 {
		t.Errorf("another tenant's config = %+v, want untouched", other)
	}
}

func TestPipelines(t *testing.T) {
	s, _, acme, beta := dealsEnv(t)
	ctx := context.Background()
	p, _, err := s.Pipelines.Create(ctx, acme.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{
		{Name: "Lead", Probability: "0.1"}, {Name: "Won", Kind: pipeline.Won}}}, keyed("p1"))
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := s.Pipelines.Create(ctx, acme.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{
		{Name: "Lead", Probability: "0.1"}, {Name: "Won", Kind: pipeline.Won}}}, keyed("p1"))
	if err != nil || again.ID != p.ID {
		t.Fatalf("retry = %+v, %v; want the same pipeline", again, err)
	}
	_, _, err = s.Pipelines.Create(ctx, acme.ID, pipeline.CreatePipeline{Name: " sales", Stages: p.Stages}, byAPI)
	domaintest.CheckErr(t, err, pipeline.ErrNameTaken)
	if _, _, err := s.Pipelines.Create(ctx, beta.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{{Name: "A"}}}, byAPI); err != nil {
		t.Errorf("another tenant's Sales: %v", err)
	}
	stages := []pipeline.Stage{{Name: "Lead"}, {Name: "Proposal", Probability: "0.5"}, {Name: "Won", Kind: pipeline.Won, Probability: "1"}}
	name := "Renewals"
	u, _, err := s.Pipelines.Update(ctx, acme.ID, p.ID, PipelineChange{Name: &name, Stages: &stages}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Renewals" || len(u.Stages) != 3 || u.Stages[0].ID != p.Stages[0].ID || u.Stages[2].ID != p.Stages[1].ID || u.Stages[1].ID == "" {
		t.Errorf("Update() = %+v; want the stages of the same names to keep their ids", u)
	}
	_, _, err = s.Pipelines.Update(ctx, beta.ID, p.ID, PipelineChange{Name: &name}, byAPI)
	domaintest.CheckErr(t, err, pipeline.ErrNotFound)
	if list, err := s.Pipelines.List(ctx, acme.ID); err != nil || len(list) != 1 {
		t.Errorf("List() = %v, %v; want 1", list, err)
	}
}

func TestDeals(t *testing.T) {
	s, store, acme, beta := dealsEnv(t)
	ctx := context.Background()
	if _, _, err := s.CRM.SetConfig(ctx, acme.ID, crmconfig.SetConfig{DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}, byAPI); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CRM.SetCustomFields(ctx, acme.ID, []crmconfig.FieldDef{{Name: "Budget", Entity: crmconfig.EntityDeal, Type: crmconfig.Number}}, byAPI); err != nil {
		t.Fatal(err)
	}
	p, _, err := s.Pipelines.Create(ctx, acme.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{{Name: "Lead"}, {Name: "Won", Kind: pipeline.Won}}}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	ana, _, err := s.Agents.Create(ctx, acme.ID, agent.CreateAgent{Email: "ana@example.com", Name: "Ana"}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	billing, _, err := s.Groups.Create(ctx, acme.ID, group.CreateGroup{Name: "Billing"}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	c := deal.CreateDeal{Details: deal.Details{ExternalID: "1234567890", Name: "Booking-ID #0003", Value: "50000", Currency: "VND",
		Pipeline: p.ID, Stage: "lead", Category: "UI Design", Owners: deal.Owners{Agents: []string{ana.ID}, Groups: []string{billing.ID}},
		Custom: map[string]json.RawMessage{"Budget": json.RawMessage(`"7.5"`)}}}
	asAna := Meta{By: ana.Actor(), Source: domain.SourceAPI, Idempotency: "d1"}
	d, pos, err := s.Deals.Create(ctx, acme.ID, c, asAna)
	if err != nil {
		t.Fatal(err)
	}
	if d.Stage != p.Stages[0].ID || d.Owner != ana.ID || string(d.Custom["Budget"]) != `7.5` || pos.IsZero() {
		t.Errorf("Create() = %+v; want the stage by name, ana as owner, Budget 7.5", d)
	}
	if again, _, err := s.Deals.Create(ctx, acme.ID, c, asAna); err != nil || again.ID != d.ID {
		t.Errorf("retry = %+v, %v; want the same deal", again, err)
	}
	_, _, err = s.Deals.Create(ctx, acme.ID, c, byAPI)
	domaintest.CheckErr(t, err, deal.ErrExternalIDTaken)
	if got, err := s.Deals.ByExternalID(ctx, acme.ID, "1234567890"); err != nil || got.ID != d.ID {
		t.Errorf("ByExternalID() = %+v, %v", got, err)
	}
	// Owners must be the tenant's; every missing one is named.
	bad := c
	bad.ExternalID = ""
	bad.Owners = deal.Owners{Agents: []string{billing.ID}, Groups: []string{ana.ID}}
	_, _, err = s.Deals.Create(ctx, acme.ID, bad, byAPI)
	domaintest.CheckErr(t, err, deal.ErrInvalidField.At("owners.agents[0]"))
	domaintest.CheckErr(t, err, deal.ErrInvalidField.At("owners.groups[0]"))
	_, _, err = s.Deals.Create(ctx, beta.ID, bad, byAPI)
	domaintest.CheckErr(t, err, deal.ErrInvalidField.At("pipeline"))

	// Update: fields, then a stage change as its own event.
	won := "Won"
	name := "Booking 3"
	u, _, err := s.Deals.Update(ctx, acme.ID, d.ID, deal.UpdateDeal{Name: &name, Stage: &won}, byAPI)
	if err != nil || u.Stage != p.Stages[1].ID || u.Name != name {
		t.Fatalf("Update() = %+v, %v", u, err)
	}
	evs, err := store.ReadStream(ctx, dealStream(acme.ID, d.ID), 1, 10)
	if err != nil || len(evs) != 3 || evs[1].Type != "deal.updated" || evs[2].Type != "deal.stage_changed" {
		t.Fatalf("stream = %v, %v; want created, updated, stage_changed", evs, err)
	}
	_, _, err = s.Deals.Update(ctx, beta.ID, d.ID, deal.UpdateDeal{Name: &name}, byAPI)
	domaintest.CheckErr(t, err, deal.ErrNotFound)

	// Notes.
	asAna.Idempotency = "n1"
	n, _, _, err := s.Deals.AddNote(ctx, acme.ID, d.ID, deal.AddNote{Body: "Called", Permit: domain.Permit{Kind: domain.PermitOwnerGroup, Group: billing.ID}}, asAna)
	if err != nil || n.Owner != ana.ID || n.Body != "Called" {
		t.Fatalf("AddNote() = %+v, %v", n, err)
	}
	_, _, _, err = s.Deals.AddNote(ctx, acme.ID, d.ID, deal.AddNote{Body: "x", Permit: domain.Permit{Kind: domain.PermitOwnerGroup, Group: ana.ID}}, byAPI)
	domaintest.CheckErr(t, err, deal.ErrInvalidField.At("permit.group"))
	if _, notes, err := s.Deals.Notes(ctx, acme.ID, d.ID); err != nil || len(notes) != 1 {
		t.Errorf("Notes() = %v, %v; want 1", notes, err)
	}
	if list, err := s.Deals.List(ctx, acme.ID); err != nil || len(list) != 1 {
		t.Errorf("List() = %v, %v; want 1", list, err)
	}
	// A stage removed while a deal is in it: the deal keeps the stage's id
	// and can still be changed; moving it needs a stage the pipeline has.
	only := []pipeline.Stage{{Name: "Lead"}}
	if _, _, err := s.Pipelines.Update(ctx, acme.ID, p.ID, PipelineChange{Stages: &only}, byAPI); err != nil {
		t.Fatal(err)
	}
	renamed := "Booking 4"
	if got, _, err := s.Deals.Update(ctx, acme.ID, d.ID, deal.UpdateDeal{Name: &renamed}, byAPI); err != nil || got.Stage != p.Stages[1].ID {
		t.Errorf("Update() in a removed stage = %+v, %v; want the stage kept", got, err)
	}
	_, _, err = s.Deals.Update(ctx, acme.ID, d.ID, deal.UpdateDeal{Stage: &won}, byAPI)
	domaintest.CheckErr(t, err, deal.ErrUnknownStage.At("stage"))
	if list, err := s.Deals.List(ctx, beta.ID); err != nil || len(list) != 0 {
		t.Errorf("List(beta) = %v, %v; want none", list, err)
	}
}

// TestDeals_Link checks that the link hook's appends land in the same
// atomic append as the deal's own events, or nothing does.
func TestDeals_Link(t *testing.T) {
	s, store, acme, _ := dealsEnv(t)
	ctx := context.Background()
	p, _, err := s.Pipelines.Create(ctx, acme.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{{Name: "Lead"}, {Name: "Won"}}}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	cust := "55555555-5555-4555-8555-555555555555"
	custStream := eventstore.StreamRef{TenantID: acme.ID, Type: "customer", ID: cust}
	var fail bool
	s.Deals.resolve = nil // the customer here is a bare stream: this test is about the link's atomicity
	s.Deals.link = func(ctx context.Context, tenant string, d deal.Snapshot, m Meta) ([]eventstore.StreamAppend, error) {
		ev := eventstore.EventData{ID: NewID(), Type: "customer.deal_linked", Data: json.RawMessage(`{"deal_id":"` + d.ID + `"}`)}
		if fail {
			ev.Type = "" // invalid: the whole append fails
		}
		return []eventstore.StreamAppend{{Stream: custStream, Expected: eventstore.Any, Events: []eventstore.EventData{ev}}}, nil
	}
	d, _, err := s.Deals.Create(ctx, acme.ID, deal.CreateDeal{Details: deal.Details{Name: "D", Pipeline: p.ID, Stage: "Lead", Customer: cust}}, keyed("link-1"))
	if err != nil {
		t.Fatal(err)
	}
	if again, _, err := s.Deals.Create(ctx, acme.ID, deal.CreateDeal{Details: deal.Details{Name: "D", Pipeline: p.ID, Stage: "Lead", Customer: cust}}, keyed("link-1")); err != nil || again.ID != d.ID {
		t.Errorf("retry = %+v, %v; want the same deal", again, err)
	}
	won := "Won"
	if _, _, err := s.Deals.Update(ctx, acme.ID, d.ID, deal.UpdateDeal{Stage: &won}, byAPI); err != nil {
		t.Fatal(err)
	}
	if evs, _ := store.ReadStream(ctx, custStream, 1, 10); len(evs) != 2 {
		t.Errorf("customer stream holds %d events, want 2 (create, update)", len(evs))
	}
	fail = true
	name := "E"
	if _, _, err := s.Deals.Update(ctx, acme.ID, d.ID, deal.UpdateDeal{Name: &name}, byAPI); err == nil {
		t.Fatal("Update() with a failing link = nil error")
	}
	if got, _, _ := s.Deals.Get(ctx, acme.ID, d.ID); got.Name != "D" || got.Version != 2 {
		t.Errorf("deal after a failed linked update = %+v, want unchanged", got)
	}
	_, _, err = s.Deals.Create(ctx, acme.ID, deal.CreateDeal{Details: deal.Details{Name: "F", Pipeline: p.ID, Stage: "Lead"}}, byAPI)
	if err == nil || errors.Is(err, deal.ErrNotFound) {
		t.Fatalf("Create() with a failing link = %v", err)
	}
	if list, _ := s.Deals.List(ctx, acme.ID); len(list) != 1 {
		t.Errorf("deals = %d, want 1: nothing of the failed create stored", len(list))
	}
}

// TestDeals_ExternalIDUnderRace: 20 creates with one external id at once
// make exactly one deal; every other answer names the taken id.
func TestDeals_ExternalIDUnderRace(t *testing.T) {
	s, _, acme, _ := dealsEnv(t)
	ctx := context.Background()
	if _, _, err := s.Pipelines.Create(ctx, acme.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{{Name: "Lead"}}}, byAPI); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won, taken int
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.Deals.Create(ctx, acme.ID, deal.CreateDeal{Details: deal.Details{ExternalID: "11358", Name: "Booking-ID1135", Stage: "Lead"}}, byAPI)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, deal.ErrExternalIDTaken):
				taken++
			default:
				t.Errorf("Create() = %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || taken != 19 {
		t.Errorf("won %d, taken %d; want 1 and 19", won, taken)
	}
	if list, _ := s.Deals.List(ctx, acme.ID); len(list) != 1 {
		t.Errorf("deals = %d, want 1", len(list))
	}
}
