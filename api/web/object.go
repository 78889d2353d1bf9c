package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// BodyReason says why a JSON request body was refused.
type BodyReason string

// The reasons of a BodyError.
const (
	BodyUnreadable BodyReason = "unreadable" // reading the body failed
	BodyTooLarge   BodyReason = "too_large"  // more bytes than the limit
	BodyEmpty      BodyReason = "empty"      // nothing but whitespace
	BodyMalformed  BodyReason = "malformed"  // not JSON
	BodyNotObject  BodyReason = "not_object" // JSON, but not an object
	BodyBadText    BodyReason = "bad_text"   // a string that is not valid text (ValidText)
	BodyDuplicate  BodyReason = "duplicate"  // a member repeated within one object
	BodyTooDeep    BodyReason = "too_deep"   // nested deeper than MaxJSONDepth
)

// BodyError is why ReadBody, ReadJSON or ReadObject refused a request body.
// It unwraps to the *Problem the native API answers, so Classify knows it;
// a surface with its own wording words it from Reason and the details.
type BodyError struct {
	Reason BodyReason
	// Limit is the limit in bytes (BodyTooLarge).
	Limit int64
	// Offset is the byte offset where the JSON goes wrong, and Syntax what
	// the parser says there (BodyMalformed).
	Offset int64
	Syntax string
	// Got names what the body holds instead of an object: "an array",
	// "a string", "null", … (BodyNotObject).
	Got string
	// Field is the request's member path at fault ("title",
	// "custom.size", "tags[2]"; "" for the body itself): the string that is
	// not text (BodyBadText; with InName, a member name inside it), the
	// repeated member (BodyDuplicate), the value nested too deep
	// (BodyTooDeep).
	Field  string
	InName bool
}

func (e *BodyError) Error() string { return e.Problem().Detail }

// Unwrap returns e as a problem, for errors.As and Classify.
func (e *BodyError) Unwrap() error { return e.Problem() }

// Problem is e as the native API answers it: 413 body_too_large, 400
// unreadable_body, 400 malformed_json, 400 duplicate_member, 400
// too_deep, or 422 validation_failed naming the field whose text is not
// valid (code invalid_text), as for any other invalid value.
func (e *BodyError) Problem() *Problem {
	switch e.Reason {
	case BodyBadText:
		return Invalid(FieldError{Field: e.Field, Code: "invalid_text", Detail: e.TextDetail()})
	case BodyDuplicate:
		return NewProblem(http.StatusBadRequest, "duplicate_member",
			fmt.Sprintf("member %s appears more than once in its object; send each member once", e.Field))
	case BodyTooDeep:
		return NewProblem(http.StatusBadRequest, "too_deep",
			fmt.Sprintf("JSON nests deeper than %d levels%s", MaxJSONDepth, e.at()))
	case BodyUnreadable:
		return NewProblem(http.StatusBadRequest, "unreadable_body", "request body could not be read")
	case BodyTooLarge:
		return NewProblem(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", e.Limit))
	case BodyEmpty:
		return NewProblem(http.StatusBadRequest, "malformed_json", "request body is empty; send a JSON object")
	case BodyMalformed:
		return NewProblem(http.StatusBadRequest, "malformed_json", fmt.Sprintf("malformed JSON at byte offset %d: %s", e.Offset, e.Syntax))
	}
	return NewProblem(http.StatusBadRequest, "malformed_json", "request body must be a JSON object, not "+e.Got)
}

func (e *BodyError) at() string {
	if e.Field == "" {
		return ""
	}
	return " (in " + e.Field + ")"
}

// TextDetail words a BodyBadText refusal: the field and the rule.
func (e *BodyError) TextDetail() string {
	switch {
	case e.InName && e.Field == "":
		return "member names " + msgText
	case e.InName:
		return "member names in " + e.Field + " " + msgText
	case e.Field == "":
		return "the body " + msgText
	}
	return e.Field + " " + msgText
}

// MaxBodyBytes is the largest JSON request body the surfaces read.
const MaxBodyBytes = 1 << 20

// ReadBody reads r's body, at most limit bytes. A longer body is a
// *BodyError of reason BodyTooLarge, a failed read one of BodyUnreadable.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &BodyError{Reason: BodyTooLarge, Limit: min(limit, tooBig.Limit)}
	case err != nil:
		return nil, &BodyError{Reason: BodyUnreadable}
	case int64(len(b)) > limit:
		return nil, &BodyError{Reason: BodyTooLarge, Limit: limit}
	}
	return b, nil
}

