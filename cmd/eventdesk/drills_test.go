package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDrills runs the short PostgreSQL-outage and disk drills end to end:
// real `eventdesk serve` processes of a freshly built binary on a private
// cluster. They are the regression tests of two findings: every surface
// answered a request that could not reach the database 500 internal, and
// an upload to a full or read-only data directory likewise; now each
// answers 503 in its own shape with Retry-After, and a keyed write whose
// response cannot be stored is answered 503 (so the client retries) rather
// than leave its key without a response.
func TestDrills(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds the binary, runs servers (skipped by -short only)")
	}
	exe := filepath.Join(t.TempDir(), "eventdesk")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"drill", "--short", "--only", "pg,disk", "--binary", exe}, os.Getenv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("drill: %v\n%s\n%s", err, stdout.String(), lastLines(stderr.Bytes(), 10))
	}
	for _, want := range []string{"== drill pg: PASS", "== drill disk: PASS"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("drill printed\n%s\nwant %q", stdout.String(), want)
		}
	}
	t.Log(stdout.String())
}
