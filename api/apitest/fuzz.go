package apitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Fuzz sends one request of an HTTP-level fuzz target (method, path,
// body as is, headers as name/value pairs) and checks the invariant every
// surface keeps for any input: an answer, never a 5xx, in JSON (each
// surface's own shape), and — for a 4xx — nothing recorded: tenant has
// as many events as before. (Counted, not read from the log's head, which
// may show an earlier write only a moment after it is answered.) It uses t, not e.T (a fuzz target's *testing.F may
// not be used inside the fuzz function), and returns the answer.
func (e *Env) Fuzz(t *testing.T, tenant, method, path string, body []byte, headers ...string) Response {
	t.Helper()
	ctx := context.Background()
	before := e.countEvents(t, tenant)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second) // an answer that never comes is a failure too
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, e.HTTP.URL+path, bytes.NewReader(body))
	if err != nil {
		return Response{} // not a request a client can send
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.ContainsFunc(headers[i+1], func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return Response{} // a header no client can send (Go's refuses it)
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	r := Response{Status: res.StatusCode, Header: res.Header, Body: b}
	if r.Status >= 500 {
		t.Fatalf("%s %s answered %d: %s", method, path, r.Status, b)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/") || !strings.Contains(ct, "json") {
		t.Fatalf("%s %s answered %d as %q: %s", method, path, r.Status, ct, b)
	}
	if r.Status >= 400 {
		if after := e.countEvents(t, tenant); after != before {
			t.Fatalf("%s %s answered %d but the tenant's events went from %d to %d: %s", method, path, r.Status, before, after, b)
		}
	}
	return r
}

// countEvents is how many events tenant has.
func (e *Env) countEvents(t *testing.T, tenant string) int64 {
	t.Helper()
	var n int64
	if err := e.DB.QueryRowContext(context.Background(), `SELECT count(*) FROM events WHERE tenant_id = $1`, tenant).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
