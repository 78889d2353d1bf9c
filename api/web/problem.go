// Package web is what every HTTP surface of Eventdesk shares: the one
// classification of errors (Classify), the JSON body reader, panic
// recovery, multipart file parts and file downloads, health and readiness,
// and the idempotency middleware. Each surface (api/native, api/fynd,
// api/leadsquared, api/support) imports it and renders errors in its own
// envelope; no surface imports another.
package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Problem is an RFC 9457 problem detail. Code is a stable machine-readable
// name; Errors lists every bad field of a request.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// FieldError is one problem with one input field.
type FieldError struct {
	Field  string `json:"field"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string { return p.Detail }

// problemBase is where the problem type URIs live (they name, they need
// not resolve).
const problemBase = "https://eventdesk.dev/problems/"

func NewProblem(status int, code, detail string, errs ...FieldError) *Problem {
	return &Problem{Type: problemBase + code, Title: http.StatusText(status), Status: status, Code: code, Detail: detail, Errors: errs}
}

// statusOf maps domain kinds to HTTP statuses, once, for the native API.
var statusOf = map[domain.Kind]int{
	domain.Invalid:            http.StatusUnprocessableEntity,
	domain.NotFound:           http.StatusNotFound,
	domain.Conflict:           http.StatusConflict,
	domain.PreconditionFailed: http.StatusPreconditionFailed,
}

// Classify says what err means to a client; ok is false for unexpected
// errors.
func Classify(err error) (p *Problem, ok bool) {
	var pr *Problem
	var de *domain.Error
	var inv *eventstore.InvalidError
	switch {
	case errors.As(err, &pr):
		return pr, true
	case errors.Is(err, app.ErrFileTooLarge):
		return NewProblem(http.StatusRequestEntityTooLarge, "file_too_large", err.Error()), true
	case errors.As(err, &de) && de.Kind != domain.Internal:
		status := statusOf[de.Kind]
		all := domain.Errors(err)
		if status == http.StatusUnprocessableEntity {
			var fes []FieldError
			var msgs []string
			for _, e := range all {
				if e.Kind != domain.Invalid {
					continue
				}
				fes = append(fes, FieldError{Field: e.Field, Code: e.Code, Detail: e.Error()})
				msgs = append(msgs, e.Error())
			}
			return NewProblem(status, "validation_failed", strings.Join(msgs, "; "), fes...), true
		}
		return NewProblem(status, de.Code, de.Error()), true
	case errors.As(err, &inv):
		return NewProblem(http.StatusUnprocessableEntity, "validation_failed", inv.Error(),
			FieldError{Field: inv.Field, Code: "invalid", Detail: inv.Reason}), true
	case errors.Is(err, eventstore.ErrVersionConflict):
		return NewProblem(http.StatusConflict, "concurrent_modification", "modified concurrently; retry"), true
	case errors.Is(err, eventstore.ErrDuplicateEvent):
		return NewProblem(http.StatusConflict, "duplicate_id", "an id in this request is already used"), true
	case errors.Is(err, app.ErrUnauthenticated):
		return NewProblem(http.StatusUnauthorized, "unauthenticated", "missing or invalid API key"), true
	}
	return nil, false
}

// WriteJSON writes v as JSON with status and contentType; HTML characters
// are not escaped.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
