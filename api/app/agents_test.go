package app

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// crm returns the agent and group services over a fresh database with two
// tenants.
func crm(t *testing.T) (*Agents, *Groups, Tenant, Tenant) {
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
	return s.Agents, s.Groups, a, b
}

func TestAgents_EmailUniqueUnderRace(t *testing.T) {
	agents, _, acme, beta := crm(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won, taken int
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := "Ana@Example.com"
			if i%2 == 1 {
				email = "ana@example.COM "
			}
			_, _, err := agents.Create(ctx, acme.ID, agent.CreateAgent{Email: email, Name: "Ana"}, byAPI)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, agent.ErrEmailTaken):
				taken++
			default:
				t.Errorf("Create() = %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || taken != 19 {
		t.Errorf("got %d created and %d refused, want 1 and 19", won, taken)
	}
	if _, _, err := agents.Create(ctx, beta.ID, agent.CreateAgent{Email: "ana@example.com", Name: "Ana"}, byAPI); err != nil {
		t.Errorf("another tenant's agent with the same e-mail: %v, want nil", err)
	}
	list, err := agents.List(ctx, acme.ID)
	if err != nil || len(list) != 1 || list[0].Email != "ana@example.com" {
		t.Errorf("List() = %v, %v; want one agent ana@example.com", list, err)
	}
	if a, err := agents.ByEmail(ctx, acme.ID, "ANA@example.com"); err != nil || a.ID != list[0].ID {
		t.Errorf("ByEmail() = %v, %v", a, err)
	}
}

func TestAgents_IdempotentCreate(t *testing.T) {
	agents, _, acme, _ := crm(t)
	ctx := context.Background()
	m := byAPI
	m.Idempotency = "acme/create-ana"
	a1, _, err := agents.Create(ctx, acme.ID, agent.CreateAgent{Email: "ana@example.com", Name: "Ana"}, m)
	if err != nil {
		t.Fatal(err)
	}
	a2, _, err := agents.Create(ctx, acme.ID, agent.CreateAgent{Email: "ana@example.com", Name: "Ana"}, m)
	if err != nil || a2.ID != a1.ID {
		t.Errorf("retry = %v, %v; want agent %s again", a2.ID, err, a1.ID)
	}
}

