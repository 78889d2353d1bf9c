package native

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
	"github.com/eventdesk/eventdesk/projections"
)

// Waiter waits for a projection to reach a position (projections.Runner).
type Waiter interface {
	WaitFor(ctx context.Context, name string, pos eventstore.Position) error
}

// Log is what the event feed reads for a page or a stream that ends: the
// gap-free global log.
type Log interface {
	ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error)
}

// Feed is what a follow stream subscribes to: the node's one follower of
// the log, fanned out in memory (feed.Hub). Subscribe fails with
// feed.ErrClosed once the node is shutting down.
type Feed interface {
	Subscribe(f feed.Filter, after eventstore.Position) (*feed.Subscription, error)
}

// Deps are the services the native API calls. cmd wires them (through
// api.New).
type Deps struct {
	*app.Services
	// Keys makes writes retry-safe (Idempotency-Key); nil ignores keys.
	Keys    *web.Idempotency
	Log     Log
	Feed    Feed
	Queries *projections.TicketQueries
	// Contacts answers customer lists, searches and timelines.
	Contacts *projections.ContactQueries
	// DealQueries answers deal lists and pipeline boards (deals.v1).
	DealQueries *projections.DealQueries
	Waiter      Waiter
	Logger      *slog.Logger
}

// Server is the native REST API (/v1) and its OpenAPI document.
type Server struct {
	Deps
	mux *http.ServeMux
}

// New returns the native API.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{Deps: d}
}

// Register mounts the native routes on mux; anything else under /v1/ is
// answered 404 or 405 (with Allow) as problem+json.
func (s *Server) Register(mux *http.ServeMux) {
	s.mux = mux
	s.routes()
}