// ReadJSON reads r's body, at most limit bytes, and checks that it is one
// JSON object (CheckObject). It returns the body, for readers that bind its
// members their own way (LeadSquared's, without regard to case).
func ReadJSON(r *http.Request, limit int64) ([]byte, error) {
	b, err := ReadBody(r, limit)
	if err != nil {
		return nil, err
	}
	if err := CheckObject(b); err != nil {
		return nil, err
	}
	return b, nil
}

// ReadObject reads r's body, at most limit bytes, which must be one JSON
// object, and returns its members by exact name (a repeated member is
// refused, see CheckObject). Refusals are *BodyError.
func ReadObject(r *http.Request, limit int64) (map[string]json.RawMessage, error) {
	b, err := ReadBody(r, limit)
	if err != nil {
		return nil, err
	}
	return Members(b)
}

// Members returns the members of body, which must be one JSON object
// (CheckObject).
func Members(body []byte) (map[string]json.RawMessage, error) {
	if err := CheckObject(body); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, malformed(body, err)
	}
	return m, nil
}

// CheckObject checks that body is one JSON object, whitespace around it
// aside, whose strings are all valid text (ValidText: no invalid UTF-8,
// \u0000 or unpaired surrogate), whose objects name each member once, and
// which nests at most MaxJSONDepth levels. Otherwise it returns a
// *BodyError: BodyEmpty, BodyMalformed (naming the byte offset, in body),
// BodyNotObject, BodyBadText, BodyDuplicate or BodyTooDeep (naming the
// member path).
func CheckObject(body []byte) error {
	v := trimJSONSpace(body)
	switch {
	case len(v) == 0:
		return &BodyError{Reason: BodyEmpty}
	case !json.Valid(v):
		return malformed(body, json.Unmarshal(body, new(json.RawMessage)))
	case v[0] != '{':
		return &BodyError{Reason: BodyNotObject, Got: JSONKind(v)}
	}
	return checkJSON(v)
}

// CheckValue checks a JSON value that does not come in a body (a header
// such as Fynd's X-User-Data) as CheckObject checks bodies, but for being
// an object: valid JSON, valid text, no repeated member, at most
// MaxJSONDepth levels. Refusals are *BodyError.
func CheckValue(v []byte) error {
	v = trimJSONSpace(v)
	if !json.Valid(v) {
		return malformed(v, json.Unmarshal(v, new(json.RawMessage)))
	}
	return checkJSON(v)
}

func malformed(body []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &BodyError{Reason: BodyMalformed, Offset: se.Offset, Syntax: se.Error()}
	}
	return &BodyError{Reason: BodyMalformed, Offset: int64(len(body)), Syntax: "unexpected end of JSON input"}
}

// trimJSONSpace trims the whitespace JSON allows around a value (and no
// other).
func trimJSONSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

// JSONKind names the JSON type of raw for messages: "an object", "an
// array", "a string", "a boolean", "null", "a number", or "nothing" when
// raw is empty.
func JSONKind(raw json.RawMessage) string {
	raw = trimJSONSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// IsNull reports whether a member is absent (raw empty) or JSON null.
func IsNull(raw json.RawMessage) bool {
	raw = trimJSONSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// Text reads a member the way lenient binders (Jackson, .NET) read a string
// field: a JSON string's value, or a JSON number's literal as sent
// (9876543210 becomes "9876543210"); absent or null is "". ok is false for
// booleans, arrays, objects and invalid strings.
func Text(raw json.RawMessage) (s string, ok bool) {
	raw = trimJSONSpace(raw)
	if IsNull(raw) {
		return "", true
	}
	switch c := raw[0]; {
	case c == '"':
		return s, json.Unmarshal(raw, &s) == nil
	case c == '-' || '0' <= c && c <= '9':
		return string(raw), true
	}
	return "", false
}
