package listener_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/apitest"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

type obj = map[string]any

var _ = domaintest.CheckErr

// TestAddContact: defaults only for new customers, duplicates by passport,
// e-mail or phone, companies found by name → e-mails → phones or created,
// automatic messages only for customers this listener created with an
// e-mail / a phone.
func TestAddContact(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, obj{"default_tag": "from-web", "contact_channel": "Website", "lead_channel": "Ads",
		"auto_email": obj{"enabled": true, "subject": "Welcome {{.Name}}", "body": "Hi {{.Name}} {{.LastName}}, you are {{.Code}} ({{.Email}})."},
		"auto_sms":   obj{"enabled": true, "template": "Hi {{.Name}}, call {{.Phone}}"}})
	rs := h.deliver(t,
		"add-contact", obj{"name": "Ana", "lastname": "Lima", "emails": []obj{{"value": "Ana@Example.com"}}, "phones": []obj{{"value": "+84905000001"}}, "channel": "Ignored"},
		"add-contact", obj{"name": "Bo", "tag": "vip, gold"},
		"add-contact", obj{"name": "Ana again", "passport": "x1", "emails": []obj{{"value": "ana@example.com"}}, "tag": "other"},
		"add-contact", obj{"name": "Acme", "type": 1, "phones": []obj{{"value": "+84905000099"}}},
		"add-contact", obj{"name": "Cy", "emails": []obj{{"value": "cy@example.com"}}, "companyContact": obj{"name": "acme"}},
		"add-contact", obj{"name": "Di", "companyContact": obj{"name": "Nobody Inc", "phones": []obj{{"value": "+84905000099"}}}},
		"add-contact", obj{"name": "Ed", "companyContact": obj{"name": "Globex", "emails": []obj{{"value": "info@globex.com"}}}},
		"add-contact", obj{"name": "Fa", "type": 2},
		"add-contact", obj{"lastname": "No name"},
	)
	ana := h.customer(t, want(t, rs[0], "created").Code)
	if ana.Kind != customer.Contact || ana.Profile.Channel != "Website" || !slices.Equal(ana.Profile.Tags, []string{"from-web"}) {
		t.Errorf("Ana: channel %q tags %v, want Website and the default tag", ana.Profile.Channel, ana.Profile.Tags)
	}
	if len(rs[0].Warnings) != 1 || !strings.Contains(rs[0].Warnings[0], "channel ignored") {
		t.Errorf("Ana warnings = %v, want the ignored channel", rs[0].Warnings)
	}
	bo := h.customer(t, want(t, rs[1], "created").Code)
	if !slices.Equal(bo.Profile.Tags, []string{"vip", "gold"}) {
		t.Errorf("Bo tags = %v, want its own only", bo.Profile.Tags)
	}
	if want(t, rs[2], "duplicate").Code != ana.Code {
		t.Errorf("duplicate of %s, want %s", rs[2].Code, ana.Code)
	}
	if again := h.customer(t, ana.Code); !slices.Equal(again.Profile.Tags, []string{"from-web"}) || again.Profile.Name != "Ana" || again.Profile.Passport != "" {
		t.Errorf("the duplicate changed Ana: %+v", again.Profile)
	}
	if n := h.events(t, "customer.duplicate_submitted", 1); n != 1 {
		t.Errorf("%d duplicate submissions recorded, want 1 (the history line)", n)
	}
	acme := h.customer(t, want(t, rs[3], "created").Code)
	if acme.Kind != customer.Account || !strings.HasPrefix(acme.Code, "CID-") {
		t.Errorf("type 1 made %s %s, want an account", acme.Kind, acme.Code)
	}
	if cy := h.customer(t, want(t, rs[4], "created").Code); cy.Profile.Account != acme.ID {
		t.Errorf("Cy's company = %q, want Acme (by name, case-insensitively) %s", cy.Profile.Account, acme.ID)
	}
	if di := h.customer(t, want(t, rs[5], "created").Code); di.Profile.Account != acme.ID {
		t.Errorf("Di's company = %q, want Acme (by phone) %s", di.Profile.Account, acme.ID)
	}
	ed := h.customer(t, want(t, rs[6], "created").Code)
	globex := h.customer(t, ed.Profile.Account)
	if globex.Kind != customer.Account || globex.Profile.Name != "Globex" || globex.Profile.Channel != "Website" {
		t.Errorf("Ed's company = %+v, want a new account Globex", globex)
	}
	wantFailed(t, rs[7], "invalid_field", "type")
	wantFailed(t, rs[8], "validation_failed", "name")

	// Automatic messages: Ana (e-mail and phone), Cy (e-mail), Acme (phone),
	// Globex (e-mail); not Bo (neither), not the duplicate.
	var got []string
	for _, m := range h.requested(t, 5) {
		got = append(got, m["channel"].(string)+" "+m["to"].(string))
	}
	wantMsgs := []string{"email ana@example.com", "sms +84905000001", "sms +84905000099", "email cy@example.com", "email info@globex.com"}
	if !slices.Equal(got, wantMsgs) {
		t.Errorf("requested %v, want %v", got, wantMsgs)
	}
	first := h.requested(t, 5)[0]
	if first["subject"] != "Welcome Ana" || first["body"] != "Hi Ana Lima, you are "+ana.Code+" (ana@example.com)." || first["customer_id"] != ana.ID {
		t.Errorf("welcome e-mail = %v", first)
	}

	// Lead rules: the lead channel, companyLead found by name.
	rs = h.deliver(t, "add-lead", obj{"name": "Gus", "companyLead": "Acme", "emails": []obj{{"value": "gus@example.com"}}})
	gus := h.customer(t, want(t, rs[0], "created").Code)
	if gus.Kind != customer.Lead || gus.Profile.Channel != "Ads" || gus.Profile.Account != acme.ID || !strings.HasPrefix(gus.Code, "LID-") {
		t.Errorf("lead = %s %s channel %q account %q", gus.Kind, gus.Code, gus.Profile.Channel, gus.Profile.Account)
	}
}

