package leadsquared

import (
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
		h.fail(w, r, web.NewProblem(http.StatusNotFound, codeNoAPI, "The API could not be found. Please check the API signature."))
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
		if err := web.CheckRequest(r); err != nil {
			h.fail(w, r, err)
			return
		}
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
	errNoCredentials = web.NewProblem(http.StatusUnauthorized, "unauthenticated",
		"Missing access credentials. Pass the X-LSQ-ACCESS-KEY and X-LSQ-SECRET-KEY headers.")
	errBadCredentials = web.NewProblem(http.StatusUnauthorized, "unauthenticated",
		"Invalid access credentials. Check your AccessKey and SecretKey.")
	// errInternal answers a panic, which web.RecoverPanic has logged.
	errInternal = web.NewProblem(http.StatusInternalServerError, "internal", msgInternal)
)

const msgInternal = "The API call failed due to an internal error. Please retry later."

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
		// boundary. Neither of our limiters gets here (RedisLimiter falls
		// back to a per-node limit by itself); a Limiter that cannot
		// decide must not take the API down.
		h.d.Logger.ErrorContext(r.Context(), "leadsquared: rate limiter failed; call admitted", "err", err)
		return caller{tenant: t, accessKey: access}, nil
	}
	setRateHeaders(w.Header(), d)
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(d.RetryAfter), 10))
		return caller{}, web.NewProblem(http.StatusTooManyRequests, "rate_limited", d.Limit.Message())
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

// Codes of the errors this surface builds where LeadSquared names the
// failure more precisely than its kind (see exceptionByCode).
const (
	codeMandatory = "mandatory_attribute_missing"
	codeNoAPI     = "api_not_found"
)

// invalidInput is a 400 MXInvalidInputException whose msg is safe to show.
func invalidInput(msg string) *web.Problem {
	return web.NewProblem(http.StatusBadRequest, "invalid_input", msg)
}

// mandatoryMissing is a 400 MXMandatoryAttributeMissingException.
func mandatoryMissing(msg string) *web.Problem {
	return web.NewProblem(http.StatusBadRequest, codeMandatory, msg)
}

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

// fail answers err in LeadSquared's envelope: web.Triage classifies err
// (and logs it if it is unexpected), and the class gets LeadSquared's
// status, ExceptionType and wording; an unexpected error's says nothing of
// its cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	c, answer := web.Triage(r, h.d.Logger, err)
	if !answer {
		return
	}
	msg := message(c)
	web.SetRetryAfter(w.Header(), c)
	writeJSON(w, status(c), errorBody{Status: "Error", ReasonForFailure: msg, Message: msg,
		ExceptionType: exception(c), ExceptionMessage: msg})
}

// status is LeadSquared's status for c: the native one, except that
// invalid input and too large a body are 400 (LeadSquared documents no 413
// or 422) and a failed precondition is 409.
func status(c web.Class) int {
	switch c.Kind {
	case domain.Invalid, domain.TooLarge:
		return http.StatusBadRequest
	case domain.PreconditionFailed:
		return http.StatusConflict
	}
	return c.Status
}

// exceptionByCode names the ExceptionType of the classes LeadSquared tells
// apart from others of their kind.
var exceptionByCode = map[string]string{
	codeMandatory:                  "MXMandatoryAttributeMissingException",
	codeNoAPI:                      "MXAPINotFoundException",
	web.CodeConcurrentModification: "MXConcurrentUpdateException",
}

// exceptionByKind names the ExceptionType of every other class.
var exceptionByKind = map[domain.Kind]string{
	domain.Invalid:            "MXInvalidInputException",
	domain.TooLarge:           "MXInvalidInputException",
	domain.NotFound:           "MXRecordNotFoundException",
	domain.Conflict:           "MXConflictException",
	domain.PreconditionFailed: "MXConflictException",
	domain.Unauthenticated:    "MXUnAuthorizedAccessException",
	domain.RateLimited:        "MXAPIRateLimitExceededException",
	domain.Unavailable:        "MXServiceUnavailableException",
}

func exception(c web.Class) string {
	if e, ok := exceptionByCode[c.Code]; ok {
		return e
	}
	if e, ok := exceptionByKind[c.Kind]; ok {
		return e
	}
	return "MXInternalServerException"
}

// message words c as LeadSquared does: its own sentences for an unknown
// ticket, a concurrent change and internal errors, every bad field by its
// LeadSquared name.
func message(c web.Class) string {
	switch {
	case c.Internal:
		return msgInternal
	case c.Code == ticket.ErrNotFound.Code:
		return "Ticket not found."
	case c.Code == web.CodeConcurrentModification:
		return "The ticket was modified concurrently. Please retry."
	case len(c.Fields) > 0:
		msgs := make([]string, len(c.Fields))
		for i, f := range c.Fields {
			msgs[i] = describe(f)
		}
		return strings.Join(msgs, "; ")
	}
	return c.Message
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

// describe renders a bad field with LeadSquared's field name.
func describe(f web.FieldError) string {
	if s, ok := schemaOf[f.Field]; ok {
		return "Invalid " + s + ": " + f.Detail
	}
	if rest, ok := strings.CutPrefix(f.Field, "custom."); ok {
		return "Invalid " + rest + ": " + f.Detail
	}
	return f.Detail
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
// credentials, an integration, recorded as the principal by their access
// key. The request id the API server assigned (echoed in X-Request-ID)
// correlates the events with the request.
func meta(w http.ResponseWriter, r *http.Request, c caller, source domain.Source) app.Meta {
	id := w.Header().Get("X-Request-ID")
	if id == "" {
		id = r.Header.Get("X-Request-ID")
	}
	return app.Meta{By: actor, Source: source, CorrelationID: id, Idempotency: web.Seed(r),
		Principal: "leadsquared:" + c.accessKey}
}

// actor is the recorded author of changes made through this surface.
var actor = domain.Actor{Kind: domain.ActorIntegration, ID: "leadsquared", Name: "LeadSquared Service CRM API"}
