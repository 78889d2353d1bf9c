package leadsquared

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// createTicketRequest is LeadSquared's ticket DTO. Members are raw so that
// null, strings and numbers can be told apart and wrong types reported
// precisely.
type createTicketRequest struct {
	TypeID              json.RawMessage `json:"TypeId"`
	ID                  json.RawMessage `json:"Id"`
	LeadID              json.RawMessage `json:"LeadId"`
	Fields              json.RawMessage `json:"Fields"`
	RelatedTicketTypeID json.RawMessage `json:"RelatedTicketTypeId"`
}

// fieldValue is one element of Fields.
type fieldValue struct {
	SchemaName json.RawMessage `json:"SchemaName"`
	Value      json.RawMessage `json:"Value"`
}

// createTicketResponse is the documented success body, in its order.
type createTicketResponse struct {
	Status           string  `json:"Status"`
	ReasonForFailure *string `json:"ReasonForFailure"`
	ID               string  `json:"Id"`
	Message          *string `json:"Message"`
	TicketID         string  `json:"TicketId"`
	Key              string  `json:"Key"`
}

// System schema names, folded to lower case. Every other SchemaName is a
// custom field.
const (
	schemaTitle        = "title"
	schemaDescription  = "description"
	schemaType         = "type"
	schemaSubType      = "subtype"
	schemaStatus       = "status"
	schemaPriority     = "priority"
	schemaChannel      = "channel"
	schemaCustomerID   = "relatedcustomerid"
	schemaLeadID       = "leadid"
	schemaEmail        = "leaddetail.emailaddress"
	schemaEmailShort   = "emailaddress" // the live documentation's other spelling
	schemaPhone        = "leaddetail.phone"
	schemaFirstName    = "leaddetail.firstname"
	schemaLastName     = "leaddetail.lastname"
	integrationKey     = "leadsquared"
	mandatoryLeadField = "At least one of the lead fields LeadDetail.EmailAddress, LeadId or LeadDetail.Phone is mandatory."
)

// ticketInput is what a request says, sorted by meaning.
type ticketInput struct {
	sys    map[string]string // system schema (folded) -> value
	names  map[string]string // system schema (folded) -> name as sent
	custom map[string]json.RawMessage
	typeID string
	relID  string
}

func (h *Handler) createTicket(w http.ResponseWriter, r *http.Request, c caller) error {
	in, err := parseTicket(r)
	if err != nil {
		return err
	}
	ct, err := h.command(r, c, in)
	if err != nil {
		return err
	}
	res, err := h.d.Tickets.Create(r.Context(), c.tenant.ID, ct, meta(w, r, c, domain.SourceAPI))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, createTicketResponse{Status: "Success",
		ID: strconv.FormatInt(res.Ticket.Number, 10), TicketID: res.Ticket.ID, Key: res.Ticket.Key})
	return nil
}

