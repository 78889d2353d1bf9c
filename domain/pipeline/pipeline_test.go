package pipeline_test

import (
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/pipeline"
)

const (
	id  = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	s1  = "11111111-1111-4111-8111-111111111111"
	s2  = "22222222-2222-4222-8222-222222222222"
	s3  = "33333333-3333-4333-8333-333333333333"
	bad = "not-a-uuid"
)

var (
	by      = domaintest.Agent
	api     = domain.SourceAPI
	t0      = domain.Change{By: by, Source: api, At: domaintest.T0}
	now     = domain.Change{By: by, Source: api, At: domaintest.Noon}
	stages  = []pipeline.Stage{{ID: s1, Name: "Lead", Probability: "0.1", Kind: pipeline.Open}, {ID: s2, Name: "Won", Probability: "1", Kind: pipeline.Won}}
	created = pipeline.PipelineCreated{Change: t0, ID: id, Name: "Sales", Stages: stages}
)

type scenario domaintest.Scenario[*pipeline.Pipeline]

func TestNew(t *testing.T) {
	p, err := pipeline.New(pipeline.CreatePipeline{By: by, Source: api, ID: id, Name: " Sales ",
		Stages: []pipeline.Stage{{ID: s1, Name: "Lead", Probability: "0.1"}, {ID: s2, Name: "Won", Kind: pipeline.Won}}}, domaintest.Noon)
	if err != nil {
		t.Fatal(err)
	}
	domaintest.CheckEvents(t, p.Pending(), []domain.Event{pipeline.PipelineCreated{Change: now, ID: id, Name: "Sales", Stages: stages}})
	for name, c := range map[string]struct {
		c    pipeline.CreatePipeline
		want error
	}{
		"no stages":       {pipeline.CreatePipeline{Name: "X"}, pipeline.ErrInvalidField.At("stages")},
		"no name":         {pipeline.CreatePipeline{Stages: stages}, pipeline.ErrInvalidField.At("name")},
		"bad stage id":    {pipeline.CreatePipeline{Name: "X", Stages: []pipeline.Stage{{ID: bad, Name: "A"}}}, pipeline.ErrInvalidField.At("stages[0].id")},
		"same stage name": {pipeline.CreatePipeline{Name: "X", Stages: []pipeline.Stage{{ID: s1, Name: "A"}, {ID: s2, Name: "a"}}}, pipeline.ErrInvalidField.At("stages[1].name")},
		"probability > 1": {pipeline.CreatePipeline{Name: "X", Stages: []pipeline.Stage{{ID: s1, Name: "A", Probability: "1.5"}}}, pipeline.ErrInvalidField.At("stages[0].probability")},
		"negative":        {pipeline.CreatePipeline{Name: "X", Stages: []pipeline.Stage{{ID: s1, Name: "A", Probability: "-0.1"}}}, pipeline.ErrInvalidField.At("stages[0].probability")},
		"bad kind":        {pipeline.CreatePipeline{Name: "X", Stages: []pipeline.Stage{{ID: s1, Name: "A", Kind: "maybe"}}}, pipeline.ErrInvalidField.At("stages[0].kind")},
	} {
		t.Run(name, func(t *testing.T) {
			c.c.By, c.c.Source, c.c.ID = by, api, id
			_, err := pipeline.New(c.c, domaintest.Noon)
			domaintest.CheckErr(t, err, c.want)
		})
	}
}

func TestPipeline_Commands(t *testing.T) {
	more := []pipeline.Stage{stages[0], {ID: s3, Name: "Proposal", Probability: "0.50", Kind: pipeline.Open}, {ID: s2, Name: "Won", Probability: "1", Kind: pipeline.Won}}
	tests := []scenario{
		{"rename", []domain.Event{created}, func(p *pipeline.Pipeline) error { return p.Rename("Renewals", by, api, domaintest.Noon) },
			[]domain.Event{pipeline.PipelineRenamed{Change: now, Name: "Renewals"}}, nil},
		{"same name", []domain.Event{created}, func(p *pipeline.Pipeline) error { return p.Rename(" Sales", by, api, domaintest.Noon) }, nil, nil},
		{"rename missing", nil, func(p *pipeline.Pipeline) error { return p.Rename("X", by, api, domaintest.Noon) }, nil, pipeline.ErrNotFound},
		{"insert a stage", []domain.Event{created}, func(p *pipeline.Pipeline) error { return p.SetStages(more, by, api, domaintest.Noon) },
			[]domain.Event{pipeline.StagesSet{Change: now, Stages: more}}, nil},
		{"remove a stage", []domain.Event{created}, func(p *pipeline.Pipeline) error { return p.SetStages(stages[1:], by, api, domaintest.Noon) },
			[]domain.Event{pipeline.StagesSet{Change: now, Stages: stages[1:]}}, nil},
		{"same stages", []domain.Event{created}, func(p *pipeline.Pipeline) error { return p.SetStages(stages, by, api, domaintest.Noon) }, nil, nil},
		{"no stages", []domain.Event{created}, func(p *pipeline.Pipeline) error { return p.SetStages(nil, by, api, domaintest.Noon) }, nil, pipeline.ErrInvalidField.At("stages")},
		{"stages of none", nil, func(p *pipeline.Pipeline) error { return p.SetStages(stages, by, api, domaintest.Noon) }, nil, pipeline.ErrNotFound},
	}
	domaintest.Run(t, tests, pipeline.Codec(), pipeline.Rehydrate, pipeline.Evolve)
}

func TestCodec(t *testing.T) {
	domaintest.CodecRoundTrip(t, []domain.Event{created, pipeline.PipelineRenamed{Change: now, Name: "X"}, pipeline.StagesSet{Change: now, Stages: stages}}, pipeline.Codec())
	b, err := pipeline.Encode(created)
	want := `{"by":{"id":"u-1","name":"Ana Agent","email":"ana@example.com","kind":"agent"},"source":"api","at":"2025-03-01T09:00:00Z",` +
		`"id":"` + id + `","name":"Sales","stages":[{"id":"` + s1 + `","name":"Lead","probability":"0.1","kind":"open"},` +
		`{"id":"` + s2 + `","name":"Won","probability":"1","kind":"won"}]}`
	if err != nil || string(b) != want {
		t.Errorf("Encode(PipelineCreated) = %s, %v; want %s", b, err, want)
	}
}
