package api_test

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

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/projections"
)

// env is a running API over a fresh database, with two tenants.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	store   *postgres.Store
	tenants *app.Tenants
	a, b    tenant
}

type tenant struct {
	app.Tenant
	creds app.Credentials
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	runner := projections.NewRunner(db.DB, store, store, nil, 20*time.Millisecond, projections.Tickets{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	tenants := app.NewTenants(db.DB, store, nil)
	s := api.New(api.Deps{DB: db.DB, Log: store, Tickets: app.NewTickets(store, nil), Tenants: tenants,
		Queries: projections.NewTicketQueries(db.DB), Waiter: runner})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, store: store, tenants: tenants}
	e.a = e.newTenant("Acme")
	e.b = e.newTenant("Globex")
	return e
}

func (e *env) newTenant(name string) tenant {
	e.t.Helper()
	tn, c, err := e.tenants.Create(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return tenant{tn, c}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %s", r.status, r.body)
	}
	return m
}

// do sends a request as tenant tn (nil: unauthenticated). body may be a
// string (sent as is) or a value (sent as JSON). headers are pairs.
func (e *env) do(tn *tenant, method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tn != nil {
		req.Header.Set("Authorization", "Bearer "+tn.creds.APIKey)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// want fails unless r has status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// problem checks r is a problem+json with status and code.
func (r response) problem(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	m := r.json(t)
	if m["code"] != code || m["status"] != float64(status) || m["type"] == "" || m["title"] == "" {
		t.Errorf("problem = %v, want code %q and status %d", m, code, status)
	}
	return m
}

// fields returns the field names of a problem's errors.
func fields(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

// createTicket creates a ticket as tn and returns it.
func (e *env) createTicket(tn *tenant, body map[string]any) map[string]any {
	e.t.Helper()
	return e.do(tn, "POST", "/v1/tickets", body).want(e.t, http.StatusCreated).json(e.t)
}
