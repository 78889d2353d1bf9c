// Package pipeline holds the Pipeline aggregate: a tenant's named,
// ordered list of deal stages, each with a win probability and a kind
// (open, won, lost).
//
// A pipeline's name is unique in the tenant, compared by NameKey; the
// application layer claims each name a pipeline takes as an event-store
// key of its stream (claims are permanent, as for group names). Stages
// keep their ids when the stages are set again. A stage may be removed
// while deals are in it: those deals keep its id (and show it as a stage
// the pipeline no longer has) until they are moved.
package pipeline

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of pipelines; the stream id is the
// pipeline's id. It is persisted.
const StreamType = "pipeline"

// Limits on pipelines.
const (
	MaxNameLength = 200
	MaxStages     = 100
)

// NameKey returns the form pipeline and stage names are compared by.
func NameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// Kind is a stage's kind. Values are persisted.
type Kind string

// The stage kinds.
const (
	Open Kind = "open"
	Won  Kind = "won"
	Lost Kind = "lost"
)

// Kinds returns every stage Kind.
func Kinds() []Kind { return []Kind{Open, Won, Lost} }

// Stage is one stage of a pipeline. Its JSON form is stored in events.
type Stage struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Probability is the chance of winning a deal in the stage, 0..1, kept
	// exactly as a decimal string ("0.25").
	Probability string `json:"probability"`
	Kind        Kind   `json:"kind"`
}

// Pipeline is the pipeline aggregate.
type Pipeline struct {
	id, name             string
	stages               []Stage
	createdAt, updatedAt time.Time
	domain.Root
}

// Rehydrate rebuilds a Pipeline from its stored history at version.
func Rehydrate(history []domain.Event, version int64) *Pipeline {
	p := &Pipeline{Root: domain.LoadedAt(version)}
	for _, e := range history {
		p.apply(e)
	}
	return p
}

// Exists reports whether the pipeline was created.
func (p *Pipeline) Exists() bool { return p.id != "" }

