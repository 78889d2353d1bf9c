package native

import (
	"encoding/json"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Deals and their notes. Through an agent's token (not an admin's) a deal
// or note its permit does not show the agent is left out of lists, and
// reading, changing or adding a note to such a deal answers 404, as for
// another tenant's. Admins and the tenant API key see everything.

// dealBody is a deal as written: every member optional (create requires
// name and stage). value is a number or a decimal string; close_date a
// date string or epoch milliseconds.
type dealBody struct {
	ExternalID  *string                    `json:"external_id"`
	Name        *string                    `json:"name"`
	Value       json.RawMessage            `json:"value"`
	Currency    *string                    `json:"currency"`
	Description *string                    `json:"description"`
	Pipeline    *string                    `json:"pipeline"`
	Stage       *string                    `json:"stage"`
	CloseDate   json.RawMessage            `json:"close_date"`
	Category    *string                    `json:"category"`
	Package     *string                    `json:"package"`
	Owners      *deal.Owners               `json:"owners"`
	Customer    *string                    `json:"customer"`
	Contacts    *[]string                  `json:"contacts"`
	Custom      map[string]json.RawMessage `json:"custom"`
	Permit      *domain.Permit             `json:"permit"`
	Owner       *string                    `json:"owner"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// rawText reads a member that is a string or a number (nil if absent; ""
// if null).
func rawText(c *fieldCheck, field string, raw json.RawMessage, present bool) *string {
	if !present {
		return nil
	}
	v := decimalText(c, field, raw)
	return &v
}

func (s *Server) createDeal(w http.ResponseWriter, r *http.Request) {
	var req dealBody
	var present map[string]bool
	var value, closeDate string
	m, ok := s.command(w, r, &req, false, &present, func(c *fieldCheck) {
		c.required("name", str(req.Name))
		c.required("stage", str(req.Stage))
		value = str(rawText(c, "value", req.Value, present["value"]))
		closeDate = str(rawText(c, "close_date", req.CloseDate, present["close_date"]))
	})
	if !ok {
		return
	}
	d := deal.Details{ExternalID: str(req.ExternalID), Name: str(req.Name), Value: value, Currency: str(req.Currency),
		Description: str(req.Description), Pipeline: str(req.Pipeline), Stage: str(req.Stage), CloseDate: closeDate,
		Category: str(req.Category), Package: str(req.Package), Customer: str(req.Customer), Custom: req.Custom, Owner: str(req.Owner)}
	if req.Owners != nil {
		d.Owners = *req.Owners
	}
	if req.Contacts != nil {
		d.Contacts = *req.Contacts
	}
	if req.Permit != nil {
		d.Permit = *req.Permit
	}
	snap, pos, err := s.Deals.Create(r.Context(), tenantOf(r).ID, deal.CreateDeal{Details: d}, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/deals/"+snap.ID)
	writeVersioned(w, http.StatusCreated, snap.Version, pos, snap)
}

// visibleDeal returns the deal at the request's {id} if the caller may see
// it, else deal.ErrNotFound.
func (s *Server) visibleDeal(r *http.Request) (deal.Snapshot, domain.Viewer, error) {
	d, _, err := s.Deals.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		return deal.Snapshot{}, domain.Viewer{}, err
	}
	v, err := s.viewer(r)
	if err != nil {
		return deal.Snapshot{}, domain.Viewer{}, err
	}
	if !d.Permit.Allows(v, d.Owner) {
		return deal.Snapshot{}, domain.Viewer{}, deal.ErrNotFound
	}
	return d, v, nil
}

func (s *Server) getDeal(w http.ResponseWriter, r *http.Request) {
	d, _, err := s.visibleDeal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, d.Version, eventstore.Position{}, d)
}

// patchDeal changes a deal in one decision: the members present change
// (null or "" clears a text member), custom values merge (null removes
// one), and a new stage (or pipeline and stage) records a stage change.
func (s *Server) patchDeal(w http.ResponseWriter, r *http.Request) {
	var req dealBody
	var present map[string]bool
	var u deal.UpdateDeal
	m, ok := s.command(w, r, &req, false, &present, func(c *fieldCheck) {
		if present["external_id"] {
			c.add("external_id", "read_only", "external_id is set when a deal is created and never changes")
		}
		for _, f := range []string{"name", "stage", "pipeline"} {
			if present[f] && map[string]*string{"name": req.Name, "stage": req.Stage, "pipeline": req.Pipeline}[f] == nil {
				c.add(f, "required", "%s must not be null; leave it out to keep it", f)
			}
		}
		u.Value = rawText(c, "value", req.Value, present["value"])
		u.CloseDate = rawText(c, "close_date", req.CloseDate, present["close_date"])
	})
	if !ok {
		return
	}
	clearable := func(name string, p *string) *string {
		if p == nil && present[name] {
			return new(string) // null clears
		}
		return p
	}
	u.Name, u.Stage, u.Pipeline = req.Name, req.Stage, req.Pipeline
	u.Currency, u.Description = clearable("currency", req.Currency), clearable("description", req.Description)
	u.Category, u.Package = clearable("category", req.Category), clearable("package", req.Package)
	u.Customer, u.Owner = clearable("customer", req.Customer), clearable("owner", req.Owner)
	u.Owners, u.Contacts, u.Custom = req.Owners, req.Contacts, req.Custom
	if present["owners"] && u.Owners == nil {
		u.Owners = &deal.Owners{}
	}
	if present["contacts"] && u.Contacts == nil {
		u.Contacts = &[]string{}
	}
	if present["permit"] {
		p := domain.Permit{}
		if req.Permit != nil {
			p = *req.Permit
		}
		u.Permit = &p
	}
	if _, _, err := s.visibleDeal(r); err != nil {
		s.fail(w, r, err)
		return
	}
	d, pos, err := s.Deals.Update(r.Context(), tenantOf(r).ID, r.PathValue("id"), u, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, d.Version, pos, d)
}

type noteRequest struct {
	Body    *string        `json:"body"`
	Permit  *domain.Permit `json:"permit"`
	Tag     string         `json:"tag"`
	Channel string         `json:"channel"`
	Owner   string         `json:"owner"`
}

// addDealNote adds a note to a deal the caller may see; the answer is the
// note, with the deal's new version as ETag.
func (s *Server) addDealNote(w http.ResponseWriter, r *http.Request) {
	var req noteRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		c.required("body", str(req.Body))
	})
	if !ok {
		return
	}
	if _, _, err := s.visibleDeal(r); err != nil {
		s.fail(w, r, err)
		return
	}
	n := deal.AddNote{Body: *req.Body, Tag: req.Tag, Channel: req.Channel, Owner: req.Owner}
	if req.Permit != nil {
		n.Permit = *req.Permit
	}
	note, d, pos, err := s.Deals.AddNote(r.Context(), tenantOf(r).ID, r.PathValue("id"), n, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusCreated, d.Version, pos, note)
}

// listDealNotes lists the notes of a deal the caller may see, leaving out
// those whose own permit does not show them the caller.
func (s *Server) listDealNotes(w http.ResponseWriter, r *http.Request) {
	_, v, err := s.visibleDeal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, notes, err := s.Deals.Notes(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]deal.Note, 0, len(notes))
	for _, n := range notes {
		if n.Permit.Allows(v, n.Owner) {
			out = append(out, n)
		}
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"notes": out})
}
