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
// surface's own shape), and — for a 4xx — nothing recorded: tenant's log
// head has not moved. It uses t, not e.T (a fuzz target's *testing.F may
// not be used inside the fuzz function), and returns the answer.
func (e *Env) Fuzz(t *testing.T, tenant, method, path string, body []byte, headers ...string) Response {
	t.Helper()
	ctx := context.Background()
	before, err := e.Store.Head(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second) // an answer that never comes is a failure too
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, e.HTTP.URL+path, bytes.NewReader(body))
	if err != nil {
		return Response{} // not a request a client can send
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
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
		after, err := e.Store.Head(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Fatalf("%s %s answered %d but the log moved from %v to %v: %s", method, path, r.Status, before, after, b)
		}
	}
	return r
}