// TestCustomFields: defined names are checked by type, undefined ones are
// dropped with a warning.
func TestCustomFields(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	if _, _, err := e.CRM.SetCustomFields(ctx, e.A.ID, []crmconfig.FieldDef{
		{Name: "Score", Entity: crmconfig.EntityContact, Type: crmconfig.Number},
		{Name: "Pets", Entity: crmconfig.EntityContact, Type: crmconfig.Checkbox, Options: []string{"Dog", "Cat", "Fish"}},
		{Name: "Enrolled", Entity: crmconfig.EntityContact, Type: crmconfig.Date},
		{Name: "Budget", Entity: crmconfig.EntityDeal, Type: crmconfig.Number},
	}, apiKey); err != nil {
		t.Fatal(err)
	}
	h := newHook(t, e, &e.A, nil)
	rs := h.deliver(t,
		"add-contact", obj{"name": "Ana", "cusFields": []obj{{"name": "Score", "value": "42"}, {"name": "Pets", "value": "Dog|Cat"},
			{"name": "Enrolled", "value": "2019-07-08T00:00:00+07:00"}, {"name": "Referred By", "value": "Cong Nguyen"}}},
		"add-contact", obj{"name": "Bo", "cusFields": []obj{{"name": "Score", "value": "lots"}}},
		"add-contact", obj{"name": "Cy", "cusFields": []obj{{"name": "Pets", "value": "Dog|Horse"}}},
	)
	ana := h.customer(t, want(t, rs[0], "created").Code)
	if mustJSON(ana.Profile.Custom["Score"]) != "42" || mustJSON(ana.Profile.Custom["Pets"]) != `["Dog","Cat"]` || ana.Profile.Custom["Referred By"] != nil {
		t.Errorf("custom = %s", mustJSON(ana.Profile.Custom))
	}
	if len(rs[0].Warnings) != 1 || !strings.Contains(rs[0].Warnings[0], `"Referred By"`) {
		t.Errorf("warnings = %v", rs[0].Warnings)
	}
	wantFailed(t, rs[1], "validation_failed", "cusFields.Score")
	wantFailed(t, rs[2], "validation_failed", "cusFields.Pets")
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestUpdate: found by customerId → contactId → name → e-mails → phones;
// not found fails (nothing created); companyContact with its customerId.
func TestUpdate(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, obj{"contact_channel": "Website", "default_tag": "web"})
	rs := h.deliver(t,
		"add-contact", obj{"name": "Ana", "lastname": "Lima", "contactId": "ext-1", "emails": []obj{{"value": "ana@example.com"}}},
		"add-contact", obj{"name": "Bo", "phones": []obj{{"value": "+84905000002"}}},
		"add-contact", obj{"name": "Acme", "type": 1},
		"add-lead", obj{"name": "Cy", "emails": []obj{{"value": "cy@example.com"}}},
	)
	ana, bo, acme, cy := rs[0].Code, rs[1].Code, rs[2].Code, rs[3].Code
	rs = h.deliver(t,
		"update-contact", obj{"customerId": ana, "title": "CEO", "passport": "P-1", "tag": "vip"},
		"update-contact", obj{"contactId": "ext-1", "bgInfo": "met at a fair"},
		"update-contact", obj{"name": "Ana", "lastname": "Lima", "contactId": "nope", "emails": []obj{{"value": "ana2@example.com"}}},
		"update-contact", obj{"phones": []obj{{"value": "+84905000002"}}, "companyContact": obj{"customerId": acme, "name": "ignored"}},
		"update-contact", obj{"emails": []obj{{"value": "nobody@example.com"}}},
		"update-contact", obj{"name": "Zed"},
		"update-contact", obj{"emails": []obj{{"value": "cy@example.com"}}},
		"update-lead", obj{"customerId": cy, "title": "Buyer"},
		"update-lead", obj{"customerId": ana},
	)
	if want(t, rs[0], "updated").Code != ana || want(t, rs[1], "updated").Code != ana || want(t, rs[2], "updated").Code != ana {
		t.Errorf("updates hit %s %s %s, want %s", rs[0].Code, rs[1].Code, rs[2].Code, ana)
	}
	a := h.customer(t, ana)
	if a.Profile.Title != "CEO" || a.Profile.Passport != "P-1" || a.Profile.Background != "met at a fair" || len(a.Profile.Emails) != 2 ||
		!slices.Equal(a.Profile.Tags, []string{"web", "vip"}) || a.Profile.Channel != "Website" {
		t.Errorf("Ana after updates: %+v", a.Profile)
	}
	if want(t, rs[3], "updated").Code != bo || h.customer(t, bo).Profile.Account != h.customer(t, acme).ID {
		t.Errorf("Bo's company = %q, want %s", h.customer(t, bo).Profile.Account, acme)
	}
	wantFailed(t, rs[4], "customer_not_found", "")
	if !strings.Contains(rs[4].Error.Message, "nothing was created") {
		t.Errorf("not found message = %q", rs[4].Error.Message)
	}
	wantFailed(t, rs[5], "identity_required", "customerId")
	wantFailed(t, rs[6], "kind_mismatch", "")
	if want(t, rs[7], "updated").Code != cy || h.customer(t, cy).Profile.Title != "Buyer" {
		t.Errorf("update-lead missed Cy")
	}
	wantFailed(t, rs[8], "kind_mismatch", "")
	if n := h.events(t, "customer.created", 4); n != 4 {
		t.Errorf("%d customers created, want 4 (no update creates)", n)
	}
}

