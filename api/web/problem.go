// Package web is what every HTTP surface of Eventdesk shares: the one
// classification of errors (Classify), the JSON body reader, panic
// recovery, multipart file parts and file downloads, health and readiness,
// and the idempotency middleware. Each surface (api/native, api/fynd,
// api/leadsquared, api/support) imports it and renders errors in its own
// envelope; no surface imports another.
package web

import (
	"encoding/json"
	"net/http"
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

// Error returns the detail, or the title when there is none.
func (p *Problem) Error() string {
	if p.Detail == "" {
		return p.Title
	}
	return p.Detail
}

// problemBase is where the problem type URIs live (they name, they need
// not resolve).
const problemBase = "https://eventdesk.dev/problems/"

// NewProblem returns the problem of an error built at the HTTP layer,
// titled by its status text; Classify answers it as it says.
func NewProblem(status int, code, detail string, errs ...FieldError) *Problem {
	return &Problem{Type: problemBase + code, Title: http.StatusText(status), Status: status, Code: code, Detail: detail, Errors: errs}
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

// ProblemOf is c as an RFC 9457 problem about instance (the native API's
// envelope), titled by c.Title or else its status text.
func ProblemOf(c Class, instance string) Problem {
	title := c.Title
	if title == "" {
		title = http.StatusText(c.Status)
	}
	return Problem{Type: problemBase + c.Code, Title: title, Status: c.Status, Detail: c.Message, Instance: instance,
		Code: c.Code, Errors: c.Fields}
}