// parseTicket decodes and checks the shape of a create request.
func parseTicket(r *http.Request) (ticketInput, error) {
	var req createTicketRequest
	if err := decodeObject(r, &req); err != nil {
		return ticketInput{}, err
	}
	in := ticketInput{sys: map[string]string{}, names: map[string]string{}, custom: map[string]json.RawMessage{}}
	var err error
	if in.typeID, err = text("TypeId", req.TypeID); err != nil {
		return in, err
	}
	if in.relID, err = text("RelatedTicketTypeId", req.RelatedTicketTypeID); err != nil {
		return in, err
	}
	if id, err := text("Id", req.ID); err != nil {
		return in, err
	} else if strings.TrimSpace(id) != "" {
		return in, invalidInput("Id must be null when creating a ticket.")
	}
	leadID, err := text("LeadId", req.LeadID)
	if err != nil {
		return in, err
	}
	if !isNull(req.Fields) {
		if b := bytes.TrimSpace(req.Fields); b[0] != '[' {
			return in, invalidInput(fmt.Sprintf("Fields must be an array of {SchemaName, Value} objects, not %s.", kindOf(b)))
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(req.Fields, &elems); err != nil {
			return in, invalidInput("Fields must be an array of {SchemaName, Value} objects.")
		}
		for i, raw := range elems {
			if err := in.add(i, raw); err != nil {
				return in, err
			}
		}
	}
	leadID = strings.TrimSpace(leadID)
	if other := strings.TrimSpace(in.sys[schemaLeadID]); leadID != "" && other != "" && other != leadID {
		return in, invalidInput("LeadId is given twice, with different values.")
	} else if leadID != "" {
		in.sys[schemaLeadID] = leadID
	}
	if in.sys[schemaEmail] == "" && in.sys[schemaLeadID] == "" && in.sys[schemaPhone] == "" {
		return in, mandatoryMissing(mandatoryLeadField)
	}
	if in.sys[schemaTitle] == "" {
		return in, mandatoryMissing("Title is mandatory.")
	}
	return in, nil
}

// add files Fields[i].
func (in *ticketInput) add(i int, raw json.RawMessage) error {
	at := fmt.Sprintf("Fields[%d]", i)
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
		return invalidInput(fmt.Sprintf("%s must be an object with SchemaName and Value.", at))
	}
	var f fieldValue
	if err := json.Unmarshal(raw, &f); err != nil {
		return invalidInput(fmt.Sprintf("%s must be an object with SchemaName and Value.", at))
	}
	if isNull(f.SchemaName) {
		return invalidInput(at + ".SchemaName is mandatory.")
	}
	if b := bytes.TrimSpace(f.SchemaName); b[0] != '"' {
		return invalidInput(fmt.Sprintf("%s.SchemaName must be a string, not %s.", at, kindOf(b)))
	}
	var name string
	if err := json.Unmarshal(f.SchemaName, &name); err != nil {
		return invalidInput(at + ".SchemaName is not a valid string.")
	}
	if name = strings.TrimSpace(name); name == "" {
		return invalidInput(at + ".SchemaName is mandatory.")
	}
	key := strings.ToLower(name)
	if key == schemaEmailShort {
		key = schemaEmail
	}
	switch key {
	case schemaTitle, schemaDescription, schemaType, schemaSubType, schemaStatus, schemaPriority, schemaChannel,
		schemaCustomerID, schemaLeadID, schemaEmail, schemaPhone, schemaFirstName, schemaLastName:
		if prev, dup := in.names[key]; dup {
			return invalidInput(fmt.Sprintf("%s appears more than once in Fields (as %s and %s).", name, prev, name))
		}
		v, err := text(name, f.Value)
		if err != nil {
			return err
		}
		in.names[key], in.sys[key] = name, v
	default:
		if _, dup := in.custom[name]; dup {
			return invalidInput(fmt.Sprintf("%s appears more than once in Fields.", name))
		}
		// Custom values keep their JSON type; null means "not given".
		if isNull(f.Value) {
			in.custom[name] = nil
		} else {
			in.custom[name] = f.Value
		}
	}
	return nil
}

