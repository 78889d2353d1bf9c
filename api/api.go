// Package api assembles Eventdesk's HTTP surfaces into one handler: the
// native REST API (api/native) and the vendor-compatible surfaces
// (api/fynd, api/leadsquared, api/support), all over the same application
// services (api/app) and the kit they share (api/web). cmd and the test
// harness (api/apitest) both build it with New, so tests serve exactly what
// production serves. Every request gets an id, panic recovery and a latency
// observation here, whatever surface answers it.
package api

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/fynd"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/api/listener"
	"github.com/eventdesk/eventdesk/api/native"
	"github.com/eventdesk/eventdesk/api/support"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/projections"
)

// Deps are what the surfaces call. cmd wires them.
type Deps struct {
	*app.Services
	// Keys makes writes on every surface retry-safe (Idempotency-Key).
	Keys    *web.Idempotency
	Log     native.Log
	Feed    native.Feed // the node's one follower of the log (feed.Hub), for follow streams
	Queries *projections.TicketQueries
	// Contacts answers customer lists, searches and timelines (contacts.v1).
	Contacts *projections.ContactQueries
	// DealQueries answers deal lists and pipeline boards (deals.v1).
	DealQueries *projections.DealQueries
	Waiter      native.Waiter
	// Limiter enforces LeadSquared's rate limit; nil means an in-process
	// limiter with the documented limit.
	Limiter leadsquared.Limiter
	Logger  *slog.Logger
	// Registry receives the request latency histogram; nil: not registered.
	Registry prometheus.Registerer
	// TrustedProxies are the proxies whose X-Forwarded-For the webhook
	// listener believes (EVENTDESK_TRUSTED_PROXIES).
	TrustedProxies []netip.Prefix
}

// Router is every HTTP surface on one mux.
type Router struct {
	mux      *http.ServeMux
	log      *slog.Logger
	requests *prometheus.HistogramVec
}

// New mounts every surface.
func New(d Deps) *Router {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Limiter == nil {
		d.Limiter = leadsquared.NewMemoryLimiter(leadsquared.DefaultLimit, nil)
	}
	rt := &Router{mux: http.NewServeMux(), log: d.Logger,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventdesk_http_request_duration_seconds",
			Help:    "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "status"}),
	}
	if d.Registry != nil {
		d.Registry.MustRegister(rt.requests)
	}
	native.New(native.Deps{Services: d.Services, Keys: d.Keys, Log: d.Log, Feed: d.Feed, Queries: d.Queries, Contacts: d.Contacts, DealQueries: d.DealQueries, Waiter: d.Waiter,
		Logger: d.Logger}).Register(rt.mux)
	fynd.New(fynd.Deps{Keys: d.Keys, Tickets: d.Tickets, Tenants: d.Tenants, Forms: d.Forms, Rooms: d.Rooms, Logger: d.Logger}).Register(rt.mux)
	leadsquared.New(leadsquared.Deps{Keys: d.Keys, Tickets: d.Tickets, Tenants: d.Tenants, Limiter: d.Limiter, Logger: d.Logger}).Register(rt.mux)
	support.New(support.Deps{Keys: d.Keys, Tickets: d.Tickets, Tenants: d.Tenants, Files: d.Files, Queries: d.Queries,
		Waiter: d.Waiter, Logger: d.Logger}).Register(rt.mux)
	listener.New(listener.Deps{Services: d.Services, Keys: d.Keys, Contacts: d.Contacts, Waiter: d.Waiter,
		TrustedProxies: d.TrustedProxies, Logger: d.Logger}).Register(rt.mux)
	rt.mux.Handle("/", http.HandlerFunc(noRoute))
	return rt
}

// noRoute answers a path no surface serves (404) as problem+json, the
// native API's shape: the vendor surfaces answer their own prefixes.
func noRoute(w http.ResponseWriter, r *http.Request) {
	p := web.NewProblem(http.StatusNotFound, "no_route", "no such endpoint: "+r.Method+" "+r.URL.Path)
	web.WriteJSON(w, p.Status, "application/problem+json", p)
}

// Handle mounts another handler (health, readiness, metrics).
func (rt *Router) Handle(pattern string, h http.Handler) { rt.mux.Handle(pattern, h) }

// ServeHTTP assigns a request id, recovers panics (a 500 problem+json when
// the surface has not answered yet; surfaces recover their own first, in
// their own envelope) and records latency by route pattern.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = web.WithRequestID(w, r)
	// Every answer may be one tenant's data: no cache keeps it, and no
	// browser guesses its type. A handler may set its own Cache-Control.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		rt.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
	}()
	defer web.RecoverPanic(r, rt.log, "api", func() {
		if sw.status == 0 {
			p := web.NewProblem(http.StatusInternalServerError, "internal", "internal error; it has been logged")
			web.WriteJSON(sw, p.Status, "application/problem+json", p)
		}
	})
	rt.mux.ServeHTTP(sw, r)
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

// Hijack lets the realtime gateway take over the connection (websocket
// upgrades); the status is 101 from then on.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Fail answers err as the native API answers errors (problem+json), for
// handlers mounted with Handle that answer in its envelope (the realtime
// gateway's refused upgrades).
func (rt *Router) Fail(w http.ResponseWriter, r *http.Request, err error) {
	native.Fail(w, r, rt.log, err)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
