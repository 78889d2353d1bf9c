package group_test

import (
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/group"
)

const (
	id  = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	ana = "11111111-1111-4111-8111-111111111111"
	bo  = "22222222-2222-4222-8222-222222222222"
	cy  = "33333333-3333-4333-8333-333333333333"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	noon  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	admin = domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}
	api   = domain.SourceAPI

	atCreation = domain.Change{By: admin, Source: api, At: t0}
	now        = domain.Change{By: admin, Source: api, At: noon}

	created = group.GroupCreated{Change: atCreation, ID: id, Name: "Billing", Members: []string{ana, bo}}
)

func TestNew(t *testing.T) {
	g, err := group.New(group.CreateGroup{By: admin, Source: api, ID: id, Name: "  Tier   2 ", Members: []string{ana, ana, bo}}, noon)
	if err != nil {
		t.Fatal(err)
	}
	domaintest.CheckEvents(t, g.Pending(), []domain.Event{group.GroupCreated{Change: now, ID: id, Name: "Tier 2", Members: []string{ana, bo}}})
	if _, err := group.New(group.CreateGroup{By: admin, Source: api, ID: id, Name: "", Members: []string{"x"}}, noon); err == nil {
		t.Errorf("New(bad name, bad member) = nil error")
	} else {
		domaintest.CheckErr(t, err, group.ErrInvalidField.At("name"))
	}
	if got, want := group.NameKey("  Tier   2 "), "tier 2"; got != want {
		t.Errorf("NameKey() = %q, want %q", got, want)
	}
}

func TestGroup_Commands(t *testing.T) {
	tests := []scenario{
		{"rename", []domain.Event{created}, func(g *group.Group) error { return g.Rename("Invoices", admin, api, noon) },
			[]domain.Event{group.GroupRenamed{Change: now, Name: "Invoices"}}, nil},
		{"same name", []domain.Event{created}, func(g *group.Group) error { return g.Rename(" Billing", admin, api, noon) }, nil, nil},
		{"rename to nothing", []domain.Event{created}, func(g *group.Group) error { return g.Rename(" ", admin, api, noon) }, nil, group.ErrInvalidField},
		{"rename no group", nil, func(g *group.Group) error { return g.Rename("X", admin, api, noon) }, nil, group.ErrNotFound},
		{"add new and existing", []domain.Event{created}, func(g *group.Group) error { return g.AddMembers([]string{bo, cy}, admin, api, noon) },
			[]domain.Event{group.MembersAdded{Change: now, Agents: []string{cy}}}, nil},
		{"remove member and stranger", []domain.Event{created}, func(g *group.Group) error { return g.RemoveMembers([]string{ana, cy}, admin, api, noon) },
			[]domain.Event{group.MembersRemoved{Change: now, Agents: []string{ana}}}, nil},
		{"set", []domain.Event{created}, func(g *group.Group) error { return g.SetMembers([]string{bo, cy}, admin, api, noon) },
			[]domain.Event{group.MembersRemoved{Change: now, Agents: []string{ana}}, group.MembersAdded{Change: now, Agents: []string{cy}}}, nil},
		{"set the same", []domain.Event{created}, func(g *group.Group) error { return g.SetMembers([]string{bo, ana}, admin, api, noon) }, nil, nil},
		{"bad member id", []domain.Event{created}, func(g *group.Group) error { return g.AddMembers([]string{"ana"}, admin, api, noon) },
			nil, group.ErrInvalidField.At("members[0]")},
		{"members of no group", nil, func(g *group.Group) error { return g.AddMembers([]string{ana}, admin, api, noon) }, nil, group.ErrNotFound},
	}
	domaintest.Run(t, tests, group.Codec(), group.Rehydrate, group.Evolve)
}

// scenario is one given/when/then case (domaintest.Scenario).
type scenario domaintest.Scenario[*group.Group]

func TestCodec_RoundTrip(t *testing.T) {
	domaintest.CodecRoundTrip(t, []domain.Event{created, group.GroupRenamed{Change: now, Name: "X"},
		group.MembersAdded{Change: now, Agents: []string{cy}}, group.MembersRemoved{Change: now, Agents: []string{ana}}}, group.Codec())
}

// TestCodec_Persisted pins the stored form of the events.
func TestCodec_Persisted(t *testing.T) {
	change := `"by":{"id":"api_key","kind":"integration"},"source":"api","at":"2025-03-01T09:00:00Z"`
	b, err := group.Encode(created)
	if want := `{` + change + `,"id":"` + id + `","name":"Billing","members":["` + ana + `","` + bo + `"]}`; err != nil || string(b) != want {
		t.Errorf("Encode(GroupCreated) = %s, %v; want %s", b, err, want)
	}
	b, err = group.Encode(group.MembersAdded{Change: atCreation, Agents: []string{cy}})
	if want := `{` + change + `,"agents":["` + cy + `"]}`; err != nil || string(b) != want {
		t.Errorf("Encode(MembersAdded) = %s, %v; want %s", b, err, want)
	}
}
