package support

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/projections"
)

// Waiter waits until a projection has applied the event at pos
// (projections.Runner).
type Waiter interface {
	WaitFor(ctx context.Context, name string, pos eventstore.Position) error
}

// Deps are what the surface calls. cmd wires them.
type Deps struct {
	Tickets *app.Tickets
	Tenants *app.Tenants
	Files   *app.Files
	// Queries reads the tickets.v1 read model (search, and the client
	// ticketId → ticket lookup).
	Queries *projections.TicketQueries
	// Waiter lets a create answer only once the read model has the new
	// ticket, so that the client's next call (an upload by ticketId, a
	// search) finds it. Nil: no waiting.
	Waiter Waiter
	// WaitTimeout bounds that wait; 0 means DefaultWaitTimeout. When it
	// runs out the create still succeeds (the ticket is stored) and the
	// lag is logged.
	WaitTimeout time.Duration
	// Keys makes writes retry-safe with an Idempotency-Key; nil ignores
	// the header.
	Keys *web.Idempotency
	// Logger receives unexpected errors; nil discards them.
	Logger *slog.Logger
}

// DefaultWaitTimeout is how long a create waits for the read model.
const DefaultWaitTimeout = 5 * time.Second

// Handler serves the support-message API.
type Handler struct {
	d Deps
}

// New returns the handler.
func New(d Deps) *Handler {
	if d.WaitTimeout <= 0 {
		d.WaitTimeout = DefaultWaitTimeout
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Paths of the four operations. {HelpSupportFileType} is LOG or
// FEEDBACK_PHOTO.
const (
	PathMessage  = "/api/user/log/message"
	PathUpload   = "/api/user/help/file/upload/{feedbackId}/{HelpSupportFileType}"
	PathDownload = "/api/aws/download/support/file/{coreTicketId}/{HelpSupportFileType}"
	PathSearch   = "/api/admin/fetch/customer/support"
)

// Register mounts the surface's routes on mux (an *http.ServeMux or the
// API server), with Go 1.22 method patterns. Each path also answers any
// other method with 405 in the envelope.
func (h *Handler) Register(mux interface{ Handle(string, http.Handler) }) {
	for _, rt := range []struct {
		method, path string
		f            endpointFunc
	}{
		{http.MethodPost, PathMessage, h.createMessage},
		{http.MethodPost, PathUpload, h.upload},
		{http.MethodGet, PathDownload, h.download},
		{http.MethodPost, PathSearch, h.search},
	} {
		mux.Handle(rt.method+" "+rt.path, h.endpoint(rt.f))
		allow := rt.method
		if rt.method == http.MethodGet {
			allow = "GET, HEAD"
		}
		mux.Handle(rt.path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			h.fail(w, r, problem(http.StatusMethodNotAllowed, "method_not_allowed", "Request method '"+r.Method+"' is not supported",
				"use "+rt.method+" "+rt.path))
		}))
	}
}

type endpointFunc func(w http.ResponseWriter, r *http.Request, tenant app.Tenant) error

// endpoint authenticates the request, runs f and answers f's error in the
// envelope. A panic is answered as a 500 too.
func (h *Handler) endpoint(f endpointFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer web.RecoverPanic(r, h.d.Logger, "support", func() { h.fail(w, r, errInternal) })
		if err := web.CheckRequest(r); err != nil {
			h.fail(w, r, err)
			return
		}
		t, err := h.authenticate(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		run := func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r, t); err != nil {
				h.fail(w, r, err)
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			run(w, r)
			return
		}
		// Writes honour an Idempotency-Key as the native API does.
		h.d.Keys.Serve(w, r, t.ID, h.bodyLimit(), h.fail, run)
	})
}

// bodyLimit bounds a keyed write's body, which is read whole to
// fingerprint it: an upload's (a file and its multipart envelope) when
// the surface takes files, else a JSON body's.
func (h *Handler) bodyLimit() int64 {
	if h.d.Files == nil {
		return MaxBodyBytes
	}
	return max(MaxBodyBytes, h.d.Files.Limit()+64<<10)
}

// authenticate finds the tenant whose native API key the request bears
// ("Authorization: Bearer <key>").
func (h *Handler) authenticate(r *http.Request) (app.Tenant, error) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return app.Tenant{}, errNoCredentials
	}
	t, err := h.d.Tenants.ByAPIKey(r.Context(), key)
	if errors.Is(err, app.ErrUnauthenticated) {
		return app.Tenant{}, errBadCredentials
	}
	return t, err
}

// Envelope is every answer's body but a downloaded file's: the payload in
// Data, Error false on success; on failure Data null, Error true, Message
// saying what went wrong and Detail (null when there is nothing to add)
// saying more.
type Envelope struct {
	Data    any     `json:"data"`
	Detail  *string `json:"detail"`
	Error   bool    `json:"error"`
	Message string  `json:"message"`
}

// The success messages, as documented.
const (
	MsgCreated  = "Adding a complaint successful"
	MsgUploaded = "User customer support file is uploaded successfully"
	MsgFetched  = "Customer support info fetched successfully."
)

// problem is an error this surface words itself: msg is the envelope's
// message (the problem's title), detail its detail ("" for null).
func problem(status int, code, msg, detail string) *web.Problem {
	p := web.NewProblem(status, code, detail)
	p.Title = msg
	return p
}

