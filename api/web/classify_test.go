package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// TestClassify: every error the lower layers return has one class. (The
// surfaces' renderings of them are tested end to end in api's
// TestErrorsOnEverySurface.)
func TestClassify(t *testing.T) {
	storageDown := web.Class{Kind: domain.Unavailable, Status: 503, Code: web.CodeStorageUnavailable,
		Message: "the file cannot be stored: the server's storage is full or not writable; retry later", RetryAfter: web.StorageRetryAfter}
	dbDown := web.Class{Kind: domain.Unavailable, Status: 503, Code: web.CodeDatabaseUnavailable,
		Message: "the database cannot be reached right now; retry shortly", RetryAfter: web.DatabaseRetryAfter}
	titled := web.NewProblem(http.StatusBadRequest, "bad_request", "send JSON")
	titled.Title = "Malformed JSON request"
	tests := []struct {
		name string
		err  error
		want web.Class
	}{
		{"problem", web.NewProblem(http.StatusMethodNotAllowed, "method_not_allowed", "use GET"),
			web.Class{Kind: domain.Invalid, Status: 405, Code: "method_not_allowed", Message: "use GET"}},
		{"titled problem", titled,
			web.Class{Kind: domain.Invalid, Status: 400, Code: "bad_request", Title: "Malformed JSON request", Message: "send JSON"}},
		{"a 500 problem is answered, not logged again", web.NewProblem(500, "internal", "it broke"),
			web.Class{Kind: domain.Internal, Status: 500, Code: "internal", Message: "it broke"}},
		{"rate limit problem", web.NewProblem(429, "rate_limited", "slow down"),
			web.Class{Kind: domain.RateLimited, Status: 429, Code: "rate_limited", Message: "slow down"}},
		{"body error", &web.BodyError{Reason: web.BodyTooLarge, Limit: 8},
			web.Class{Kind: domain.TooLarge, Status: 413, Code: "body_too_large", Message: "request body exceeds 8 bytes"}},
		{"joined validation", fmt.Errorf("create: %w", errors.Join(domain.Invalidf("title", "title is blank"), domain.Invalidf("", "nothing to do"))),
			web.Class{Kind: domain.Invalid, Status: 422, Code: "validation_failed", Message: "title is blank; nothing to do",
				Fields: []web.FieldError{{Field: "title", Code: "invalid", Detail: "title is blank"}, {Code: "invalid", Detail: "nothing to do"}}}},
		{"not found", fmt.Errorf("load: %w", ticket.ErrNotFound),
			web.Class{Kind: domain.NotFound, Status: 404, Code: "ticket_not_found", Message: "ticket not found"}},
		{"conflict", domain.Conflictf("closed"), web.Class{Kind: domain.Conflict, Status: 409, Code: "conflict", Message: "closed"}},
		{"precondition", domain.PreconditionFailedf("at 3"),
			web.Class{Kind: domain.PreconditionFailed, Status: 412, Code: "precondition_failed", Message: "at 3"}},
		{"unauthenticated", fmt.Errorf("by api key: %w", app.ErrUnauthenticated),
			web.Class{Kind: domain.Unauthenticated, Status: 401, Code: "unauthenticated", Message: "missing or invalid credentials"}},
		{"file too large, without the wrapping", fmt.Errorf("upload t1: %w", app.ErrFileTooLarge.Withf("file exceeds 3 bytes")),
			web.Class{Kind: domain.TooLarge, Status: 413, Code: "file_too_large", Message: "file exceeds 3 bytes"}},
		{"max bytes", fmt.Errorf("part: %w", &http.MaxBytesError{Limit: 5}),
			web.Class{Kind: domain.TooLarge, Status: 413, Code: "body_too_large", Message: "request body exceeds 5 bytes"}},
		{"store: invalid (finding 8: no internal field names)", &eventstore.InvalidError{Field: "events[0].data", Reason: "contains a NUL character"},
			web.Class{Kind: domain.Invalid, Status: 422, Code: "validation_failed", Message: "the request cannot be stored: contains a NUL character",
				Fields: []web.FieldError{{Field: "body", Code: "invalid", Detail: "the request cannot be stored: contains a NUL character"}}}},
		{"store: version conflict", &eventstore.VersionConflictError{Actual: 3},
			web.Class{Kind: domain.Conflict, Status: 409, Code: "concurrent_modification", Message: "modified concurrently; retry"}},
		{"store: duplicate event", fmt.Errorf("t1: %w", eventstore.ErrDuplicateEvent),
			web.Class{Kind: domain.Conflict, Status: 409, Code: "duplicate_id", Message: "an id in this request is already used"}},
		{"store: key taken", &eventstore.KeyTakenError{Key: "7"},
			web.Class{Kind: domain.Conflict, Status: 409, Code: "key_taken", Message: "a unique value of this request is already taken; retry"}},
		{"canceled", fmt.Errorf("read: %w", context.Canceled),
			web.Class{Kind: domain.Unavailable, Status: 503, Code: "unavailable", Message: "the request was interrupted before it finished; retry it"}},
		{"deadline", context.DeadlineExceeded,
			web.Class{Kind: domain.Unavailable, Status: 503, Code: "unavailable", Message: "the request was interrupted before it finished; retry it"}},
		{"database: dial refused", fmt.Errorf("load t1: %w", &net.OpError{Op: "dial", Net: "unix", Err: syscall.ECONNREFUSED}), dbDown},
		{"database: broken pooled connection", fmt.Errorf("append: %w", driver.ErrBadConn), dbDown},
		{"database: connection done", fmt.Errorf("commit: %w", sql.ErrConnDone), dbDown},
		{"database: connection reset", fmt.Errorf("query: %w", syscall.ECONNRESET), dbDown},
		{"database: server shutting down (57P01)", fmt.Errorf("query: %w", &pq.Error{Code: "57P01", Message: "terminating connection due to administrator command"}), dbDown},
		{"database: starting up (57P03)", &pq.Error{Code: "57P03", Message: "the database system is starting up"}, dbDown},
		{"database: connection failure (08006)", &pq.Error{Code: "08006"}, dbDown},
		{"database: a refused statement is not an outage", &pq.Error{Code: "22P02", Message: "invalid input syntax"},
			web.Class{Kind: domain.Internal, Status: 500, Code: "internal", Message: "internal error; it has been logged", Internal: true}},
		{"storage: disk full", fmt.Errorf("upload: %w", &fs.PathError{Op: "write", Path: "/data/tmp/upload-1", Err: syscall.ENOSPC}), storageDown},
		{"storage: read-only", &fs.PathError{Op: "mkdir", Path: "/data/files/ab", Err: syscall.EROFS}, storageDown},
		{"storage: not permitted", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EACCES}, storageDown},
		{"storage: an errno without a path is not a disk", syscall.ENOSPC,
			web.Class{Kind: domain.Internal, Status: 500, Code: "internal", Message: "internal error; it has been logged", Internal: true}},
		{"domain internal", &domain.Error{Kind: domain.Internal, Code: "wrong_stream", Msg: "secret"},
			web.Class{Kind: domain.Internal, Status: 500, Code: "internal", Message: "internal error; it has been logged", Internal: true}},
		{"unexpected", errors.New("dial tcp 10.1.2.3: refused"),
			web.Class{Kind: domain.Internal, Status: 500, Code: "internal", Message: "internal error; it has been logged", Internal: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, web.Classify(tt.err)); diff != "" {
				t.Errorf("Classify(%v) (-want +got):\n%s", tt.err, diff)
			}
		})
	}
}

