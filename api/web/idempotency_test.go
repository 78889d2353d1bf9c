package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// TestIdempotencyExpiry: a key is remembered for the TTL, then starts
// afresh, and SweepOnce deletes expired keys (and only those).
func TestIdempotencyExpiry(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t)
	k := &web.Idempotency{DB: db.DB, TTL: time.Hour}
	runs := 0
	serve := func(key, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
		req.Header.Set("Idempotency-Key", key)
		rec := httptest.NewRecorder()
		k.Serve(rec, req, "tenant-1", 1<<20, func(w http.ResponseWriter, _ *http.Request, err error) {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}, func(w http.ResponseWriter, r *http.Request) {
			runs++
			w.WriteHeader(http.StatusCreated)
		})
		return rec.Code
	}
	age := func(key string, d time.Duration) {
		if _, err := db.Exec(`UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $2) WHERE key = $1`, key, d.Seconds()); err != nil {
			t.Fatal(err)
		}
	}
	if got := serve("a", `{"n":1}`); got != http.StatusCreated || runs != 1 {
		t.Fatalf("first = %d after %d runs, want 201 after 1", got, runs)
	}
	if got := serve("a", `{"n":1}`); got != http.StatusCreated || runs != 1 {
		t.Fatalf("replay = %d after %d runs, want a 201 replay without running", got, runs)
	}
	if got := serve("a", `{"n":2}`); got != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body = %d, want 422", got)
	}
	age("a", 2*time.Hour)
	if got := serve("a", `{"n":2}`); got != http.StatusCreated || runs != 2 {
		t.Fatalf("expired key, other body = %d after %d runs, want a fresh 201 after 2", got, runs)
	}
	serve("b", `{}`)
	age("a", 2*time.Hour)
	n, err := k.SweepOnce(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("SweepOnce() = %d, %v; want 1 (only the expired key)", n, err)
	}
	var left []string
	if err := db.Select(&left, `SELECT key FROM idempotency_keys`); err != nil || len(left) != 1 || left[0] != "b" {
		t.Fatalf("keys left = %v (%v), want [b]", left, err)
	}
}