// badRequest is a 400 with msg and detail.
func badRequest(msg, detail string) *web.Problem {
	return problem(http.StatusBadRequest, "bad_request", msg, detail)
}

const msgInternal = "Internal server error"

var (
	errNoCredentials = problem(http.StatusUnauthorized, "unauthenticated", "Unauthorized",
		"Full authentication is required to access this resource: send Authorization: Bearer <API key>")
	errBadCredentials = problem(http.StatusUnauthorized, "unauthenticated", "Unauthorized", "Bad credentials")
	// errInternal answers a panic, which web.RecoverPanic has logged.
	errInternal       = problem(http.StatusInternalServerError, "internal", msgInternal, "")
	errRecordNotFound = problem(http.StatusNotFound, "not_found", msgRecordNotFound, "")
)

const msgRecordNotFound = "Customer support record not found"

// fieldOf names this API's field behind a native one, for validation
// messages.
var fieldOf = map[string]string{
	"title":                       "subject",
	"description":                 "message",
	"references.user_id":          "uuid",
	"references.device_id":        "udid",
	"references.contact_email":    "email",
	"references.contact_phone":    "phone",
	"references.contact_name":     "name",
	"references.client_ticket_id": "ticketId",
	"custom":                      "category",
	"custom." + customCategory:    "category",
	"attachments":                 "images",
	"created_by":                  "uuid",
}

// apiField renames a native field ("attachments[2].value" → "images[2]").
func apiField(native string) string {
	if f, ok := fieldOf[native]; ok {
		return f
	}
	if rest, ok := strings.CutPrefix(native, "attachments["); ok {
		idx, _, _ := strings.Cut(rest, "]")
		return "images[" + idx + "]"
	}
	return native
}

// fail answers err in the envelope, in the status the API documents for
// its class (see status) and its words (see words). web.Triage classifies
// err, logs it if it is unexpected, and has nothing written for a client
// that went away.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	c, answer := web.Triage(r, h.d.Logger, err)
	if !answer {
		return
	}
	st := status(c)
	if st == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventdesk"`)
	}
	msg, detail := words(c)
	web.SetRetryAfter(w.Header(), c)
	env := Envelope{Error: true, Message: msg}
	if detail != "" {
		env.Detail = &detail
	}
	writeJSON(w, st, env)
}

// status is the API's status for c: the native one, except that invalid
// input is 400 and a failed precondition 409.
func status(c web.Class) int {
	switch {
	case c.Kind == domain.Invalid && c.Status == http.StatusUnprocessableEntity:
		return http.StatusBadRequest
	case c.Kind == domain.PreconditionFailed:
		return http.StatusConflict
	}
	return c.Status
}

// words are the envelope's message and detail for c: the ones this surface
// chose for its own errors (c.Title), else a summary by kind, with bad
// fields by this API's names; an unexpected error's say nothing of it.
func words(c web.Class) (msg, detail string) {
	switch {
	case c.Internal:
		return msgInternal, ""
	case c.Title != "":
		return c.Title, c.Message
	}
	switch c.Kind {
	case domain.Invalid:
		return invalidFields(c)
	case domain.NotFound:
		return msgRecordNotFound, ""
	case domain.Conflict, domain.PreconditionFailed:
		return capitalize(c.Message), ""
	case domain.Unauthenticated:
		return "Unauthorized", c.Message
	case domain.TooLarge:
		return "Maximum upload size exceeded", c.Message
	case domain.RateLimited:
		return "Too many requests", c.Message
	case domain.Unavailable:
		return "Service unavailable", c.Message
	}
	return msgInternal, ""
}

// invalidFields names the bad fields of c by this API's names.
func invalidFields(c web.Class) (msg, detail string) {
	if len(c.Fields) == 0 {
		return "Invalid request", c.Message
	}
	var fields, msgs []string
	for _, f := range c.Fields {
		name := apiField(f.Field)
		m := f.Detail
		if f.Field != "" {
			m = strings.ReplaceAll(m, f.Field, name)
		}
		if name != "" && !slices.Contains(fields, name) {
			fields = append(fields, name)
		}
		msgs = append(msgs, m)
	}
	msg = "Invalid request"
	if len(fields) > 0 {
		msg = "Invalid value for: " + strings.Join(fields, ", ")
	}
	return msg, strings.Join(msgs, "; ")
}

func capitalize(s string) string {
	if s == "" {
		return "Conflict"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ok answers 200 with data and message.
func ok(w http.ResponseWriter, data any, msg string) error {
	writeJSON(w, http.StatusOK, Envelope{Data: data, Message: msg})
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"data":null,"detail":null,"error":true,"message":"Internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal encodes v as Jackson does by default: no HTML escaping.
func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// meta is who acts through this surface: the tenant's API key, as the
// support-message integration. The request id the API server assigned
// (echoed in X-Request-ID) correlates the events with the request.
func meta(w http.ResponseWriter, r *http.Request) app.Meta {
	id := w.Header().Get("X-Request-ID")
	if id == "" {
		id = r.Header.Get("X-Request-ID")
	}
	return app.Meta{By: actor, Source: domain.SourceEmail, CorrelationID: id, Idempotency: web.Seed(r), Principal: "api_key"}
}

// actor is the recorded author of changes made through this surface.
var actor = domain.Actor{Kind: domain.ActorIntegration, ID: "support_api", Name: "Support-message API"}
