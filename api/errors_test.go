package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/fynd"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/api/support"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/projections"
)

// want is one surface's expected answer: its status and what identifies
// the error in its envelope (native: the problem's code; LeadSquared: the
// ExceptionType; Fynd and support: a part of the message).
type want struct {
	status int
	id     string
}

// secret is in the text of the unexpected errors; no answer may show it.
const secret = "password authentication failed for user eventdesk at 10.1.2.3"

// TestErrorsOnEverySurface feeds every error the lower layers return
// through every surface, end to end: each surface's ticket create runs over
// a store that fails with the error, and the answer must be the surface's
// own envelope with the status its class maps to. Unexpected errors never
// show their text and are logged once, at ERROR; an interrupted request is
// a 503 logged at WARN; a client that has gone gets nothing, nothing is
// logged, and nothing is stored under its Idempotency-Key, so that its
// retry runs.
func TestErrorsOnEverySurface(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	tests := []struct {
		name string
		err  error
		// gone: the client leaves while the store works; nothing answers.
		gone bool
		// logged: the error's text is logged, once, at this level.
		logged                       string
		native, fynd, lsq, supported want
	}{
		{name: "invalid input, two fields",
			err:    errors.Join(domain.Invalidf("title", "title must not be blank"), domain.Invalidf("priority", `priority "p9" is unknown`)),
			native: want{422, "validation_failed"}, fynd: want{400, `title must not be blank; priority "p9" is unknown`},
			lsq: want{400, "MXInvalidInputException"}, supported: want{400, "Invalid value for: subject, priority"}},
		{name: "form answers that do not fit", err: form.ErrResponseRequired.At("response[0]").Withf("an answer to reason is required"),
			native: want{422, "validation_failed"}, fynd: want{422, "an answer to reason is required"},
			lsq: want{400, "MXInvalidInputException"}, supported: want{400, "Invalid value for: response[0]"}},
		{name: "not found", err: fmt.Errorf("load: %w", ticket.ErrNotFound),
			native: want{404, "ticket_not_found"}, fynd: want{404, "ticket not found"},
			lsq: want{404, "MXRecordNotFoundException"}, supported: want{404, "Customer support record not found"}},
		{name: "conflict", err: domain.Conflictf("the ticket is closed"),
			native: want{409, "conflict"}, fynd: want{409, "the ticket is closed"},
			lsq: want{409, "MXConflictException"}, supported: want{409, "The ticket is closed"}},
		{name: "precondition failed", err: domain.PreconditionFailedf("ticket is at version 3, If-Match says 2"),
			native: want{412, "precondition_failed"}, fynd: want{409, "If-Match says 2"},
			lsq: want{409, "MXConflictException"}, supported: want{409, "If-Match says 2"}},
		{name: "unauthenticated", err: app.ErrUnauthenticated,
			native: want{401, "unauthenticated"}, fynd: want{401, "credentials"},
			lsq: want{401, "MXUnAuthorizedAccessException"}, supported: want{401, "Unauthorized"}},
		{name: "file too large", err: app.ErrFileTooLarge.Withf("file exceeds %d bytes", 10),
			native: want{413, "file_too_large"}, fynd: want{413, "file exceeds 10 bytes"}, // and nothing of the wrapping
			lsq: want{400, "MXInvalidInputException"}, supported: want{413, "Maximum upload size exceeded"}},
		{name: "body over its limit", err: &http.MaxBytesError{Limit: 10},
			native: want{413, "body_too_large"}, fynd: want{413, "exceeds 10 bytes"},
			lsq: want{400, "MXInvalidInputException"}, supported: want{413, "Maximum upload size exceeded"}},
		{name: "version conflict", err: fmt.Errorf("ticket t1: %w", &eventstore.VersionConflictError{Expected: eventstore.NoStream, Actual: 2}),
			// The native create words it as ticket_exists: its ids may be the client's.
			native: want{409, "ticket_exists"}, fynd: want{409, "modified concurrently"},
			lsq: want{409, "MXConcurrentUpdateException"}, supported: want{409, "Modified concurrently"}},
		// Finding 8: the store's own field names ("stream id",
		// "events[0].data") are not the request's and are never shown.
		{name: "store refuses the input", err: &eventstore.InvalidError{Field: "events[0].data", Reason: "contains a NUL character"},
			native: want{422, "validation_failed"}, fynd: want{400, "the request cannot be stored: contains a NUL character"},
			lsq: want{400, "MXInvalidInputException"}, supported: want{400, "the request cannot be stored: contains a NUL character"}},
		{name: "duplicate event id", err: fmt.Errorf("ticket t1: %w", eventstore.ErrDuplicateEvent),
			native: want{409, "duplicate_id"}, fynd: want{409, "already used"},
			lsq: want{409, "MXConflictException"}, supported: want{409, "already used"}},
		{name: "key taken", err: &eventstore.KeyTakenError{Key: "42"},
			native: want{409, "key_taken"}, fynd: want{409, "already taken"},
			lsq: want{409, "MXConflictException"}, supported: want{409, "already taken"}},
		{name: "domain error of kind internal", err: &domain.Error{Kind: domain.Internal, Code: "wrong_stream", Msg: secret},
			logged: "ERROR",
			native: want{500, "internal"}, fynd: want{500, "internal server error"},
			lsq: want{500, "MXInternalServerException"}, supported: want{500, "Internal server error"}},
		{name: "unexpected", err: fmt.Errorf("read stream: pq: %s", secret),
			logged: "ERROR",
			native: want{500, "internal"}, fynd: want{500, "internal server error"},
			lsq: want{500, "MXInternalServerException"}, supported: want{500, "Internal server error"}},
		{name: "interrupted, client still there", err: fmt.Errorf("read stream: %s: %w", secret, context.DeadlineExceeded),
			logged: "WARN",
			native: want{503, "unavailable"}, fynd: want{503, "interrupted"},
			lsq: want{503, "MXServiceUnavailableException"}, supported: want{503, "Service unavailable"}},
		{name: "client gone", err: context.Canceled, gone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range surfaces(e) {
				t.Run(s.name, func(t *testing.T) {
					var logs bytes.Buffer // ServeHTTP logs before it returns
					store := &failingStore{Store: e.Store, err: tt.err}
					rt := api.New(api.Deps{
						Services: app.NewServices(store, e.DB.DB, app.Config{FilesDir: e.DataDir, MaxUploadBytes: apitest.UploadLimit}),
						Keys:     &web.Idempotency{DB: e.DB.DB},
						Log:      e.Store, Queries: projections.NewTicketQueries(e.DB.DB), Waiter: e.Runner,
						Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
					})
					key := fmt.Sprintf("errors-%s-%s", strings.ReplaceAll(tt.name, " ", "-"), s.name)
					req := s.request()
					req.Header.Set("Idempotency-Key", key)
					if tt.gone {
						ctx, cancel := context.WithCancel(req.Context())
						defer cancel()
						store.onFail = cancel // the client leaves while the store works
						req = req.WithContext(ctx)
					}
					rec := httptest.NewRecorder()
					rt.ServeHTTP(rec, req)
					if store.calls.Load() == 0 {
						t.Fatalf("the request never reached the store: %d %s", rec.Code, rec.Body)
					}
					if tt.gone {
						if rec.Body.Len() > 0 || logs.Len() > 0 {
							t.Errorf("client gone: answered %q, logged %q; want nothing", rec.Body, logs.String())
						}
						// Nothing was stored under the key: the client's retry runs.
						retry := s.request()
						retry.Header.Set("Idempotency-Key", key)
						again := httptest.NewRecorder()
						e.Server.ServeHTTP(again, retry)
						if again.Code >= 300 || again.Header().Get("Idempotent-Replayed") != "" {
							t.Errorf("retry after the client left = %d (replayed %q) %s, want it run afresh",
								again.Code, again.Header().Get("Idempotent-Replayed"), again.Body)
						}
						return
					}
					t.Logf("%d %s", rec.Code, rec.Body)
					w := s.want(tt.native, tt.fynd, tt.lsq, tt.supported)
					if rec.Code != w.status {
						t.Fatalf("status %d, want %d; body %s", rec.Code, w.status, rec.Body)
					}
					var body map[string]any
					if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
						t.Fatalf("body %q is not a JSON object", rec.Body)
					}
					s.check(t, rec, body, w)
					if w.status == http.StatusUnauthorized && s.name != "leadsquared" && rec.Header().Get("WWW-Authenticate") == "" {
						t.Errorf("401 without WWW-Authenticate")
					}
					if strings.Contains(rec.Body.String(), "10.1.2.3") {
						t.Errorf("the answer shows the cause: %s", rec.Body)
					}
					if strings.Contains(rec.Body.String(), "ticket_config") {
						t.Errorf("the answer shows how the error was wrapped: %s", rec.Body)
					}
					checkLog(t, logs.String(), tt.logged)
				})
			}
		})
	}
}