func (s *Server) routes() {
	auth := s.authenticate
	s.mux.Handle("POST /v1/tickets", auth(s.idempotent(s.createTicket)))
	s.mux.Handle("GET /v1/tickets", auth(s.listTickets))
	s.mux.Handle("GET /v1/tickets/{id}", auth(s.getTicket))
	s.mux.Handle("PATCH /v1/tickets/{id}", auth(s.idempotent(s.patchTicket)))
	s.mux.Handle("POST /v1/tickets/{id}/reopen", auth(s.idempotent(s.reopenTicket)))
	s.mux.Handle("POST /v1/tickets/{id}/feedback", auth(s.idempotent(s.submitFeedback)))
	s.mux.Handle("POST /v1/tickets/{id}/history", auth(s.idempotent(s.logHistory)))
	s.mux.Handle("GET /v1/tickets/{id}/history", auth(s.getHistory))
	s.mux.Handle("POST /v1/tickets/{id}/activities", auth(s.idempotent(s.addActivity)))
	s.mux.Handle("GET /v1/tickets/{id}/events", auth(s.ticketEvents))
	s.mux.Handle("POST /v1/tickets/{id}/attachments", auth(s.idempotentUpTo(s.uploadLimit(), s.uploadAttachment)))
	s.mux.Handle("GET /v1/attachments/{id}", auth(s.downloadAttachment))
	s.mux.Handle("POST /v1/forms", auth(s.idempotent(s.createForm)))
	s.mux.Handle("GET /v1/forms", auth(s.listForms))
	s.mux.Handle("GET /v1/forms/{slug}", auth(s.getForm))
	s.mux.Handle("PUT /v1/forms/{slug}", auth(s.idempotent(s.putForm)))
	s.mux.Handle("POST /v1/forms/{slug}/submit", auth(s.idempotent(s.submitForm)))
	s.mux.Handle("POST /v1/tickets/{id}/video-room", auth(s.idempotent(s.openVideoRoom)))
	s.mux.Handle("GET /v1/video-rooms/{unique_name}", auth(s.getVideoRoom))
	s.mux.Handle("POST /v1/video-rooms/{unique_name}/token", auth(s.idempotent(s.videoToken)))
	s.mux.Handle("GET /v1/video-rooms/{unique_name}/participants", auth(s.listParticipants))
	s.mux.Handle("POST /v1/video-rooms/{unique_name}/participants", auth(s.idempotent(s.joinVideoRoom)))
	s.mux.Handle("DELETE /v1/video-rooms/{unique_name}/participants/{identity}", auth(s.idempotent(s.leaveVideoRoom)))
	s.mux.Handle("POST /v1/video-rooms/{unique_name}/close", auth(s.idempotent(s.closeVideoRoom)))
	s.mux.Handle("GET /v1/events", auth(s.feed))
	s.mux.Handle("POST /v1/stream/tickets", auth(s.streamTicket)) // never replayed: each call is a new secret
	s.mux.Handle("GET /v1/config", auth(s.getConfig))
	s.mux.Handle("PUT /v1/config/categories", auth(s.idempotent(s.putCategories)))
	s.mux.Handle("PUT /v1/config/statuses", auth(s.idempotent(s.putStatuses)))
	s.mux.Handle("PUT /v1/config/priorities", auth(s.idempotent(s.putPriorities)))
	s.mux.Handle("GET /v1/me", auth(s.me))
	s.mux.Handle("POST /v1/agents", auth(s.admin(s.idempotent(s.createAgent))))
	s.mux.Handle("GET /v1/agents", auth(s.listAgents))
	s.mux.Handle("GET /v1/agents/{id}", auth(s.getAgent))
	s.mux.Handle("PATCH /v1/agents/{id}", auth(s.admin(s.idempotent(s.patchAgent))))
	s.mux.Handle("POST /v1/agents/{id}/tokens", auth(s.admin(s.createToken))) // never replayed: see createToken
	s.mux.Handle("GET /v1/agents/{id}/tokens", auth(s.admin(s.listTokens)))
	s.mux.Handle("DELETE /v1/agents/{id}/tokens/{token_id}", auth(s.admin(s.idempotent(s.revokeToken))))
	s.mux.Handle("POST /v1/groups", auth(s.admin(s.idempotent(s.createGroup))))
	s.mux.Handle("GET /v1/groups", auth(s.listGroups))
	s.mux.Handle("GET /v1/groups/{id}", auth(s.getGroup))
	s.mux.Handle("PATCH /v1/groups/{id}", auth(s.admin(s.idempotent(s.patchGroup))))
	s.mux.Handle("PUT /v1/groups/{id}/members", auth(s.admin(s.idempotent(s.putMembers))))
	s.mux.Handle("GET /v1/config/crm", auth(s.getCRM))
	s.mux.Handle("PUT /v1/config/crm", auth(s.admin(s.idempotent(s.putCRM))))
	s.mux.Handle("GET /v1/config/custom-fields", auth(s.getCustomFields))
	s.mux.Handle("PUT /v1/config/custom-fields", auth(s.admin(s.idempotent(s.putCustomFields))))
	s.mux.Handle("GET /v1/config/sms", auth(s.admin(s.getSMSConfig)))
	s.mux.Handle("PUT /v1/config/sms", auth(s.admin(s.idempotent(s.putSMSConfig))))
	s.mux.Handle("GET /v1/outbox", auth(s.admin(s.listOutbox)))
	s.mux.Handle("GET /v1/outbox/{id}", auth(s.admin(s.getOutboxMessage)))
	s.mux.Handle("POST /v1/outbox/{id}/retry", auth(s.admin(s.idempotent(s.retryOutboxMessage))))
	s.mux.Handle("POST /v1/pipelines", auth(s.admin(s.idempotent(s.createPipeline))))
	s.mux.Handle("GET /v1/pipelines", auth(s.listPipelines))
	s.mux.Handle("GET /v1/pipelines/{id}", auth(s.getPipeline))
	s.mux.Handle("GET /v1/pipelines/{id}/board", auth(s.pipelineBoard))
	s.mux.Handle("PATCH /v1/pipelines/{id}", auth(s.admin(s.idempotent(s.patchPipeline))))
	s.mux.Handle("POST /v1/deals", auth(s.idempotent(s.createDeal)))
	s.mux.Handle("GET /v1/deals", auth(s.listDeals))
	s.mux.Handle("GET /v1/deals/{id}", auth(s.getDeal))
	s.mux.Handle("PATCH /v1/deals/{id}", auth(s.idempotent(s.patchDeal)))
	s.mux.Handle("POST /v1/deals/{id}/notes", auth(s.idempotent(s.addDealNote)))
	s.mux.Handle("GET /v1/deals/{id}/notes", auth(s.listDealNotes))
	s.mux.Handle("POST /v1/contacts", auth(s.idempotent(s.createContact)))
	s.mux.Handle("GET /v1/contacts", auth(s.listContacts))
	s.mux.Handle("GET /v1/contacts/{id}", auth(s.getContact))
	s.mux.Handle("GET /v1/contacts/{id}/timeline", auth(s.contactTimeline))
	s.mux.Handle("GET /v1/contacts/{id}/notes", auth(s.contactNotes))
	s.mux.Handle("PATCH /v1/contacts/{id}", auth(s.idempotent(s.patchContact)))
	s.mux.Handle("POST /v1/contacts/{id}/convert", auth(s.idempotent(s.convertContact)))
	s.mux.Handle("POST /v1/contacts/{id}/merge", auth(s.idempotent(s.mergeContacts)))
	s.mux.Handle("POST /v1/contacts/{id}/unmerge", auth(s.idempotent(s.unmergeContact)))
	s.mux.Handle("POST /v1/contacts/{id}/notes", auth(s.idempotent(s.addContactNote)))
	s.mux.Handle("POST /v1/listeners", auth(s.admin(s.createListener))) // never replayed: see createListener
	s.mux.Handle("GET /v1/listeners", auth(s.admin(s.listListeners)))
	s.mux.Handle("GET /v1/listeners/{id}", auth(s.admin(s.getListener)))
	s.mux.Handle("PATCH /v1/listeners/{id}", auth(s.admin(s.idempotent(s.patchListener))))
	s.mux.Handle("DELETE /v1/listeners/{id}", auth(s.admin(s.idempotent(s.deleteListener))))
	s.mux.Handle("POST /v1/listeners/{id}/rotate", auth(s.admin(s.rotateListener))) // never replayed: it shows a new secret
	s.mux.Handle("GET /openapi.json", http.HandlerFunc(serveOpenAPI))
	s.mux.Handle("/v1/", http.HandlerFunc(s.noRoute))
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) { fail(w, r, s.Logger, err) }

