package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBenchClient: the load generator speaks HTTP/1.1 that net/http
// serves: headers and body arrive, one connection per worker is kept
// alive across requests, and a connection the server closes is redialled.
func TestBenchClient(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad request line or header", http.StatusBadRequest)
			return
		}
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(r.URL.Path + ":" + string(b)))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c := newBenchClient(strings.TrimPrefix(srv.URL, "http://"), 2, map[string]string{"Authorization": "Bearer k"})
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	post := func(w int, path, body string) {
		t.Helper()
		status, got, err := c.post(ctx, w, path, []byte(body))
		if err != nil || status != http.StatusCreated || string(got) != path+":"+body {
			t.Fatalf("post(%d, %s) = %d %q, %v; want 201 %q", w, path, status, got, err, path+":"+body)
		}
	}
	for i := range 5 {
		post(i%2, "/a", `{"n":1}`)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("5 requests from 2 workers opened %d connections, want 2", n)
	}
	post(0, "/close", "x")
	post(0, "/a", "y")
	if n := conns.Load(); n != 3 {
		t.Errorf("after the server closed one, %d connections opened in all, want 3", n)
	}
}
