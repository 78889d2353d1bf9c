// Package pgtest gives each test its own freshly migrated PostgreSQL
// database, dropped when the test ends, so test packages run in parallel
// against the real server.
//
// It reads EVENTDESK_TEST_DATABASE_URL (default: the local server at
// 127.0.0.1:5432, user postgres) and fails the test, never skips it, when
// the server does not answer. Only `go test -short` skips.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/migrations"
)

// DefaultURL is the server tests use when EVENTDESK_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the test server's URL.
func ServerURL() string {
	if u := os.Getenv("EVENTDESK_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// DB creates a new database, migrates it and returns a handle to it. The
// database is dropped in t.Cleanup.
func DB(t testing.TB) *sqlx.DB {
	t.Helper()
	db, _ := DBWithURL(t)
	return db
}

// DBWithURL is DB that also returns the new database's URL, for code that
// opens its own connections (LISTEN, a second process).
func DBWithURL(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "eventdesk_test_" + hex.EncodeToString(b)
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("EVENTDESK_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	dsn := u.String()
	if err := postgres.EnsureDatabase(ctx, dsn); err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s (set EVENTDESK_TEST_DATABASE_URL or start the server): %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := postgres.DropDatabase(ctx, dsn, name); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	db, err := postgres.Open(ctx, dsn, postgres.OpenOptions{MaxConns: 40})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrations.Up(ctx, db.DB); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return db, dsn
}
