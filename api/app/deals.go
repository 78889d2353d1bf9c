package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/eventstore"
)

var dealKind = kind[*deal.Deal]{encode: deal.Encode, decode: deal.Decode, rehydrate: deal.Rehydrate}

// Deals runs deal commands. A deal's external id (seed 004's dealId) is
// claimed as the key deal.ExternalKey of its stream, so it names one deal
// of the tenant for ever. Owners and the agents and group a permit names
// must exist in the tenant; the customer and related contacts are customer
// ids, stored as given.
type Deals struct {
	store     eventstore.Store
	deals     *repository[*deal.Deal]
	crm       *CRM
	pipelines *Pipelines
	agents    *Agents
	groups    *Groups
	now       func() time.Time
	// link, when set, returns more appends (DealLinked events on customer
	// streams) to make in the same atomic append as a create's or an
	// update's own events. The customers service wires it.
	link func(ctx context.Context, tenant string, d deal.Snapshot, m Meta) ([]eventstore.StreamAppend, error)
	// resolve, when set, turns the customer references of a command (ids
	// or codes, perhaps of merged customers) into live customers' ids, or
	// fails Invalid naming the field. The customers service wires it.
	resolve func(ctx context.Context, tenant string, customer *string, contacts *[]string) error
}

// NewDeals returns the deal service.
func NewDeals(store eventstore.Store, crm *CRM, pipelines *Pipelines, agents *Agents, groups *Groups, now func() time.Time) *Deals {
	if now == nil {
		now = time.Now
	}
	return &Deals{store: store, deals: newRepository(dealKind, store), crm: crm, pipelines: pipelines,
		agents: agents, groups: groups, now: now}
}

func dealStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: deal.StreamType, ID: id}
}

// dealContext loads what a deal command is decided against: the tenant's
// CRM configuration and pipeline pipelineID (an empty snapshot if the
// tenant has no such pipeline, which the domain refuses by field).
func (s *Deals) dealContext(ctx context.Context, tenant, pipelineID string) (deal.Context, error) {
	cfg, _, err := s.crm.Get(ctx, tenant)
	if err != nil {
		return deal.Context{}, err
	}
	p, _, err := s.pipelines.Get(ctx, tenant, pipelineID)
	if err != nil && !errors.Is(err, pipeline.ErrNotFound) {
		return deal.Context{}, err
	}
	return deal.Context{Config: cfg, Pipeline: p}, nil
}

// stageByName lets a stage be named instead of given by id (seed 004 names
// it): a stage of p whose name matches and whose id does not.
func stageByName(p pipeline.Snapshot, stage string) string {
	if _, ok := p.Stage(stage); ok || stage == "" {
		return stage
	}
	if st, ok := p.StageNamed(stage); ok {
		return st.ID
	}
	return stage
}

// checkRefs refuses owners, a permit's group and agents, and an owner
// that are not of the tenant (422, naming each).
func (s *Deals) checkRefs(ctx context.Context, tenant string, owners *deal.Owners, permit *domain.Permit, owner *string) error {
	var errs []error
	agentAt := func(field, id string) error {
		if !domain.ValidUUID(id) {
			return nil // the domain names it
		}
		if _, err := s.agents.Get(ctx, tenant, id); errors.Is(err, agent.ErrNotFound) {
			errs = append(errs, deal.ErrInvalidField.At(field).Withf("%s: no agent %s in this tenant", field, id))
		} else if err != nil {
			return err
		}
		return nil
	}
	groupAt := func(field, id string) error {
		if !domain.ValidUUID(id) {
			return nil
		}
		if _, err := s.groups.Get(ctx, tenant, id); errors.Is(err, group.ErrNotFound) {
			errs = append(errs, deal.ErrInvalidField.At(field).Withf("%s: no group %s in this tenant", field, id))
		} else if err != nil {
			return err
		}
		return nil
	}
	var failed error
	try := func(err error) {
		if err != nil && failed == nil {
			failed = err
		}
	}
	if owners != nil {
		for i, id := range owners.Agents {
			try(agentAt("owners.agents["+strconv.Itoa(i)+"]", id))
		}
		for i, id := range owners.Groups {
			try(groupAt("owners.groups["+strconv.Itoa(i)+"]", id))
		}
	}
	if permit != nil {
		switch permit.Kind {
		case domain.PermitOwnerGroup:
			try(groupAt("permit.group", permit.Group))
		case domain.PermitOwnerAgents:
			for i, id := range permit.Agents {
				try(agentAt("permit.agents["+strconv.Itoa(i)+"]", id))
			}
		}
	}
	if owner != nil && *owner != "" {
		try(agentAt("owner", *owner))
	}
	if failed != nil {
		return failed
	}
	return domain.Join(errs...)
}

