package leadsquared

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Deps are what the surface calls. cmd wires them.
type Deps struct {
	Tickets *app.Tickets
	Tenants *app.Tenants
	// Limiter enforces the per-access-key rate limit: a RedisLimiter when
	// Eventdesk runs on several nodes, a MemoryLimiter otherwise. Nil means
	// NewMemoryLimiter(DefaultLimit, nil).
	Limiter Limiter
	// Keys makes writes retry-safe with an Idempotency-Key; nil ignores
	// the header.
	Keys *web.Idempotency
	// Logger receives unexpected errors; nil discards them.
	Logger *slog.Logger
}

// Handler serves LeadSquared Service CRM's ticket API.
type Handler struct {
	d Deps
}

// New returns the handler.
func New(d Deps) *Handler {
	if d.Limiter == nil {
		d.Limiter = NewMemoryLimiter(DefaultLimit, nil)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Routes, with Go 1.22 method patterns. The create path is registered in
// the singular (the form issue 4 and the portal-activity path use) and in
// the plural (the form LeadSquared's live documentation shows).
const (
	RouteCreateTicket  = "POST /api/tenants/{OrgID}/ticket"
	RouteCreateTickets = "POST /api/tenants/{OrgID}/tickets"
	RouteAddActivity   = "POST /api/tenants/{OrgID}/ticket/{ticketId}/portal/activity"
	routeOther         = "/api/tenants/"
)

// Register mounts the surface's routes on mux (an *http.ServeMux or the
// API server). Any other path under /api/tenants/ answers LeadSquared's
// 404 ("check the API signature").
func (h *Handler) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle(RouteCreateTicket, h.endpoint(h.createTicket))
	mux.Handle(RouteCreateTickets, h.endpoint(h.createTicket))
	mux.Handle(RouteAddActivity, h.endpoint(h.addActivity))
	mux.Handle(routeOther, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &failure{status: http.StatusNotFound, exception: "MXAPINotFoundException",
			msg: "The API could not be found. Please check the API signature."})
	}))
}

// Header names of the credentials.
const (
	HeaderAccessKey = "X-LSQ-ACCESS-KEY"
	HeaderSecretKey = "X-LSQ-SECRET-KEY"
)

// caller is an authenticated, admitted request's tenant.
type caller struct {
	tenant    app.Tenant
	accessKey string
}

type endpointFunc func(w http.ResponseWriter, r *http.Request, c caller) error

// endpoint authenticates the request, checks the OrgID, counts it against
// the rate limit, runs f and answers f's error in LeadSquared's envelope.
func (h *Handler) endpoint(f endpointFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer web.RecoverPanic(r, h.d.Logger, "leadsquared", func() { h.fail(w, r, errInternal) })
		c, err := h.admit(w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		// Every route of this surface is a write: an Idempotency-Key makes
		// it retry-safe as on the native API.
		h.d.Keys.Serve(w, r, c.tenant.ID, MaxBodyBytes, h.fail, func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r, c); err != nil {
				h.fail(w, r, err)
			}
		})
	})
}

var (
	errNoCredentials = &failure{status: http.StatusUnauthorized, exception: "MXUnAuthorizedAccessException",
		msg: "Missing access credentials. Pass the X-LSQ-ACCESS-KEY and X-LSQ-SECRET-KEY headers."}
	errBadCredentials = &failure{status: http.StatusUnauthorized, exception: "MXUnAuthorizedAccessException",
		msg: "Invalid access credentials. Check your AccessKey and SecretKey."}
	errInternal = &failure{status: http.StatusInternalServerError, exception: "MXInternalServerException",
		msg: "The API call failed due to an internal error. Please retry later."}
)

// admit authenticates the request and applies the rate limit, setting the
// rate-limit headers on w.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) (caller, error) {
	access := strings.TrimSpace(r.Header.Get(HeaderAccessKey))
	secret := strings.TrimSpace(r.Header.Get(HeaderSecretKey))
	if access == "" || secret == "" {
		return caller{}, errNoCredentials
	}
	t, err := h.d.Tenants.ByLeadSquared(r.Context(), access, secret)
	if errors.Is(err, app.ErrUnauthenticated) {
		return caller{}, errBadCredentials
	}
	if err != nil {
		return caller{}, err
	}
	// The OrgID must name the keys' own tenant; any other is answered as
	// bad credentials, never as "not found", so that it reveals nothing.
	org := r.PathValue("OrgID")
	if !sameOrg(org, t) {
		return caller{}, errBadCredentials
	}
	d, err := h.d.Limiter.Allow(r.Context(), "leadsquared:"+access)
	if err != nil {
		// Fail open: throttling protects capacity, it is not a security
		// boundary, and an outage of Redis must not take the API down.
		h.d.Logger.ErrorContext(r.Context(), "leadsquared: rate limiter failed; call admitted", "err", err)
		return caller{tenant: t, accessKey: access}, nil
	}
	setRateHeaders(w.Header(), d)
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(d.RetryAfter), 10))
		return caller{}, &failure{status: http.StatusTooManyRequests, exception: "MXAPIRateLimitExceededException", msg: d.Limit.Message()}
	}
	return caller{tenant: t, accessKey: access}, nil
}

// sameOrg reports whether org names tenant t: its id (a UUID, compared
// without regard to case) or its company id, LeadSquared's numeric org id.
func sameOrg(org string, t app.Tenant) bool {
	if strings.EqualFold(org, t.ID) {
		return true
	}
	n, err := strconv.ParseInt(org, 10, 64)
	return err == nil && n > 0 && n == t.CompanyID
}

