package fynd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
)

// MaxBodyBytes bounds a request body; a larger one is 413.
const MaxBodyBytes = web.MaxBodyBytes

// readObject reads r's body, which must be one JSON object, and returns
// its members (web.ReadObject, whose refusals Fynd answers in the shared
// wording: 400, or 413 for a body over MaxBodyBytes). Members are matched
// exactly (Fynd's names are snake_case and case-sensitive); members the
// operation does not know are ignored, so that clients of newer or older
// SDK versions keep working.
func readObject(r *http.Request) (object, error) {
	m, err := web.ReadObject(r, MaxBodyBytes)
	if err != nil {
		return object{}, err
	}
	return object{path: "", m: m, problems: &[]string{}}, nil
}

// object reads the members of one JSON object and collects every problem
// with them, so that one answer lists them all.
type object struct {
	path     string // "" for the body, "content." for a member object
	m        map[string]json.RawMessage
	problems *[]string
}

func (o object) name(member string) string { return o.path + member }

func (o object) addf(format string, args ...any) {
	*o.problems = append(*o.problems, fmt.Sprintf(format, args...))
}

// err returns every problem found, as one 400, or nil.
func (o object) err() error {
	if len(*o.problems) == 0 {
		return nil
	}
	return badRequest(strings.Join(*o.problems, "; "))
}

// raw returns the member's JSON, or nil when it is absent or null.
func (o object) raw(member string) json.RawMessage {
	v := bytes.TrimSpace(o.m[member])
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return v
}

// str returns a string member ("" when absent or null). A required one
// must be a non-blank string.
func (o object) str(member string, required bool) string {
	v := o.raw(member)
	if v == nil {
		if required {
			o.addf("%s is required", o.name(member))
		}
		return ""
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		o.addf("%s must be a string, not %s", o.name(member), jsonKind(v))
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		o.addf("%s is required", o.name(member))
	}
	return s
}

// obj returns a member object (ok false when absent, null or not an
// object; the last is a problem, and so is absence when required).
func (o object) obj(member string, required bool) (object, bool) {
	v := o.raw(member)
	if v == nil {
		if required {
			o.addf("%s is required", o.name(member))
		}
		return object{}, false
	}
	var m map[string]json.RawMessage
	if v[0] != '{' || json.Unmarshal(v, &m) != nil {
		o.addf("%s must be an object, not %s", o.name(member), jsonKind(v))
		return object{}, false
	}
	return object{path: o.name(member) + ".", m: m, problems: o.problems}, true
}

// array returns the items of a member array (nil when absent or null).
func (o object) array(member string, required bool) []json.RawMessage {
	v := o.raw(member)
	if v == nil {
		if required {
			o.addf("%s is required", o.name(member))
		}
		return nil
	}
	var items []json.RawMessage
	if v[0] != '[' || json.Unmarshal(v, &items) != nil {
		o.addf("%s must be an array, not %s", o.name(member), jsonKind(v))
		return nil
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return items
}

// item returns array item i of member as an object.
func (o object) item(member string, i int, raw json.RawMessage) (object, bool) {
	name := fmt.Sprintf("%s[%d]", o.name(member), i)
	raw = bytes.TrimSpace(raw)
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		o.addf("%s must be an object, not %s", name, jsonKind(raw))
		return object{}, false
	}
	return object{path: name + ".", m: m, problems: o.problems}, true
}

// strings returns a member array of strings.
func (o object) strings(member string) []string {
	items := o.array(member, false)
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		var s string
		if it = bytes.TrimSpace(it); len(it) == 0 || it[0] != '"' || json.Unmarshal(it, &s) != nil {
			o.addf("%s[%d] must be a string, not %s", o.name(member), i, jsonKind(it))
			continue
		}
		out = append(out, s)
	}
	return out
}

