package app

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/eventstore"
)

var pipelineKind = kind[*pipeline.Pipeline]{encode: pipeline.Encode, decode: pipeline.Decode, rehydrate: pipeline.Rehydrate}

// Pipelines runs pipeline commands. Every name a pipeline takes is claimed
// as a key of its stream (pipeline.NameKey), as group names are: two
// pipelines of a tenant never share a name, and a name once taken stays
// its pipeline's.
type Pipelines struct {
	store     eventstore.Store
	pipelines *repository[*pipeline.Pipeline]
	now       func() time.Time
}

// NewPipelines returns the pipeline service.
func NewPipelines(store eventstore.Store, now func() time.Time) *Pipelines {
	if now == nil {
		now = time.Now
	}
	return &Pipelines{store: store, pipelines: newRepository(pipelineKind, store), now: now}
}

func pipelineStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: pipeline.StreamType, ID: id}
}

// stageIDs gives every stage without an id one: the id of the current
// stage of the same name, if any, else a new one (derived from m).
func stageIDs(stages []pipeline.Stage, current []pipeline.Stage, m Meta) []pipeline.Stage {
	out := slices.Clone(stages)
	for i := range out {
		if out[i].ID != "" {
			continue
		}
		for _, c := range current {
			if pipeline.NameKey(c.Name) == pipeline.NameKey(out[i].Name) {
				out[i].ID = c.ID
			}
		}
		if out[i].ID == "" {
			out[i].ID = m.derivedID("stage/" + strconv.Itoa(i))
		}
	}
	return out
}

// Create creates a pipeline in tenant. Its id, and the id of every stage
// given without one, are chosen here (derived from m.Idempotency when
// set). A name another pipeline has or had is pipeline.ErrNameTaken.
func (s *Pipelines) Create(ctx context.Context, tenant string, c pipeline.CreatePipeline, m Meta) (pipeline.Snapshot, eventstore.Position, error) {
	c.ID, c.By, c.Source = m.derivedID("pipeline"), m.By, m.Source
	c.Stages = stageIDs(c.Stages, nil, m)
	p, err := pipeline.New(c, s.now())
	if err != nil {
		return pipeline.Snapshot{}, eventstore.Position{}, err
	}
	o, err := createIndexed(ctx, s.pipelines, pipelineIndex, pipelineStream(tenant, c.ID), p, pipeline.NameKey(c.Name), m)
	if errors.Is(err, eventstore.ErrKeyTaken) {
		return pipeline.Snapshot{}, eventstore.Position{}, pipelineNameTaken(c.Name)
	}
	if err != nil {
		return pipeline.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

func pipelineNameTaken(name string) error {
	return pipeline.ErrNameTaken.At("name").Withf("a pipeline named %q exists or existed in this tenant", name)
}

// PipelineChange is what Update changes; nil members are unchanged.
type PipelineChange struct {
	Name *string
	// Stages, if set, become the pipeline's stages, in order. A stage
	// without an id keeps the id of the current stage of the same name, or
	// gets a new one. A stage left out is removed; deals in it keep its id.
	Stages *[]pipeline.Stage
}

// Update renames a pipeline and/or sets its stages, in one append. With
// m.IfVersion the pipeline must be at that version.
func (s *Pipelines) Update(ctx context.Context, tenant, id string, c PipelineChange, m Meta) (pipeline.Snapshot, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return pipeline.Snapshot{}, eventstore.Position{}, pipeline.ErrNotFound
	}
	key := ""
	if c.Name != nil {
		var taken bool
		var err error
		if key, taken, err = renameKey(ctx, s.store, tenant, pipeline.StreamType, id, pipeline.NameKey(*c.Name)); err != nil {
			return pipeline.Snapshot{}, eventstore.Position{}, err
		}
		if taken {
			if _, _, err := s.Get(ctx, tenant, id); err != nil {
				return pipeline.Snapshot{}, eventstore.Position{}, err // 404 before 409
			}
			return pipeline.Snapshot{}, eventstore.Position{}, pipelineNameTaken(*c.Name)
		}
	}
	o, err := s.pipelines.runKeyed(ctx, pipelineStream(tenant, id), s.now, m, key, func(p *pipeline.Pipeline, at time.Time) error {
		if !p.Exists() {
			return pipeline.ErrNotFound
		}
		// The rename goes first: a new name's key goes on the first event.
		if c.Name != nil {
			if err := p.Rename(*c.Name, m.By, m.Source, at); err != nil {
				return err
			}
		}
		if c.Stages != nil {
			return p.SetStages(stageIDs(*c.Stages, p.Snapshot().Stages, m), m.By, m.Source, at)
		}
		return nil
	})
	if errors.Is(err, eventstore.ErrKeyTaken) {
		return pipeline.Snapshot{}, eventstore.Position{}, pipelineNameTaken(*c.Name)
	}
	if err != nil {
		return pipeline.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// Get returns a pipeline of tenant and the position of its last event; an
// unknown one (or another tenant's) is pipeline.ErrNotFound.
func (s *Pipelines) Get(ctx context.Context, tenant, id string) (pipeline.Snapshot, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return pipeline.Snapshot{}, eventstore.Position{}, pipeline.ErrNotFound
	}
	p, pos, err := s.pipelines.load(ctx, pipelineStream(tenant, id))
	if err != nil {
		return pipeline.Snapshot{}, eventstore.Position{}, err
	}
	if !p.Exists() {
		return pipeline.Snapshot{}, eventstore.Position{}, pipeline.ErrNotFound
	}
	return p.Snapshot(), pos, nil
}

// List returns every pipeline of tenant, oldest first.
func (s *Pipelines) List(ctx context.Context, tenant string) ([]pipeline.Snapshot, error) {
	ids, err := pipelineIndex.list(ctx, s.store, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]pipeline.Snapshot, 0, len(ids))
	for _, id := range ids {
		p, _, err := s.Get(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

var pipelineIndex = indexed{
	stream: func(tenant string) eventstore.StreamRef {
		return eventstore.StreamRef{TenantID: tenant, Type: pipeline.IndexStreamType, ID: pipeline.IndexStreamID}
	},
	entry: func(id string) domain.Event { return pipeline.PipelineIndexed{ID: id} },
	id: func(e domain.Event) (string, bool) {
		x, ok := e.(pipeline.PipelineIndexed)
		return x.ID, ok
	},
	codec: pipeline.IndexCodec(),
}
