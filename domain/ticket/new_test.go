package ticket_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

func minimalCreate() ticket.CreateTicket {
	return ticket.CreateTicket{
		By: customer, Source: domain.SourceSalesChannel,
		ID: ticketID, TenantID: "acme", Number: 34, Title: "Where is my order?",
	}
}

func TestNew(t *testing.T) {
	full := ticket.CreateTicket{
		By: agent, Source: domain.SourceForm,
		ID: ticketID, TenantID: "acme", Number: 1234,
		Title: "  Parcel arrived damaged ", Description: "The box was crushed.\n",
		Category: "orders", SubCategory: "damaged",
		Priority: ticket.PriorityUrgent, Status: "pending",
		Channel: " Chat ",
		Tags:    []string{"  VIP ", "vip", "Billing"},
		Custom: map[string]json.RawMessage{
			"order_id": raw(`"FY123"`), "meta": raw(`{ "a" : [1, 2] }`), "gone": raw(`null`),
		},
		CreatedBy:   &customer,
		Assignee:    &bob,
		Subscribers: []string{"Ops@Example.com", "ops@example.com", "lead@example.com"},
		Attachments: []ticket.Attachment{
			{Type: ticket.AssetImage, Value: " https://cdn.example.com/a.jpeg ", Display: "a.jpeg"},
			{Type: ticket.AssetFile, Value: "/v1/attachments/" + fileID, File: &ticket.File{ID: fileID, Filename: "log.txt", ContentType: "text/plain", Size: 12, SHA256: sha}},
		},
		References: ticket.References{
			LeadID: "45b5fded-e696-45a6-9fbb-c6af6178229e", ContactEmail: " Sudipta@Innoflexion.com",
			ContactPhone: "+919916248135", ContactName: "sudipta",
			ClientTicketID: "34822E49-8ED3-42FD-87A0-700A6D509102", SupportTicketID: "345",
			UserID: "79af4bc5-a995-4262-92ee-0da381ccaf07", DeviceID: "7237F578-828D-43D9-995D-F8B7AC8A4881",
		},
		UserAgent: "Mozilla/5.0",
		Form: &ticket.FormResponse{Slug: "damage-report", ResponseID: "r-1", Fields: []ticket.FormField{
			{Key: "order", Value: raw(`"FY123"`)}, {Key: "items", Value: raw(`[ "a", "b" ]`)},
		}},
		Integration: map[string]json.RawMessage{"type": raw(`"default"`)},
	}
	wantFull := ticket.TicketCreated{
		Change: domain.Change{By: agent, Source: domain.SourceForm, At: noon},
		ID:     ticketID, TenantID: "acme", Number: 1234,
		Title: "Parcel arrived damaged", Description: "The box was crushed.\n",
		Category: "orders", SubCategory: "damaged",
		Priority: ticket.PriorityUrgent, Status: "pending", StatusKind: ticket.KindPending,
		Channel: "Chat", Tags: []string{"vip", "billing"},
		Custom:      map[string]json.RawMessage{"order_id": raw(`"FY123"`), "meta": raw(`{"a":[1,2]}`)},
		CreatedBy:   customer,
		Assignee:    &bob,
		Subscribers: []string{"ops@example.com", "lead@example.com"},
		Attachments: []ticket.Attachment{
			{Type: ticket.AssetImage, Value: "https://cdn.example.com/a.jpeg", Display: "a.jpeg"},
			{Type: ticket.AssetFile, Value: "/v1/attachments/" + fileID, File: &ticket.File{ID: fileID, Filename: "log.txt", ContentType: "text/plain", Size: 12, SHA256: sha}},
		},
		References: ticket.References{
			LeadID: "45b5fded-e696-45a6-9fbb-c6af6178229e", ContactEmail: "sudipta@innoflexion.com",
			ContactPhone: "+919916248135", ContactName: "sudipta",
			ClientTicketID: "34822E49-8ED3-42FD-87A0-700A6D509102", SupportTicketID: "345",
			UserID: "79af4bc5-a995-4262-92ee-0da381ccaf07", DeviceID: "7237F578-828D-43D9-995D-F8B7AC8A4881",
		},
		UserAgent: "Mozilla/5.0",
		Form: &ticket.FormResponse{Slug: "damage-report", ResponseID: "r-1", Fields: []ticket.FormField{
			{Key: "order", Value: raw(`"FY123"`)}, {Key: "items", Value: raw(`["a","b"]`)},
		}},
		Integration: map[string]json.RawMessage{"type": raw(`"default"`)},
	}

	with := func(f func(*ticket.CreateTicket)) ticket.CreateTicket {
		c := minimalCreate()
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		cmd     ticket.CreateTicket
		then    []domain.Event
		wantErr error
	}{
		{"minimal: defaults for priority, status and creator", minimalCreate(), []domain.Event{ticket.TicketCreated{
			Change: domain.Change{By: customer, Source: domain.SourceSalesChannel, At: noon},
			ID:     ticketID, TenantID: "acme", Number: 34, Title: "Where is my order?",
			Priority: ticket.PriorityLow, Status: "open", StatusKind: ticket.KindOpen, CreatedBy: customer,
		}}, nil},
		{"every field, normalised", full, []domain.Event{wantFull}, nil},
		{"title of exactly 500 characters", with(func(c *ticket.CreateTicket) { c.Title = strings.Repeat("é", 500) }), []domain.Event{ticket.TicketCreated{
			Change: domain.Change{By: customer, Source: domain.SourceSalesChannel, At: noon},
			ID:     ticketID, TenantID: "acme", Number: 34, Title: strings.Repeat("é", 500),
			Priority: ticket.PriorityLow, Status: "open", StatusKind: ticket.KindOpen, CreatedBy: customer,
		}}, nil},

		{"empty title", with(func(c *ticket.CreateTicket) { c.Title = "  " }), nil, ticket.ErrInvalidTitle},
		{"title over 500 characters", with(func(c *ticket.CreateTicket) { c.Title = strings.Repeat("a", 501) }), nil, ticket.ErrInvalidTitle},
		{"id not a UUID", with(func(c *ticket.CreateTicket) { c.ID = "42" }), nil, ticket.ErrInvalidField.At("id")},
		{"upper-case id", with(func(c *ticket.CreateTicket) { c.ID = strings.ToUpper(ticketID) }), nil, ticket.ErrInvalidField.At("id")},
		{"no tenant", with(func(c *ticket.CreateTicket) { c.TenantID = "" }), nil, ticket.ErrInvalidField.At("tenant_id")},
		{"number 0", with(func(c *ticket.CreateTicket) { c.Number = 0 }), nil, ticket.ErrInvalidField.At("number")},
		{"description too long", with(func(c *ticket.CreateTicket) { c.Description = strings.Repeat("x", ticket.MaxDescriptionLength+1) }), nil, ticket.ErrInvalidField.At("description")},
		{"unknown status", with(func(c *ticket.CreateTicket) { c.Status = "waiting" }), nil, ticket.ErrUnknownStatus},
		{"unknown priority", with(func(c *ticket.CreateTicket) { c.Priority = "Low" }), nil, ticket.ErrUnknownPriority},
		{"unknown category", with(func(c *ticket.CreateTicket) { c.Category = "cat1" }), nil, ticket.ErrUnknownCategory},
		{"unknown sub-category", with(func(c *ticket.CreateTicket) { c.Category, c.SubCategory = "orders", "lost" }), nil, ticket.ErrUnknownSubCategory},
		{"sub-category without category", with(func(c *ticket.CreateTicket) { c.SubCategory = "late" }), nil, ticket.ErrUnknownSubCategory},
		{"unknown source", with(func(c *ticket.CreateTicket) { c.Source = "fax" }), nil, domain.ErrUnknownSource},
		{"no source", with(func(c *ticket.CreateTicket) { c.Source = "" }), nil, domain.ErrUnknownSource},
		{"invalid actor", with(func(c *ticket.CreateTicket) { c.By = domain.Actor{Kind: domain.ActorUser} }), nil, domain.ErrInvalidActor.At("by")},
		{"invalid created_by", with(func(c *ticket.CreateTicket) { c.CreatedBy = &domain.Actor{} }), nil, domain.ErrInvalidActor.At("created_by")},
		{"invalid assignee", with(func(c *ticket.CreateTicket) { c.Assignee = &domain.Actor{Kind: "robot"} }), nil, domain.ErrInvalidActor.At("assignee")},
		{"channel too long", with(func(c *ticket.CreateTicket) { c.Channel = strings.Repeat("c", 65) }), nil, ticket.ErrInvalidField.At("channel")},
		{"empty tag", with(func(c *ticket.CreateTicket) { c.Tags = []string{"ok", " "} }), nil, ticket.ErrInvalidTag.At("tags[1]")},
		{"too many tags", with(func(c *ticket.CreateTicket) {
			for i := range ticket.MaxTags + 1 {
				c.Tags = append(c.Tags, strings.Repeat("t", i+1))
			}
		}), nil, ticket.ErrInvalidTag},
		{"custom value not JSON", with(func(c *ticket.CreateTicket) { c.Custom = map[string]json.RawMessage{"x": raw(`{`)} }), nil, ticket.ErrInvalidField.At("custom.x")},
		{"custom empty key", with(func(c *ticket.CreateTicket) { c.Custom = map[string]json.RawMessage{"": raw(`1`)} }), nil, ticket.ErrInvalidField.At("custom")},
		{"bad subscriber", with(func(c *ticket.CreateTicket) { c.Subscribers = []string{"ops@example.com", "ops"} }), nil, ticket.ErrInvalidEmail.At("subscribers[1]")},
		{"unknown asset type", with(func(c *ticket.CreateTicket) {
			c.Attachments = []ticket.Attachment{{Type: "pdf", Value: "x"}}
		}), nil, ticket.ErrUnknownAssetType.At("attachments[0].type")},
		{"attachment without value", with(func(c *ticket.CreateTicket) {
			c.Attachments = []ticket.Attachment{{Type: ticket.AssetOrder}}
		}), nil, ticket.ErrInvalidField.At("attachments[0].value")},
		{"attachment file with bad digest", with(func(c *ticket.CreateTicket) {
			c.Attachments = []ticket.Attachment{{Type: ticket.AssetFile, Value: "x", File: &ticket.File{ID: fileID, Filename: "a", ContentType: "text/plain", SHA256: "abc"}}}
		}), nil, ticket.ErrInvalidField.At("attachments[0].file.sha256")},
		{"attachment filename with a path", with(func(c *ticket.CreateTicket) {
			c.Attachments = []ticket.Attachment{{Type: ticket.AssetFile, Value: "x", File: &ticket.File{ID: fileID, Filename: "../etc/passwd", ContentType: "text/plain", SHA256: sha}}}
		}), nil, ticket.ErrInvalidField.At("attachments[0].file.filename")},
		{"attachment file ids repeated", with(func(c *ticket.CreateTicket) {
			f := ticket.File{ID: fileID, Filename: "a", ContentType: "text/plain", SHA256: sha}
			c.Attachments = []ticket.Attachment{{Type: ticket.AssetFile, Value: "x", File: &f}, {Type: ticket.AssetFile, Value: "y", File: &f}}
		}), nil, ticket.ErrDuplicateID},
		{"bad contact email", with(func(c *ticket.CreateTicket) { c.References.ContactEmail = "nope" }), nil, ticket.ErrInvalidEmail.At("references.contact_email")},
		{"bad contact phone", with(func(c *ticket.CreateTicket) { c.References.ContactPhone = "call me" }), nil, ticket.ErrInvalidField.At("references.contact_phone")},
		{"client ticket id not a UUID", with(func(c *ticket.CreateTicket) { c.References.ClientTicketID = "345" }), nil, ticket.ErrInvalidField.At("references.client_ticket_id")},
		{"user agent too long", with(func(c *ticket.CreateTicket) { c.UserAgent = strings.Repeat("u", 1025) }), nil, ticket.ErrInvalidField.At("user_agent")},
		{"form slug bad", with(func(c *ticket.CreateTicket) { c.Form = &ticket.FormResponse{Slug: "Bad Slug"} }), nil, ticket.ErrInvalidField.At("form.slug")},
		{"form value not JSON", with(func(c *ticket.CreateTicket) {
			c.Form = &ticket.FormResponse{Slug: "f", Fields: []ticket.FormField{{Key: "k", Value: raw(`nope`)}}}
		}), nil, ticket.ErrInvalidField.At("form.fields[0].value")},
		{"integration not JSON", with(func(c *ticket.CreateTicket) { c.Integration = map[string]json.RawMessage{"t": raw(`x`)} }), nil, ticket.ErrInvalidField.At("integration.t")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := ticket.New(tt.cmd, cfg, noon)
			domaintest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if tk != nil {
					t.Fatalf("New() returned a ticket with error %v", err)
				}
				return
			}
			domaintest.CheckEvents(t, tk.Pending(), tt.then)
			if tk.Version() != 0 || !tk.Exists() || tk.ID() != tt.cmd.ID {
				t.Fatalf("got Version %d, Exists %v, ID %q; want 0, true, %q", tk.Version(), tk.Exists(), tk.ID(), tt.cmd.ID)
			}
		})
	}
}