// setRateHeaders sets the conventional rate-limit headers: the limit, the
// calls left, and the seconds until the full allowance is back.
func setRateHeaders(h http.Header, d Decision) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit.Calls))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilSeconds(d.ResetAfter), 10))
}

// ceilSeconds rounds d up to whole seconds; at least 1 for any positive d.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}

// failure is an answer other than 200: its status, its ExceptionType and
// a message safe to show the client.
type failure struct {
	status    int
	exception string
	msg       string
}

func (f *failure) Error() string { return f.msg }

func invalidInput(msg string) *failure {
	return &failure{status: http.StatusBadRequest, exception: "MXInvalidInputException", msg: msg}
}

func mandatoryMissing(msg string) *failure {
	return &failure{status: http.StatusBadRequest, exception: "MXMandatoryAttributeMissingException", msg: msg}
}

var errTicketNotFound = &failure{status: http.StatusNotFound, exception: "MXRecordNotFoundException", msg: "Ticket not found."}

// errorBody is every failure's body: the endpoints' own envelope with
// Status "Error" (Status, ReasonForFailure, Id, Message, TicketId, Key)
// and LeadSquared's platform error fields (ExceptionType,
// ExceptionMessage), so that a client reading either finds the reason.
type errorBody struct {
	Status           string  `json:"Status"`
	ReasonForFailure string  `json:"ReasonForFailure"`
	ID               *string `json:"Id"`
	Message          string  `json:"Message"`
	TicketID         *string `json:"TicketId"`
	Key              *string `json:"Key"`
	ExceptionType    string  `json:"ExceptionType"`
	ExceptionMessage string  `json:"ExceptionMessage"`
}

// fail answers err: a *failure as it says, a domain error by its kind,
// anything else as a logged 500 whose body says nothing of the cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	f := classify(err)
	if f == nil {
		h.d.Logger.ErrorContext(r.Context(), "leadsquared: request failed", "route", r.Pattern, "method", r.Method, "err", err)
		f = errInternal
	}
	writeJSON(w, f.status, errorBody{Status: "Error", ReasonForFailure: f.msg, Message: f.msg,
		ExceptionType: f.exception, ExceptionMessage: f.msg})
}

// classify maps err to a failure; nil means unexpected.
func classify(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	if errors.Is(err, context.Canceled) {
		return &failure{status: 499, exception: "MXRequestCanceledException", msg: "The request was canceled."}
	}
	if errors.Is(err, eventstore.ErrVersionConflict) {
		return &failure{status: http.StatusConflict, exception: "MXConcurrentUpdateException",
			msg: "The ticket was modified concurrently. Please retry."}
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		return nil
	}
	switch de.Kind {
	case domain.NotFound:
		if errors.Is(err, ticket.ErrNotFound) {
			return errTicketNotFound
		}
		return &failure{status: http.StatusNotFound, exception: "MXRecordNotFoundException", msg: de.Error()}
	case domain.Invalid:
		var msgs []string
		for _, e := range domain.Errors(err) {
			if e.Kind == domain.Invalid {
				msgs = append(msgs, describe(e))
			}
		}
		return invalidInput(strings.Join(msgs, "; "))
	case domain.Conflict, domain.PreconditionFailed:
		return &failure{status: http.StatusConflict, exception: "MXConflictException", msg: de.Error()}
	}
	return nil
}

// schemaOf names the LeadSquared schema behind a native field.
var schemaOf = map[string]string{
	"title":                    "Title",
	"description":              "Description",
	"channel":                  "Channel",
	"priority":                 "Priority",
	"status":                   "Status",
	"category":                 "Type",
	"sub_category":             "SubType",
	"text":                     "Text",
	"direction":                "Direction",
	"custom":                   "Fields",
	"references.lead_id":       "LeadId",
	"references.customer_id":   "RelatedCustomerId",
	"references.contact_email": "LeadDetail.EmailAddress",
	"references.contact_phone": "LeadDetail.Phone",
	"references.contact_name":  "LeadDetail.FirstName/LeadDetail.LastName",
}

// describe renders a domain validation error with LeadSquared's field name.
func describe(e *domain.Error) string {
	if s, ok := schemaOf[e.Field]; ok {
		return "Invalid " + s + ": " + e.Error()
	}
	if rest, ok := strings.CutPrefix(e.Field, "custom."); ok {
		return "Invalid " + rest + ": " + e.Error()
	}
	return e.Error()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Status":"Error","ReasonForFailure":"internal error","Id":null,"Message":"internal error","TicketId":null,"Key":null}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// meta is who acts through this surface: the tenant's LeadSquared
// credentials, an integration. The request id the API server assigned
// (echoed in X-Request-ID) correlates the events with the request.
func meta(w http.ResponseWriter, r *http.Request, source domain.Source) app.Meta {
	id := w.Header().Get("X-Request-ID")
	if id == "" {
		id = r.Header.Get("X-Request-ID")
	}
	return app.Meta{By: actor, Source: source, CorrelationID: id, Idempotency: web.Seed(r)}
}

// actor is the recorded author of changes made through this surface.
var actor = domain.Actor{Kind: domain.ActorIntegration, ID: "leadsquared", Name: "LeadSquared Service CRM API"}
