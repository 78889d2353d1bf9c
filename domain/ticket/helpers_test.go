package ticket_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// Fixtures: a ticket created by a customer through a storefront at t0, then
// changed by an agent through the API at t1; the commands under test run at
// noon, by the agent, through the API.
const (
	ticketID = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	entryID  = "11111111-1111-4111-8111-111111111111"
	entryID2 = "22222222-2222-4222-8222-222222222222"
	fileID   = "33333333-3333-4333-8333-333333333333"
	sha      = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	api      = domain.SourceAPI
)

var (
	t0, t1 = domaintest.T0, domaintest.T1
	noon   = domaintest.Noon

	agent    = domaintest.Agent
	bob      = domain.Actor{ID: "u-2", Name: "Bob", Kind: domain.ActorAgent}
	customer = domain.Actor{Email: "cara@example.com", Name: "Cara", Kind: domain.ActorUser}

	atCreation = domain.Change{By: customer, Source: domain.SourceSalesChannel, At: t0}
	before     = domain.Change{By: agent, Source: api, At: t1}
	now        = domain.Change{By: agent, Source: api, At: noon}

	cfg = testConfig()

	created = ticket.TicketCreated{
		Change: atCreation, ID: ticketID, TenantID: "acme", Number: 34,
		Title: "Parcel arrived damaged", Description: "The box was crushed.",
		Category: "orders", SubCategory: "damaged",
		Priority: ticket.PriorityLow, Status: "open", StatusKind: ticket.KindOpen,
		Tags:      []string{"vip"},
		Custom:    map[string]json.RawMessage{"order_id": json.RawMessage(`"FY123"`)},
		CreatedBy: customer,
	}
	resolved      = ticket.TicketStatusChanged{Change: before, From: "open", To: "resolved", Kind: ticket.KindResolved, FeedbackRequested: true}
	closed        = ticket.TicketStatusChanged{Change: before, From: "open", To: "closed", Kind: ticket.KindClosed}
	assignedToBob = ticket.TicketAssigned{Change: before, Assignee: bob}
)

// testConfig is DefaultConfig with an "orders" category.
func testConfig() ticket.Config {
	c := ticket.DefaultConfig()
	c.Categories = append(c.Categories, ticket.Category{Key: "orders", Display: "Orders", SubCategories: []ticket.SubCategory{
		{Key: "late", Display: "Late delivery"}, {Key: "damaged", Display: "Damaged item"},
	}})
	return c
}

func ptr[T any](v T) *T { return &v }

var codec = ticket.Codec()

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// scenario is one given/when/then case (domaintest.Scenario).
type scenario domaintest.Scenario[*ticket.Ticket]

// run runs the scenarios (domaintest.Run).
func run(t *testing.T, tests []scenario) {
	t.Helper()
	domaintest.Run(t, tests, codec, ticket.Rehydrate, func(s ticket.Snapshot, e domain.Event) ticket.Snapshot { return ticket.Evolve(s, e) })
}

func show(events []domain.Event) string {
	var b strings.Builder
	b.WriteString("[")
	for _, e := range events {
		j, _ := json.Marshal(e)
		fmt.Fprintf(&b, "\n\t%T %s", e, j)
	}
	b.WriteString("]")
	return b.String()
}
