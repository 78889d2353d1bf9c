package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// serveChild is set in the environment of the processes the process tests
// start: such a process serves, as `eventdesk serve` does, until a signal
// stops it.
const serveChild = "EVENTDESK_TEST_SERVE_CHILD"

// servedByChild runs `serve` and reports true when this test binary is
// such a child process; the test that started it must then return.
func servedByChild(t *testing.T) bool {
	if os.Getenv(serveChild) != "1" {
		return false
	}
	// The test binary exits 0 when the test returns without failing.
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"serve"}, os.Getenv, &stdout, os.Stderr); err != nil {
		t.Fatalf("eventdesk: %v", err)
	}
	return true
}

// serveVars are the settings of a child serving a scratch database on a
// free loopback port. Integration tests skip only under -short.
func serveVars(t *testing.T) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	return map[string]string{
		"EVENTDESK_DATABASE_URL": scratchURL(t),
		"EVENTDESK_HTTP_ADDR":    freeAddr(t),
		"EVENTDESK_DATA_DIR":     t.TempDir(),
	}
}

// child is `eventdesk serve` running as a process of its own: this test
// binary started again, running only the test named.
type child struct {
	cmd    *exec.Cmd
	exited chan error
	logs   *syncBuffer
}

// startServe starts a child serving with vars and waits until /readyz
// answers 200 at vars' EVENTDESK_HTTP_ADDR. The child is killed, if still
// running, when the test ends.
func startServe(t *testing.T, test string, vars map[string]string) *child {
	t.Helper()
	c := &child{exited: make(chan error, 1), logs: &syncBuffer{}}
	c.cmd = exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	// Under -race, a process sleeps a second as it exits unless told not to.
	c.cmd.Env = append(os.Environ(), serveChild+"=1", "GORACE=atexit_sleep_ms=0")
	for k, v := range vars {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = io.Discard, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { defer close(waited); c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill() // if the test failed before it ended
		<-waited
	})
	base := "http://" + vars["EVENTDESK_HTTP_ADDR"]
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := get(t, base+"/readyz"); code == http.StatusOK {
			return c
		}
		select {
		case err := <-c.exited:
			t.Fatalf("serve ended early: %v\n%s", err, c.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200\n%s", c.logs.String())
		}
	}
}

// createTenant creates a tenant through the CLI and returns its API key.
func createTenant(t *testing.T, vars map[string]string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"tenant", "create", "--name", "Acme"}, env(vars), &out, io.Discard); err != nil {
		t.Fatalf("tenant create: %v", err)
	}
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out.Bytes(), &tenant); err != nil || tenant.APIKey == "" {
		t.Fatalf("tenant create printed %q (%v), want its api_key", out.String(), err)
	}
	return tenant.APIKey
}
