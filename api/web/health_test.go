package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/web"
)

func serve(t *testing.T, h http.Handler) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got, want := rec.Header().Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return rec.Code, body
}

func TestHealthz(t *testing.T) {
	code, body := serve(t, web.Healthz())
	if code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("got %d %v, want 200 status ok", code, body)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name       string
		check      error
		wantCode   int
		wantStatus string
		wantReason string
	}{
		{"ready", nil, http.StatusOK, "ok", ""},
		{"check fails", errors.New("2 migrations pending"), http.StatusServiceUnavailable, "unavailable", "2 migrations pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := serve(t, web.Readyz(func(context.Context) error { return tt.check }))
			if code != tt.wantCode || body["status"] != tt.wantStatus || body["reason"] != tt.wantReason {
				t.Fatalf("got %d %v, want %d status %q reason %q", code, body, tt.wantCode, tt.wantStatus, tt.wantReason)
			}
		})
	}
}

func TestReadyzBoundsTheCheck(t *testing.T) {
	var deadline time.Time
	h := web.Readyz(func(ctx context.Context) error {
		deadline, _ = ctx.Deadline()
		return nil
	})
	if code, _ := serve(t, h); code != http.StatusOK {
		t.Fatalf("got %d, want 200", code)
	}
	if deadline.IsZero() || deadline.After(time.Now().Add(web.ReadyTimeout)) {
		t.Fatalf("check deadline %v, want at most %v from now", deadline, web.ReadyTimeout)
	}
}
