package native_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/eventstore"
)

// env adapts apitest.Env to the native API's tests.
type env struct {
	*apitest.Env
	t    *testing.T
	a, b *apitest.Tenant
}

type response struct{ apitest.Response }

func newEnv(t *testing.T) *env {
	t.Helper()
	e := apitest.New(t)
	return &env{Env: e, t: t, a: &e.A, b: &e.B}
}

// do sends a request as tenant tn (nil: unauthenticated).
func (e *env) do(tn *apitest.Tenant, method, path string, body any, headers ...string) response {
	e.t.Helper()
	return response{e.Native(tn, method, path, body, headers...)}
}

func (r response) json(t *testing.T) map[string]any { t.Helper(); return r.JSON(t) }

func (r response) want(t *testing.T, status int) response {
	t.Helper()
	r.Want(t, status)
	return r
}

// problem checks r is a problem+json with status and code.
func (r response) problem(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	r.want(t, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
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
func (e *env) createTicket(tn *apitest.Tenant, body map[string]any) map[string]any {
	e.t.Helper()
	return e.do(tn, "POST", "/v1/tickets", body).want(e.t, http.StatusCreated).json(e.t)
}

// events returns tn's feed (at most 1000 events) filtered by query, once
// the feed shows the write at pos. The feed delivers an event only when no
// transaction still running could precede it, so it may lag a write.
func (e *env) events(tn *apitest.Tenant, query, pos string) []any {
	e.t.Helper()
	want, err := eventstore.ParsePosition(pos)
	if err != nil {
		e.t.Fatalf("position %q: %v", pos, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		page := e.do(tn, "GET", "/v1/events?limit=1000", nil).want(e.t, http.StatusOK).json(e.t)
		next, err := eventstore.ParsePosition(page["next_after"].(string))
		if err == nil && !next.Less(want) {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the event feed does not reach %s within 10s", pos)
		}
	}
	return e.do(tn, "GET", "/v1/events?limit=1000&"+query, nil).want(e.t, http.StatusOK).json(e.t)["events"].([]any)
}
