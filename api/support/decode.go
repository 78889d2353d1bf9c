package support

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxBodyBytes bounds a JSON request body; a larger one is a 413.
const MaxBodyBytes = 1 << 20

// body is a JSON object's members by exact name (Jackson's default: names
// are case-sensitive, unknown members are ignored, a repeated member's last
// value wins).
type body map[string]json.RawMessage

const msgMalformed = "Malformed JSON request"

// decodeObject reads r's body, a JSON object. An empty body is an empty
// object when allowEmpty, else a 400.
func decodeObject(r *http.Request, allowEmpty bool) (body, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, badRequest(msgMalformed, "the request body could not be read")
	}
	if len(b) > MaxBodyBytes {
		return nil, &failure{status: http.StatusRequestEntityTooLarge, msg: "Request body is too large",
			detail: fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes)}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		if allowEmpty {
			return body{}, nil
		}
		return nil, badRequest("Required request body is missing", "send a JSON object with Content-Type: application/json")
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, badRequest(msgMalformed, fmt.Sprintf("%s at byte offset %d", se.Error(), se.Offset))
		}
		return nil, badRequest(msgMalformed, "unexpected end of JSON input")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, badRequest(msgMalformed, "the request body must be a JSON object")
	}
	var m body
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, badRequest(msgMalformed, "the request body must be a JSON object")
	}
	return m, nil
}

func wrongType(name, want string) error {
	return badRequest("Invalid request body", fmt.Sprintf("%s must be %s", name, want))
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// text returns member name as text: a JSON string's value, or a JSON
// number's literal (as Jackson coerces 919916248135 into a String field);
// absent or null is "". Booleans, arrays and objects are a 400.
func (b body) text(name string) (string, error) {
	raw := bytes.TrimSpace(b[name])
	if isNull(raw) {
		return "", nil
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", wrongType(name, "a string")
		}
		return s, nil
	case c == '-' || '0' <= c && c <= '9':
		return string(raw), nil
	}
	return "", wrongType(name, "a string")
}

// strings returns member name, an array of strings; absent or null is
// nil. A lone string (not in an array), or an element that is not a
// string, is a 400.
func (b body) strings(name string) ([]string, error) {
	raw := bytes.TrimSpace(b[name])
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, wrongType(name, "an array of strings")
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, wrongType(name, "an array of strings")
	}
	var elems []json.RawMessage
	_ = json.Unmarshal(raw, &elems)
	for i, e := range elems {
		if isNull(e) {
			return nil, wrongType(fmt.Sprintf("%s[%d]", name, i), "a string")
		}
	}
	return out, nil
}
