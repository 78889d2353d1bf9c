// Package redistest connects tests to the real Redis server, as pgtest does
// for PostgreSQL: it reads EVENTDESK_TEST_REDIS_URL (default: the local
// server) and fails the test, never skips it, when Redis does not answer.
// Only `go test -short` skips. Only test files import it.
package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"syscall"
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

// Server is a private redis-server of a test's own, on a free loopback
// port: the machine's Redis is shared and must never be paused or
// stopped, this one may be.
type Server struct {
	// Addr is host:port.
	Addr string
	cmd  *exec.Cmd
}

// Private starts a redis-server (from PATH) that keeps nothing on disk,
// waits until it answers, and kills it in t.Cleanup (resuming it first if
// paused). It fails the test when redis-server cannot be started.
func Private(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs redis-server (skipped by -short only)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()
	s := &Server{Addr: addr, cmd: exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start a private redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		<-exited
	})
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("private redis-server on %s does not answer", addr)
		}
	}
	return s
}

// Pause stops the server's process (SIGSTOP): connections stay open and
// nothing answers, as with a hung server.
func (s *Server) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the server (SIGKILL): connections are refused from now on.
func (s *Server) Kill() error { return s.cmd.Process.Kill() }
