package projections_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/projections"
)

// pipe is a pipeline under test.
type pipe struct {
	tenant string
	hist   []domain.Event
}

func (p *pipe) snap() pipeline.Snapshot {
	return pipeline.Rehydrate(p.hist, int64(len(p.hist))).Snapshot()
}

// newPipeline appends a pipeline with stages named after their kinds'
// order: Lead (open, 0.1), Proposal (open, 0.5), Won, Lost.
func (f *crmFixture) newPipeline(t *testing.T, tenant, name string) *pipe {
	t.Helper()
	p, err := pipeline.New(pipeline.CreatePipeline{By: agent, Source: domain.SourceAPI, ID: uuid.NewString(), Name: name,
		Stages: []pipeline.Stage{
			{ID: uuid.NewString(), Name: "Lead", Probability: "0.1", Kind: pipeline.Open},
			{ID: uuid.NewString(), Name: "Proposal", Probability: "0.5", Kind: pipeline.Open},
			{ID: uuid.NewString(), Name: "Won", Probability: "1", Kind: pipeline.Won},
			{ID: uuid.NewString(), Name: "Lost", Probability: "0", Kind: pipeline.Lost},
		}}, noon)
	if err != nil {
		t.Fatal(err)
	}
	f.appendEvents(t, pipeline.Codec(), tenant, pipeline.StreamType, p.Snapshot().ID, 0, p.Pending())
	return &pipe{tenant: tenant, hist: p.Pending()}
}

// dl is a deal under test.
type dl struct {
	tenant string
	hist   []domain.Event
}

func (d *dl) snap() deal.Snapshot { return deal.Rehydrate(d.hist, int64(len(d.hist))).Snapshot() }

var dealConfig = crm.Snapshot{DealCategories: []string{"New business"}, Packages: []string{"Gold"}}