// TestTriage: unexpected errors are logged once at ERROR, interruptions at
// WARN, business failures not at all; a client that has gone gets nothing.
func TestTriage(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		gone      bool
		answer    bool
		wantLevel string
	}{
		{"business failure", domain.Conflictf("closed"), false, true, ""},
		{"unexpected", errors.New("disk on fire"), false, true, "ERROR"},
		{"interrupted", context.DeadlineExceeded, false, true, "WARN"},
		{"client gone", context.Canceled, true, false, ""},
		{"client gone, the driver says something else", errors.New("pq: canceling statement due to user request"), true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := httptest.NewRequest(http.MethodPost, "/x", nil)
			if tt.gone {
				ctx, cancel := context.WithCancel(r.Context())
				cancel()
				r = r.WithContext(ctx)
			}
			_, answer := web.Triage(r, slog.New(slog.NewJSONHandler(&logs, nil)), tt.err)
			if answer != tt.answer {
				t.Errorf("answer = %v, want %v", answer, tt.answer)
			}
			got := logs.String()
			switch {
			case tt.wantLevel == "" && got != "":
				t.Errorf("logged %s, want nothing", got)
			case tt.wantLevel != "" && (strings.Count(got, "\n") != 1 || !strings.Contains(got, `"level":"`+tt.wantLevel+`"`) || !strings.Contains(got, tt.err.Error())):
				t.Errorf("logged %s, want the error once at %s", got, tt.wantLevel)
			}
		})
	}
}

// TestSetRetryAfter: a class that asks the client to wait says so in whole
// seconds, rounded up; any other sets nothing.
func TestSetRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want string
	}{{0, ""}, {time.Millisecond, "1"}, {2 * time.Second, "2"}, {2500 * time.Millisecond, "3"}} {
		h := http.Header{}
		web.SetRetryAfter(h, web.Class{RetryAfter: tt.wait})
		if got := h.Get("Retry-After"); got != tt.want {
			t.Errorf("RetryAfter %v: got Retry-After %q, want %q", tt.wait, got, tt.want)
		}
	}
}
