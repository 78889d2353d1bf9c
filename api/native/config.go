package native

import (
	"context"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

type categoriesRequest struct {
	Categories []ticket.Category `json:"categories"`
}

type statusesRequest struct {
	Statuses []ticket.Status `json:"statuses"`
}

type prioritiesRequest struct {
	Priorities []ticket.PriorityStyle `json:"priorities"`
}

// putConfig decodes a configuration list, requires it, and applies it with
// set; the answer is the whole configuration.
func putConfig[R any](s *Server, w http.ResponseWriter, r *http.Request, field string, empty func(*R) bool,
	set func(ctx context.Context, tenant string, req *R, m app.Meta) (app.ConfigResult, error)) {
	var req R
	if err := s.decode(r, &req, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	if empty(&req) {
		s.fail(w, r, web.Invalid(web.FieldError{Field: field, Code: "required", Detail: field + " is required (a non-empty array)"}))
		return
	}
	m, err := conditionalMeta(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := set(r.Context(), tenantOf(r).ID, &req, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cfg := res.Config
	writeVersioned(w, http.StatusOK, res.Version, res.Position, configView{cfg.Categories, cfg.Statuses, cfg.Priorities, res.Version})
}

func (s *Server) putCategories(w http.ResponseWriter, r *http.Request) {
	putConfig(s, w, r, "categories", func(q *categoriesRequest) bool { return len(q.Categories) == 0 },
		func(ctx context.Context, tenant string, q *categoriesRequest, m app.Meta) (app.ConfigResult, error) {
			return s.Tickets.SetCategories(ctx, tenant, q.Categories, m)
		})
}

func (s *Server) putStatuses(w http.ResponseWriter, r *http.Request) {
	putConfig(s, w, r, "statuses", func(q *statusesRequest) bool { return len(q.Statuses) == 0 },
		func(ctx context.Context, tenant string, q *statusesRequest, m app.Meta) (app.ConfigResult, error) {
			return s.Tickets.SetStatuses(ctx, tenant, q.Statuses, m)
		})
}

func (s *Server) putPriorities(w http.ResponseWriter, r *http.Request) {
	putConfig(s, w, r, "priorities", func(q *prioritiesRequest) bool { return len(q.Priorities) == 0 },
		func(ctx context.Context, tenant string, q *prioritiesRequest, m app.Meta) (app.ConfigResult, error) {
			return s.Tickets.SetPriorities(ctx, tenant, q.Priorities, m)
		})
}
