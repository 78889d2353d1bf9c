package fynd

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// Deps are what the surface calls. cmd wires them.
type Deps struct {
	Tickets *app.Tickets
	Tenants *app.Tenants
	Forms   *app.Forms
	Rooms   *app.VideoRooms
	// Keys makes writes retry-safe with an Idempotency-Key; nil ignores
	// the header.
	Keys *web.Idempotency
	// Logger receives unexpected errors; nil discards them.
	Logger *slog.Logger
}

// Handler serves Fynd Platform's Lead application API.
type Handler struct {
	d Deps
}

// New returns the handler.
func New(d Deps) *Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Prefix is where every operation of the surface lives.
const Prefix = "/service/application/lead/v1.0"

// Routes, with Go 1.22 method patterns. Creating a ticket is registered
// with the trailing slash (the documented path, the Python SDK's) and
// without it (the JavaScript SDK's current path).
const (
	RouteGetForm          = "GET " + Prefix + "/form/{slug}"
	RouteSubmitForm       = "POST " + Prefix + "/form/{slug}/submit"
	RouteGetTicket        = "GET " + Prefix + "/ticket/{id}"
	RouteCreateTicket     = "POST " + Prefix + "/ticket/{$}"
	RouteCreateTicketBare = "POST " + Prefix + "/ticket"
	RouteCreateHistory    = "POST " + Prefix + "/ticket/{id}/history"
	RouteParticipants     = "GET " + Prefix + "/video/room/{unique_name}/participants"
	RouteVideoToken       = "GET " + Prefix + "/video/room/{unique_name}/token"
)

// Register mounts the surface's routes on mux (an *http.ServeMux or the
// API server). A known path asked with another method is 405 with Allow;
// any other path under /service/application/lead/ is 404. Both answer
// {"message": …}.
func (h *Handler) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle(RouteGetForm, h.endpoint(h.getForm))
	mux.Handle(RouteSubmitForm, h.endpoint(h.submitForm))
	mux.Handle(RouteGetTicket, h.endpoint(h.getTicket))
	mux.Handle(RouteCreateTicket, h.endpoint(h.createTicket))
	mux.Handle(RouteCreateTicketBare, h.endpoint(h.createTicket))
	mux.Handle(RouteCreateHistory, h.endpoint(h.createHistory))
	mux.Handle(RouteParticipants, h.endpoint(h.participants))
	mux.Handle(RouteVideoToken, h.endpoint(h.videoToken))
	for path, allow := range map[string]string{
		"/form/{slug}":                           "GET, HEAD",
		"/form/{slug}/submit":                    "POST",
		"/ticket/{id}":                           "GET, HEAD",
		"/ticket/{$}":                            "POST",
		"/ticket":                                "POST",
		"/ticket/{id}/history":                   "POST",
		"/video/room/{unique_name}/participants": "GET, HEAD",
		"/video/room/{unique_name}/token":        "GET, HEAD",
	} {
		mux.Handle(Prefix+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Message: "method " + r.Method + " is not allowed here; use " + allow})
		}))
	}
	mux.Handle("/service/application/lead/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	}))
}

// caller is an authenticated request: the tenant, its Fynd application
// id, who acts, and the logged-in user if the request names one.
type caller struct {
	tenant app.Tenant
	appID  string
	// user is the logged-in user from X-User-Data; nil when none.
	user *domain.Actor
	// meta records changes as made by the user, else by the application
	// (integration "fynd:<application_id>"), through sales_channel.
	meta app.Meta
}

type endpointFunc func(w http.ResponseWriter, r *http.Request, c caller) error

// endpoint authenticates the request, runs f and answers f's error.
func (h *Handler) endpoint(f endpointFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer web.RecoverPanic(r, h.d.Logger, "fynd", func() { writeJSON(w, http.StatusInternalServerError, errorBody{Message: msgInternal}) })
		if err := web.CheckRequest(r); err != nil {
			h.fail(w, r, err)
			return
		}
		c, err := h.authenticate(w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		run := func(w http.ResponseWriter, r *http.Request) {
			c := c
			c.meta.Idempotency = web.Seed(r)
			if err := f(w, r, c); err != nil {
				h.fail(w, r, err)
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			run(w, r)
			return
		}
		// Writes honour an Idempotency-Key as the native API does.
		h.d.Keys.Serve(w, r, c.tenant.ID, MaxBodyBytes, h.fail, run)
	})
}

