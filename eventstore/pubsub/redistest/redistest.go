// Package redistest connects tests to the real Redis server, as pgtest does
// for PostgreSQL: it reads EVENTDESK_TEST_REDIS_URL (default: the local
// server) and fails the test, never skips it, when Redis does not answer.
// Only `go test -short` skips. Only test files import it.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client connects to the test Redis server; it is closed in t.Cleanup.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs Redis (skipped by -short only)")
	}
	url := os.Getenv("EVENTDESK_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("EVENTDESK_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("Redis is not reachable at %s (set EVENTDESK_TEST_REDIS_URL or start the server): %v", opt.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
