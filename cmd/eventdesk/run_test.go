package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// scratchURL names a database on the test server that does not exist yet
// and is dropped when the test ends.
func scratchURL(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "eventdesk_cmd_" + hex.EncodeToString(b)
	u, err := url.Parse(pgtest.ServerURL())
	if err != nil {
		t.Fatalf("EVENTDESK_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	dsn := u.String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := postgres.DropDatabase(ctx, dsn, name); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	return dsn
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun_Migrate(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	getenv := env(map[string]string{"EVENTDESK_DATABASE_URL": scratchURL(t)})
	var printed []string
	for range 2 {
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, getenv, &out, &errb); err != nil {
			t.Fatalf("migrate: %v (PostgreSQL must answer at %s; set EVENTDESK_TEST_DATABASE_URL)\n%s", err, pgtest.ServerURL(), &errb)
		}
		printed = append(printed, out.String())
	}
	if strings.HasPrefix(printed[0], "applied 0 ") || !strings.HasPrefix(printed[0], "applied ") {
		t.Errorf("first migrate printed %q, want some migrations applied", printed[0])
	}
	if !strings.HasPrefix(printed[1], "applied 0 migration(s)") {
		t.Errorf("second migrate printed %q, want none applied", printed[1])
	}
}

func TestRun_BadConfig(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve"}, env(map[string]string{"EVENTDESK_DB_MAX_CONNS": "lots"}), &out, &errb)
	if err == nil || !strings.HasPrefix(err.Error(), "EVENTDESK_DB_MAX_CONNS: ") {
		t.Fatalf("got %v, want an error naming EVENTDESK_DB_MAX_CONNS", err)
	}
}

func TestRun_UnreachableNonDefaultURL(t *testing.T) {
	getenv := env(map[string]string{"EVENTDESK_DATABASE_URL": "postgres://postgres@127.0.0.1:1/eventdesk?sslmode=disable"})
	err := run(context.Background(), []string{"migrate"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL is not reachable at postgres://postgres@127.0.0.1:1/eventdesk") ||
		!strings.Contains(err.Error(), "EVENTDESK_DATABASE_URL") {
		t.Fatalf("got %v, want one line naming the URL and EVENTDESK_DATABASE_URL", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRun_Serve(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	addr := freeAddr(t)
	getenv := env(map[string]string{
		"EVENTDESK_DATABASE_URL": scratchURL(t),
		"EVENTDESK_HTTP_ADDR":    addr,
		"EVENTDESK_DATA_DIR":     t.TempDir(),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, io.Discard, &logs) }()

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := get(t, base+"/readyz")
		if code == http.StatusOK {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	checks := []struct{ path, want string }{
		{"/healthz", `{"status":"ok"}`},
		{"/readyz", `{"status":"ok"}`},
		{"/metrics", "eventdesk_oldest_transaction_age_seconds "},
		{"/metrics", "go_goroutines "},
		{"/metrics", "process_cpu_seconds_total "},
		{"/metrics", "eventdesk_head_position "},
	}
	for _, c := range checks {
		if code, body := get(t, base+c.path); code != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("GET %s = %d %.200q, want 200 containing %q", c.path, code, body, c.want)
		}
	}

	cancel() // as SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown, want nil\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop within 20s\n%s", logs.String())
	}
	for _, want := range []string{`"msg":"serving"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	if code, _ := get(t, base+"/healthz"); code != 0 {
		t.Errorf("GET /healthz after shutdown = %d, want no answer", code)
	}
}
