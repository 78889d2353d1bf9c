package native

import (
	"net/http"
	"time"

	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/eventstore"
)

// The tenant's CRM configuration: /v1/config/crm (default phone region,
// deal categories and packages) and /v1/config/custom-fields. Both are
// one stream, so they share a version (ETag, If-Match). Anyone
// authenticated reads them; only admins change them.

// crmView is the answer of /v1/config/crm.
type crmView struct {
	Region         string    `json:"region"`
	DealCategories []string  `json:"deal_categories"`
	Packages       []string  `json:"packages"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`
}

func viewCRM(c crmconfig.Snapshot) crmView {
	return crmView{Region: c.Region, DealCategories: c.DealCategories, Packages: c.Packages, UpdatedAt: c.UpdatedAt, Version: c.Version}
}

// customFieldsView is the answer of /v1/config/custom-fields.
type customFieldsView struct {
	Fields    []crmconfig.FieldDef `json:"custom_fields"`
	UpdatedAt time.Time            `json:"updated_at"`
	Version   int64                `json:"version"`
}

func (s *Server) getCRM(w http.ResponseWriter, r *http.Request) {
	c, _, err := s.CRM.Get(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, c.Version, eventstore.Position{}, viewCRM(c))
}

type crmRequest struct {
	Region         string   `json:"region"`
	DealCategories []string `json:"deal_categories"`
	Packages       []string `json:"packages"`
}

// putCRM replaces the region and both lists; a member left out is empty.
func (s *Server) putCRM(w http.ResponseWriter, r *http.Request) {
	var req crmRequest
	m, ok := s.command(w, r, &req, false, nil, nil)
	if !ok {
		return
	}
	c, pos, err := s.CRM.SetConfig(r.Context(), tenantOf(r).ID, crmconfig.SetConfig{Region: req.Region,
		DealCategories: req.DealCategories, Packages: req.Packages}, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, c.Version, pos, viewCRM(c))
}

func (s *Server) getCustomFields(w http.ResponseWriter, r *http.Request) {
	c, _, err := s.CRM.Get(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, c.Version, eventstore.Position{}, customFieldsView{c.CustomFields, c.UpdatedAt, c.Version})
}

type customFieldsRequest struct {
	Fields *[]crmconfig.FieldDef `json:"custom_fields"`
}

// putCustomFields replaces every custom field definition.
func (s *Server) putCustomFields(w http.ResponseWriter, r *http.Request) {
	var req customFieldsRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		if req.Fields == nil {
			c.add("custom_fields", "required", "custom_fields is required (a list of definitions, [] for none)")
		}
	})
	if !ok {
		return
	}
	c, pos, err := s.CRM.SetCustomFields(r.Context(), tenantOf(r).ID, *req.Fields, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, c.Version, pos, customFieldsView{c.CustomFields, c.UpdatedAt, c.Version})
}
