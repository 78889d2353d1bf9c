package app

import (
	"context"
	"errors"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/eventstore"
)

var agentKind = kind[*agent.Agent]{encode: agent.Encode, decode: agent.Decode, rehydrate: agent.Rehydrate}

// Agents runs agent commands, issues agents' personal API tokens and
// authenticates requests (Authenticate).
//
// An agent's e-mail address is claimed as its stream's key when it is
// created (normalised: agent.NormalizeEmail), so two agents of a tenant
// never share one, whatever races; since keys are permanent, the address
// never changes after creation.
type Agents struct {
	store   eventstore.Store
	agents  *repository[*agent.Agent]
	tenants *Tenants
	tokens  *tokens
	now     func() time.Time
}

// NewAgents returns the agent service; tenants authenticates tenant API
// keys, tokens are kept in db's agent_tokens.
func NewAgents(store eventstore.Store, tenants *Tenants, now func() time.Time) *Agents {
	if now == nil {
		now = time.Now
	}
	return &Agents{store: store, agents: newRepository(agentKind, store), tenants: tenants, tokens: &tokens{db: tenants.db}, now: now}
}

func agentStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: agent.StreamType, ID: id}
}

// Create adds an agent to tenant. c.ID is chosen here (derived from
// m.Idempotency when set, so a retry finds the agent its first attempt
// created); c.By and c.Source come from m. An e-mail address another agent
// of the tenant has is agent.ErrEmailTaken.
func (s *Agents) Create(ctx context.Context, tenant string, c agent.CreateAgent, m Meta) (agent.Snapshot, eventstore.Position, error) {
	c.ID, c.By, c.Source = m.derivedID("agent"), m.By, m.Source
	a, err := agent.New(c, s.now())
	if err != nil {
		return agent.Snapshot{}, eventstore.Position{}, err
	}
	o, err := createIndexed(ctx, s.agents, agentIndex, agentStream(tenant, c.ID), a, agent.NormalizeEmail(c.Email), m)
	if errors.Is(err, eventstore.ErrKeyTaken) {
		return agent.Snapshot{}, eventstore.Position{}, agent.ErrEmailTaken.At("email").
			Withf("an agent with e-mail address %s already exists", agent.NormalizeEmail(c.Email))
	}
	if err != nil {
		return agent.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// Update changes an agent (name, role, active); c.By and c.Source come
// from m. An unknown agent is agent.ErrNotFound.
func (s *Agents) Update(ctx context.Context, tenant, id string, c agent.UpdateAgent, m Meta) (agent.Snapshot, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return agent.Snapshot{}, eventstore.Position{}, agent.ErrNotFound
	}
	c.By, c.Source = m.By, m.Source
	o, err := s.agents.run(ctx, agentStream(tenant, id), s.now, m, func(a *agent.Agent, at time.Time) error {
		return a.Update(c, at)
	})
	if err != nil {
		return agent.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// Get returns an agent of tenant; an unknown one (or another tenant's) is
// agent.ErrNotFound.
func (s *Agents) Get(ctx context.Context, tenant, id string) (agent.Snapshot, error) {
	if !domain.ValidUUID(id) {
		return agent.Snapshot{}, agent.ErrNotFound
	}
	a, _, err := s.agents.load(ctx, agentStream(tenant, id))
	if err != nil {
		return agent.Snapshot{}, err
	}
	if !a.Exists() {
		return agent.Snapshot{}, agent.ErrNotFound
	}
	return a.Snapshot(), nil
}

// ByEmail returns the agent of tenant with e-mail address email (compared
// normalised), or agent.ErrNotFound.
func (s *Agents) ByEmail(ctx context.Context, tenant, email string) (agent.Snapshot, error) {
	id, ok, err := s.store.Lookup(ctx, tenant, agent.StreamType, agent.NormalizeEmail(email))
	if err != nil {
		return agent.Snapshot{}, err
	}
	if !ok {
		return agent.Snapshot{}, agent.ErrNotFound
	}
	return s.Get(ctx, tenant, id)
}

// List returns every agent of tenant, oldest first.
func (s *Agents) List(ctx context.Context, tenant string) ([]agent.Snapshot, error) {
	ids, err := agentIndex.list(ctx, s.store, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]agent.Snapshot, 0, len(ids))
	for _, id := range ids {
		a, err := s.Get(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

var agentIndex = indexed{
	stream: func(tenant string) eventstore.StreamRef {
		return eventstore.StreamRef{TenantID: tenant, Type: agent.IndexStreamType, ID: agent.IndexStreamID}
	},
	entry: func(id string) domain.Event { return agent.AgentIndexed{ID: id} },
	id: func(e domain.Event) (string, bool) {
		x, ok := e.(agent.AgentIndexed)
		return x.ID, ok
	},
	codec: agent.IndexCodec(),
}
