package listener

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// contactTypeLead reads contactType: "lead", or "customer" / absent.
func contactTypeLead(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lead":
		return true, nil
	case "", "customer":
		return false, nil
	}
	return false, actionErr("invalid_field", fmt.Sprintf("contactType %q is not lead or customer", s), "contactType")
}

// checkCode refuses a customerId whose prefix contradicts contactType: a
// lead's LID-… needs contactType lead, and contactType lead needs LID-….
func checkCode(code string, lead bool) error {
	if code == "" {
		return nil
	}
	c, ok := customer.ParseCode(code)
	switch {
	case !ok:
		return actionErr("invalid_field", fmt.Sprintf("customerId %q is not a customer code (PID-…, CID-… or LID-…)", code), "customerId")
	case strings.HasPrefix(c, "LID-") && !lead:
		return actionErr("invalid_field", fmt.Sprintf(`customerId %s names a lead: add "contactType": "lead"`, c), "customerId", "contactType")
	case !strings.HasPrefix(c, "LID-") && lead:
		return actionErr("invalid_field", fmt.Sprintf(`customerId %s is not a lead's code (LID-…) but contactType is "lead"`, c), "customerId", "contactType")
	}
	return nil
}

// addNote adds a note to a customer (model "contact", the default; found
// by customerId → passport → email → phone) or to a deal (model "deal";
// found by dealId → name).
func addNote(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
	var in noteIn
	if err := decodeData(data, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Body) == "" {
		return actionErr("invalid_field", "body is required", "body")
	}
	permit, err := d.permit(ctx, in.Permit)
	if err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(in.Model)) {
	case "", "contact":
		lead, err := contactTypeLead(in.ContactType)
		if err != nil {
			return err
		}
		if err := checkCode(in.CustomerID.String(), lead); err != nil {
			return err
		}
		if in.CustomerID.String() == "" && in.Passport.String() == "" && strings.TrimSpace(in.Email) == "" && in.Phone.String() == "" {
			return actionErr("identity_required", "one of customerId, passport, email or phone is required to find the contact",
				"customerId", "passport", "email", "phone")
		}
		c, ok, tried, err := first([]lookup{
			d.byCode(ctx, "customerId", in.CustomerID.String()),
			d.byIdentity(ctx, "passport", one(customer.ByPassport, in.Passport.String())...),
			d.byIdentity(ctx, "email", one(customer.ByEmail, in.Email)...),
			d.byIdentity(ctx, "phone", one(customer.ByPhone, in.Phone.String())...),
		})
		if err != nil {
			return err
		}
		if !ok {
			return actionErr("customer_not_found", "no customer found by "+strings.Join(tried, ", "))
		}
		if lead != (c.Kind == customer.Lead) && in.CustomerID.String() == "" {
			return actionErr("kind_mismatch", fmt.Sprintf("%s is a %s; contactType says %s", c.Code, c.Kind,
				map[bool]string{true: "lead", false: "customer"}[lead]), "contactType")
		}
		note, r, err := d.h.Customers.AddNote(ctx, d.tenant, c.ID, app.NoteInput{Body: in.Body, Permit: permit, Tag: in.Tag,
			Channel: in.Channel}, d.meta("note"))
		if err != nil {
			return err
		}
		d.wrote(r.Position)
		res.ID, res.Code, res.Status = note.NoteID, r.Customer.Code, StatusCreated
		return nil
	case "deal":
		dl, ok, tried, err := d.findDeal(ctx, in.DealID.String(), in.Name)
		if err != nil {
			return err
		}
		if !ok {
			if len(tried) == 0 {
				return actionErr("identity_required", "one of dealId or name is required to find the deal", "dealId", "name")
			}
			return actionErr("deal_not_found", "no deal found by "+strings.Join(tried, ", "))
		}
		note, _, pos, err := d.h.Deals.AddNote(ctx, d.tenant, dl.ID, deal.AddNote{Body: in.Body, Permit: permit, Tag: in.Tag,
			Channel: in.Channel}, d.meta("note"))
		if err != nil {
			return err
		}
		d.wrote(pos)
		res.ID, res.Code, res.Status = note.ID, dl.ExternalID, StatusCreated
		return nil
	}
	return actionErr("invalid_field", fmt.Sprintf("model %q is not contact or deal", in.Model), "model")
}

