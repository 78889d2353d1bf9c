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
			h.fail(w, r, &failure{status: http.StatusMethodNotAllowed, msg: "Request method '" + r.Method + "' is not supported",
				detail: "use " + rt.method + " " + rt.path})
		}))
	}
}

type endpointFunc func(w http.ResponseWriter, r *http.Request, tenant app.Tenant) error

// endpoint authenticates the request, runs f and answers f's error in the
// envelope. A panic is answered as a 500 too.
func (h *Handler) endpoint(f endpointFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer web.RecoverPanic(r, h.d.Logger, "support", func() { h.fail(w, r, errInternal) })
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

// failure is an answer other than 200: its status and a message (and
// detail) safe to show the client.
type failure struct {
	status int
	msg    string
	detail string
}

func (f *failure) Error() string {
	if f.detail != "" {
		return f.msg + ": " + f.detail
	}
	return f.msg
}

func badRequest(msg, detail string) *failure {
	return &failure{status: http.StatusBadRequest, msg: msg, detail: detail}
}

var (
	errNoCredentials = &failure{status: http.StatusUnauthorized, msg: "Unauthorized",
		detail: "Full authentication is required to access this resource: send Authorization: Bearer <API key>"}
	errBadCredentials = &failure{status: http.StatusUnauthorized, msg: "Unauthorized", detail: "Bad credentials"}
	errInternal       = &failure{status: http.StatusInternalServerError, msg: "Internal server error"}
	errRecordNotFound = &failure{status: http.StatusNotFound, msg: "Customer support record not found"}
)

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

// classify maps err to a failure; nil means unexpected.
func classify(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	var tooBig *http.MaxBytesError
	if errors.Is(err, app.ErrFileTooLarge) || errors.As(err, &tooBig) {
		return errTooLarge(err)
	}
	if errors.Is(err, eventstore.ErrVersionConflict) {
		return &failure{status: http.StatusConflict, msg: "The ticket was modified concurrently; retry"}
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		return nil
	}
	switch de.Kind {
	case domain.NotFound:
		return errRecordNotFound
	case domain.Invalid:
		var fields, msgs []string
		for _, e := range domain.Errors(err) {
			if e.Kind != domain.Invalid {
				continue
			}
			name := apiField(e.Field)
			msg := e.Error()
			if e.Field != "" {
				msg = strings.ReplaceAll(msg, e.Field, name)
			}
			if name != "" && !slices.Contains(fields, name) {
				fields = append(fields, name)
			}
			msgs = append(msgs, msg)
		}
		m := "Invalid request"
		if len(fields) > 0 {
			m = "Invalid value for: " + strings.Join(fields, ", ")
		}
		return badRequest(m, strings.Join(msgs, "; "))
	case domain.Conflict, domain.PreconditionFailed:
		msg := de.Error()
		if msg == "" {
			msg = "conflict"
		}
		return &failure{status: http.StatusConflict, msg: strings.ToUpper(msg[:1]) + msg[1:]}
	}
	return nil
}

// fail answers err in the envelope: a *failure as it says, a domain error
// by its kind, anything else as a logged 500 whose body says nothing of
// the cause. Nothing is written for a client that went away.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	f := classify(err)
	if f == nil {
		if r.Context().Err() != nil {
			return
		}
		h.d.Logger.ErrorContext(r.Context(), "support: request failed", "route", r.Pattern, "method", r.Method, "err", err)
		f = errInternal
	}
	if f.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventdesk"`)
	}
	env := Envelope{Error: true, Message: f.msg}
	if f.detail != "" {
		d := f.detail
		env.Detail = &d
	}
	writeJSON(w, f.status, env)
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
	return app.Meta{By: actor, Source: domain.SourceEmail, CorrelationID: id, Idempotency: web.Seed(r)}
}

// actor is the recorded author of changes made through this surface.
var actor = domain.Actor{Kind: domain.ActorIntegration, ID: "support_api", Name: "Support-message API"}
