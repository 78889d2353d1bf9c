package support

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"
)

// MaxBodyBytes bounds a JSON request body; a larger one is a 413.
const MaxBodyBytes = web.MaxBodyBytes

// body is a JSON object's members by exact name (Jackson's default: names
// are case-sensitive, unknown members are ignored; unlike Jackson, a
// repeated member is refused, as on every surface).
type body map[string]json.RawMessage

const msgMalformed = "Malformed JSON request"

// decodeObject reads r's body, a JSON object (web.ReadObject). An empty
// body is an empty object when allowEmpty, else a 400.
func decodeObject(r *http.Request, allowEmpty bool) (body, error) {
	m, err := web.ReadObject(r, MaxBodyBytes)
	var be *web.BodyError
	if !errors.As(err, &be) {
		return m, err
	}
	switch be.Reason {
	case web.BodyEmpty:
		if allowEmpty {
			return body{}, nil
		}
		return nil, badRequest("Required request body is missing", "send a JSON object with Content-Type: application/json")
	case web.BodyTooLarge:
		return nil, problem(http.StatusRequestEntityTooLarge, "body_too_large", "Request body is too large",
			fmt.Sprintf("the request body exceeds %d bytes", be.Limit))
	case web.BodyUnreadable:
		return nil, badRequest(msgMalformed, "the request body could not be read")
	case web.BodyMalformed:
		return nil, badRequest(msgMalformed, fmt.Sprintf("%s at byte offset %d", be.Syntax, be.Offset))
	case web.BodyBadText:
		if be.Field != "" && !be.InName {
			return nil, badRequest("Invalid value for: "+be.Field, be.TextDetail())
		}
		return nil, badRequest("Invalid request body", be.TextDetail())
	case web.BodyDuplicate:
		return nil, badRequest(msgMalformed, fmt.Sprintf("%s appears more than once in its object; send each member once", be.Field))
	case web.BodyTooDeep:
		return nil, badRequest(msgMalformed, fmt.Sprintf("the request body nests deeper than %d levels", web.MaxJSONDepth))
	}
	return nil, badRequest(msgMalformed, "the request body must be a JSON object")
}

func wrongType(name, want string) error {
	return badRequest("Invalid request body", fmt.Sprintf("%s must be %s", name, want))
}

func isNull(raw json.RawMessage) bool { return web.IsNull(raw) }

// text returns member name as text: a JSON string's value, or a JSON
// number's literal (as Jackson coerces 919916248135 into a String field);
// absent or null is "". Booleans, arrays and objects are a 400.
func (b body) text(name string) (string, error) {
	s, ok := web.Text(b[name])
	if !ok {
		return "", wrongType(name, "a string")
	}
	return s, nil
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
