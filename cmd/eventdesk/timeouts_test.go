package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFinding5_SlowBodyAndIdleConnectionsAreCut: a body that stalls is cut
// at the read timeout, and an idle keep-alive connection at the idle
// timeout, instead of holding the connection for minutes.
func TestFinding5_SlowBodyAndIdleConnectionsAreCut(t *testing.T) {
	cfg := config{HTTPReadTimeout: 300 * time.Millisecond, HTTPIdleTimeout: 300 * time.Millisecond}
	srv := newHTTPServer(cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body too slow", http.StatusRequestTimeout)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// closedWithin reads c until the server closes it.
	closedWithin := func(c net.Conn, d time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, c)
		return err == nil // EOF: closed by the server; a timeout is an error
	}

	t.Run("stalled body", func(t *testing.T) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Promise 100 bytes, send one, then nothing.
		if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nx"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if !closedWithin(c, 3*time.Second) {
			t.Fatalf("connection still open after 3s, want it closed after the 300ms read timeout")
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("closed after %v, before the read timeout", d)
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("response %v, %v; want 204", res, err)
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := br.ReadByte(); err != io.EOF && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("idle connection: %v after 3s, want it closed by the 300ms idle timeout", err)
		}
	})
}

// TestFinding5_TimeoutDefaults: both timeouts are on by default.
func TestFinding5_TimeoutDefaults(t *testing.T) {
	c, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPReadTimeout != 60*time.Second || c.HTTPIdleTimeout != 30*time.Second {
		t.Errorf("read timeout %v, idle timeout %v; want 60s and 30s", c.HTTPReadTimeout, c.HTTPIdleTimeout)
	}
}