// invalidTogether returns decided, the outcome of a domain decision, joined
// with what refs finds when both are Invalid (or either is nil), so that a
// 422 lists every bad field; any other failure is returned alone, refs
// then unchecked.
func invalidTogether(decided error, refs func() error) error {
	if decided != nil && domain.KindOf(decided) != domain.Invalid {
		return decided
	}
	r := refs()
	if r != nil && domain.KindOf(r) != domain.Invalid {
		return r
	}
	return domain.Join(decided, r)
}

// Create creates a deal in tenant. Its id is chosen here (derived from
// m.Idempotency when set). Its owner defaults to the acting agent (an
// agent token's writes), its pipeline to the tenant's first one. The stage
// may be named instead of given by id.
// An external id another deal has is deal.ErrExternalIDTaken.
func (s *Deals) Create(ctx context.Context, tenant string, c deal.CreateDeal, m Meta) (deal.Snapshot, eventstore.Position, error) {
	c.ID, c.By, c.Source = m.derivedID("deal"), m.By, m.Source
	if c.Owner == "" && m.By.Kind == domain.ActorAgent && domain.ValidUUID(m.By.ID) {
		c.Owner = m.By.ID
	}
	if c.Pipeline == "" { // the tenant's first pipeline, if any
		ids, err := pipelineIndex.list(ctx, s.store, tenant)
		if err != nil {
			return deal.Snapshot{}, eventstore.Position{}, err
		}
		if len(ids) > 0 {
			c.Pipeline = ids[0]
		}
	}
	dc, err := s.dealContext(ctx, tenant, c.Pipeline)
	if err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	if s.resolve != nil {
		if err := s.resolve(ctx, tenant, &c.Customer, &c.Contacts); err != nil {
			return deal.Snapshot{}, eventstore.Position{}, err
		}
	}
	c.Stage = stageByName(dc.Pipeline, c.Stage)
	d, err := deal.New(c, dc, s.now())
	if err := invalidTogether(err, func() error { return s.checkRefs(ctx, tenant, &c.Owners, &c.Permit, &c.Owner) }); err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	key := ""
	if x := d.Snapshot().ExternalID; x != "" {
		key = deal.ExternalKey(x)
	}
	var links []eventstore.StreamAppend
	if s.link != nil {
		if links, err = s.link(ctx, tenant, d.Snapshot(), m); err != nil {
			return deal.Snapshot{}, eventstore.Position{}, err
		}
	}
	o, err := createIndexed(ctx, s.deals, dealIndex, dealStream(tenant, c.ID), d, key, m, links...)
	if errors.Is(err, eventstore.ErrKeyTaken) {
		return deal.Snapshot{}, eventstore.Position{}, deal.ErrExternalIDTaken.At("external_id").
			Withf("a deal with external id %q exists in this tenant", d.Snapshot().ExternalID)
	}
	if errors.Is(err, eventstore.ErrVersionConflict) {
		return deal.Snapshot{}, eventstore.Position{}, deal.ErrAlreadyExists
	}
	if err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// change runs decide on the deal; with s.link set, the link's appends go
// in the same atomic append as the deal's events.
func (s *Deals) change(ctx context.Context, tenant, id string, m Meta, decide func(d *deal.Deal, at time.Time) error) (outcome[*deal.Deal], error) {
	var more func(d *deal.Deal) ([]eventstore.StreamAppend, error)
	if s.link != nil {
		more = func(d *deal.Deal) ([]eventstore.StreamAppend, error) { return s.link(ctx, tenant, d.Snapshot(), m) }
	}
	return s.deals.runWith(ctx, dealStream(tenant, id), s.now, m, "", decide, more)
}

// Update changes a deal: DealUpdated with what changed, and StageChanged
// when u moves it (to another stage, or another pipeline and a stage of
// it; a stage may be named). With m.IfVersion the deal must be at that
// version. An unknown deal is deal.ErrNotFound.
func (s *Deals) Update(ctx context.Context, tenant, id string, u deal.UpdateDeal, m Meta) (deal.Snapshot, eventstore.Position, error) {
	was, _, err := s.Get(ctx, tenant, id)
	if err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	pipelineID := was.Pipeline
	if u.Pipeline != nil {
		pipelineID = *u.Pipeline
	}
	dc, err := s.dealContext(ctx, tenant, pipelineID)
	if err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	if u.Stage != nil {
		st := stageByName(dc.Pipeline, *u.Stage)
		u.Stage = &st
	}
	if s.resolve != nil {
		if err := s.resolve(ctx, tenant, u.Customer, u.Contacts); err != nil {
			return deal.Snapshot{}, eventstore.Position{}, err
		}
	}
	// Decide once on what was read, to answer every bad field at once (the
	// input's and the references'); the append below decides again.
	cur, _, err := s.load(ctx, tenant, id)
	if err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	err = cur.Update(u, dc, m.By, m.Source, s.now())
	if err := invalidTogether(err, func() error { return s.checkRefs(ctx, tenant, u.Owners, u.Permit, u.Owner) }); err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	o, err := s.change(ctx, tenant, id, m, func(d *deal.Deal, at time.Time) error {
		return d.Update(u, dc, m.By, m.Source, at)
	})
	if err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// AddNote adds a note to a deal and returns it with the deal after it; its
// id is chosen here (derived from m.Idempotency when set) and its owner
// defaults to the acting agent.
func (s *Deals) AddNote(ctx context.Context, tenant, id string, n deal.AddNote, m Meta) (deal.Note, deal.Snapshot, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return deal.Note{}, deal.Snapshot{}, eventstore.Position{}, deal.ErrNotFound
	}
	n.ID = m.derivedID("note")
	if n.Owner == "" && m.By.Kind == domain.ActorAgent && domain.ValidUUID(m.By.ID) {
		n.Owner = m.By.ID
	}
	cur, _, err := s.load(ctx, tenant, id)
	if err != nil {
		return deal.Note{}, deal.Snapshot{}, eventstore.Position{}, err
	}
	err = cur.AddNote(n, m.By, m.Source, s.now()) // every bad field at once; decided again below
	if err := invalidTogether(err, func() error { return s.checkRefs(ctx, tenant, nil, &n.Permit, &n.Owner) }); err != nil {
		return deal.Note{}, deal.Snapshot{}, eventstore.Position{}, err
	}
	o, err := s.deals.run(ctx, dealStream(tenant, id), s.now, m, func(d *deal.Deal, at time.Time) error {
		return d.AddNote(n, m.By, m.Source, at)
	})
	if err != nil {
		return deal.Note{}, deal.Snapshot{}, eventstore.Position{}, err
	}
	for _, x := range o.agg.Notes() {
		if x.ID == n.ID {
			return x, o.agg.Snapshot(), o.pos, nil
		}
	}
	return deal.Note{}, deal.Snapshot{}, eventstore.Position{}, fmt.Errorf("deal %s: note %s not found after adding it", id, n.ID)
}

// Get returns a deal of tenant and the position of its last event; an
// unknown one (or another tenant's) is deal.ErrNotFound. Permits are the
// caller's to apply.
func (s *Deals) Get(ctx context.Context, tenant, id string) (deal.Snapshot, eventstore.Position, error) {
	d, pos, err := s.load(ctx, tenant, id)
	if err != nil {
		return deal.Snapshot{}, eventstore.Position{}, err
	}
	return d.Snapshot(), pos, nil
}

func (s *Deals) load(ctx context.Context, tenant, id string) (*deal.Deal, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return nil, eventstore.Position{}, deal.ErrNotFound
	}
	d, pos, err := s.deals.load(ctx, dealStream(tenant, id))
	if err != nil {
		return nil, eventstore.Position{}, err
	}
	if !d.Exists() {
		return nil, eventstore.Position{}, deal.ErrNotFound
	}
	return d, pos, nil
}

