package native

import (
	"net/http"
	"strconv"
	"time"

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
	set func(req *R, c *ticket.TenantConfig, m app.Meta, at time.Time) error) {
	var req R
	if err := s.decode(r, &req, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	if empty(&req) {
		s.fail(w, r, web.Invalid(web.FieldError{Field: field, Code: "required", Detail: field + " is required (a non-empty array)"}))
		return
	}
	m, ver, err := conditionalMeta(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cfg, pos, err := s.Tickets.ChangeConfig(r.Context(), tenantOf(r).ID, ver, m, func(c *ticket.TenantConfig, at time.Time) error {
		return set(&req, c, m, at)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, v, err := s.Tickets.Config(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !pos.IsZero() {
		w.Header().Set("Eventdesk-Position", pos.String())
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(v, 10)))
	web.WriteJSON(w, http.StatusOK, "application/json", configView{cfg.Categories, cfg.Statuses, cfg.Priorities, v})
}

func (s *Server) putCategories(w http.ResponseWriter, r *http.Request) {
	putConfig(s, w, r, "categories", func(q *categoriesRequest) bool { return len(q.Categories) == 0 },
		func(q *categoriesRequest, c *ticket.TenantConfig, m app.Meta, at time.Time) error {
			return c.SetCategories(ticket.SetCategories{By: m.By, Source: m.Source, Categories: q.Categories}, at)
		})
}

func (s *Server) putStatuses(w http.ResponseWriter, r *http.Request) {
	putConfig(s, w, r, "statuses", func(q *statusesRequest) bool { return len(q.Statuses) == 0 },
		func(q *statusesRequest, c *ticket.TenantConfig, m app.Meta, at time.Time) error {
			return c.SetStatuses(ticket.SetStatuses{By: m.By, Source: m.Source, Statuses: q.Statuses}, at)
		})
}

func (s *Server) putPriorities(w http.ResponseWriter, r *http.Request) {
	putConfig(s, w, r, "priorities", func(q *prioritiesRequest) bool { return len(q.Priorities) == 0 },
		func(q *prioritiesRequest, c *ticket.TenantConfig, m app.Meta, at time.Time) error {
			return c.SetPriorities(ticket.SetPriorities{By: m.By, Source: m.Source, Priorities: q.Priorities}, at)
		})
}