// Fail answers err as the native API does (see fail), for handlers the
// api package mounts beside it.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) { fail(w, r, log, err) }

// fail answers err as problem+json: web.Classify's class as it is, with
// WWW-Authenticate on a 401. web.Triage logs unexpected errors (whose text
// clients never see) and answers nothing to a client that has gone.
func fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	c, answer := web.Triage(r, log, err)
	if !answer {
		return
	}
	if c.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventdesk"`)
	}
	web.SetRetryAfter(w.Header(), c)
	web.WriteJSON(w, c.Status, "application/problem+json", web.ProblemOf(c, r.URL.Path))
}

// noRoute answers what no route matched under /v1/: 405 with Allow when
// the path exists for other methods, else 404, both as problem+json.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/v1/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.fail(w, r, web.NewProblem(http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed here; allowed: "+strings.Join(allowed, ", ")))
		return
	}
	s.fail(w, r, web.NewProblem(http.StatusNotFound, "no_route", "no such endpoint: "+r.Method+" "+r.URL.Path))
}

type ctxKey int

const tenantKey ctxKey = 0

// authenticate admits requests bearing a tenant's API key or an agent's
// personal token ("Authorization: Bearer <key or token>", see
// app.Agents.Authenticate) and puts the tenant and the principal in the
// context.
func (s *Server) authenticate(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Text that is not UTF-8 never reaches a query; repeated
		// credentials are refused (web.CheckRequest).
		if err := web.CheckRequest(r); err != nil {
			s.fail(w, r, err)
			return
		}
		scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			s.fail(w, r, app.ErrUnauthenticated)
			return
		}
		p, err := s.Agents.Authenticate(r.Context(), strings.TrimSpace(key))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), tenantKey, p.Tenant), principalKey, p)
		next(w, r.WithContext(ctx))
	})
}

// reservedActor reports whether a is one of Eventdesk's own identities,
// which only Eventdesk writes as: any of kind system, and the integrations
// its surfaces record (the API key itself, the support-message API,
// LeadSquared, Fynd applications).
func reservedActor(a domain.Actor) bool {
	if a.Kind == domain.ActorSystem {
		return true
	}
	if a.Kind != domain.ActorIntegration {
		return false
	}
	id := strings.ToLower(a.ID)
	return id == "api_key" || id == "support_api" || id == "leadsquared" || strings.HasPrefix(id, "fynd:")
}

func tenantOf(r *http.Request) app.Tenant {
	t, _ := r.Context().Value(tenantKey).(app.Tenant)
	return t
}

// meta describes who acts through the native API: the tenant's API key
// (an integration), or the person an Eventdesk-Actor header names, e.g.
// "agent:ana@example.com" or "user:42". An agent's token always acts as
// its agent (agentMeta). Whoever acts, the credential that authenticated
// the request is recorded as the principal ("api_key",
// "agent_token:<token id>"). Eventdesk's own identities (kind system, and
// the integrations its surfaces write as) cannot be claimed over HTTP.
func meta(r *http.Request) (app.Meta, error) {
	m := app.Meta{By: domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}, Source: domain.SourceAPI,
		CorrelationID: web.RequestID(r), Idempotency: web.Seed(r), Principal: "api_key"}
	if p := principalOf(r); p.Agent != nil {
		m.Principal = "agent_token:" + p.TokenID
		return agentMeta(r, m, p)
	}
	if h := strings.TrimSpace(r.Header.Get("Eventdesk-Actor")); h != "" {
		kind, who, ok := strings.Cut(h, ":")
		a := domain.Actor{Kind: domain.ActorKind(kind)}
		if strings.Contains(who, "@") {
			a.Email = who
		} else {
			a.ID = who
		}
		if err := a.Validate("Eventdesk-Actor"); !ok || err != nil {
			return app.Meta{}, web.Invalid(web.FieldError{Field: "Eventdesk-Actor", Code: "invalid_actor",
				Detail: `Eventdesk-Actor must be "<kind>:<id or e-mail>" with kind user, agent or integration`})
		}
		if reservedActor(a) {
			return app.Meta{}, web.Invalid(web.FieldError{Field: "Eventdesk-Actor", Code: "actor_not_allowed",
				Detail: "Eventdesk-Actor may not name Eventdesk's own identities (kind system, or the integrations api_key, " +
					"support_api, leadsquared and fynd:…)"})
		}
		m.By = a
	}
	return m, nil
}
