package listener

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/domain/listener"
	"github.com/eventdesk/eventdesk/projections"
)

// profile turns a contact payload into a profile of kind (no account, no
// channel: the callers decide those), with the warnings of what it
// ignored.
func (d *delivery) profile(ctx context.Context, in contactIn, kind customer.Kind) (customer.Profile, []string, error) {
	p := customer.Profile{Name: in.Name, LastName: in.LastName, Title: in.Title, Passport: in.Passport.String(),
		Background: in.BgInfo, DateOfBirth: in.DateOfBirth.String(), ContactID: in.ContactID.String()}
	var warnings []string
	g, ok, err := intOf(in.Gender)
	switch {
	case err != nil || ok && (g < 0 || g > 2):
		return p, nil, actionErr("invalid_field", "gender must be 0 (male), 1 (female) or 2 (other)", "gender")
	case ok:
		gender := customer.Gender(g)
		p.Gender = &gender
	}
	for _, e := range in.Emails {
		if v := e.Value.String(); v != "" {
			p.Emails = append(p.Emails, customer.Email{Type: e.Type, Value: v})
		}
	}
	for _, ph := range in.Phones {
		if v := ph.Value.String(); v != "" {
			p.Phones = append(p.Phones, customer.Phone{Type: ph.Type, Value: v})
		}
	}
	for _, a := range in.Addresses {
		p.Addresses = append(p.Addresses, customer.Address{Type: a.Type, Street: a.Street, City: a.City, State: a.State,
			Zip: a.Zip.String(), Country: a.Country})
	}
	p.Websites = slices.Clone(in.Websites)
	for _, im := range in.IM {
		if strings.TrimSpace(im.Value) != "" {
			p.IMs = append(p.IMs, customer.IM{Protocol: im.Protocol, Value: im.Value})
		}
	}
	p.Tags = splitTags(in.Tag)
	if p.Custom, warnings, err = d.custom(ctx, crmconfig.Entity(kind), in.CusFields); err != nil {
		return p, nil, err
	}
	if p.Permit, err = d.permit(ctx, in.Permit); err != nil {
		return p, nil, err
	}
	if strings.TrimSpace(in.Channel) != "" {
		warnings = append(warnings, "channel ignored: a customer's channel comes from the listener's settings")
	}
	return p, warnings, nil
}

// splitTags reads seed 004's "tag_1, tag_2".
func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// custom checks cusFields against the tenant's definitions for entity:
// defined names are kept with their type checked (a wrong value fails the
// action, naming the field), undefined ones are dropped with a warning.
func (d *delivery) custom(ctx context.Context, entity crmconfig.Entity, fields []cusField) (map[string]json.RawMessage, []string, error) {
	if len(fields) == 0 {
		return nil, nil, nil
	}
	values := map[string]json.RawMessage{}
	for i, f := range fields {
		name := strings.TrimSpace(f.Name)
		if name == "" {
			return nil, nil, actionErr("invalid_field", fmt.Sprintf("cusFields[%d].name is required", i), fmt.Sprintf("cusFields[%d].name", i))
		}
		values[name] = f.Value
	}
	cfg, _, err := d.h.CRM.Get(ctx, d.tenant)
	if err != nil {
		return nil, nil, err
	}
	out, warnings, err := crmconfig.CheckCustom(cfg.CustomFields, string(entity), values, crmconfig.Warn)
	return out, warnings, err
}