func TestNew_ReportsEveryBadField(t *testing.T) {
	c := minimalCreate()
	c.Title = ""
	c.Status = "nope"
	c.Subscribers = []string{"x"}
	_, err := ticket.New(c, cfg, noon)
	var fields []string
	for _, e := range domain.Errors(err) {
		fields = append(fields, e.Field)
	}
	if want := []string{"title", "status", "subscribers[0]"}; !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields of %v: got %q, want %q", err, fields, want)
	}
	if domain.KindOf(err) != domain.Invalid {
		t.Fatalf("got kind %v, want invalid", domain.KindOf(err))
	}
}

func TestNew_ZeroTimeIsInternal(t *testing.T) {
	_, err := ticket.New(minimalCreate(), cfg, time.Time{})
	if err == nil || domain.KindOf(err) != domain.Internal {
		t.Fatalf("got %v, want an Internal error", err)
	}
}

func TestSnapshot(t *testing.T) {
	tk, err := ticket.New(minimalCreate(), cfg, noon)
	if err != nil {
		t.Fatal(err)
	}
	later := noon.Add(time.Hour)
	steps := []error{
		tk.Tag(ticket.Tag{By: agent, Source: api, Tags: []string{"VIP"}}, later),
		tk.Assign(ticket.Assign{By: agent, Source: api, Assignee: bob}, later),
		tk.MergeCustomFields(ticket.MergeCustomFields{By: agent, Source: api, Patch: map[string]json.RawMessage{"a": raw(`1`)}}, later),
		tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "resolved"}, cfg, later),
		tk.LogHistory(ticket.LogHistory{By: agent, Source: api, EntryID: entryID, Type: ticket.HistoryComment, Value: raw(`{"text":"done"}`)}, later),
		tk.AddActivity(ticket.AddActivity{By: agent, Source: api, ActivityID: entryID2, Text: "x", Direction: ticket.Inbound}, later),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	s := tk.Snapshot()
	want := ticket.Snapshot{
		ID: ticketID, TenantID: "acme", Number: 34, Key: "#034", Title: "Where is my order?",
		Priority: ticket.PriorityLow, Status: "resolved", StatusKind: ticket.KindResolved,
		Source: domain.SourceSalesChannel, Tags: []string{"vip"},
		Custom: map[string]json.RawMessage{"a": raw(`1`)}, CreatedBy: customer, Assignee: &bob,
		Subscribers: []string{}, Attachments: []ticket.Attachment{}, Integration: map[string]json.RawMessage{},
		IsFeedbackPending: true, HistoryCount: 1, ActivityCount: 1,
		CreatedAt: noon, UpdatedAt: later, Version: 7,
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("Snapshot():\n got %+v\nwant %+v", s, want)
	}
	s.Tags[0] = "changed"
	s.Custom["a"] = raw(`2`)
	s.Assignee.Name = "changed"
	if again := tk.Snapshot(); again.Tags[0] != "vip" || string(again.Custom["a"]) != "1" || again.Assignee.Name != "Bob" {
		t.Fatalf("Snapshot shares memory with the ticket: %+v", again)
	}
}

