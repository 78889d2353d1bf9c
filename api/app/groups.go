package app

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/eventstore"
)

var groupKind = kind[*group.Group]{encode: group.Encode, decode: group.Decode, rehydrate: group.Rehydrate}

// Groups runs group commands.
//
// Every name a group takes is claimed as a key of its stream
// (group.NameKey), so two groups of a tenant never share a name, whatever
// races. Keys are permanent: a group may take back a name it had, but a
// name another group ever had stays that group's.
type Groups struct {
	store  eventstore.Store
	groups *repository[*group.Group]
	agents *Agents
	now    func() time.Time
}

// NewGroups returns the group service; agents checks that members exist.
func NewGroups(store eventstore.Store, agents *Agents, now func() time.Time) *Groups {
	if now == nil {
		now = time.Now
	}
	return &Groups{store: store, groups: newRepository(groupKind, store), agents: agents, now: now}
}

func groupStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: group.StreamType, ID: id}
}

// checkMembers refuses member ids that are not agents of tenant (422,
// naming each).
func (s *Groups) checkMembers(ctx context.Context, tenant string, ids []string) error {
	var errs []error
	for i, id := range ids {
		if !domain.ValidUUID(id) {
			continue // the domain names it
		}
		if _, err := s.agents.Get(ctx, tenant, id); errors.Is(err, agent.ErrNotFound) {
			errs = append(errs, group.ErrInvalidField.At("members["+strconv.Itoa(i)+"]").Withf("no agent %s in this tenant", id))
		} else if err != nil {
			return err
		}
	}
	return domain.Join(errs...)
}

// Create creates a group in tenant. Its id is chosen here (derived from
// m.Idempotency when set). A name another group has or had is
// group.ErrNameTaken; a member that is no agent of the tenant is Invalid.
func (s *Groups) Create(ctx context.Context, tenant string, c group.CreateGroup, m Meta) (group.Snapshot, eventstore.Position, error) {
	c.ID, c.By, c.Source = m.derivedID("group"), m.By, m.Source
	if _, err := group.New(c, s.now()); err != nil { // input first, then members
		return group.Snapshot{}, eventstore.Position{}, err
	}
	if err := s.checkMembers(ctx, tenant, c.Members); err != nil {
		return group.Snapshot{}, eventstore.Position{}, err
	}
	g, err := group.New(c, s.now())
	if err != nil {
		return group.Snapshot{}, eventstore.Position{}, err
	}
	o, err := createIndexed(ctx, s.groups, groupIndex, groupStream(tenant, c.ID), g, group.NameKey(c.Name), m)
	if errors.Is(err, eventstore.ErrKeyTaken) {
		return group.Snapshot{}, eventstore.Position{}, nameTaken(c.Name)
	}
	if err != nil {
		return group.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

func nameTaken(name string) error {
	return group.ErrNameTaken.At("name").Withf("a group named %q exists or existed in this tenant", name)
}

// GroupChange is what Update changes; nil members are unchanged.
type GroupChange struct {
	Name *string
	// Members, if set, become the group's members (agent ids).
	Members *[]string
}

// Update renames a group and sets its members. With m.IfVersion the group
// must be at that version. An unknown group is group.ErrNotFound.
func (s *Groups) Update(ctx context.Context, tenant, id string, c GroupChange, m Meta) (group.Snapshot, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return group.Snapshot{}, eventstore.Position{}, group.ErrNotFound
	}
	key := ""
	if c.Name != nil {
		var taken bool
		var err error
		if key, taken, err = renameKey(ctx, s.store, tenant, group.StreamType, id, group.NameKey(*c.Name)); err != nil {
			return group.Snapshot{}, eventstore.Position{}, err
		}
		if taken {
			if _, err := s.Get(ctx, tenant, id); err != nil {
				return group.Snapshot{}, eventstore.Position{}, err // 404 before 409
			}
			return group.Snapshot{}, eventstore.Position{}, nameTaken(*c.Name)
		}
	}
	if c.Members != nil {
		if err := s.checkMembers(ctx, tenant, *c.Members); err != nil {
			return group.Snapshot{}, eventstore.Position{}, err
		}
	}
	o, err := s.groups.runKeyed(ctx, groupStream(tenant, id), s.now, m, key, func(g *group.Group, at time.Time) error {
		if c.Name != nil {
			if err := g.Rename(*c.Name, m.By, m.Source, at); err != nil {
				return err
			}
		}
		if c.Members != nil {
			if err := g.SetMembers(slices.Clone(*c.Members), m.By, m.Source, at); err != nil {
				return err
			}
		}
		if !g.Exists() {
			return group.ErrNotFound
		}
		// A name under a new key is a rename, recorded first: the key goes
		// on the first event.
		return nil
	})
	if errors.Is(err, eventstore.ErrKeyTaken) {
		return group.Snapshot{}, eventstore.Position{}, nameTaken(*c.Name)
	}
	if err != nil {
		return group.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// Get returns a group of tenant; an unknown one (or another tenant's) is
// group.ErrNotFound.
func (s *Groups) Get(ctx context.Context, tenant, id string) (group.Snapshot, error) {
	if !domain.ValidUUID(id) {
		return group.Snapshot{}, group.ErrNotFound
	}
	g, _, err := s.groups.load(ctx, groupStream(tenant, id))
	if err != nil {
		return group.Snapshot{}, err
	}
	if !g.Exists() {
		return group.Snapshot{}, group.ErrNotFound
	}
	return g.Snapshot(), nil
}

// List returns every group of tenant, oldest first.
func (s *Groups) List(ctx context.Context, tenant string) ([]group.Snapshot, error) {
	ids, err := groupIndex.list(ctx, s.store, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]group.Snapshot, 0, len(ids))
	for _, id := range ids {
		g, err := s.Get(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

var groupIndex = indexed{
	stream: func(tenant string) eventstore.StreamRef {
		return eventstore.StreamRef{TenantID: tenant, Type: group.IndexStreamType, ID: group.IndexStreamID}
	},
	entry: func(id string) domain.Event { return group.GroupIndexed{ID: id} },
	id: func(e domain.Event) (string, bool) {
		x, ok := e.(group.GroupIndexed)
		return x.ID, ok
	},
	codec: group.IndexCodec(),
}