// TestAddNote: one delivery adds a contact and a note for it (actions in
// order); contact notes by customerId → passport → email → phone, a lead's
// LID needs contactType lead; deal notes by dealId → name.
func TestAddNote(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, nil)
	mkDealSetup(t, e, &e.A)
	rs := h.deliver(t,
		"add-contact", obj{"name": "Ana", "passport": "p-9", "emails": []obj{{"value": "ana@example.com"}}, "phones": []obj{{"value": "+84905000003"}}},
		"add-note", obj{"body": "by email", "email": "ANA@example.com"},
		"add-lead", obj{"name": "Bo", "emails": []obj{{"value": "bo@example.com"}}},
		"add-deal", obj{"dealId": "11358", "name": "Booking-ID1135", "stage": "New", "dealWith": obj{"name": "Ana", "emails": []obj{{"value": "ana@example.com"}}}},
	)
	ana, bo := want(t, rs[0], "created").Code, want(t, rs[2], "created").Code
	if want(t, rs[1], "created").Code != ana {
		t.Errorf("note went to %s, want %s", rs[1].Code, ana)
	}
	want(t, rs[3], "created")
	rs = h.deliver(t,
		"add-note", obj{"body": "by code", "customerId": ana, "passport": "other", "permit": obj{"status": 4, "users": []string{sender}}},
		"add-note", obj{"body": "by passport", "passport": "P-9", "email": "bo@example.com"},
		"add-note", obj{"body": "by phone", "phone": "+84905000003"},
		"add-note", obj{"body": "lead", "customerId": bo, "contactType": "lead"},
		"add-note", obj{"body": "lead without type", "customerId": bo},
		"add-note", obj{"body": "no one", "email": "nobody@example.com"},
		"add-note", obj{"email": "ana@example.com"},
		"add-note", obj{"body": "deal by id", "dealId": "11358", "name": "other", "model": "deal"},
		"add-note", obj{"body": "deal by name", "name": "booking-id1135", "model": "deal"},
		"add-note", obj{"body": "no deal", "dealId": "1", "model": "deal"},
		"add-note", obj{"body": "x", "model": "order"},
		"add-note", obj{"body": "x", "customerId": ana, "permit": obj{"status": 3, "group": "No such group"}},
	)
	for i, code := range []string{ana, ana, ana, bo} {
		if want(t, rs[i], "created").Code != code {
			t.Errorf("note %d on %s, want %s", i, rs[i].Code, code)
		}
	}
	wantFailed(t, rs[4], "invalid_field", "contactType")
	wantFailed(t, rs[5], "customer_not_found", "")
	wantFailed(t, rs[6], "invalid_field", "body")
	want(t, rs[7], "created")
	want(t, rs[8], "created")
	wantFailed(t, rs[9], "deal_not_found", "")
	wantFailed(t, rs[10], "invalid_field", "model")
	wantFailed(t, rs[11], "group_not_found", "permit.group")
	dl, err := e.Deals.ByExternalID(context.Background(), e.A.ID, "11358")
	if err != nil {
		t.Fatal(err)
	}
	if _, notes, err := e.Deals.Notes(context.Background(), e.A.ID, dl.ID); err != nil || len(notes) != 2 {
		t.Errorf("deal notes = %d, %v; want 2", len(notes), err)
	}
	if n := len(h.customer(t, ana).Items); n != 5 { // 4 notes and the deal
		t.Errorf("Ana has %d items, want 5", n)
	}
}

