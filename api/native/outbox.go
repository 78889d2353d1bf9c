package native

import (
	"net/http"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
)

// The outbox (admin only): the tenant's e-mails and SMS and what became of
// them, a retry command for the failed and dead-lettered ones, and the
// tenant's SMS provider, whose token is never answered.

func (s *Server) getSMSConfig(w http.ResponseWriter, r *http.Request) {
	v, err := s.Outbox.SMSConfig(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", v)
}

type smsConfigRequest struct {
	BaseURL    string `json:"base_url"`
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token"`
	From       string `json:"from"`
}

// putSMSConfig sets the tenant's SMS provider. auth_token may be left out
// to keep the stored one.
func (s *Server) putSMSConfig(w http.ResponseWriter, r *http.Request) {
	var req smsConfigRequest
	_, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		c.required("base_url", req.BaseURL)
		c.required("account_sid", req.AccountSID)
		c.required("from", req.From)
	})
	if !ok {
		return
	}
	v, err := s.Outbox.SetSMSConfig(r.Context(), tenantOf(r).ID, app.SMSConfig{BaseURL: req.BaseURL, AccountSID: req.AccountSID,
		AuthToken: req.AuthToken, From: req.From})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", v)
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var c fieldCheck
	f := app.OutboxFilter{TenantID: tenantOf(r).ID, Status: q.Get("status"), Cursor: q.Get("cursor")}
	f.Limit = parseLimit(&c, q.Get("limit"), 50, 200)
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.Outbox.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := map[string]any{"messages": page.Messages}
	if page.NextCursor != "" {
		body["next_cursor"] = page.NextCursor
	}
	web.WriteJSON(w, http.StatusOK, "application/json", body)
}

func (s *Server) getOutboxMessage(w http.ResponseWriter, r *http.Request) {
	msg, err := s.Outbox.Message(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", msg)
}

// retryOutboxMessage makes a failed or dead-lettered message due again
// (409 for any other).
func (s *Server) retryOutboxMessage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.command(w, r, &struct{}{}, true, nil, nil)
	if !ok {
		return
	}
	msg, pos, err := s.Outbox.Retry(r.Context(), tenantOf(r).ID, r.PathValue("id"), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !pos.IsZero() {
		w.Header().Set("Eventdesk-Position", pos.String())
	}
	web.WriteJSON(w, http.StatusOK, "application/json", msg)
}
