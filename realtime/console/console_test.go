package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/realtime/console"
)

func serve(t *testing.T, method, path string) (*http.Response, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET "+console.Prefix, console.Handler())
	mux.Handle("GET /console", console.Redirect())
	req := httptest.NewRequest(method, path, nil)
	req.Host = "desk.example:8080"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestHandler_Types(t *testing.T) {
	tests := []struct{ path, ctype string }{
		{"/console/", "text/html; charset=utf-8"},
		{"/console/index.html", "text/html; charset=utf-8"},
		{"/console/app.js", "text/javascript; charset=utf-8"},
		{"/console/api.js", "text/javascript; charset=utf-8"},
		{"/console/stream.js", "text/javascript; charset=utf-8"},
		{"/console/console.css", "text/css; charset=utf-8"},
		{"/console/icon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		res, body := serve(t, http.MethodGet, tt.path)
		if res.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s: got %d (%d bytes), want 200 with a body", tt.path, res.StatusCode, len(body))
		}
		if got := res.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("GET %s: Content-Type got %q, want %q", tt.path, got, tt.ctype)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options got %q, want nosniff", tt.path, got)
		}
	}
}

func TestHandler_Policy(t *testing.T) {
	res, _ := serve(t, http.MethodGet, "/console/")
	got := res.Header.Get("Content-Security-Policy")
	want := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
		"connect-src 'self' ws://desk.example:8080 wss://desk.example:8080; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	if got != want {
		t.Errorf("Content-Security-Policy got %q, want %q", got, want)
	}
	// A Host that could smuggle a directive is left out, not copied.
	if p := console.Policy("evil; script-src *"); strings.Contains(p, "evil") || strings.Contains(p, "*") {
		t.Errorf("Policy(bad host) = %q, want no trace of the host", p)
	}
}

func TestHandler_NotFoundAndRedirect(t *testing.T) {
	for _, p := range []string{"/console/nope.js", "/console/static/index.html", "/console/console.go"} {
		if res, _ := serve(t, http.MethodGet, p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", p, res.StatusCode)
		}
	}
	res, _ := serve(t, http.MethodGet, "/console")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console: got %d to %q, want 301 to /console/", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := serve(t, http.MethodHead, "/console/app.js"); res.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD /console/app.js: got %d with %d bytes, want 200 without a body", res.StatusCode, len(body))
	}
}

// TestPage_References checks that everything the page and its modules
// load is served, and that nothing is inline (the policy would block it).
func TestPage_References(t *testing.T) {
	_, page := serve(t, http.MethodGet, "/console/")
	refs := regexp.MustCompile(`(?:src|href)="(/console/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("the page references %d files, want its icon, styles and module", len(refs))
	}
	for _, js := range []string{"app.js", "api.js", "stream.js"} {
		_, src := serve(t, http.MethodGet, "/console/"+js)
		for _, m := range regexp.MustCompile(`from "\./([^"]+)"`).FindAllStringSubmatch(src, -1) {
			refs = append(refs, []string{"", "/console/" + m[1]})
		}
	}
	for _, r := range refs {
		if res, _ := serve(t, http.MethodGet, r[1]); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s (referenced): got %d, want 200", r[1], res.StatusCode)
		}
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style="|<style|\son[a-z]+="`).MatchString(page) {
		t.Error("the page has inline script, style or event handlers; the policy allows only files")
	}
}

// TestStreamModule runs the stream module's own tests (testdata/
// stream.test.mjs) with Node.js's test runner: what is passed on once,
// what is dropped as seen, where each subscription resumes.
func TestStreamModule(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the console's module tests need Node.js (node on PATH)")
	}
	out, err := exec.Command(node, "--test", "testdata/stream.test.mjs").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test testdata/stream.test.mjs: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# fail 0") {
		t.Fatalf("node --test printed no \"# fail 0\":\n%s", out)
	}
}