// mkDealSetup gives tn a pipeline (stages New, Won), a group "Sales" and a
// deal category and package.
func mkDealSetup(t *testing.T, e *apitest.Env, tn *apitest.Tenant) group.Snapshot {
	t.Helper()
	ctx := context.Background()
	if _, _, err := e.Pipelines.Create(ctx, tn.ID, pipeline.CreatePipeline{Name: "Sales", Stages: []pipeline.Stage{
		{Name: "New", Probability: "0.1", Kind: pipeline.Open}, {Name: "Won", Probability: "1", Kind: pipeline.Won}}}, apiKey); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.CRM.SetConfig(ctx, tn.ID, crmconfig.SetConfig{DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}, apiKey); err != nil {
		t.Fatal(err)
	}
	g, _, err := e.Groups.Create(ctx, tn.ID, group.CreateGroup{Name: "Sales"}, apiKey)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestAddDeal: add or update by dealId → name; stage and dealWith required
// on create; dealWith and contacts found or created (lead / customer);
// owners must exist; closeDate epoch ms; value exact.
func TestAddDeal(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, obj{"lead_channel": "Ads"})
	g := mkDealSetup(t, e, &e.A)
	ctx := context.Background()
	if _, _, err := e.CRM.SetCustomFields(ctx, e.A.ID, []crmconfig.FieldDef{{Name: "Budget", Entity: crmconfig.EntityDeal, Type: crmconfig.Number}}, apiKey); err != nil {
		t.Fatal(err)
	}
	rs := h.deliver(t,
		"add-contact", obj{"name": "Phong", "emails": []obj{{"value": "phong@gmail.com"}}},
		"add-deal", obj{"dealId": "1234567890", "name": "Booking-ID #0003", "value": 50000.10, "currency": "VND", "description": "d",
			"stage": "New", "closeDate": 1482470382793, "category": "UI Design", "package": "Goi A",
			"owner_opportunity": obj{"users": []string{sender}, "groups": []string{"sales"}},
			"dealWith":          obj{"type": 0, "name": "Nguyen viet huy", "contactType": "lead", "emails": []obj{{"value": "huy@gmail.com"}}, "phones": []obj{{"value": "0987654321"}}},
			"contacts":          []obj{{"name": "Quoc Phong", "emails": []obj{{"value": "phong@gmail.com"}}}},
			"permit":            obj{"status": 4, "users": []string{sender}},
			"cusFields":         []obj{{"name": "Budget", "value": 12}, {"name": "Colour", "value": "red"}}},
		"add-deal", obj{"name": "No stage", "dealWith": obj{"name": "X"}},
		"add-deal", obj{"name": "No customer", "stage": "New"},
		"add-deal", obj{"name": "Bad owner", "stage": "New", "dealWith": obj{"name": "Y"}, "owner_opportunity": obj{"users": []string{"ghost@example.com"}}},
		"add-deal", obj{"name": "Bad group", "stage": "New", "dealWith": obj{"name": "Y"}, "owner_opportunity": obj{"groups": []string{"Nhom 1"}}},
		"add-deal", obj{"name": "Bad currency", "stage": "New", "currency": "XXX", "dealWith": obj{"name": "Y"}},
	)
	phong := want(t, rs[0], "created").Code
	want(t, rs[1], "created")
	dl, _, err := e.Deals.Get(ctx, e.A.ID, rs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	huy, _, ok, err := e.Customers.Find(ctx, e.A.ID, []customer.Identity{{Kind: customer.ByEmail, Value: "huy@gmail.com"}})
	if err != nil || !ok {
		t.Fatalf("dealWith not created: %v", err)
	}
	if huy.Kind != customer.Lead || huy.Profile.Channel != "Ads" || dl.Customer != huy.ID || len(dl.Contacts) != 1 || dl.Contacts[0] != h.customer(t, phong).ID {
		t.Errorf("deal with %s (%s %q), contacts %v", dl.Customer, huy.Kind, huy.Profile.Channel, dl.Contacts)
	}
	if dl.Value != "50000.10" && dl.Value != "50000.1" {
		t.Errorf("value = %q, want the exact 50000.10", dl.Value)
	}
	if !strings.HasPrefix(dl.CloseDate, "2016-12-23T05:19:42.793") || dl.Currency != "VND" || dl.Category != "UI Design" || dl.Package != "Goi A" {
		t.Errorf("deal = %+v", dl)
	}
	if len(dl.Owners.Agents) != 1 || len(dl.Owners.Groups) != 1 || dl.Owners.Groups[0] != g.ID || string(dl.Custom["Budget"]) != "12" || dl.Custom["Colour"] != nil {
		t.Errorf("owners %+v custom %s", dl.Owners, mustJSON(dl.Custom))
	}
	if len(rs[1].Warnings) != 1 || !strings.Contains(rs[1].Warnings[0], "Colour") {
		t.Errorf("warnings = %v", rs[1].Warnings)
	}
	wantFailed(t, rs[2], "invalid_field", "stage")
	wantFailed(t, rs[3], "invalid_field", "dealWith")
	wantFailed(t, rs[4], "agent_not_found", "owner_opportunity.users[0]")
	wantFailed(t, rs[5], "group_not_found", "owner_opportunity.groups[0]")
	wantFailed(t, rs[6], "invalid_field", "currency")
	rs = h.deliver(t,
		"add-deal", obj{"dealId": "1234567890", "stage": "Won", "value": "70000"},
		"add-deal", obj{"name": "booking-id #0003", "description": "by name"},
	)
	if want(t, rs[0], "updated").ID != dl.ID || want(t, rs[1], "updated").ID != dl.ID {
		t.Errorf("updates hit %s, %s; want %s", rs[0].ID, rs[1].ID, dl.ID)
	}
	dl, _, _ = e.Deals.Get(ctx, e.A.ID, dl.ID)
	if dl.Value != "70000" || dl.Description != "by name" {
		t.Errorf("after updates value %q description %q", dl.Value, dl.Description)
	}
}

// TestAddTicket: a webhook ticket linked (by the ticket linker, as every
// surface's) to the customer found or created; groupName must be a group.
func TestAddTicket(t *testing.T) {
	e := apitest.New(t)
	e.StartLinker()
	h := newHook(t, e, &e.A, obj{"lead_channel": "Ads"})
	g := mkDealSetup(t, e, &e.A)
	rs := h.deliver(t,
		"add-contact", obj{"name": "Ana", "emails": []obj{{"value": "ana@example.com"}}},
		"add-ticket", obj{"contactType": "customer", "title": "Broken", "body": "It broke", "email": "ana@example.com",
			"groupName": "sales", "slaName": "custom", "channel": "Kite Chat", "tag": "webhook", "cusFields": []obj{{"name": "x", "value": "y"}}},
		"add-ticket", obj{"contactType": "lead", "body": "New here\nsecond line", "email": "new@example.com", "phone": "0123456789", "channel": "Contact Form"},
		"add-ticket", obj{"body": "x", "email": "ana@example.com", "groupName": "Phong Kinh Doanh"},
		"add-ticket", obj{"body": "x", "email": "ana@example.com", "channel": "Pigeon"},
		"add-ticket", obj{"title": "no body", "email": "ana@example.com"},
	)
	ana := h.customer(t, want(t, rs[0], "created").Code)
	tk, _, err := e.Tickets.Load(context.Background(), e.A.ID, want(t, rs[1], "created").ID)
	if err != nil {
		t.Fatal(err)
	}
	s := tk.Snapshot()
	if s.Source != "webhook" || s.Title != "Broken" || s.Description != "It broke" || s.Channel != "Kite Chat" || !slices.Equal(s.Tags, []string{"webhook"}) ||
		s.References.CustomerID != ana.Code || !strings.Contains(string(s.Integration["group"]), g.ID) || string(s.Integration["sla_name"]) != `"custom"` {
		t.Errorf("ticket = %+v", s)
	}
	if rs[1].Code != "#"+strconv.FormatInt(s.Number, 10) || len(rs[1].Warnings) != 1 {
		t.Errorf("result code %q warnings %v", rs[1].Code, rs[1].Warnings)
	}
	lead, _, ok, _ := e.Customers.Find(context.Background(), e.A.ID, []customer.Identity{{Kind: customer.ByEmail, Value: "new@example.com"}})
	if !ok || lead.Kind != customer.Lead || lead.Profile.Name != "new" || lead.Profile.Channel != "Ads" {
		t.Errorf("ticket's new customer = %+v", lead)
	}
	want(t, rs[2], "created")
	wantFailed(t, rs[3], "group_not_found", "groupName")
	wantFailed(t, rs[4], "invalid_field", "channel")
	wantFailed(t, rs[5], "invalid_field", "body")
	// The linker links each ticket to its customer.
	deadline := time.Now().Add(10 * time.Second)
	for {
		tk, _, _ := e.Tickets.Load(context.Background(), e.A.ID, rs[1].ID)
		if c := h.customer(t, ana.Code); tk.Snapshot().Customer != nil && slices.ContainsFunc(c.Items, func(it customer.Item) bool { return it.ID == rs[1].ID }) {
			if tk.Snapshot().Customer.ID != ana.ID {
				t.Errorf("ticket linked to %+v, want %s", tk.Snapshot().Customer, ana.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ticket was not linked to its customer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = ticket.References{}
}

// TestSendSMS: content and phones required; one message per phone; the
// trial, once used up, fails with a clear reason.
func TestSendSMS(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, nil)
	rs := h.deliver(t,
		"send-sms", obj{"content": "This is content", "phones": []string{"0333456789", "098765431"}},
		"send-sms", obj{"phones": []string{"0333456789"}},
		"send-sms", obj{"content": "x", "phones": []string{}},
	)
	if len(want(t, rs[0], "created").Messages) != 2 {
		t.Errorf("messages = %v, want 2", rs[0].Messages)
	}
	wantFailed(t, rs[1], "invalid_field", "content")
	wantFailed(t, rs[2], "invalid_field", "phones")
	if got := h.requested(t, 2); len(got) != 2 || got[0]["channel"] != "sms" || got[0]["body"] != "This is content" {
		t.Errorf("requested = %v", got)
	}
	phones := make([]string, 10)
	for i := range phones {
		phones[i] = "09050000" + strconv.Itoa(10+i)
	}
	rs = h.deliver(t, "send-sms", obj{"content": "more", "phones": phones})
	wantFailed(t, rs[0], "sms_unavailable", "phones[8]")
	if len(rs[0].Messages) != 8 || !strings.Contains(rs[0].Error.Message, "configure an SMS provider") {
		t.Errorf("trial: %d messages, error %q", len(rs[0].Messages), rs[0].Error.Message)
	}
}

// TestRedelivery: the same Idempotency-Key or webhook-id answers the first
// results and stores nothing twice; a listener's rate limit answers 429.
func TestRedelivery(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, obj{"rate_limit": 4, "auto_email": obj{"enabled": true, "subject": "Hi", "body": "Hi {{.Name}}"}})
	body := `{"senderUser": "` + sender + `", "data": [{"actionType": "add-contact", "data": {"name": "Ana", "emails": [{"value": "ana@example.com"}]}},
		{"actionType": "add-note", "data": {"body": "hello", "email": "ana@example.com"}}]}`
	first := h.post(t, body, "webhook-id", "msg_1").Want(t, 200)
	again := h.post(t, body, "webhook-id", "msg_1").Want(t, 200)
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("redelivery answered %s (replayed %q), want %s", again.Body, again.Header.Get("Idempotent-Replayed"), first.Body)
	}
	rs0 := h.results(t, h.post(t, body, "Idempotency-Key", "k1"), 2) // another key: a duplicate, a second note
	want(t, rs0[1], "created")
	rs := h.results(t, h.post(t, body, "Idempotency-Key", "k1"), 2)
	want(t, rs[0], "duplicate")
	if n := h.events(t, "customer.created", 1); n != 1 {
		t.Errorf("%d customers created, want 1", n)
	}
	if n := h.events(t, "customer.note_added", 2); n != 2 {
		t.Errorf("%d notes, want 2 (one per key)", n)
	}
	if n := len(h.requested(t, 1)); n != 1 {
		t.Errorf("%d welcome e-mails, want 1", n)
	}
	r := h.post(t, body, "Idempotency-Key", "k2").Want(t, 429)
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 15 {
		t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(r.Body), `"code":"rate_limited"`) {
		t.Errorf("429 body = %s", r.Body)
	}
}
