// Package console serves the agent console: a single page, in plain HTML,
// CSS and JavaScript modules embedded in the binary (no build step, no
// Node.js at run time), that signs in with an agent token, talks to the
// native REST API for reads and writes and follows the realtime gateway
// (GET /v1/stream, subprotocol eventdesk.v1) for everything live.
//
// The page may load and connect to nothing but its own origin: every
// answer carries a Content-Security-Policy that allows only 'self', plus
// the websocket URLs of the host that served it.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// types are the Content-Types of the files the console is made of; a file
// of another kind is not served.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// hostPattern is a Host header that may be written into the policy as is:
// a name or an address, an optional port, nothing that could end the
// directive.
var hostPattern = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`)

// Policy is the Content-Security-Policy of a console answer to a request
// for host: scripts, styles, images, fonts and fetches from the page's own
// origin only, and websockets to the same host (browsers before CSP 3
// do not count ws: as 'self'). No inline script or style, no frames.
func Policy(host string) string {
	connect := "connect-src 'self'"
	if hostPattern.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
		connect + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// Handler serves the console's files under Prefix: /console/ is the page,
// /console/app.js and the like its modules and styles. Unknown paths get
// 404; GET and HEAD only (the mux pattern says which methods).
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "" {
			name = "index.html"
		}
		ctype, ok := types[path.Ext(name)]
		b, err := fs.ReadFile(files, name)
		if !ok || err != nil || strings.Contains(name, "/") {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Security-Policy", Policy(r.Host))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The files change with the binary only; revalidating each load
		// keeps a new release from running against an old module.
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(b)
		}
	})
}

// Redirect sends /console to /console/, so the page's relative module
// paths resolve under Prefix.
func Redirect() http.Handler { return http.RedirectHandler(Prefix, http.StatusMovedPermanently) }
