package listener

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/eventdesk/eventdesk/domain/customer"
)

// The action payloads of seed 004, read as the document writes them.
// Values the document shows both as strings and as numbers (passport,
// contactId, dealId, zip, phone numbers) are read from either; nothing
// else is coerced.

// text is a string read from a JSON string or number; null is empty.
type text string

// UnmarshalJSON reads a string, a number (its digits as written) or null.
func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*t = text(b)
	default:
		return fmt.Errorf("must be a string")
	}
	return nil
}

func (t text) String() string { return strings.TrimSpace(string(t)) }

// typedValue is an e-mail or phone: {type, value}.
type typedValue struct {
	Type  string `json:"type"`
	Value text   `json:"value"`
}

// valueList is a list of {value} objects or of strings (websites).
type valueList []string

// UnmarshalJSON reads [{"value": "…"}, …] or ["…", …].
func (v *valueList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("must be an array")
	}
	out := valueList{}
	for _, r := range raw {
		var s text
		if err := json.Unmarshal(r, &s); err == nil {
			if s.String() != "" {
				out = append(out, s.String())
			}
			continue
		}
		var o struct {
			Value text `json:"value"`
		}
		if err := json.Unmarshal(r, &o); err != nil {
			return fmt.Errorf("must hold strings or {\"value\": …} objects")
		}
		if o.Value.String() != "" {
			out = append(out, o.Value.String())
		}
	}
	*v = out
	return nil
}

type addressIn struct {
	Type    string           `json:"type"`
	Street  string           `json:"street"`
	City    string           `json:"city"`
	State   string           `json:"state"`
	Zip     text             `json:"zip"`
	Country customer.Country `json:"country"`
}

type imIn struct {
	Protocol string `json:"protocol"`
	Value    string `json:"value"`
}

type cusField struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// permitIn is seed 004's permit: status 1..4, a group by name, users by
// e-mail.
type permitIn struct {
	Status json.RawMessage `json:"status"`
	Group  string          `json:"group"`
	Users  []string        `json:"users"`
}

// companyIn is a contact's company (companyContact).
type companyIn struct {
	CustomerID text         `json:"customerId"`
	Name       string       `json:"name"`
	Emails     []typedValue `json:"emails"`
	Phones     []typedValue `json:"phones"`
	Websites   valueList    `json:"websites"`
	Addresses  []addressIn  `json:"addresses"`
	IM         []imIn       `json:"im"`
}

// contactIn is the data of add-contact, update-contact, add-lead and
// update-lead, and of add-deal's dealWith and contacts.
type contactIn struct {
	Type           json.RawMessage `json:"type"`
	ContactType    string          `json:"contactType"`
	Name           string          `json:"name"`
	LastName       string          `json:"lastname"`
	Title          string          `json:"title"`
	Passport       text            `json:"passport"`
	Gender         json.RawMessage `json:"gender"`
	BgInfo         string          `json:"bgInfo"`
	DateOfBirth    text            `json:"dateOfBirth"`
	Emails         []typedValue    `json:"emails"`
	Phones         []typedValue    `json:"phones"`
	Addresses      []addressIn     `json:"addresses"`
	Websites       valueList       `json:"websites"`
	IM             []imIn          `json:"im"`
	Tag            string          `json:"tag"`
	CusFields      []cusField      `json:"cusFields"`
	Permit         *permitIn       `json:"permit"`
	CompanyContact *companyIn      `json:"companyContact"`
	CompanyLead    string          `json:"companyLead"`
	CustomerID     text            `json:"customerId"`
	ContactID      text            `json:"contactId"`
	// Channel is read and ignored: customer channels come from the
	// listener's settings only.
	Channel string `json:"channel"`
}

// noteIn is the data of add-note.
type noteIn struct {
	Body        string    `json:"body"`
	Model       string    `json:"model"`
	Email       string    `json:"email"`
	Phone       text      `json:"phone"`
	Passport    text      `json:"passport"`
	Name        string    `json:"name"`
	CustomerID  text      `json:"customerId"`
	ContactType string    `json:"contactType"`
	ContactID   text      `json:"contactId"`
	DealID      text      `json:"dealId"`
	Permit      *permitIn `json:"permit"`
	Tag         string    `json:"tag"`
	Channel     string    `json:"channel"`
}

// ownersIn is add-deal's owner_opportunity.
type ownersIn struct {
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
}

// dealIn is the data of add-deal.
type dealIn struct {
	DealID      text            `json:"dealId"`
	Name        string          `json:"name"`
	Value       json.RawMessage `json:"value"`
	Currency    string          `json:"currency"`
	Description string          `json:"description"`
	Stage       string          `json:"stage"`
	CloseDate   json.RawMessage `json:"closeDate"`
	Category    string          `json:"category"`
	Package     string          `json:"package"`
	Owners      *ownersIn       `json:"owner_opportunity"`
	DealWith    *contactIn      `json:"dealWith"`
	Contacts    []contactIn     `json:"contacts"`
	Permit      *permitIn       `json:"permit"`
	CusFields   []cusField      `json:"cusFields"`
}

// ticketIn is the data of add-ticket.
type ticketIn struct {
	ContactType string     `json:"contactType"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	Email       string     `json:"email"`
	Phone       text       `json:"phone"`
	Passport    text       `json:"passport"`
	Name        string     `json:"name"`
	ContactID   text       `json:"contactId"`
	CustomerID  text       `json:"customerId"`
	DealID      text       `json:"dealId"`
	Tag         string     `json:"tag"`
	GroupName   string     `json:"groupName"`
	SLAName     string     `json:"slaName"`
	Channel     string     `json:"channel"`
	CusFields   []cusField `json:"cusFields"`
}

// smsIn is the data of send-sms.
type smsIn struct {
	Content string `json:"content"`
	Phones  []text `json:"phones"`
}

// decodeData decodes an action's data object into dst, naming the field
// of a value of the wrong type.
func decodeData(raw json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return actionErr("data_required", "data is required: an object", "data")
	}
	if bytes.TrimSpace(raw)[0] != '{' {
		return actionErr("invalid_data", "data must be an object", "data")
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asType(err, &te); ok && te.Field != "" {
			return actionErr("invalid_field", fmt.Sprintf("%s must be %s, not a JSON %s", te.Field, kindName(te.Type.Kind().String()), te.Value), te.Field)
		}
		msg := err.Error()
		if i := strings.Index(msg, "Go struct field "); i >= 0 {
			// "json: cannot unmarshal … into Go struct field contactIn.phones of type …: must be a string"
			rest := msg[i+len("Go struct field "):]
			field, _, _ := strings.Cut(rest, " ")
			if _, f, ok := strings.Cut(field, "."); ok {
				field = f
			}
			reason := msg
			if j := strings.LastIndex(msg, ": "); j >= 0 {
				reason = msg[j+2:]
			}
			return actionErr("invalid_field", field+" "+reason, field)
		}
		return actionErr("invalid_data", "data: "+strings.TrimPrefix(msg, "json: "), "data")
	}
	return nil
}

func kindName(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "float64":
		return "a number"
	}
	return k
}

// intOf reads a JSON number (or a string of digits) as an int; empty, ""
// and null are ok=false with no error.
func intOf(raw json.RawMessage) (n int, ok bool, err error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s == `""` {
		return 0, false, nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, err
		}
		s = strings.TrimSpace(s)
	}
	n, err = strconv.Atoi(s)
	if err != nil {
		return 0, false, fmt.Errorf("%s is not a whole number", strings.TrimSpace(string(raw)))
	}
	return n, true, nil
}