// HeaderUserData carries the logged-in storefront user, as Fynd's gateway
// passes it to its services: a JSON object such as
// {"_id": "…", "first_name": "Ana", "last_name": "Lima", "emails": [{"email": "ana@example.com"}]}.
const HeaderUserData = "X-User-Data"

// authenticate checks "Authorization: Bearer base64(application_id:application_token)"
// and reads the optional X-User-Data.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (caller, error) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fynd"`)
		return caller{}, errNoCredentials
	}
	id, token, ok := decodeBearer(strings.TrimSpace(cred))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fynd"`)
		return caller{}, errBadCredentials
	}
	t, err := h.d.Tenants.ByFynd(r.Context(), id, token)
	if errors.Is(err, app.ErrUnauthenticated) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fynd"`)
		return caller{}, errBadCredentials
	}
	if err != nil {
		return caller{}, err
	}
	c := caller{tenant: t, appID: id, meta: app.Meta{
		By:            domain.Actor{Kind: domain.ActorIntegration, ID: "fynd:" + id},
		Source:        domain.SourceSalesChannel,
		CorrelationID: w.Header().Get("X-Request-ID"), // set by the API server
		// The application is recorded as the principal even when the
		// change is the X-User-Data user's.
		Principal: "fynd:" + id,
	}}
	if raw := strings.TrimSpace(r.Header.Get(HeaderUserData)); raw != "" {
		u, err := parseUser(HeaderUserData, json.RawMessage(raw))
		if err != nil {
			return caller{}, err
		}
		c.user = &u
		c.meta.By = u
	}
	return c, nil
}

// decodeBearer decodes base64(id:token), padded or not, standard or URL
// alphabet.
func decodeBearer(s string) (id, token string, ok bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil || !utf8.Valid(b) {
			continue
		}
		id, token, ok = strings.Cut(string(b), ":")
		return id, token, ok && id != "" && token != ""
	}
	return "", "", false
}

// badRequest is a 400 whose msg is safe to show.
func badRequest(msg string) *web.Problem {
	return web.NewProblem(http.StatusBadRequest, "bad_request", msg)
}

const msgInternal = "internal server error; it has been logged"

var (
	errNoCredentials = web.NewProblem(http.StatusUnauthorized, "unauthenticated",
		"missing application credentials: send Authorization: Bearer base64(application_id:application_token)")
	errBadCredentials = web.NewProblem(http.StatusUnauthorized, "unauthenticated", "invalid application credentials")
	errLoginRequired  = web.NewProblem(http.StatusUnauthorized, "login_required",
		"this form requires a logged-in user: send the user in the X-User-Data header")
)

// errorBody is every failure's body, as Fynd's SDKs read it
// (error.response.data.message).
type errorBody struct {
	Message string `json:"message"`
}

// fail answers err as {"message": …}, in the status Fynd documents for
// its class (see status). web.Triage classifies err and logs it if it is
// unexpected; the message of an unexpected error says nothing of its cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	c, answer := web.Triage(r, h.d.Logger, err)
	if !answer {
		return
	}
	msg := c.Message
	if c.Internal {
		msg = msgInternal
	}
	st := status(c)
	if st == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fynd"`)
	}
	web.SetRetryAfter(w.Header(), c)
	writeJSON(w, st, errorBody{Message: msg})
}

// submissionCodes are the codes of answers that do not fit the form's
// inputs: 422, unlike malformed requests (400).
var submissionCodes = []string{form.ErrResponseRequired.Code, form.ErrInvalidResponse.Code, form.ErrUnknownResponse.Code}

// status is Fynd's status for c: the native one, except that invalid input
// is 400 (422 only for form answers that do not fit the form) and a failed
// precondition is 409.
func status(c web.Class) int {
	switch {
	case c.Kind == domain.Invalid && c.Status == http.StatusUnprocessableEntity:
		for _, f := range c.Fields {
			if slices.Contains(submissionCodes, f.Code) {
				return http.StatusUnprocessableEntity
			}
		}
		return http.StatusBadRequest
	case c.Kind == domain.PreconditionFailed:
		return http.StatusConflict
	}
	return c.Status
}

// notFound turns the domain's "not found" of a ticket or form into Fynd's
// wording; other errors pass.
func notFound(err error, what string) error {
	if errors.Is(err, ticket.ErrNotFound) || errors.Is(err, form.ErrNotFound) {
		return web.NewProblem(http.StatusNotFound, "not_found", what+" not found")
	}
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"`+msgInternal+`"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