// permit reads seed 004's permit: status 1..4, a group by name, users by
// e-mail, each of the tenant.
func (d *delivery) permit(ctx context.Context, in *permitIn) (domain.Permit, error) {
	if in == nil {
		return domain.Permit{}, nil
	}
	status, ok, err := intOf(in.Status)
	if err != nil || !ok {
		return domain.Permit{}, actionErr("invalid_field", "permit.status must be 1 (everybody), 2 (only me), 3 (me and a group) or 4 (me and users)", "permit.status")
	}
	kind, ok := domain.PermitKindOfStatus(status)
	if !ok {
		return domain.Permit{}, actionErr("invalid_field", fmt.Sprintf("permit.status %d is not 1 (everybody), 2 (only me), 3 (me and a group) or 4 (me and users)", status), "permit.status")
	}
	p := domain.Permit{Kind: kind}
	switch kind {
	case domain.PermitOwnerGroup:
		if strings.TrimSpace(in.Group) == "" {
			return p, actionErr("invalid_field", "permit.group is required with status 3: the name of a group of the tenant", "permit.group")
		}
		g, err := d.groupNamed(ctx, in.Group)
		if err != nil {
			return p, withField(err, "permit.group")
		}
		p.Group = g.ID
	case domain.PermitOwnerAgents:
		if len(in.Users) == 0 {
			return p, actionErr("invalid_field", "permit.users is required with status 4: e-mail addresses of agents of the tenant", "permit.users")
		}
		for i, u := range in.Users {
			a, err := d.agentByEmail(ctx, u)
			if err != nil {
				return p, withField(err, "permit.users["+strconv.Itoa(i)+"]")
			}
			p.Agents = append(p.Agents, a.ID)
		}
	}
	return p, nil
}

// withField puts field on a not-found error of a lookup.
func withField(err error, field string) error {
	var ae *actionError
	if errors.As(err, &ae) {
		return actionErr(ae.code, field+": "+ae.msg, field)
	}
	return err
}

func (d *delivery) groupNamed(ctx context.Context, name string) (group.Snapshot, error) {
	groups, err := d.h.Groups.List(ctx, d.tenant)
	if err != nil {
		return group.Snapshot{}, err
	}
	for _, g := range groups {
		if group.NameKey(g.Name) == group.NameKey(name) {
			return g, nil
		}
	}
	return group.Snapshot{}, actionErr("group_not_found", fmt.Sprintf("no group named %q in this tenant", name))
}

func (d *delivery) agentByEmail(ctx context.Context, email string) (agent.Snapshot, error) {
	a, err := d.h.Agents.ByEmail(ctx, d.tenant, email)
	if errors.Is(err, agent.ErrNotFound) {
		return a, actionErr("agent_not_found", fmt.Sprintf("no agent with e-mail %q in this tenant", email))
	}
	return a, err
}

// created is a customer an action created or found.
type created struct {
	res      app.CustomerResult
	warnings []string
}

// create creates a customer of kind with the listener's rules for new
// customers: the channel of its kind from the settings, the default tag
// unless the payload has its own, and the automatic e-mail and SMS. A
// duplicate (an identity already held) creates nothing and gets none of
// them: Customers.Create records the submission on the existing customer.
func (d *delivery) create(ctx context.Context, kind customer.Kind, p customer.Profile, step string) (created, error) {
	if len(p.Tags) == 0 && d.l.Settings.DefaultTag != "" {
		p.Tags = []string{d.l.Settings.DefaultTag}
	}
	p.Channel = d.l.Settings.ContactChannel
	if kind == customer.Lead {
		p.Channel = d.l.Settings.LeadChannel
	}
	res, err := d.h.Customers.Create(ctx, d.tenant, kind, p, d.meta(step))
	if err != nil {
		return created{}, err
	}
	d.wrote(res.Position)
	out := created{res: res}
	if !res.Duplicate {
		out.warnings = d.welcome(ctx, res.Customer, step)
	}
	return out, nil
}