// Notes returns a deal and its notes, oldest first.
func (s *Deals) Notes(ctx context.Context, tenant, id string) (deal.Snapshot, []deal.Note, error) {
	d, _, err := s.load(ctx, tenant, id)
	if err != nil {
		return deal.Snapshot{}, nil, err
	}
	return d.Snapshot(), d.Notes(), nil
}

// ByExternalID returns the deal of tenant whose external id is ext, or
// deal.ErrNotFound.
func (s *Deals) ByExternalID(ctx context.Context, tenant, ext string) (deal.Snapshot, error) {
	id, ok, err := s.store.Lookup(ctx, tenant, deal.StreamType, deal.ExternalKey(ext))
	if err != nil {
		return deal.Snapshot{}, err
	}
	if !ok {
		return deal.Snapshot{}, deal.ErrNotFound
	}
	d, _, err := s.Get(ctx, tenant, id)
	return d, err
}

// List returns every deal of tenant, oldest first (from the tenant's deal
// index; the deals.v1 projection serves filtered lists and boards).
func (s *Deals) List(ctx context.Context, tenant string) ([]deal.Snapshot, error) {
	ids, err := dealIndex.list(ctx, s.store, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]deal.Snapshot, 0, len(ids))
	for _, id := range ids {
		d, _, err := s.Get(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

var dealIndex = indexed{
	stream: func(tenant string) eventstore.StreamRef {
		return eventstore.StreamRef{TenantID: tenant, Type: deal.IndexStreamType, ID: deal.IndexStreamID}
	},
	entry: func(id string) domain.Event { return deal.DealIndexed{ID: id} },
	id: func(e domain.Event) (string, bool) {
		x, ok := e.(deal.DealIndexed)
		return x.ID, ok
	},
	codec: deal.IndexCodec(),
}
