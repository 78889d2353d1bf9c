// Package apitest runs Eventdesk's API over a fresh, real PostgreSQL
// database for tests: the store, the projection runner, the event feed's
// hub, the application services and every HTTP surface, wired as cmd
// wires them (api.New), and two tenants. Only test files import it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/eventstore/feed"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/projections"
)

// UploadLimit is the file size limit of test environments, small so that
// tests can exceed it cheaply.
const UploadLimit = 256 << 10

// Env is a running API with two tenants, A and B.
type Env struct {
	T      testing.TB
	DB     *sqlx.DB
	Store  *postgres.Store
	Runner *projections.Runner
	// Linker links every ticket to its customer (app.TicketLinker); it
	// runs once StartLinker is called.
	Linker *app.TicketLinker
	Feed   *feed.Hub
	*app.Services
	Server  *api.Router
	HTTP    *httptest.Server
	DataDir string
	A, B    Tenant
}

// Tenant is a tenant with its credentials.
type Tenant struct {
	app.Tenant
	Creds app.Credentials
}

// Option changes how New wires the Env.
type Option func(*api.Deps)

// WithLimiter makes the LeadSquared surface use l.
func WithLimiter(l leadsquared.Limiter) Option { return func(d *api.Deps) { d.Limiter = l } }

// WithCrashAt installs a crash-test hook in the idempotency middleware
// and, through it, the application layer (see web.Idempotency.CrashAt).
func WithCrashAt(at func(app.Step)) Option {
	return func(d *api.Deps) { d.Keys.CrashAt = at }
}

// New starts an Env, wired by api.New and app.NewServices as cmd wires the
// engine; everything stops in t.Cleanup.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	db := pgtest.DB(t)
	store := postgres.New(db, nil, postgres.WithGroupCommit(4))
	t.Cleanup(func() { store.Close() })
	runner := projections.NewRunner(db.DB, store, store, nil, 20*time.Millisecond, projections.Tickets{}, projections.Contacts{}, projections.Deals{}, projections.Outbox{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	hub := feed.New(store, feed.Options{Poll: 20 * time.Millisecond})
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(context.Background()) }()
	e := &Env{T: t, DB: db, Store: store, Runner: runner, Feed: hub, DataDir: t.TempDir()}
	e.Services = app.NewServices(store, db.DB, app.Config{FilesDir: e.DataDir, MaxUploadBytes: UploadLimit})
	e.Linker = app.NewTicketLinker(e.Services, store, nil, 20*time.Millisecond)
	d := api.Deps{Services: e.Services, Keys: &web.Idempotency{DB: db.DB}, Log: store, Feed: hub,
		Queries: projections.NewTicketQueries(db.DB), Contacts: projections.NewContactQueries(db.DB), DealQueries: projections.NewDealQueries(db.DB), Waiter: runner}
	for _, o := range opts {
		o(&d)
	}
	e.Server = api.New(d)
	e.HTTP = httptest.NewServer(e.Server)
	t.Cleanup(e.HTTP.Close)
	// Cleanups run last first: the hub closes before the server waits for
	// its requests, so open follow streams end (as at shutdown).
	t.Cleanup(func() { hub.Close(); <-hubDone })
	e.A = e.NewTenant("Acme")
	e.B = e.NewTenant("Globex")
	return e
}

// StartLinker runs the ticket linker, as serve runs it, until the test
// ends (it stops before the store closes). It is not started by New: it
// appends ticket.customer_linked to every ticket that carries a customer
// identity, a moment after the ticket is created, which tests asserting a
// ticket's exact events or versions do not expect.
func (e *Env) StartLinker() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Linker.Run(ctx) }()
	e.T.Cleanup(func() { cancel(); <-done })
}

// NewTenant creates a tenant.
func (e *Env) NewTenant(name string) Tenant {
	e.T.Helper()
	tn, c, err := e.Tenants.Create(context.Background(), name)
	if err != nil {
		e.T.Fatal(err)
	}
	return Tenant{tn, c}
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object or fails the test.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %s", r.Status, r.Body)
	}
	return m
}

// Want fails the test unless r has status.
func (r Response) Want(t testing.TB, status int) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// Do sends a request. body may be nil, a string or []byte (sent as is,
// as application/json unless headers set Content-Type), or a value (sent
// as JSON). headers are name/value pairs.
func (e *Env) Do(method, path string, body any, headers ...string) Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Native sends a native API request as tenant tn (nil: no credentials).
func (e *Env) Native(tn *Tenant, method, path string, body any, headers ...string) Response {
	e.T.Helper()
	if tn != nil {
		headers = append(headers, "Authorization", "Bearer "+tn.Creds.APIKey)
	}
	return e.Do(method, path, body, headers...)
}
