package main

import (
	"bufio"
	"context"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// browserDir is the npm project of the console's browser test: its
// package-lock.json pins playwright-core; `make test` and .ci/run install
// it (npm ci) when node_modules is missing. Chromium is Debian's.
const browserDir = "testdata/browser"

// chromiumPath is Debian's Chromium, which .ci/run installs when missing;
// nothing downloads a browser of its own.
const chromiumPath = "/usr/bin/chromium"

// TestConsole_Browser is the agent console end to end, in a real browser:
// two `eventdesk serve` processes (A and B) over one database and one
// Redis, a tenant with two agents and their tokens, a ticket; then
// testdata/browser/console.mjs drives headless Chromium with two browser
// contexts, one agent each. It asserts that the other agent is seen
// viewing and typing; that a comment posted through the API shows in both
// within a second; that an activity, a reply, a status change, an assignment (which
// moves the ticket between list filters), a new ticket and a video room
// participant made elsewhere show live; that controls are labelled and
// tabbable; that after node A stops (the sockets drop, the console says it
// is reconnecting), a comment and a priority change written through node
// B, and node A serving again, the missed comment appears exactly once,
// the list has the new priority and each timeline is the ticket's stream
// event for event; that leaving a ticket leaves its presence; and that the
// browser logged no error (but the refused reconnects while A was down).
// The screenshot is kept under testdata/out/.
func TestConsole_Browser(t *testing.T) {
	if servedByChild(t) {
		return
	}
	vars := serveVars(t)
	node := browserTools(t)
	// Presence is shared through Redis; the page is same-origin.
	vars["EVENTDESK_REDIS_URL"] = "redis://127.0.0.1:6379/0"
	vars["EVENTDESK_ALLOWED_ORIGINS"] = "http://" + vars["EVENTDESK_HTTP_ADDR"]
	// The log's fence waits for every write transaction in the cluster,
	// and under make test every other package writes to it in parallel:
	// a wake-up whose read the fence held back is retried only after the
	// poll interval (500 ms by default), twice of which would break the
	// one-second bound for reasons outside the console. Measured on this
	// machine with the default: 87-891 ms.
	vars["EVENTDESK_POLL_INTERVAL"] = "100ms"
	varsB := maps.Clone(vars)
	varsB["EVENTDESK_HTTP_ADDR"] = freeAddr(t)
	varsB["EVENTDESK_ALLOWED_ORIGINS"] = "http://" + varsB["EVENTDESK_HTTP_ADDR"]
	varsB["EVENTDESK_DATA_DIR"] = t.TempDir()

	a := startServe(t, "TestConsole_Browser", vars)
	startServe(t, "TestConsole_Browser", varsB)
	key := createTenant(t, vars)
	base, baseB := "http://"+vars["EVENTDESK_HTTP_ADDR"], "http://"+varsB["EVENTDESK_HTTP_ADDR"]

	agent := func(email, name string) (token string) {
		ag := apiCall(t, base, key, "POST", "/v1/agents", map[string]any{"email": email, "name": name}, http.StatusCreated)
		tok := apiCall(t, base, key, "POST", "/v1/agents/"+ag["id"].(string)+"/tokens", nil, http.StatusCreated)
		return tok["token"].(string)
	}
	tokenA, tokenB := agent("ana@acme.test", "Ana Agent"), agent("bo@acme.test", "Bo Agent")
	ticket := apiCall(t, base, key, "POST", "/v1/tickets", map[string]any{"title": "Printer on fire", "priority": "high",
		"description": "The office printer is smoking."}, http.StatusCreated)
	apiCall(t, base, key, "POST", "/v1/tickets/"+ticket["id"].(string)+"/history",
		map[string]any{"type": "comment", "value": map[string]any{"text": "Toner is melting."}}, http.StatusCreated)
	// The console needs the realtime gateway (issue 13): connect tickets.
	apiCall(t, base, tokenA, "POST", "/v1/stream/tickets", nil, http.StatusCreated)

	out, err := filepath.Abs(filepath.Join("testdata", "out"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.mjs")
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumPath,
		"CONSOLE_URL="+base, "OTHER_URL="+baseB, "API_KEY="+key, "TOKEN_A="+tokenA, "TOKEN_B="+tokenB,
		"AGENT_A=Ana Agent", "AGENT_B=Bo Agent", "TICKET_ID="+ticket["id"].(string), "OUT_DIR="+out)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var result string
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		switch {
		case line == "@@cut":
			// SIGTERM: every socket of node A closes (1001), as in a
			// rolling restart; the browsers cannot reach it until it is
			// back.
			if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-a.exited:
			case <-time.After(30 * time.Second):
				t.Fatalf("node A did not stop within 30s of SIGTERM\n%s", a.logs.String())
			}
			_, _ = io.WriteString(stdin, "down\n")
		case line == "@@restore":
			a = startServe(t, "TestConsole_Browser", vars)
			_, _ = io.WriteString(stdin, "up\n")
		case strings.HasPrefix(line, "@@ok "), strings.HasPrefix(line, "@@fail "):
			result = line
		default:
			t.Log("browser: " + line)
		}
	}
	werr := cmd.Wait()
	switch {
	case strings.HasPrefix(result, "@@ok "):
		t.Logf("console figures: %s; screenshot: %s", strings.TrimPrefix(result, "@@ok "), filepath.Join(out, "console.png"))
	case strings.HasPrefix(result, "@@fail "):
		t.Fatalf("browser test failed: %s\nnode A's log:\n%s", strings.ReplaceAll(strings.TrimPrefix(result, "@@fail "), `\n`, "\n"), a.logs.String())
	default:
		t.Fatalf("console.mjs ended without a result (%v):\n%s", werr, stderr.String())
	}
	if werr != nil {
		t.Fatalf("console.mjs: %v\n%s", werr, stderr.String())
	}
}

// browserTools finds node and the installed npm project, or fails saying
// how to install them: `make test` does (npm ci), .ci/run installs
// Chromium too.
func browserTools(t *testing.T) (node string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the console's browser test needs Node.js (node on PATH); install Debian's nodejs and npm")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the console's browser test needs Debian's Chromium at %s: apt-get install -y chromium (.ci/run does)", chromiumPath)
	}
	modules, err := filepath.Abs(filepath.Join(browserDir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is not installed in cmd/eventdesk/%s: run `npm ci --prefix cmd/eventdesk/%s` (make test does)", browserDir, browserDir)
	}
	return node
}