func TestAgents_Tokens(t *testing.T) {
	agents, _, acme, beta := crm(t)
	ctx := context.Background()
	ana, _, err := agents.Create(ctx, acme.ID, agent.CreateAgent{Email: "ana@example.com", Name: "Ana", Role: agent.Admin}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := agents.CreateToken(ctx, acme.ID, ana.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := agents.Authenticate(ctx, tok.Token)
	if err != nil || p.Tenant.ID != acme.ID || p.Agent == nil || p.Agent.ID != ana.ID || !p.Admin() || p.TokenID != tok.ID {
		t.Fatalf("Authenticate(agent token) = %+v, %v", p, err)
	}
	if got := p.Actor(); got != (domain.Actor{Kind: domain.ActorAgent, ID: ana.ID, Email: "ana@example.com", Name: "Ana"}) {
		t.Errorf("Actor() = %+v", got)
	}
	list, err := agents.Tokens(ctx, acme.ID, ana.ID)
	if err != nil || len(list) != 1 || list[0].ID != tok.ID || list[0].LastUsedAt == nil {
		t.Errorf("Tokens() = %+v, %v; want the token, used", list, err)
	}
	if _, err := agents.Tokens(ctx, beta.ID, ana.ID); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("Tokens(other tenant) = %v, want agent.ErrNotFound", err)
	}
	// Deactivation stops the token; reactivation restores it.
	off, on := false, true
	if _, _, err := agents.Update(ctx, acme.ID, ana.ID, agent.UpdateAgent{Active: &off}, byAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := agents.Authenticate(ctx, tok.Token); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate(deactivated agent's token) = %v, want ErrUnauthenticated", err)
	}
	if _, err := agents.CreateToken(ctx, acme.ID, ana.ID); !errors.Is(err, agent.ErrInactive) {
		t.Errorf("CreateToken(deactivated) = %v, want agent.ErrInactive", err)
	}
	if _, _, err := agents.Update(ctx, acme.ID, ana.ID, agent.UpdateAgent{Active: &on}, byAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := agents.Authenticate(ctx, tok.Token); err != nil {
		t.Errorf("Authenticate(reactivated agent's token) = %v", err)
	}
	if err := agents.RevokeToken(ctx, beta.ID, ana.ID, tok.ID); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("RevokeToken(other tenant) = %v, want agent.ErrNotFound", err)
	}
	if err := agents.RevokeToken(ctx, acme.ID, ana.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := agents.Authenticate(ctx, tok.Token); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate(revoked) = %v, want ErrUnauthenticated", err)
	}
	if err := agents.RevokeToken(ctx, acme.ID, ana.ID, tok.ID); !errors.Is(err, ErrTokenNotFound) {
		t.Errorf("RevokeToken(again) = %v, want ErrTokenNotFound", err)
	}
	for _, bad := range []string{"", "eda_nope", "edk_nope"} {
		if _, err := agents.Authenticate(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
}

func TestGroups(t *testing.T) {
	agents, groups, acme, beta := crm(t)
	ctx := context.Background()
	ana, _, err := agents.Create(ctx, acme.ID, agent.CreateAgent{Email: "ana@example.com", Name: "Ana"}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	billing, _, err := groups.Create(ctx, acme.ID, group.CreateGroup{Name: "Billing", Members: []string{ana.ID}}, byAPI)
	if err != nil || len(billing.Members) != 1 {
		t.Fatalf("Create() = %+v, %v", billing, err)
	}
	if _, _, err := groups.Create(ctx, acme.ID, group.CreateGroup{Name: " billing "}, byAPI); !errors.Is(err, group.ErrNameTaken) {
		t.Errorf("Create(same name) = %v, want ErrNameTaken", err)
	}
	if _, _, err := groups.Create(ctx, beta.ID, group.CreateGroup{Name: "Billing"}, byAPI); err != nil {
		t.Errorf("Create(other tenant, same name) = %v", err)
	}
	stranger := "11111111-1111-4111-8111-111111111111"
	if _, _, err := groups.Create(ctx, acme.ID, group.CreateGroup{Name: "Sales", Members: []string{stranger}}, byAPI); !errors.Is(err, group.ErrInvalidField.At("members[0]")) {
		t.Errorf("Create(unknown member) = %v, want invalid members[0]", err)
	}
	sales, _, err := groups.Create(ctx, acme.ID, group.CreateGroup{Name: "Sales"}, byAPI)
	if err != nil {
		t.Fatal(err)
	}
	name := func(s string) *string { return &s }
	if _, _, err := groups.Update(ctx, acme.ID, sales.ID, GroupChange{Name: name("BILLING")}, byAPI); !errors.Is(err, group.ErrNameTaken) {
		t.Errorf("rename to another group's name = %v, want ErrNameTaken", err)
	}
	if _, _, err := groups.Update(ctx, acme.ID, billing.ID, GroupChange{Name: name("Invoices")}, byAPI); err != nil {
		t.Fatal(err)
	}
	// Billing is still the first group's name for ever: Sales may not take it.
	if _, _, err := groups.Update(ctx, acme.ID, sales.ID, GroupChange{Name: name("Billing")}, byAPI); !errors.Is(err, group.ErrNameTaken) {
		t.Errorf("rename to a name another group had = %v, want ErrNameTaken", err)
	}
	// ... but the group that had it may take it back.
	none := []string{}
	g, _, err := groups.Update(ctx, acme.ID, billing.ID, GroupChange{Name: name("billing"), Members: &none}, byAPI)
	if err != nil || g.Name != "billing" || len(g.Members) != 0 {
		t.Errorf("take back own name, clear members = %+v, %v", g, err)
	}
	if _, _, err := groups.Update(ctx, beta.ID, billing.ID, GroupChange{Name: name("X")}, byAPI); !errors.Is(err, group.ErrNotFound) {
		t.Errorf("Update(other tenant) = %v, want ErrNotFound", err)
	}
	list, err := groups.List(ctx, acme.ID)
	if err != nil || len(list) != 2 {
		t.Errorf("List() = %+v, %v; want 2 groups", list, err)
	}
}