// welcome requests the automatic e-mail and SMS to a customer the listener
// created, when enabled and when it has an e-mail address / a phone. A
// request that fails is a warning: the customer exists.
func (d *delivery) welcome(ctx context.Context, c customer.Snapshot, step string) []string {
	s := d.l.Settings
	f := listener.TemplateFields{Name: c.Profile.Name, LastName: c.Profile.LastName, Code: c.Code}
	if len(c.Profile.Emails) > 0 {
		f.Email = c.Profile.Emails[0].Value
	}
	if len(c.Profile.Phones) > 0 {
		f.Phone = c.Profile.Phones[0].Normalized
	}
	var warnings []string
	if s.AutoEmail.Enabled && f.Email != "" {
		subject, err1 := listener.Render(s.AutoEmail.Subject, f)
		body, err2 := listener.Render(s.AutoEmail.Body, f)
		err := errors.Join(err1, err2)
		if err == nil {
			_, err = d.h.Outbox.RequestEmail(ctx, d.tenant, app.EmailMessage{To: f.Email, Subject: subject, Body: body, CustomerID: c.ID}, d.meta(step+"/email"))
		}
		if err != nil {
			warnings = append(warnings, "automatic e-mail to "+c.Code+" not requested: "+web.Classify(err).Message)
		}
	}
	if s.AutoSMS.Enabled && f.Phone != "" {
		body, err := listener.Render(s.AutoSMS.Template, f)
		if err == nil {
			_, err = d.h.Outbox.RequestSMS(ctx, d.tenant, app.SMSMessage{To: f.Phone, Body: body, CustomerID: c.ID}, d.meta(step+"/sms"))
		}
		if err != nil {
			warnings = append(warnings, "automatic SMS to "+c.Code+" not requested: "+web.Classify(err).Message)
		}
	}
	return warnings
}

// lookup is one way of finding a customer, in a priority order.
type lookup struct {
	what string // for the not-found message
	find func() (customer.Snapshot, bool, error)
}

// first returns the customer the first lookup finds.
func first(lookups []lookup) (customer.Snapshot, bool, []string, error) {
	var tried []string
	for _, l := range lookups {
		c, ok, err := l.find()
		if err != nil || ok {
			return c, ok, tried, err
		}
		tried = append(tried, l.what)
	}
	return customer.Snapshot{}, false, tried, nil
}

// byCode finds a customer by its code (PID-12, CID-3, LID-7); a code of
// the wrong prefix for wantLead is an error naming the field.
func (d *delivery) byCode(ctx context.Context, field, code string) lookup {
	return lookup{what: field + " " + code, find: func() (customer.Snapshot, bool, error) {
		if code == "" {
			return customer.Snapshot{}, false, nil
		}
		c, _, err := d.h.Customers.Get(ctx, d.tenant, code)
		if errors.Is(err, customer.ErrNotFound) {
			return c, false, nil
		}
		return c, err == nil, err
	}}
}

// byIdentity finds a customer holding any of ids (normalised), in order.
func (d *delivery) byIdentity(ctx context.Context, what string, ids ...customer.Identity) lookup {
	return lookup{what: what, find: func() (customer.Snapshot, bool, error) {
		norm, err := d.h.Customers.Identify(ctx, d.tenant, ids)
		if err != nil || len(norm) == 0 {
			return customer.Snapshot{}, false, err
		}
		c, _, ok, err := d.h.Customers.Find(ctx, d.tenant, norm)
		return c, ok, err
	}}
}

// byName finds the one live customer of kinds whose full name is name.
// The name index (contacts.v1) is caught up with this delivery's own
// writes first. Several customers of that name match none (the next
// lookup decides).
func (d *delivery) byName(ctx context.Context, name string, kinds ...customer.Kind) lookup {
	name = strings.Join(strings.Fields(name), " ")
	return lookup{what: "name " + strconv.Quote(name), find: func() (customer.Snapshot, bool, error) {
		if name == "" || d.h.Contacts == nil {
			return customer.Snapshot{}, false, nil
		}
		if d.h.Waiter != nil && !d.last.IsZero() {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := d.h.Waiter.WaitFor(wctx, projections.ContactsName, d.last)
			cancel()
			if err != nil {
				return customer.Snapshot{}, false, fmt.Errorf("wait for the name index: %w", err)
			}
		}
		ks := make([]string, len(kinds))
		for i, k := range kinds {
			ks[i] = string(k)
		}
		ids, err := d.h.Contacts.FindByName(ctx, d.tenant, name, ks...)
		if err != nil || len(ids) != 1 {
			return customer.Snapshot{}, false, err
		}
		c, _, err := d.h.Customers.Get(ctx, d.tenant, ids[0])
		if errors.Is(err, customer.ErrNotFound) {
			return c, false, nil
		}
		return c, err == nil, err
	}}
}