// TestFeedbackPending follows is_feedback_pending through a ticket's life:
// resolving asks for feedback, a rating history entry or SubmitFeedback
// ends it.
func TestFeedbackPending(t *testing.T) {
	tk := ticket.Rehydrate(given(created), 1)
	step := func(name string, err error, wantPending bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := tk.Snapshot().IsFeedbackPending; got != wantPending {
			t.Fatalf("after %s: IsFeedbackPending = %v, want %v", name, got, wantPending)
		}
	}
	step("create", nil, false)
	step("resolve", tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "resolved"}, cfg, noon), true)
	step("submit feedback", tk.SubmitFeedback(ticket.SubmitFeedback{By: customer, Source: api, Rating: 4, Comment: "ok"}, noon), false)
	if got, want := tk.Snapshot().Feedback, (&ticket.Feedback{Rating: 4, Comment: "ok"}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Feedback = %+v, want %+v", got, want)
	}
	step("reopen work", tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "open"}, cfg, noon), false)
	step("resolve again", tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "resolved"}, cfg, noon), true)
	step("close", tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "closed"}, cfg, noon), true)
	step("rating entry", tk.LogHistory(ticket.LogHistory{By: customer, Source: api, EntryID: entryID, Type: ticket.HistoryRating, Value: raw(`{"rating":5}`)}, noon), false)
}