// findDeal finds a deal by its external id (dealId), else by its name (one
// deal of that name, case-insensitively).
func (d *delivery) findDeal(ctx context.Context, ext, name string) (deal.Snapshot, bool, []string, error) {
	var tried []string
	if ext != "" {
		dl, err := d.h.Deals.ByExternalID(ctx, d.tenant, ext)
		if err == nil {
			return dl, true, nil, nil
		}
		if !errors.Is(err, deal.ErrNotFound) {
			return dl, false, nil, err
		}
		tried = append(tried, "dealId "+strconv.Quote(ext))
	}
	if name = strings.TrimSpace(name); name != "" {
		list, err := d.h.Deals.List(ctx, d.tenant)
		if err != nil {
			return deal.Snapshot{}, false, nil, err
		}
		var found []deal.Snapshot
		for _, dl := range list {
			if strings.EqualFold(strings.TrimSpace(dl.Name), name) {
				found = append(found, dl)
			}
		}
		if len(found) == 1 {
			return found[0], true, nil, nil
		}
		tried = append(tried, "name "+strconv.Quote(name))
	}
	return deal.Snapshot{}, false, tried, nil
}

// party finds or creates a deal's customer or contact (dealWith,
// contacts[i]): by customerId → contactId → passport → e-mails → phones;
// not found, created as a lead (contactType lead) or as a contact or an
// account (type), with the listener's rules for new customers.
func (d *delivery) party(ctx context.Context, in contactIn, member string) (created, error) {
	lead, err := contactTypeLead(in.ContactType)
	if err != nil {
		return created{}, withField(err, member)
	}
	if err := checkCode(in.CustomerID.String(), lead); err != nil {
		return created{}, withField(err, member)
	}
	c, ok, _, err := first([]lookup{
		d.byCode(ctx, member+".customerId", in.CustomerID.String()),
		d.byIdentity(ctx, member+".contactId", one(customer.ByContactID, in.ContactID.String())...),
		d.byIdentity(ctx, member+".passport", one(customer.ByPassport, in.Passport.String())...),
		d.byIdentity(ctx, member+".emails", emailIDs(in.Emails)...),
		d.byIdentity(ctx, member+".phones", phoneIDs(in.Phones)...),
	})
	if err != nil || ok {
		return created{res: app.CustomerResult{Customer: c}}, err
	}
	kind := customer.Lead
	if !lead {
		if kind, err = contactKind(in.Type); err != nil {
			return created{}, withField(err, member)
		}
	}
	if strings.TrimSpace(in.Name) == "" {
		return created{}, actionErr("invalid_field", member+".name is required to create the customer: none matches its customerId, passport, e-mails or phones", member+".name")
	}
	p, warnings, err := d.profile(ctx, in, kind)
	if err != nil {
		return created{}, withField(err, member)
	}
	if _, err := customer.Normalize(p); err != nil {
		return created{}, prefixed(err, member)
	}
	c2, err := d.create(ctx, kind, p, member)
	if err != nil {
		return created{}, prefixed(err, member)
	}
	c2.warnings = append(warnings, c2.warnings...)
	return c2, nil
}

