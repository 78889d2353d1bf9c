package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ReadyTimeout bounds one readiness check, so a hung database fails the
// probe instead of hanging it.
const ReadyTimeout = 3 * time.Second

type healthBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Healthz answers 200 {"status":"ok"} for as long as the process serves
// HTTP at all; it checks nothing else, so a restart is never triggered by a
// dependency being down.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeHealth(w, http.StatusOK, healthBody{Status: "ok"})
	})
}

// Readyz answers 200 {"status":"ok"} when ready returns nil, and 503
// {"status":"unavailable","reason":...} with the error's text otherwise,
// which is therefore shown to whoever probes: ready must return reasons fit
// for that, not raw driver errors. ready gets at most ReadyTimeout and may
// be called concurrently.
func Readyz(ready func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		if err := ready(ctx); err != nil {
			writeHealth(w, http.StatusServiceUnavailable, healthBody{Status: "unavailable", Reason: err.Error()})
			return
		}
		writeHealth(w, http.StatusOK, healthBody{Status: "ok"})
	})
}

func writeHealth(w http.ResponseWriter, status int, body healthBody) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
