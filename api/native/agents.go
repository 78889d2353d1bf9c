package native

import (
	"net/http"
	"strings"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Agents and groups (the tenant's members). Anyone authenticated may read
// them; only the tenant API key or an admin agent's token may change them
// or manage tokens (s.admin), else 403.

// principalKey holds the request's app.Principal (see authenticate).
const principalKey ctxKey = 1

// principalOf returns who the request acts as: the tenant's API key (no
// agent) or an agent's token.
func principalOf(r *http.Request) app.Principal {
	p, _ := r.Context().Value(principalKey).(app.Principal)
	return p
}

// viewer is who reads, for permits (customers, notes, deals): an admin,
// or an agent with the groups it belongs to.
func (s *Server) viewer(r *http.Request) (domain.Viewer, error) {
	return s.Groups.Viewer(r.Context(), principalOf(r))
}

// agentMeta attributes a write made with an agent's token to that agent.
// The Eventdesk-Actor header, which lets the API key's integrations name
// whom they act for, is refused with such a token (422): an agent acts as
// itself only.
func agentMeta(r *http.Request, m app.Meta, p app.Principal) (app.Meta, error) {
	if strings.TrimSpace(r.Header.Get("Eventdesk-Actor")) != "" {
		return app.Meta{}, web.Invalid(web.FieldError{Field: "Eventdesk-Actor", Code: "actor_not_allowed",
			Detail: "an agent token always acts as its agent; Eventdesk-Actor is only for the tenant API key"})
	}
	m.By = p.Actor()
	return m, nil
}

// admin refuses, with 403, callers that are not admins (app.Principal.Admin).
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := principalOf(r).RequireAdmin(); err != nil {
			s.fail(w, r, err)
			return
		}
		next(w, r)
	}
}

// writeMember answers an agent or a group, with the position of its last
// event as Eventdesk-Position (for writes).
func writeMember(w http.ResponseWriter, status int, v any, pos eventstore.Position) {
	if !pos.IsZero() {
		w.Header().Set("Eventdesk-Position", pos.String())
	}
	web.WriteJSON(w, status, "application/json", v)
}

// meResponse is who a request acts as (GET /v1/me).
type meResponse struct {
	Tenant  meTenant        `json:"tenant"`
	Kind    string          `json:"kind"` // api_key or agent_token
	Admin   bool            `json:"admin"`
	Agent   *agent.Snapshot `json:"agent"`
	TokenID *string         `json:"token_id"`
	Groups  []string        `json:"groups"`
}

type meTenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// me answers who the request acts as: the tenant's API key, or an agent's
// token with its agent (as authenticating this request read it) and the
// groups it belongs to — what a console needs to show its user and what
// the permits let it see.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	out := meResponse{Tenant: meTenant{ID: p.Tenant.ID, Name: p.Tenant.Name}, Kind: "api_key", Admin: p.Admin()}
	if p.Agent != nil {
		groups, err := s.Groups.Of(r.Context(), p.Tenant.ID, p.Agent.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.Kind, out.Agent, out.TokenID, out.Groups = "agent_token", p.Agent, &p.TokenID, groups
	}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	web.WriteJSON(w, http.StatusOK, "application/json", out)
}

type createAgentRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	var req createAgentRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		c.required("email", req.Email)
		c.required("name", req.Name)
		c.oneOf("role", req.Role, names(agent.Roles()))
	})
	if !ok {
		return
	}
	a, pos, err := s.Agents.Create(r.Context(), tenantOf(r).ID, agent.CreateAgent{Email: req.Email, Name: req.Name, Role: agent.Role(req.Role)}, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/agents/"+a.ID)
	writeMember(w, http.StatusCreated, a, pos)
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	list, err := s.Agents.List(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"agents": list})
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) {
	a, err := s.Agents.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeMember(w, http.StatusOK, a, eventstore.Position{})
}

type patchAgentRequest struct {
	Name   *string `json:"name"`
	Role   *string `json:"role"`
	Active *bool   `json:"active"`
}

// patchAgent renames an agent, changes its role, or deactivates
// ("active": false) or reactivates it. Its e-mail address never changes.
func (s *Server) patchAgent(w http.ResponseWriter, r *http.Request) {
	var req patchAgentRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		if req.Role != nil {
			if *req.Role == "" {
				c.add("role", "required", "role must not be empty; allowed values: admin, agent")
			}
			c.oneOf("role", *req.Role, names(agent.Roles()))
		}
	})
	if !ok {
		return
	}
	u := agent.UpdateAgent{Name: req.Name, Active: req.Active}
	if req.Role != nil {
		role := agent.Role(*req.Role)
		u.Role = &role
	}
	a, pos, err := s.Agents.Update(r.Context(), tenantOf(r).ID, r.PathValue("id"), u, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeMember(w, http.StatusOK, a, pos)
}

// createToken issues a personal API token to the agent. The secret is in
// this answer only: it is never stored, so this route does not replay
// answers for an Idempotency-Key (a retry issues another token; revoke the
// spare).
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	if err := s.decodeOptional(r, &struct{}{}); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Agents.CreateToken(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusCreated, "application/json", t)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.Agents.Tokens(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"tokens": list})
}

// revokeToken revokes a token at once: 204.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if _, err := s.noBody(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Agents.RevokeToken(r.Context(), tenantOf(r).ID, r.PathValue("id"), r.PathValue("token_id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type groupRequest struct {
	Name    *string   `json:"name"`
	Members *[]string `json:"members"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		if req.Name == nil {
			c.required("name", "")
		}
	})
	if !ok {
		return
	}
	c := group.CreateGroup{Name: *req.Name}
	if req.Members != nil {
		c.Members = *req.Members
	}
	g, pos, err := s.Groups.Create(r.Context(), tenantOf(r).ID, c, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/groups/"+g.ID)
	writeMember(w, http.StatusCreated, g, pos)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	list, err := s.Groups.List(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"groups": list})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.Groups.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeMember(w, http.StatusOK, g, eventstore.Position{})
}

// patchGroup renames a group and/or replaces its members.
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	m, ok := s.command(w, r, &req, false, nil, nil)
	if !ok {
		return
	}
	s.changeGroup(w, r, app.GroupChange{Name: req.Name, Members: req.Members}, m)
}

type membersRequest struct {
	Members []string `json:"members"`
}

// putMembers replaces a group's members.
func (s *Server) putMembers(w http.ResponseWriter, r *http.Request) {
	var req membersRequest
	var present map[string]bool
	m, ok := s.command(w, r, &req, false, &present, func(c *fieldCheck) {
		if !present["members"] || req.Members == nil {
			c.add("members", "required", "members is required (a list of agent ids, [] for none)")
		}
	})
	if !ok {
		return
	}
	s.changeGroup(w, r, app.GroupChange{Members: &req.Members}, m)
}

func (s *Server) changeGroup(w http.ResponseWriter, r *http.Request, c app.GroupChange, m app.Meta) {
	g, pos, err := s.Groups.Update(r.Context(), tenantOf(r).ID, r.PathValue("id"), c, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeMember(w, http.StatusOK, g, pos)
}
