package leadsquared

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxBodyBytes bounds a request body; a larger one is a 400 (LeadSquared
// documents no 413).
const MaxBodyBytes = 1 << 20

// decodeObject reads r's body, a JSON object, into dst (a pointer to a
// struct of json.RawMessage members, matched as encoding/json matches
// names: exactly, else without regard to case — as LeadSquared's .NET
// binder does). Members dst lacks are ignored. Every problem is a 400.
func decodeObject(r *http.Request, dst any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return invalidInput("The request body could not be read.")
	}
	if len(b) > MaxBodyBytes {
		return invalidInput(fmt.Sprintf("The request body exceeds %d bytes.", MaxBodyBytes))
	}
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return invalidInput("The request body is empty; send a JSON object with Content-Type application/json.")
	case b[0] != '{':
		if !json.Valid(b) {
			return malformed(b)
		}
		return invalidInput("The request body must be a JSON object.")
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalidInput(fmt.Sprintf("%s has the wrong type: got a JSON %s.", te.Field, te.Value))
		}
		return malformed(b)
	}
	return nil
}

func malformed(b []byte) error {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalidInput(fmt.Sprintf("The request body is not valid JSON (%s at byte offset %d).", se.Error(), se.Offset))
	}
	return invalidInput("The request body is not valid JSON (unexpected end of input).")
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// text returns raw as text: a JSON string's value, or a JSON number's
// literal (LeadSquared's binder turns 9876543210 into "9876543210"); null
// or absent is "". Booleans, arrays and objects are the wrong type for
// name.
func text(name string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return "", nil
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", invalidInput(fmt.Sprintf("%s is not a valid JSON string.", name))
		}
		return s, nil
	case c == '-' || '0' <= c && c <= '9':
		return string(raw), nil
	}
	return "", invalidInput(fmt.Sprintf("%s must be a string, not %s.", name, kindOf(raw)))
}

func kindOf(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "that value"
}