// addDeal adds or updates a deal: found by dealId, else by name; when
// created, stage and dealWith are required.
func addDeal(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
	var in dealIn
	if err := decodeData(data, &in); err != nil {
		return err
	}
	existing, found, _, err := d.findDeal(ctx, in.DealID.String(), in.Name)
	if err != nil {
		return err
	}
	if !found {
		var missing []string
		if strings.TrimSpace(in.Name) == "" {
			missing = append(missing, "name")
		}
		if strings.TrimSpace(in.Stage) == "" {
			missing = append(missing, "stage")
		}
		if in.DealWith == nil {
			missing = append(missing, "dealWith")
		}
		if len(missing) > 0 {
			return actionErr("invalid_field", "no deal matches; to create one, "+strings.Join(missing, ", ")+" required", missing...)
		}
	}
	value, err := exactValue(in.Value)
	if err != nil {
		return err
	}
	closeDate, err := closeDateOf(in.CloseDate)
	if err != nil {
		return err
	}
	if in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency)); in.Currency != "" && !crmconfig.ValidCurrency(in.Currency) {
		return actionErr("invalid_field", fmt.Sprintf("currency %q is not an ISO 4217 code", in.Currency), "currency")
	}
	var owners *deal.Owners
	if in.Owners != nil {
		owners = &deal.Owners{Agents: []string{}, Groups: []string{}}
		for i, u := range in.Owners.Users {
			a, err := d.agentByEmail(ctx, u)
			if err != nil {
				return withField(err, "owner_opportunity.users["+strconv.Itoa(i)+"]")
			}
			owners.Agents = append(owners.Agents, a.ID)
		}
		for i, name := range in.Owners.Groups {
			g, err := d.groupNamed(ctx, name)
			if err != nil {
				return withField(err, "owner_opportunity.groups["+strconv.Itoa(i)+"]")
			}
			owners.Groups = append(owners.Groups, g.ID)
		}
	}
	var permit *domain.Permit
	if in.Permit != nil {
		p, err := d.permit(ctx, in.Permit)
		if err != nil {
			return err
		}
		permit = &p
	}
	custom, warnings, err := d.custom(ctx, crmconfig.EntityDeal, in.CusFields)
	if err != nil {
		return err
	}
	res.Warnings = append(res.Warnings, warnings...)
	var with string
	if in.DealWith != nil {
		c, err := d.party(ctx, *in.DealWith, "dealWith")
		if err != nil {
			return err
		}
		res.Warnings = append(res.Warnings, c.warnings...)
		with = c.res.Customer.ID
	}
	var contacts []string
	for i, ci := range in.Contacts {
		c, err := d.party(ctx, ci, "contacts["+strconv.Itoa(i)+"]")
		if err != nil {
			return err
		}
		res.Warnings = append(res.Warnings, c.warnings...)
		contacts = append(contacts, c.res.Customer.ID)
	}
	if !found {
		det := deal.Details{ExternalID: in.DealID.String(), Name: in.Name, Value: value, Currency: in.Currency, Description: in.Description,
			Stage: in.Stage, CloseDate: closeDate, Category: in.Category, Package: in.Package, Customer: with, Contacts: contacts, Custom: custom}
		if det.Contacts == nil {
			det.Contacts = []string{}
		}
		if owners != nil {
			det.Owners = *owners
		}
		if permit != nil {
			det.Permit = *permit
		}
		dl, pos, err := d.h.Deals.Create(ctx, d.tenant, deal.CreateDeal{Details: det}, d.meta("deal"))
		if err != nil {
			return err
		}
		d.wrote(pos)
		res.ID, res.Code, res.Status = dl.ID, dl.ExternalID, StatusCreated
		return nil
	}
	u := deal.UpdateDeal{Owners: owners, Permit: permit, Custom: custom}
	str := func(v string) *string {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		return &v
	}
	u.Name, u.Value, u.Currency, u.Description = str(in.Name), str(value), str(in.Currency), str(in.Description)
	u.CloseDate, u.Category, u.Package, u.Customer, u.Stage = str(closeDate), str(in.Category), str(in.Package), str(with), str(in.Stage)
	if in.Contacts != nil {
		u.Contacts = &contacts
	}
	dl, pos, err := d.h.Deals.Update(ctx, d.tenant, existing.ID, u, d.meta("deal"))
	if err != nil {
		return err
	}
	d.wrote(pos)
	res.ID, res.Code, res.Status = dl.ID, dl.ExternalID, StatusUpdated
	return nil
}

// exactValue reads a deal's value as written: a JSON number's digits or a
// string, never through a float.
func exactValue(raw json.RawMessage) (string, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	}
	if s[0] == '-' || s[0] >= '0' && s[0] <= '9' {
		return s, nil
	}
	return "", actionErr("invalid_field", "value must be a number or a string holding one", "value")
}

// closeDateOf reads closeDate: epoch milliseconds (a number or digits),
// or any date domain.ParseDate reads.
func closeDateOf(raw json.RawMessage) (string, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s == `""` {
		return "", nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
	}
	t, dateOnly, err := domain.ParseDate(s)
	if err != nil {
		return "", actionErr("invalid_field", "closeDate: "+err.Error(), "closeDate")
	}
	if dateOnly {
		return t.Format(time.DateOnly), nil
	}
	return t.Format(time.RFC3339Nano), nil
}

// TicketChannels are the channels of a ticket the document lists ("9
// channels" of which it names 8; its own sample uses the ninth, "Contact
// Form").
var TicketChannels = []string{"Email", "Phone", "Web Contact Form", "Contact Form", "Kite Call", "Kite Chat", "Kite Viber", "Kite Facebook", "Kite Skype"}

