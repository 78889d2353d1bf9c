package native

import (
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain/listener"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Webhook listeners (seed 004): only the tenant API key or an admin agent
// manages them. A listener's URL embeds its secret, which is only kept
// hashed: the URL is in the answers of POST /v1/listeners and of
// POST /v1/listeners/{id}/rotate, and nowhere else. Neither route replays
// its answer for an Idempotency-Key, which would keep the secret in the
// clear among the stored answers: like an agent token's creation, a
// retried create makes another listener (delete the spare), and a retried
// rotation rotates again.

type listenerRequest struct {
	Name           *string             `json:"name"`
	Enabled        *bool               `json:"enabled"`
	AllowedCIDRs   *[]string           `json:"allowed_cidrs"`
	DefaultTag     *string             `json:"default_tag"`
	ContactChannel *string             `json:"contact_channel"`
	LeadChannel    *string             `json:"lead_channel"`
	AutoEmail      *listener.AutoEmail `json:"auto_email"`
	AutoSMS        *listener.AutoSMS   `json:"auto_sms"`
	RateLimit      *int                `json:"rate_limit"`
}

// apply returns s with the request's members set.
func (q listenerRequest) apply(s listener.Settings) listener.Settings {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.Name, q.Name)
	set(&s.DefaultTag, q.DefaultTag)
	set(&s.ContactChannel, q.ContactChannel)
	set(&s.LeadChannel, q.LeadChannel)
	if q.Enabled != nil {
		s.Enabled = *q.Enabled
	}
	if q.AllowedCIDRs != nil {
		s.AllowedCIDRs = *q.AllowedCIDRs
	}
	if q.AutoEmail != nil {
		s.AutoEmail = *q.AutoEmail
	}
	if q.AutoSMS != nil {
		s.AutoSMS = *q.AutoSMS
	}
	if q.RateLimit != nil {
		s.RateLimit = *q.RateLimit
	}
	return s
}

// listenerView is a listener as the API shows it: its settings at the top
// level, and its URL only in the answers that just made its secret.
type listenerView struct {
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
	listener.Settings
	RateLimitPerMinute int       `json:"rate_limit_per_minute"`
	Generation         int       `json:"generation"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Version            int64     `json:"version"`
}

func (s *Server) viewListener(l listener.Snapshot, secret string) listenerView {
	v := listenerView{ID: l.ID, Settings: l.Settings, RateLimitPerMinute: l.Settings.Limit(), Generation: l.Generation,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
		Version: l.Version}
	if v.AllowedCIDRs == nil {
		v.AllowedCIDRs = []string{}
	}
	if secret != "" {
		v.URL = s.Listeners.URL(secret)
	}
	return v
}

func (s *Server) createListener(w http.ResponseWriter, r *http.Request) {
	var req listenerRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		if req.Name == nil {
			c.required("name", "")
		}
	})
	if !ok {
		return
	}
	res, err := s.Listeners.Create(r.Context(), tenantOf(r).ID, req.apply(listener.Settings{Enabled: true}), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/listeners/"+res.Listener.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeVersioned(w, http.StatusCreated, res.Listener.Version, res.Position, s.viewListener(res.Listener, res.Secret))
}

func (s *Server) listListeners(w http.ResponseWriter, r *http.Request) {
	list, err := s.Listeners.List(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]listenerView, 0, len(list))
	for _, l := range list {
		out = append(out, s.viewListener(l, ""))
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"listeners": out})
}

func (s *Server) getListener(w http.ResponseWriter, r *http.Request) {
	l, _, err := s.Listeners.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, l.Version, eventstore.Position{}, s.viewListener(l, ""))
}

// patchListener changes the members given; If-Match pins the version.
func (s *Server) patchListener(w http.ResponseWriter, r *http.Request) {
	var req listenerRequest
	m, ok := s.command(w, r, &req, false, nil, nil)
	if !ok {
		return
	}
	res, err := s.Listeners.Update(r.Context(), tenantOf(r).ID, r.PathValue("id"), req.apply, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, res.Listener.Version, res.Position, s.viewListener(res.Listener, ""))
}

// deleteListener deletes a listener: 204; its URL answers 404 at once.
func (s *Server) deleteListener(w http.ResponseWriter, r *http.Request) {
	m, err := s.noBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Listeners.Delete(r.Context(), tenantOf(r).ID, r.PathValue("id"), m); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateListener gives a listener a new URL; the old one answers 404 at
// once.
func (s *Server) rotateListener(w http.ResponseWriter, r *http.Request) {
	m, err := s.noBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.Listeners.Rotate(r.Context(), tenantOf(r).ID, r.PathValue("id"), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeVersioned(w, http.StatusOK, res.Listener.Version, res.Position, s.viewListener(res.Listener, res.Secret))
}