func TestSnapshot_CreationFields(t *testing.T) {
	c := minimalCreate()
	c.Form = &ticket.FormResponse{Slug: "contact", Fields: []ticket.FormField{{Key: "email", Value: raw(`"a@example.com"`)}}}
	c.Attachments = []ticket.Attachment{{Type: ticket.AssetFile, Value: "x", File: &ticket.File{ID: fileID, Filename: "a.txt", ContentType: "text/plain", SHA256: sha}}}
	c.References = ticket.References{LeadID: "lead-1"}
	tk, err := ticket.New(c, cfg, noon)
	if err != nil {
		t.Fatal(err)
	}
	s := tk.Snapshot()
	if !reflect.DeepEqual(s.Form, c.Form) || !reflect.DeepEqual(s.Attachments, c.Attachments) || s.References != c.References {
		t.Fatalf("Snapshot() = %+v, want the form, attachments and references of %+v", s, c)
	}
	s.Form.Fields[0].Key = "changed"
	s.Attachments[0].File.Filename = "changed"
	if again := tk.Snapshot(); again.Form.Fields[0].Key != "email" || again.Attachments[0].File.Filename != "a.txt" {
		t.Fatalf("Snapshot shares memory with the ticket: %+v", again)
	}
	err = tk.AddAttachment(ticket.AddAttachment{By: agent, Source: api, Attachment: c.Attachments[0]}, noon)
	domaintest.CheckErr(t, err, ticket.ErrDuplicateID)
}