// oneOf returns a string member that must be one of allowed ("" when
// absent or null).
func (o object) oneOf(member string, required bool, allowed []string) string {
	n := len(*o.problems)
	s := o.str(member, required)
	if len(*o.problems) > n || s == "" && !required {
		return s
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	o.addf("%s %q is not one of %s", o.name(member), s, strings.Join(allowed, ", "))
	return ""
}

// jsonKind names the JSON type of v for messages ("an array", "null", …).
func jsonKind(v json.RawMessage) string { return web.JSONKind(v) }

// parseUser reads a user as Fynd clients send one (in created_by or
// X-User-Data): a string (the user id), or an object with the id in "id",
// "_id" or "user_id", the name in "name" or "first_name"/"last_name", the
// e-mail in "email" or "emails" (the primary one, else the first), any of
// which may instead sit in a nested "user" object (Fynd's created_by is
// {"id": …, "user": {…}}). The user is an actor of kind user.
func parseUser(field string, raw json.RawMessage) (domain.Actor, error) {
	raw = bytes.TrimSpace(raw)
	if err := web.CheckValue(raw); err != nil {
		var be *web.BodyError
		errors.As(err, &be)
		switch be.Reason {
		case web.BodyBadText:
			return domain.Actor{}, badRequest(field + ": " + be.TextDetail())
		case web.BodyDuplicate:
			return domain.Actor{}, badRequest(fmt.Sprintf("%s: %s appears more than once", field, be.Field))
		case web.BodyTooDeep:
			return domain.Actor{}, badRequest(fmt.Sprintf("%s nests deeper than %d levels", field, web.MaxJSONDepth))
		}
		return domain.Actor{}, badRequest(field + " is not valid JSON")
	}
	a := domain.Actor{Kind: domain.ActorUser}
	if len(raw) > 0 && raw[0] == '"' {
		if json.Unmarshal(raw, &a.ID) != nil {
			return domain.Actor{}, badRequest(field + " is not valid JSON")
		}
		a.ID = strings.TrimSpace(a.ID)
	} else {
		var u userIn
		if len(raw) == 0 || raw[0] != '{' {
			if !json.Valid(raw) {
				return domain.Actor{}, badRequest(field + " is not valid JSON")
			}
			return domain.Actor{}, badRequest(field + " must be an object (or a user id string), not " + jsonKind(raw))
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return domain.Actor{}, badRequest(field + ": " + typeProblem(err))
		}
		a.ID, a.Name, a.Email = u.resolve()
	}
	if a.ID == "" && a.Email == "" {
		return domain.Actor{}, badRequest(field + " must name the user: an id (id, _id or user_id) or an e-mail")
	}
	if err := a.Validate(field); err != nil {
		return domain.Actor{}, err
	}
	return a, nil
}

// userIn is every spelling of a user that parseUser reads.
type userIn struct {
	ID        string    `json:"id"`
	MongoID   string    `json:"_id"`
	UserID    string    `json:"user_id"`
	Name      string    `json:"name"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	Email     string    `json:"email"`
	Emails    []emailIn `json:"emails"`
	User      *userIn   `json:"user"`
}

type emailIn struct {
	Email   string `json:"email"`
	Primary bool   `json:"primary"`
}

func (u userIn) resolve() (id, name, email string) {
	id = first(u.ID, u.MongoID, u.UserID)
	name = strings.TrimSpace(u.Name)
	if name == "" {
		name = strings.TrimSpace(strings.TrimSpace(u.FirstName) + " " + strings.TrimSpace(u.LastName))
	}
	email = strings.TrimSpace(u.Email)
	if email == "" {
		for _, e := range u.Emails {
			if email == "" || e.Primary {
				email = strings.TrimSpace(e.Email)
			}
			if e.Primary {
				break
			}
		}
	}
	if u.User != nil {
		nid, nname, nemail := u.User.resolve()
		id, name, email = first(id, nid), first(name, nname), first(email, nemail)
	}
	return strings.TrimSpace(id), name, email
}

func first(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// typeProblem describes a decoding error of a user object.
func typeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be %s, not %s", te.Field, goJSONType(te.Type.Kind().String()), te.Value)
	}
	return "is not a user object" // never the decoder's text, which names Go types
}

func goJSONType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	case "struct", "ptr", "map":
		return "an object"
	}
	return kind
}
