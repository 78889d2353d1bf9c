package native

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Pipelines: the tenant's deal pipelines and their stages. Anyone
// authenticated reads them; only admins create or change them (they are
// tenant configuration).

type stageBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Probability is a decimal string ("0.25") or a JSON number.
	Probability json.RawMessage `json:"probability"`
	Kind        string          `json:"kind"`
}

type pipelineRequest struct {
	Name   *string      `json:"name"`
	Stages *[]stageBody `json:"stages"`
}

// decimalText returns a JSON number's or string's text ("" for absent or
// null), or notes that raw is neither.
func decimalText(c *fieldCheck, field string, raw json.RawMessage) string {
	if len(raw) == 0 || web.IsNull(raw) {
		return ""
	}
	if s, ok := web.Text(raw); ok {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t != "" && (t[0] == '-' || '0' <= t[0] && t[0] <= '9') {
		return t
	}
	c.add(field, "wrong_type", "%s must be a number or a decimal string", field)
	return ""
}

// stages turns the request's stages into the domain's, noting wrong
// types and bad kinds.
func stages(c *fieldCheck, in []stageBody) []pipeline.Stage {
	out := make([]pipeline.Stage, len(in))
	for i, st := range in {
		at := "stages[" + strconv.Itoa(i) + "]"
		c.oneOf(at+".kind", st.Kind, names(pipeline.Kinds()))
		out[i] = pipeline.Stage{ID: st.ID, Name: st.Name, Probability: decimalText(c, at+".probability", st.Probability), Kind: pipeline.Kind(st.Kind)}
	}
	return out
}

func (s *Server) createPipeline(w http.ResponseWriter, r *http.Request) {
	var req pipelineRequest
	var st []pipeline.Stage
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		if req.Name == nil {
			c.required("name", "")
		}
		if req.Stages == nil {
			c.add("stages", "required", "stages is required (at least one stage)")
		} else {
			st = stages(c, *req.Stages)
		}
	})
	if !ok {
		return
	}
	p, pos, err := s.Pipelines.Create(r.Context(), tenantOf(r).ID, pipeline.CreatePipeline{Name: *req.Name, Stages: st}, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/pipelines/"+p.ID)
	writeVersioned(w, http.StatusCreated, p.Version, pos, p)
}

func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request) {
	list, err := s.Pipelines.List(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"pipelines": list})
}

func (s *Server) getPipeline(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.Pipelines.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, p.Version, eventstore.Position{}, p)
}

// patchPipeline renames a pipeline and/or replaces its stages. A stage
// without an id keeps the id of the current stage of its name; a stage
// left out is removed, and deals in it keep its id.
func (s *Server) patchPipeline(w http.ResponseWriter, r *http.Request) {
	var req pipelineRequest
	var change app.PipelineChange
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		change.Name = req.Name
		if req.Stages != nil {
			st := stages(c, *req.Stages)
			change.Stages = &st
		}
	})
	if !ok {
		return
	}
	p, pos, err := s.Pipelines.Update(r.Context(), tenantOf(r).ID, r.PathValue("id"), change, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, p.Version, pos, p)
}
