package api

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/projections"
)

// Waiter waits for a projection to reach a position (projections.Runner).
type Waiter interface {
	WaitFor(ctx context.Context, name string, pos eventstore.Position) error
}

// Log is what the event feed reads: the gap-free global log and its
// wake-ups.
type Log interface {
	ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error)
	Notify() (<-chan struct{}, func())
}

// Deps are the services the API calls. cmd wires them.
type Deps struct {
	DB       *sql.DB
	Log      Log
	Tickets  *app.Tickets
	Tenants  *app.Tenants
	Files    *app.Files
	Forms    *app.Forms
	Rooms    *app.VideoRooms
	Queries  *projections.TicketQueries
	Waiter   Waiter
	Logger   *slog.Logger
	Registry prometheus.Registerer // nil: metrics are not registered
}

// Server is the native REST API (/v1) and, mounted beside it, the
// vendor-compatible surfaces.
type Server struct {
	Deps
	mux      *http.ServeMux
	requests *prometheus.HistogramVec
}

// New returns the API server.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{Deps: d, mux: http.NewServeMux(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventdesk_http_request_duration_seconds",
			Help:    "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "status"}),
	}
	if d.Registry != nil {
		d.Registry.MustRegister(s.requests)
	}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.observe(s.mux).ServeHTTP(w, r) }

// Handle mounts another surface's handler on the server's mux (vendor
// surfaces, health, metrics).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

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
	s.mux.Handle("GET /v1/config", auth(s.getConfig))
	s.mux.Handle("PUT /v1/config/categories", auth(s.idempotent(s.putCategories)))
	s.mux.Handle("PUT /v1/config/statuses", auth(s.idempotent(s.putStatuses)))
	s.mux.Handle("PUT /v1/config/priorities", auth(s.idempotent(s.putPriorities)))
	s.mux.Handle("GET /openapi.json", http.HandlerFunc(serveOpenAPI))
	s.mux.Handle("/v1/", http.HandlerFunc(s.noRoute))
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) { fail(w, r, s.Logger, err) }

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
		s.fail(w, r, problem(http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed here; allowed: "+strings.Join(allowed, ", ")))
		return
	}
	s.fail(w, r, problem(http.StatusNotFound, "no_route", "no such endpoint: "+r.Method+" "+r.URL.Path))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (NDJSON) flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type ctxKey int

const (
	tenantKey ctxKey = iota
	requestIDKey
)

// observe assigns a request id, recovers panics, and records latency.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 128 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
		}()
		defer RecoverPanic(r, s.Logger, "api", func() {
			if sw.status == 0 {
				fail(sw, r, s.Logger, problem(http.StatusInternalServerError, "internal", "internal error; it has been logged"))
			}
		})
		next.ServeHTTP(sw, r)
	})
}

// RecoverPanic, deferred by a surface's handler, turns a panic into a
// logged error (with its stack) and lets answer reply in the surface's own
// error shape. http.ErrAbortHandler passes through, as net/http expects.
func RecoverPanic(r *http.Request, log *slog.Logger, surface string, answer func()) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	log.ErrorContext(r.Context(), surface+": panic", "route", r.Pattern, "panic", p, "stack", string(debug.Stack()))
	answer()
}

// authenticate admits requests bearing a tenant's API key
// ("Authorization: Bearer <key>") and puts the tenant in the context.
func (s *Server) authenticate(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			s.fail(w, r, app.ErrUnauthenticated)
			return
		}
		t, err := s.Tenants.ByAPIKey(r.Context(), strings.TrimSpace(key))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), tenantKey, t)))
	})
}

func tenantOf(r *http.Request) app.Tenant {
	t, _ := r.Context().Value(tenantKey).(app.Tenant)
	return t
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// meta describes who acts through the native API: the tenant's API key
// (an integration), or the person an Eventdesk-Actor header names, e.g.
// "agent:ana@example.com" or "user:42".
func meta(r *http.Request) (app.Meta, error) {
	m := app.Meta{By: domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}, Source: domain.SourceAPI,
		CorrelationID: requestID(r)}
	if h := strings.TrimSpace(r.Header.Get("Eventdesk-Actor")); h != "" {
		kind, who, ok := strings.Cut(h, ":")
		a := domain.Actor{Kind: domain.ActorKind(kind)}
		if strings.Contains(who, "@") {
			a.Email = who
		} else {
			a.ID = who
		}
		if err := a.Validate("Eventdesk-Actor"); !ok || err != nil {
			return app.Meta{}, invalid(FieldError{Field: "Eventdesk-Actor", Code: "invalid_actor",
				Detail: `Eventdesk-Actor must be "<kind>:<id or e-mail>" with kind user, agent, integration or system`})
		}
		m.By = a
	}
	return m, nil
}
