package native

import (
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/projections"
)

// Deal lists and pipeline boards come from deals.v1; a single deal is read
// from its own stream (getDeal).

// listDeals answers a page of deals, newest first, filtered by pipeline,
// stage, stage kind, owner, customer and close date, as the caller's
// permits show them.
func (s *Server) listDeals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := projections.DealFilter{TenantID: tenantOf(r).ID, Pipeline: q.Get("pipeline"), Stage: multi(q, "stage"),
		StageKind: multi(q, "stage_kind"), Owner: q.Get("owner"), Customer: q.Get("customer"), Cursor: q.Get("cursor")}
	var c fieldCheck
	for _, k := range f.StageKind {
		c.oneOf("stage_kind", k, names(pipeline.Kinds()))
	}
	for name, dst := range map[string]*time.Time{"close_from": &f.CloseFrom, "close_to": &f.CloseTo} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				c.add(name, "invalid", "%s must be a date, YYYY-MM-DD", name)
			}
			*dst = t
		}
	}
	f.Limit = parseLimit(&c, q.Get("limit"), 50, 200)
	minPos := parseMinPosition(&c, q.Get("min_position"))
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Customer != "" { // a code or a merged customer's id stands for the live customer
		if cust, _, err := s.Customers.Get(r.Context(), f.TenantID, f.Customer); err == nil {
			f.Customer = cust.ID
		}
	}
	v, err := s.viewer(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Viewer = v
	if !minPos.IsZero() && !s.waitFor(r.Context(), projections.DealsName, minPos) {
		w.Header().Set("Eventdesk-Stale", "true")
	}
	page, err := s.DealQueries.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	deals := page.Deals
	if deals == nil {
		deals = []deal.Snapshot{}
	}
	body := map[string]any{"deals": deals, "next_cursor": nil}
	if page.NextCursor != "" {
		body["next_cursor"] = page.NextCursor
	}
	web.WriteJSON(w, http.StatusOK, "application/json", body)
}

// pipelineBoard answers a pipeline's board: per stage, in order, the
// number of deals and the exact sum of their values per currency, counting
// only deals the caller may see.
func (s *Server) pipelineBoard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var c fieldCheck
	minPos := parseMinPosition(&c, q.Get("min_position"))
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	p, _, err := s.Pipelines.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.viewer(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !minPos.IsZero() && !s.waitFor(r.Context(), projections.DealsName, minPos) {
		w.Header().Set("Eventdesk-Stale", "true")
	}
	stages, err := s.DealQueries.Board(r.Context(), tenantOf(r).ID, p.ID, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if stages == nil {
		stages = []projections.BoardStage{}
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"pipeline": p.ID, "name": p.Name, "stages": stages})
}