func emailIDs(vs []typedValue) []customer.Identity {
	var out []customer.Identity
	for _, v := range vs {
		if s := v.Value.String(); s != "" {
			out = append(out, customer.Identity{Kind: customer.ByEmail, Value: s})
		}
	}
	return out
}

func phoneIDs(vs []typedValue) []customer.Identity {
	var out []customer.Identity
	for _, v := range vs {
		if s := v.Value.String(); s != "" {
			out = append(out, customer.Identity{Kind: customer.ByPhone, Value: s})
		}
	}
	return out
}

func one(kind customer.IdentityKind, v string) []customer.Identity {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return []customer.Identity{{Kind: kind, Value: v}}
}

// company finds the account a contact belongs to — by customerId (when
// given), then name, e-mails and phones — or creates it as an account with
// the listener's rules for new customers.
func (d *delivery) company(ctx context.Context, in *companyIn) (created, error) {
	lookups := []lookup{}
	if code := in.CustomerID.String(); code != "" {
		lookups = append(lookups, d.byCode(ctx, "companyContact.customerId", code))
	}
	lookups = append(lookups, d.byName(ctx, in.Name, customer.Account),
		d.byIdentity(ctx, "companyContact.emails", emailIDs(in.Emails)...),
		d.byIdentity(ctx, "companyContact.phones", phoneIDs(in.Phones)...))
	c, ok, _, err := first(lookups)
	if err != nil {
		return created{}, err
	}
	if ok {
		if c.Kind != customer.Account {
			return created{}, actionErr("invalid_field", fmt.Sprintf("companyContact: %s is a %s, not an account", c.Code, c.Kind), "companyContact")
		}
		return created{res: app.CustomerResult{Customer: c}}, nil
	}
	if strings.TrimSpace(in.Name) == "" {
		return created{}, actionErr("invalid_field", "companyContact.name is required to create the company: no account matches its customerId, e-mails or phones", "companyContact.name")
	}
	p, _, err := d.profile(ctx, contactIn{Name: in.Name, Emails: in.Emails, Phones: in.Phones, Websites: in.Websites,
		Addresses: in.Addresses, IM: in.IM}, customer.Account)
	if err != nil {
		return created{}, withField(err, "companyContact")
	}
	res, err := d.create(ctx, customer.Account, p, "company")
	if err != nil {
		return created{}, prefixed(err, "companyContact")
	}
	return res, nil
}

// accountNamed finds the account named name (companyLead), or creates it.
func (d *delivery) accountNamed(ctx context.Context, name string) (created, error) {
	return d.company(ctx, &companyIn{Name: name})
}

// prefixed names a failure of a nested customer by its payload member.
func prefixed(err error, member string) error {
	var ae *actionError
	if errors.As(err, &ae) {
		return err
	}
	c := web.Classify(err)
	if c.Internal || len(c.Fields) == 0 {
		return err
	}
	fields := make([]string, 0, len(c.Fields))
	msgs := make([]string, 0, len(c.Fields))
	for _, f := range c.Fields {
		fields = append(fields, member+"."+fieldNames.Replace(f.Field))
		msgs = append(msgs, member+": "+fieldNames.Replace(f.Detail))
	}
	return &actionError{code: c.Code, msg: strings.Join(msgs, "; "), fields: fields}
}

// validEmail is a light check of an e-mail address used only as a name
// fallback.
func localPart(email string) string {
	if a, err := mail.ParseAddress(email); err == nil {
		email = a.Address
	}
	local, _, _ := strings.Cut(email, "@")
	return local
}
