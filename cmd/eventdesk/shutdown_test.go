package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServe_SIGTERMEndsFollowStreams does what an operator does: it starts
// `serve` as a process of its own, opens a follow stream
// (GET /v1/events?follow=true) and sends SIGTERM. The process must be gone
// within a second with exit status 0 — not wait out
// EVENTDESK_SHUTDOWN_TIMEOUT for the stream — and the stream must end
// cleanly, so the client knows to resume from its last position.
func TestServe_SIGTERMEndsFollowStreams(t *testing.T) {
	if servedByChild(t) {
		return
	}
	vars := serveVars(t)
	vars["EVENTDESK_SHUTDOWN_TIMEOUT"] = "15s"
	addr := vars["EVENTDESK_HTTP_ADDR"]
	c := startServe(t, "TestServe_SIGTERMEndsFollowStreams", vars)
	child, exited, logs := c.cmd, c.exited, c.logs
	base := "http://" + addr
	apiKey := createTenant(t, vars)

	req, _ := http.NewRequest("GET", base+"/v1/events?follow=true&after=0", nil)
	req.Header.Set("Accept", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("follow: status %d, want 200", res.StatusCode)
	}
	stream := bufio.NewReader(res.Body)
	first, err := stream.ReadString('\n') // the tenant's creation: the stream is live
	if err != nil || !strings.Contains(first, `"type":"tenant.`) {
		t.Fatalf("first line %q, %v; want the tenant's event", first, err)
	}
	if _, metrics := get(t, base+"/metrics"); !strings.Contains(metrics, "\neventdesk_feed_subscriptions 1\n") {
		t.Errorf("/metrics does not count the open follow stream:\n%s", metrics)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, stream)
		if err == nil {
			err = io.EOF // io.Copy reports a clean end as nil
		}
		ended <- err
	}()

	start := time.Now()
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		took := time.Since(start)
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM, want status 0\n%s", err, logs.String())
		}
		if took > time.Second {
			t.Errorf("serve took %v to exit after SIGTERM, want at most 1s\n%s", took, logs.String())
		}
		t.Logf("serve exited %v after SIGTERM", took)
	case <-time.After(20 * time.Second):
		t.Fatalf("serve still running 20s after SIGTERM\n%s", logs.String())
	}
	select {
	case err := <-ended:
		if !errors.Is(err, io.EOF) {
			t.Errorf("the follow stream ended with %v, want a clean end", err)
		}
	case <-time.After(time.Second):
		t.Error("the follow stream is still open after serve exited")
	}
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"stopped"`, `"event_feed":"in-process fan-out`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "deadline exceeded") {
		t.Errorf("logs mention a deadline:\n%s", logs.String())
	}
}
