package listener

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/eventdesk/eventdesk/domain/customer"
)

// actionFunc runs one action's data and fills res; an error fails it.
type actionFunc func(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error

// actionNames are the action types, in the document's order.
var actionNames = []string{"add-contact", "add-lead", "update-lead", "update-contact", "add-note", "add-deal", "add-ticket", "send-sms"}

var actions map[string]actionFunc

func init() {
	actions = map[string]actionFunc{
		"add-contact": addContact,
		"add-lead":    addLead,
		"update-lead": func(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
			return update(ctx, d, data, res, true)
		},
		"update-contact": func(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
			return update(ctx, d, data, res, false)
		},
		"add-note":   addNote,
		"add-deal":   addDeal,
		"add-ticket": addTicket,
		"send-sms":   sendSMS,
	}
}

// contactKind reads "type": 0 (or absent) a contact, 1 an account.
func contactKind(raw json.RawMessage) (customer.Kind, error) {
	t, ok, err := intOf(raw)
	switch {
	case err != nil || ok && t != 0 && t != 1:
		return "", actionErr("invalid_field", "type must be 0 (a contact) or 1 (an account)", "type")
	case ok && t == 1:
		return customer.Account, nil
	}
	return customer.Contact, nil
}

// addContact creates a contact (type 0) or an account (type 1) — unless
// its passport, an e-mail or a phone (or its contactId) is a customer's
// already: then nothing is created, the submission is recorded on that
// customer's history, and the status is duplicate. A contact's
// companyContact is found (name → e-mails → phones) or created as an
// account, and the contact is attached to it.
func addContact(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
	var in contactIn
	if err := decodeData(data, &in); err != nil {
		return err
	}
	kind, err := contactKind(in.Type)
	if err != nil {
		return err
	}
	return addCustomer(ctx, d, in, kind, res)
}

// addLead is add-contact for leads; companyLead names the lead's account
// (found by name, else created).
func addLead(ctx context.Context, d *delivery, data json.RawMessage, res *Result) error {
	var in contactIn
	if err := decodeData(data, &in); err != nil {
		return err
	}
	if _, err := contactKind(in.Type); err != nil {
		return err
	}
	in.CompanyContact = nil
	if name := strings.TrimSpace(in.CompanyLead); name != "" {
		in.CompanyContact = &companyIn{Name: name}
	}
	return addCustomer(ctx, d, in, customer.Lead, res)
}

func addCustomer(ctx context.Context, d *delivery, in contactIn, kind customer.Kind, res *Result) error {
	p, warnings, err := d.profile(ctx, in, kind)
	if err != nil {
		return err
	}
	// Refuse a bad profile before a company is created for it.
	if _, err := customer.Normalize(p); err != nil {
		return err
	}
	res.Warnings = append(res.Warnings, warnings...)
	if kind == customer.Account && in.CompanyContact != nil {
		res.Warnings = append(res.Warnings, "companyContact ignored: an account belongs to no company")
		in.CompanyContact = nil
	}
	if in.CompanyContact != nil {
		// A duplicate is answered without creating its company.
		ids, err := d.h.Customers.Identify(ctx, d.tenant, p.Identities())
		if err != nil {
			return err
		}
		_, _, found, err := d.h.Customers.Find(ctx, d.tenant, ids)
		if err != nil {
			return err
		}
		if !found {
			co, err := d.company(ctx, in.CompanyContact)
			if err != nil {
				return err
			}
			res.Warnings = append(res.Warnings, co.warnings...)
			p.Account = co.res.Customer.ID
		}
	}
	c, err := d.create(ctx, kind, p, "customer")
	if err != nil {
		return err
	}
	res.Warnings = append(res.Warnings, c.warnings...)
	res.ID, res.Code, res.Status = c.res.Customer.ID, c.res.Customer.Code, StatusCreated
	if c.res.Duplicate {
		res.Status = StatusDuplicate
	}
	return nil
}

// update runs update-contact (lead false) and update-lead: the customer is
// found by customerId → contactId → name → e-mails → phones (→ passport,
// which the document requires as an alternative but leaves out of the
// order), and only the members the payload gives change. Not found is a
// failure, never a create.
func update(ctx context.Context, d *delivery, data json.RawMessage, res *Result, lead bool) error {
	var in contactIn
	if err := decodeData(data, &in); err != nil {
		return err
	}
	if in.CustomerID.String() == "" && in.ContactID.String() == "" && in.Passport.String() == "" &&
		len(emailIDs(in.Emails)) == 0 && len(phoneIDs(in.Phones)) == 0 {
		return actionErr("identity_required", "one of contactId, passport, emails, phones or customerId is required to find the customer",
			"contactId", "passport", "emails", "phones", "customerId")
	}
	kinds := []customer.Kind{customer.Contact, customer.Account}
	if lead {
		kinds = []customer.Kind{customer.Lead}
	}
	c, ok, tried, err := first([]lookup{
		d.byCode(ctx, "customerId", in.CustomerID.String()),
		d.byIdentity(ctx, "contactId", one(customer.ByContactID, in.ContactID.String())...),
		d.byName(ctx, in.Name+" "+in.LastName, kinds...),
		d.byIdentity(ctx, "emails", emailIDs(in.Emails)...),
		d.byIdentity(ctx, "phones", phoneIDs(in.Phones)...),
		d.byIdentity(ctx, "passport", one(customer.ByPassport, in.Passport.String())...),
	})
	if err != nil {
		return err
	}
	what := "contact or account"
	if lead {
		what = "lead"
	}
	if !ok {
		return actionErr("customer_not_found", fmt.Sprintf("no %s found by %s; nothing was created (use add-%s to create one)",
			what, strings.Join(tried, ", "), map[bool]string{true: "lead", false: "contact"}[lead]))
	}
	if !slices.Contains(kinds, c.Kind) {
		return actionErr("kind_mismatch", fmt.Sprintf("%s is a %s, not a %s", c.Code, c.Kind, what))
	}
	if in.Type != nil && !lead {
		if k, err := contactKind(in.Type); err != nil {
			return err
		} else if k != c.Kind {
			return actionErr("kind_mismatch", fmt.Sprintf("%s is a %s; type says %s", c.Code, c.Kind, k), "type")
		}
	}
	p, warnings, err := d.profile(ctx, in, c.Kind)
	if err != nil {
		return err
	}
	res.Warnings = append(res.Warnings, warnings...)
	account := ""
	if lead && strings.TrimSpace(in.CompanyLead) != "" {
		in.CompanyContact = &companyIn{Name: in.CompanyLead}
	}
	if in.CompanyContact != nil && c.Kind != customer.Account {
		co, err := d.company(ctx, in.CompanyContact)
		if err != nil {
			return err
		}
		res.Warnings = append(res.Warnings, co.warnings...)
		account = co.res.Customer.ID
	}
	u, err := d.h.Customers.Update(ctx, d.tenant, c.ID, func(cur customer.Profile) customer.Profile {
		return merge(cur, p, in, account)
	}, d.meta("update"))
	if err != nil {
		return err
	}
	d.wrote(u.Position)
	res.ID, res.Code, res.Status = u.Customer.ID, u.Customer.Code, StatusUpdated
	return nil
}

// merge returns cur with what the update payload gives: text members
// given replace, e-mails, phones, websites, IMs and tags are added,
// addresses given replace, custom values given replace theirs, a permit
// given replaces, the account found for companyContact replaces. The
// channel never changes.
func merge(cur, p customer.Profile, in contactIn, account string) customer.Profile {
	out := cur
	set := func(dst *string, v string) {
		if strings.TrimSpace(v) != "" {
			*dst = v
		}
	}
	set(&out.Name, p.Name)
	set(&out.LastName, p.LastName)
	set(&out.Title, p.Title)
	set(&out.Passport, p.Passport)
	set(&out.Background, p.Background)
	set(&out.DateOfBirth, p.DateOfBirth)
	set(&out.ContactID, p.ContactID)
	set(&out.Account, account)
	if p.Gender != nil {
		out.Gender = p.Gender
	}
	out.Emails = slices.Clone(cur.Emails)
	for _, e := range p.Emails {
		if !slices.ContainsFunc(out.Emails, func(x customer.Email) bool { return strings.EqualFold(x.Value, e.Value) }) {
			out.Emails = append(out.Emails, e)
		}
	}
	out.Phones = slices.Clone(cur.Phones)
	for _, ph := range p.Phones {
		if !slices.ContainsFunc(out.Phones, func(x customer.Phone) bool { return x.Value == ph.Value }) {
			ph.Normalized = ""
			out.Phones = append(out.Phones, ph)
		}
	}
	if len(p.Addresses) > 0 {
		out.Addresses = p.Addresses
	}
	out.Websites = union(cur.Websites, p.Websites)
	out.Tags = union(cur.Tags, p.Tags)
	out.IMs = slices.Clone(cur.IMs)
	for _, im := range p.IMs {
		if !slices.Contains(out.IMs, im) {
			out.IMs = append(out.IMs, im)
		}
	}
	if len(p.Custom) > 0 {
		custom := map[string]json.RawMessage{}
		for k, v := range cur.Custom {
			custom[k] = v
		}
		for k, v := range p.Custom {
			custom[k] = v
		}
		out.Custom = custom
	}
	if in.Permit != nil {
		out.Permit = p.Permit
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