// Snapshot is a read-only copy of a pipeline's state.
type Snapshot struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Stages    []Stage   `json:"stages"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// Stage returns the stage with id.
func (s Snapshot) Stage(id string) (Stage, bool) {
	for _, st := range s.Stages {
		if st.ID == id {
			return st, true
		}
	}
	return Stage{}, false
}

// StageNamed returns the stage called name (compared by NameKey).
func (s Snapshot) StageNamed(name string) (Stage, bool) {
	for _, st := range s.Stages {
		if NameKey(st.Name) == NameKey(name) {
			return st, true
		}
	}
	return Stage{}, false
}

// Snapshot returns a copy of the pipeline's state.
func (p *Pipeline) Snapshot() Snapshot {
	return Snapshot{ID: p.id, Name: p.name, Stages: append([]Stage{}, p.stages...),
		CreatedAt: p.createdAt, UpdatedAt: p.updatedAt, Version: p.Current()}
}

// Evolve returns s after e, applying e exactly as the aggregate does.
func Evolve(s Snapshot, e domain.Event) Snapshot {
	p := &Pipeline{id: s.ID, name: s.Name, stages: slices.Clone(s.Stages), createdAt: s.CreatedAt,
		updatedAt: s.UpdatedAt, Root: domain.LoadedAt(s.Version + 1)}
	p.apply(e)
	return p.Snapshot()
}

// CreatePipeline creates a pipeline. ID and every stage's ID are
// lower-case UUIDs chosen by the caller.
type CreatePipeline struct {
	By     domain.Actor
	Source domain.Source
	ID     string
	Name   string
	Stages []Stage
}

// New decides CreatePipeline.
func New(c CreatePipeline, at time.Time) (*Pipeline, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id must be a lower-case UUID"))
	}
	name, err := validName("name", c.Name)
	errs = append(errs, err)
	stages, err := validStages(c.Stages)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	p := &Pipeline{}
	p.record(PipelineCreated{Change: ch, ID: c.ID, Name: name, Stages: stages})
	return p, nil
}

// Rename renames the pipeline; the same name records nothing. That no other
// pipeline has the name is the caller's to ensure (it claims NameKey).
func (p *Pipeline) Rename(name string, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	if name, err = validName("name", name); err != nil {
		return err
	}
	if !p.Exists() {
		return ErrNotFound
	}
	if name != p.name {
		p.record(PipelineRenamed{Change: ch, Name: name})
	}
	return nil
}

// SetStages replaces the stages, in order; the same stages record nothing.
// A stage keeps its id; a stage left out is removed (deals in it keep its
// id, see the package doc).
func (p *Pipeline) SetStages(stages []Stage, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	if stages, err = validStages(stages); err != nil {
		return err
	}
	if !p.Exists() {
		return ErrNotFound
	}
	if !slices.Equal(stages, p.stages) {
		p.record(StagesSet{Change: ch, Stages: stages})
	}
	return nil
}

func (p *Pipeline) record(e domain.Event) { p.Record(e, p.apply) }

func (p *Pipeline) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		p.updatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case PipelineCreated:
		p.id, p.name, p.stages, p.createdAt = e.ID, e.Name, slices.Clone(e.Stages), e.At
	case PipelineRenamed:
		p.name = e.Name
	case StagesSet:
		p.stages = slices.Clone(e.Stages)
	}
}

func validName(field, name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxNameLength || !utf8.ValidString(name) {
		return "", ErrInvalidField.At(field).Withf("%s must be 1..%d characters", field, MaxNameLength)
	}
	return name, nil
}

// validStages checks stages: at least one, at most MaxStages, ids unique
// UUIDs, names unique, probabilities decimals in 0..1 (empty: 1 for a won
// stage, else 0), kinds known.
func validStages(stages []Stage) ([]Stage, error) {
	if len(stages) == 0 || len(stages) > MaxStages {
		return nil, ErrInvalidField.At("stages").Withf("a pipeline has 1..%d stages", MaxStages)
	}
	out := make([]Stage, 0, len(stages))
	ids, names := map[string]bool{}, map[string]bool{}
	var errs []error
	for i, s := range stages {
		at := "stages[" + strconv.Itoa(i) + "]"
		if !domain.ValidUUID(s.ID) {
			errs = append(errs, ErrInvalidField.At(at+".id").Withf("%s.id must be a lower-case UUID", at))
		} else if ids[s.ID] {
			errs = append(errs, ErrInvalidField.At(at+".id").Withf("%s.id %s is listed twice", at, s.ID))
		}
		ids[s.ID] = true
		name, err := validName(at+".name", s.Name)
		if err != nil {
			errs = append(errs, err)
		} else if names[NameKey(name)] {
			errs = append(errs, ErrInvalidField.At(at+".name").Withf("%s.name %q is listed twice", at, name))
		}
		names[NameKey(name)] = true
		if s.Kind == "" {
			s.Kind = Open
		}
		if !slices.Contains(Kinds(), s.Kind) {
			errs = append(errs, ErrInvalidField.At(at+".kind").Withf("%s.kind %q is not one of open, won, lost", at, s.Kind))
		}
		prob, err := validProbability(at+".probability", s.Probability, s.Kind)
		errs = append(errs, err)
		out = append(out, Stage{ID: s.ID, Name: name, Probability: prob, Kind: s.Kind})
	}
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// validProbability checks a decimal in 0..1 and returns it as written
// (trimmed); empty means 1 for a won stage, 0 otherwise.
func validProbability(field, p string, k Kind) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		if k == Won {
			return "1", nil
		}
		return "0", nil
	}
	r, ok := new(big.Rat).SetString(p)
	if !ok || len(p) > 20 || strings.ContainsAny(p, "eE/+") || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return "", ErrInvalidField.At(field).Withf("%s must be a decimal from 0 to 1, e.g. \"0.25\"", field)
	}
	return p, nil
}