// command turns the input into CreateTicket, resolving Status and Type
// against the tenant's configuration.
func (h *Handler) command(r *http.Request, c caller, in ticketInput) (ticket.CreateTicket, error) {
	ct := ticket.CreateTicket{
		Title:       in.sys[schemaTitle],
		Description: in.sys[schemaDescription],
		Channel:     in.sys[schemaChannel],
		References: ticket.References{
			LeadID:       in.sys[schemaLeadID],
			CustomerID:   in.sys[schemaCustomerID],
			ContactEmail: in.sys[schemaEmail],
			ContactPhone: in.sys[schemaPhone],
			ContactName:  strings.TrimSpace(strings.TrimSpace(in.sys[schemaFirstName]) + " " + strings.TrimSpace(in.sys[schemaLastName])),
		},
	}
	if email := strings.TrimSpace(ct.References.ContactEmail); email != "" && !domain.ValidEmail(email) {
		return ct, invalidInput(fmt.Sprintf("%s %q is not a valid e-mail address.", in.names[schemaEmail], email))
	}
	if p := strings.TrimSpace(in.sys[schemaPriority]); p != "" {
		pr, err := ticket.ParsePriority(p)
		if err != nil {
			return ct, invalidInput(fmt.Sprintf("Priority %q is not one of Low, Medium, High, Urgent.", p))
		}
		ct.Priority = pr
	}
	custom := map[string]json.RawMessage{}
	for k, v := range in.custom {
		if v != nil {
			custom[k] = v
		}
	}
	status, typ, sub := strings.TrimSpace(in.sys[schemaStatus]), strings.TrimSpace(in.sys[schemaType]), strings.TrimSpace(in.sys[schemaSubType])
	if status != "" || typ != "" || sub != "" {
		cfg, _, err := h.d.Tickets.Config(r.Context(), c.tenant.ID)
		if err != nil {
			return ct, err
		}
		if status != "" {
			st, ok := matchStatus(cfg, status)
			if !ok {
				return ct, invalidInput(fmt.Sprintf("Status %q is not configured; allowed: %s.", status, statusNames(cfg)))
			}
			ct.Status = st
		}
		cat, catOK := matchCategory(cfg, typ)
		if catOK {
			ct.Category = cat.Key
		} else if typ != "" {
			custom[in.names[schemaType]] = jsonString(in.sys[schemaType])
		}
		if subKey, ok := matchSubCategory(cat, sub); catOK && ok {
			ct.SubCategory = subKey
		} else if sub != "" {
			custom[in.names[schemaSubType]] = jsonString(in.sys[schemaSubType])
		}
	}
	if len(custom) > 0 {
		ct.Custom = custom
	}
	if in.typeID != "" || in.relID != "" {
		ct.Integration = map[string]json.RawMessage{integrationKey: mustJSON(map[string]string{
			"TypeId": in.typeID, "RelatedTicketTypeId": in.relID,
		})}
	}
	return ct, nil
}

// statusKey is how a LeadSquared status name ("In Progress") reads as a
// configured key ("in_progress").
func statusKey(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), "_")
}

// matchStatus finds the configured status a LeadSquared value names: by
// display ("In Progress"), else by key after lower-casing and turning
// spaces into underscores.
func matchStatus(cfg ticket.Config, v string) (string, bool) {
	for _, s := range cfg.Statuses {
		if strings.EqualFold(s.Display, v) {
			return s.Key, true
		}
	}
	k := statusKey(v)
	for _, s := range cfg.Statuses {
		if s.Key == k {
			return s.Key, true
		}
	}
	return "", false
}

func statusNames(cfg ticket.Config) string {
	names := make([]string, len(cfg.Statuses))
	for i, s := range cfg.Statuses {
		names[i] = s.Display
	}
	return strings.Join(names, ", ")
}

// matchCategory finds the configured category a LeadSquared Type names, as
// matchStatus does.
func matchCategory(cfg ticket.Config, v string) (ticket.Category, bool) {
	if v == "" {
		return ticket.Category{}, false
	}
	for _, c := range cfg.Categories {
		if strings.EqualFold(c.Display, v) {
			return c, true
		}
	}
	k := statusKey(v)
	for _, c := range cfg.Categories {
		if c.Key == k {
			return c, true
		}
	}
	return ticket.Category{}, false
}

func matchSubCategory(c ticket.Category, v string) (string, bool) {
	if v == "" {
		return "", false
	}
	k := statusKey(v)
	for _, s := range c.SubCategories {
		if strings.EqualFold(s.Display, v) || s.Key == k {
			return s.Key, true
		}
	}
	return "", false
}

func jsonString(s string) json.RawMessage { return mustJSON(s) }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and maps of strings always marshal
	}
	return b
}