// checkLog checks that the error's text is logged once at level, or that
// nothing is logged at WARN or ERROR when level is "".
func checkLog(t *testing.T, logs, level string) {
	t.Helper()
	var lines []map[string]any
	for line := range strings.Lines(logs) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		if m["level"] == "WARN" || m["level"] == "ERROR" {
			lines = append(lines, m)
		}
	}
	switch {
	case level == "" && len(lines) > 0:
		t.Errorf("logged %v, want nothing at WARN or ERROR", lines)
	case level != "" && (len(lines) != 1 || lines[0]["level"] != level || !strings.Contains(fmt.Sprint(lines[0]["err"]), secret)):
		t.Errorf("logged %v, want the cause once at %s", lines, level)
	}
}

// surface is how the test calls one surface and reads its envelope.
type surface struct {
	name    string
	request func() *http.Request
	// want picks the surface's expectation from a table row.
	want  func(native, fynd, lsq, supported want) want
	check func(t *testing.T, rec *httptest.ResponseRecorder, body map[string]any, w want)
}

// surfaces are the four surfaces, each creating a ticket as tenant A.
func surfaces(e *apitest.Env) []surface {
	a := e.A
	post := func(path, body string, headers ...string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Set(headers[i], headers[i+1])
			}
			return r
		}
	}
	fyndToken := base64.StdEncoding.EncodeToString([]byte(a.Creds.FyndApplicationID + ":" + a.Creds.FyndApplicationToken))
	return []surface{
		{
			name:    "native",
			request: post("/v1/tickets", `{"title": "Printer on fire"}`, "Authorization", "Bearer "+a.Creds.APIKey),
			want:    func(n, _, _, _ want) want { return n },
			check: func(t *testing.T, rec *httptest.ResponseRecorder, body map[string]any, w want) {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want application/problem+json", ct)
				}
				for _, k := range []string{"type", "title", "status", "code", "detail", "instance"} {
					if _, ok := body[k]; !ok {
						t.Errorf("problem %v lacks %s", body, k)
					}
				}
				if body["code"] != w.id || body["status"] != float64(w.status) {
					t.Errorf("problem code %v status %v, want %s %d", body["code"], body["status"], w.id, w.status)
				}
				if w.id == "validation_failed" {
					if errs, _ := body["errors"].([]any); len(errs) == 0 {
						t.Errorf("validation problem %v lists no fields", body)
					}
				}
			},
		},
		{
			name:    "fynd",
			request: post(fynd.Prefix+"/ticket/", `{"category": "general", "content": {"title": "Order not delivered"}}`, "Authorization", "Bearer "+fyndToken),
			want:    func(_, f, _, _ want) want { return f },
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body map[string]any, w want) {
				msg, _ := body["message"].(string)
				if len(body) != 1 || !strings.Contains(msg, w.id) {
					t.Errorf("body %v, want exactly {\"message\"} containing %q", body, w.id)
				}
			},
		},
		{
			name: "leadsquared",
			request: post("/api/tenants/"+a.ID+"/ticket", leadsquared.SampleCreateTicket,
				leadsquared.HeaderAccessKey, a.Creds.LSQAccessKey, leadsquared.HeaderSecretKey, a.Creds.LSQSecretKey),
			want: func(_, _, l, _ want) want { return l },
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body map[string]any, w want) {
				keys := []string{"ExceptionMessage", "ExceptionType", "Id", "Key", "Message", "ReasonForFailure", "Status", "TicketId"}
				if got := slices.Sorted(maps.Keys(body)); !slices.Equal(got, keys) {
					t.Errorf("members %v, want %v", got, keys)
				}
				if body["Status"] != "Error" || body["ExceptionType"] != w.id || body["ExceptionMessage"] == "" {
					t.Errorf("body %v, want Status Error, ExceptionType %s and a message", body, w.id)
				}
			},
		},
		{
			name:    "support",
			request: post(support.PathMessage, support.SampleMessage, "Authorization", "Bearer "+a.Creds.APIKey),
			want:    func(_, _, _, s want) want { return s },
			check: func(t *testing.T, _ *httptest.ResponseRecorder, body map[string]any, w want) {
				keys := []string{"data", "detail", "error", "message"}
				if got := slices.Sorted(maps.Keys(body)); !slices.Equal(got, keys) {
					t.Errorf("members %v, want %v", got, keys)
				}
				msg, _ := body["message"].(string)
				detail, _ := body["detail"].(string)
				if body["data"] != nil || body["error"] != true || !strings.Contains(msg+": "+detail, w.id) {
					t.Errorf("body %v, want data null, error true and %q in the message", body, w.id)
				}
			},
		},
	}
}

// failingStore fails every read and append with err, as a store (or the
// layers under it) would; onFail, if set, runs first.
type failingStore struct {
	eventstore.Store
	err    error
	onFail func()
	calls  atomic.Int64
}

func (s *failingStore) fail() error {
	s.calls.Add(1)
	if s.onFail != nil {
		s.onFail()
	}
	return s.err
}

func (s *failingStore) ReadStream(context.Context, eventstore.StreamRef, int64, int) ([]eventstore.Event, error) {
	return nil, s.fail()
}

func (s *failingStore) Append(context.Context, eventstore.StreamRef, eventstore.ExpectedVersion, []eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, s.fail()
}

func (s *failingStore) AppendStreams(context.Context, []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	return nil, s.fail()
}

func (s *failingStore) Lookup(context.Context, string, string, string) (string, bool, error) {
	return "", false, s.fail()
}
