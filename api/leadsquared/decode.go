package leadsquared

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"
)

// MaxBodyBytes bounds a request body; a larger one is a 400 (LeadSquared
// documents no 413).
const MaxBodyBytes = web.MaxBodyBytes

// decodeObject reads r's body, a JSON object (web.ReadJSON), into dst (a
// pointer to a struct of json.RawMessage members, matched as encoding/json
// matches names: exactly, else without regard to case — as LeadSquared's
// .NET binder does). Members dst lacks are ignored. Every problem is a 400
// in LeadSquared's words.
func decodeObject(r *http.Request, dst any) error {
	b, err := web.ReadJSON(r, MaxBodyBytes)
	if err != nil {
		return bodyProblem(err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalidInput(fmt.Sprintf("%s has the wrong type: got a JSON %s.", te.Field, te.Value))
		}
		return invalidInput("The request body is not valid JSON.")
	}
	return nil
}

// bodyProblem words the shared reader's refusals as LeadSquared does.
func bodyProblem(err error) error {
	var be *web.BodyError
	if !errors.As(err, &be) {
		return err
	}
	switch be.Reason {
	case web.BodyUnreadable:
		return invalidInput("The request body could not be read.")
	case web.BodyTooLarge:
		return invalidInput(fmt.Sprintf("The request body exceeds %d bytes.", be.Limit))
	case web.BodyEmpty:
		return invalidInput("The request body is empty; send a JSON object with Content-Type application/json.")
	case web.BodyMalformed:
		return invalidInput(fmt.Sprintf("The request body is not valid JSON (%s at byte offset %d).", be.Syntax, be.Offset))
	case web.BodyBadText:
		return invalidInput("Invalid text: " + be.TextDetail() + ".")
	case web.BodyDuplicate:
		return invalidInput(fmt.Sprintf("%s appears more than once; send each field once.", be.Field))
	case web.BodyTooDeep:
		return invalidInput(fmt.Sprintf("The request body nests deeper than %d levels.", web.MaxJSONDepth))
	}
	return invalidInput("The request body must be a JSON object.")
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool { return web.IsNull(raw) }

// text returns raw as text: a JSON string's value, or a JSON number's
// literal (LeadSquared's binder turns 9876543210 into "9876543210"); null
// or absent is "". Booleans, arrays and objects are the wrong type for
// name.
func text(name string, raw json.RawMessage) (string, error) {
	s, ok := web.Text(raw)
	if !ok {
		return "", invalidInput(fmt.Sprintf("%s must be a string, not %s.", name, kindOf(raw)))
	}
	return s, nil
}

// kindOf names the JSON type of raw for messages ("an object", …).
func kindOf(raw json.RawMessage) string { return web.JSONKind(raw) }
