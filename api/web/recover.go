package web

import (
	"log/slog"
	"net/http"
	"runtime/debug"
)

// RecoverPanic, deferred by a surface's handler, turns a panic into a
// logged error (with its stack) and lets answer reply in the surface's own
// error shape. http.ErrAbortHandler passes through, as net/http expects.
func RecoverPanic(r *http.Request, log *slog.Logger, surface string, answer func()) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	log.ErrorContext(r.Context(), surface+": panic", "route", r.Pattern, "panic", p, "stack", string(debug.Stack()))
	answer()
}