func (f *crmFixture) newDeal(t *testing.T, p *pipe, stage int, x deal.Details) *dl {
	t.Helper()
	f.n++
	ps := p.snap()
	x.Pipeline, x.Stage = ps.ID, ps.Stages[stage].ID
	d, err := deal.New(deal.CreateDeal{By: agent, Source: domain.SourceAPI, ID: uuid.NewString(), Details: x},
		deal.Context{Config: dealConfig, Pipeline: ps}, noon.Add(time.Duration(f.n)*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f.appendEvents(t, deal.Codec(), p.tenant, deal.StreamType, d.Snapshot().ID, 0, d.Pending())
	return &dl{tenant: p.tenant, hist: d.Pending()}
}

func (f *crmFixture) updateDeal(t *testing.T, d *dl, p *pipe, u deal.UpdateDeal) {
	t.Helper()
	a := deal.Rehydrate(d.hist, int64(len(d.hist)))
	if err := a.Update(u, deal.Context{Config: dealConfig, Pipeline: p.snap()}, agent, domain.SourceAPI, noon.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.appendEvents(t, deal.Codec(), d.tenant, deal.StreamType, a.Snapshot().ID, a.Version(), a.Pending())
	d.hist = append(d.hist, a.Pending()...)
}

func dealNames(page projections.DealPage) []string {
	var out []string
	for _, d := range page.Deals {
		out = append(out, d.Name)
	}
	return out
}

func TestDeals(t *testing.T) {
	f := newCRMFixture(t)
	f.start(t)
	dq := projections.NewDealQueries(f.db.DB)
	sales := f.newPipeline(t, "t1", "Sales")
	renewals := f.newPipeline(t, "t1", "Renewals")
	ana, bo, grp, customer, contact := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	big := f.newDeal(t, sales, 0, deal.Details{Name: "Big deal", ExternalID: "D-1", Value: "1234.50", Currency: "USD",
		CloseDate: "2026-12-20", Category: "New business", Owners: deal.Owners{Agents: []string{ana}}, Customer: customer})
	small := f.newDeal(t, sales, 0, deal.Details{Name: "Small deal", Value: "0.25", Currency: "USD",
		CloseDate: "2027-01-10", Owners: deal.Owners{Groups: []string{grp}}, Contacts: []string{customer, contact}})
	f.newDeal(t, sales, 1, deal.Details{Name: "Euro deal", Value: "100", Currency: "EUR", Owner: bo,
		Permit: domain.Permit{Kind: domain.PermitOwner}})
	f.newDeal(t, sales, 1, deal.Details{Name: "No value"})
	f.newDeal(t, renewals, 0, deal.Details{Name: "Renewal", Value: "5", Currency: "USD"})
	f.newDeal(t, &pipe{tenant: "t2", hist: sales.hist}, 0, deal.Details{Name: "Other tenant", Value: "7", Currency: "USD"})
	// Win the small deal; rename the big one.
	won := sales.snap().Stages[2].ID
	f.updateDeal(t, small, sales, deal.UpdateDeal{Stage: &won})
	rename := "Bigger deal"
	f.updateDeal(t, big, sales, deal.UpdateDeal{Name: &rename})
	f.waitFor(t, projections.DealsName)

	stages := sales.snap().Stages
	admin := domain.Viewer{Admin: true}
	tests := []struct {
		name string
		f    projections.DealFilter
		want []string
	}{
		{"all, newest first", projections.DealFilter{}, []string{"Renewal", "No value", "Euro deal", "Small deal", "Bigger deal"}},
		{"pipeline", projections.DealFilter{Pipeline: renewals.snap().ID}, []string{"Renewal"}},
		{"stage", projections.DealFilter{Stage: []string{stages[1].ID}}, []string{"No value", "Euro deal"}},
		{"stage kind", projections.DealFilter{StageKind: []string{"won"}}, []string{"Small deal"}},
		{"owner agent", projections.DealFilter{Owner: ana}, []string{"Bigger deal"}},
		{"owner group", projections.DealFilter{Owner: grp}, []string{"Small deal"}},
		{"permit owner", projections.DealFilter{Owner: bo}, []string{"Euro deal"}},
		{"customer", projections.DealFilter{Customer: customer}, []string{"Small deal", "Bigger deal"}},
		{"related contact", projections.DealFilter{Customer: contact}, []string{"Small deal"}},
		{"close from", projections.DealFilter{CloseFrom: time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)}, []string{"Small deal"}},
		{"close to, inclusive", projections.DealFilter{CloseTo: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)}, []string{"Bigger deal"}},
		{"another agent", projections.DealFilter{Viewer: domain.Viewer{Agent: ana}}, []string{"Renewal", "No value", "Small deal", "Bigger deal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.TenantID = "t1"
			if tt.f.Viewer.Agent == "" {
				tt.f.Viewer = admin
			}
			page, err := dq.List(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, dealNames(page)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
	page, err := dq.List(context.Background(), projections.DealFilter{TenantID: "t1", Viewer: domain.Viewer{Agent: bo}, Owner: bo})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Euro deal"}, dealNames(page)); diff != "" {
		t.Errorf("the permit's owner sees (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(big.snap(), page0(t, dq, "Bigger deal"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("read model differs from the aggregate (-aggregate +read model):\n%s", diff)
	}

	// Cursor pages.
	var got []string
	cursor := ""
	for range 10 {
		page, err := dq.List(context.Background(), projections.DealFilter{TenantID: "t1", Viewer: admin, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, dealNames(page)...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff([]string{"Renewal", "No value", "Euro deal", "Small deal", "Bigger deal"}, got); diff != "" {
		t.Errorf("paged names (-want +got):\n%s", diff)
	}
	if _, err := dq.List(context.Background(), projections.DealFilter{TenantID: "t1", Cursor: "nope"}); !errors.Is(err, projections.ErrBadCursor) {
		t.Errorf("List with a forged cursor: err = %v, want ErrBadCursor", err)
	}

	// FindByName.
	for name, want := range map[string][]string{" bigger DEAL ": {big.snap().ID}, "Big deal": nil, "": nil} {
		ids, err := dq.FindByName(context.Background(), "t1", name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("FindByName(%q) (-want +got):\n%s", name, diff)
		}
	}

	// The board: stages in order, counts, exact sums per currency.
	board := func(v domain.Viewer) []string {
		t.Helper()
		b, err := dq.Board(context.Background(), "t1", sales.snap().ID, v)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range b {
			line := fmt.Sprintf("%s %s %s n=%d", s.Name, s.Kind, s.Probability, s.Count)
			if s.Removed {
				line = fmt.Sprintf("removed n=%d", s.Count)
			}
			for _, v := range s.Values {
				line += " " + v.Sum + " " + v.Currency
			}
			out = append(out, line)
		}
		return out
	}
	want := []string{"Lead open 0.1 n=1 1234.50 USD", "Proposal open 0.5 n=2 100 EUR", "Won won 1 n=1 0.25 USD", "Lost lost 0 n=0"}
	if diff := cmp.Diff(want, board(admin)); diff != "" {
		t.Errorf("board (-want +got):\n%s", diff)
	}
	want = []string{"Lead open 0.1 n=1 1234.50 USD", "Proposal open 0.5 n=1", "Won won 1 n=1 0.25 USD", "Lost lost 0 n=0"}
	if diff := cmp.Diff(want, board(domain.Viewer{Agent: ana})); diff != "" {
		t.Errorf("board of an agent who may not see the euro deal (-want +got):\n%s", diff)
	}

	// Stage kinds follow the pipeline: Proposal becomes a won stage, Lead
	// is removed while a deal is in it.
	a := pipeline.Rehydrate(sales.hist, int64(len(sales.hist)))
	st := sales.snap().Stages
	st[1].Kind, st[1].Probability = pipeline.Won, "1"
	if err := a.SetStages(st[1:], agent, domain.SourceAPI, noon.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.appendEvents(t, pipeline.Codec(), "t1", pipeline.StreamType, a.Snapshot().ID, a.Version(), a.Pending())
	sales.hist = append(sales.hist, a.Pending()...)
	f.waitFor(t, projections.DealsName)
	page, err = dq.List(context.Background(), projections.DealFilter{TenantID: "t1", Viewer: admin, StageKind: []string{"won"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"No value", "Euro deal", "Small deal"}, dealNames(page)); diff != "" {
		t.Errorf("won deals after the stages changed (-want +got):\n%s", diff)
	}
	want = []string{"Proposal won 1 n=2 100 EUR", "Won won 1 n=1 0.25 USD", "Lost lost 0 n=0", "removed n=1 1234.50 USD"}
	if diff := cmp.Diff(want, board(admin)); diff != "" {
		t.Errorf("board after the stages changed (-want +got):\n%s", diff)
	}

	changes, err := dq.StageChanges(context.Background(), "t1", small.snap().ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].FromStage != stages[0].ID || changes[0].ToStage != won {
		t.Errorf("stage changes = %+v, want one from %s to %s", changes, stages[0].ID, won)
	}

	// Rebuilding gives the same tables.
	var live [][]string
	for _, tb := range []string{"deal_pipeline", "deal_stage", "deal_list", "deal_stage_history"} {
		live = append(live, dump(t, f.db, tb, "1"))
	}
	if err := f.runner.Rebuild(context.Background(), projections.DealsName, nil); err != nil {
		t.Fatal(err)
	}
	for i, tb := range []string{"deal_pipeline", "deal_stage", "deal_list", "deal_stage_history"} {
		if diff := cmp.Diff(live[i], dump(t, f.db, tb, "1")); diff != "" {
			t.Errorf("rebuilt %s differs from the live one:\n%s", tb, diff)
		}
	}
}

// page0 returns the deal of tenant t1 called name, as deals.v1 has it.
func page0(t *testing.T, dq *projections.DealQueries, name string) deal.Snapshot {
	t.Helper()
	ids, err := dq.FindByName(context.Background(), "t1", name)
	if err != nil || len(ids) != 1 {
		t.Fatalf("FindByName(%q) = %v, %v", name, ids, err)
	}
	page, err := dq.List(context.Background(), projections.DealFilter{TenantID: "t1", Viewer: domain.Viewer{Admin: true}, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range page.Deals {
		if d.ID == ids[0] {
			return d
		}
	}
	t.Fatalf("deal %s is not listed", ids[0])
	return deal.Snapshot{}
}