// addTicket opens a ticket (source webhook) for the customer found by
// customerId → contactId → passport → email → phone, or created as a lead
// (contactType lead) or contact when none matches. The ticket carries the
// customer's code as its customer reference, so the ticket linker links it
// to exactly that customer (ticket.customer_linked, customer.ticket_linked)
// as it links every surface's tickets. groupName must be a group; the
// group and slaName are kept in the ticket's integration data ("group",
// "sla_name"): tickets have no group assignee nor SLA policies yet.
func addTicket(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
	var in ticketIn
	if err := decodeData(data, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Body) == "" {
		return actionErr("invalid_field", "body is required", "body")
	}
	channel := ""
	if c := strings.TrimSpace(in.Channel); c != "" {
		for _, x := range TicketChannels {
			if strings.EqualFold(x, c) {
				channel = x
			}
		}
		if channel == "" {
			return actionErr("invalid_field", fmt.Sprintf("channel %q is not one of %s", in.Channel, strings.Join(TicketChannels, ", ")), "channel")
		}
	}
	integration := map[string]json.RawMessage{}
	if strings.TrimSpace(in.GroupName) != "" {
		g, err := d.groupNamed(ctx, in.GroupName)
		if err != nil {
			return withField(err, "groupName")
		}
		integration["group"], _ = json.Marshal(map[string]string{"id": g.ID, "name": g.Name})
	}
	if s := strings.TrimSpace(in.SLAName); s != "" {
		integration["sla_name"], _ = json.Marshal(s)
	}
	if s := in.DealID.String(); s != "" {
		integration["deal_id"], _ = json.Marshal(s)
	}
	if len(in.CusFields) > 0 {
		for _, f := range in.CusFields {
			res.Warnings = append(res.Warnings, "unknown custom field "+strconv.Quote(f.Name)+" ignored: tickets have no custom fields in the CRM configuration")
		}
	}
	name := strings.TrimSpace(in.Name)
	if name == "" && strings.TrimSpace(in.Email) != "" {
		name = localPart(in.Email)
	}
	if name == "" {
		name = in.Phone.String()
	}
	if in.CustomerID.String() == "" && in.ContactID.String() == "" && in.Passport.String() == "" && strings.TrimSpace(in.Email) == "" && in.Phone.String() == "" {
		return actionErr("identity_required", "one of customerId, contactId, passport, email or phone is required to find or create the customer",
			"customerId", "contactId", "passport", "email", "phone")
	}
	ci := contactIn{ContactType: in.ContactType, Name: name, Passport: in.Passport, CustomerID: in.CustomerID, ContactID: in.ContactID}
	if e := strings.TrimSpace(in.Email); e != "" {
		ci.Emails = []typedValue{{Value: text(e)}}
	}
	if p := in.Phone.String(); p != "" {
		ci.Phones = []typedValue{{Value: text(p)}}
	}
	c, err := d.party(ctx, ci, "customer")
	if err != nil {
		return err
	}
	res.Warnings = append(res.Warnings, c.warnings...)
	cust := c.res.Customer
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = firstLine(in.Body, 120)
	}
	t := ticket.CreateTicket{Title: title, Description: in.Body, Channel: channel, Tags: splitTags(in.Tag),
		References: ticket.References{CustomerID: cust.Code, ContactName: strings.TrimSpace(cust.Profile.Name + " " + cust.Profile.LastName),
			ContactEmail: strings.TrimSpace(in.Email), ContactPhone: in.Phone.String()}}
	if len(integration) > 0 {
		t.Integration = integration
	}
	r, err := d.h.Tickets.Create(ctx, d.tenant, t, d.meta("ticket"))
	if err != nil {
		return err
	}
	d.wrote(r.Position)
	res.ID, res.Code, res.Status = r.Ticket.ID, "#"+strconv.FormatInt(r.Ticket.Number, 10), StatusCreated
	return nil
}

// firstLine is s's first line, cut to at most max characters.
func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return strings.TrimSpace(s)
}

// sendSMS requests one SMS per phone through the outbox. A tenant without
// an SMS provider whose trial is used up fails with a clear reason; the
// messages requested before that are listed.
func sendSMS(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
	var in smsIn
	if err := decodeData(data, &in); err != nil {
		return err
	}
	var missing []string
	if strings.TrimSpace(in.Content) == "" {
		missing = append(missing, "content")
	}
	var phones []string
	for _, p := range in.Phones {
		if s := p.String(); s != "" {
			phones = append(phones, s)
		}
	}
	if len(phones) == 0 {
		missing = append(missing, "phones")
	}
	if len(missing) > 0 {
		return actionErr("invalid_field", strings.Join(missing, " and ")+" required", missing...)
	}
	for i, p := range phones {
		id, err := d.h.Outbox.RequestSMS(ctx, d.tenant, app.SMSMessage{To: p, Body: in.Content}, d.meta("sms/"+strconv.Itoa(i)))
		if err != nil {
			c := web.Classify(err)
			return &actionError{code: c.Code, msg: fmt.Sprintf("phones[%d] %s: %s", i, p, c.Message), fields: []string{"phones[" + strconv.Itoa(i) + "]"}}
		}
		res.Messages = append(res.Messages, id)
	}
	res.Status = StatusCreated
	return nil
}
