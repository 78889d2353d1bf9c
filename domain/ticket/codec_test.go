package ticket_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// samples holds one fully populated event of every type.
func samples() []domain.Event {
	file := &ticket.File{ID: fileID, Filename: "log.txt", ContentType: "text/plain", Size: 12, SHA256: sha}
	full := created
	full.Assignee = &bob
	full.Channel = "Chat"
	full.Subscribers = []string{"ops@example.com"}
	full.Attachments = []ticket.Attachment{{Type: ticket.AssetImage, Value: "a.jpeg", Display: "A"}, {Type: ticket.AssetFile, Value: "x", File: file}}
	full.References = ticket.References{LeadID: "l", CustomerID: "c", ContactName: "n", ContactEmail: "e@example.com", ContactPhone: "+1 555",
		ClientTicketID: fileID, SupportTicketID: "345", UserID: "u", DeviceID: "d"}
	full.UserAgent = "Mozilla/5.0"
	full.Form = &ticket.FormResponse{Slug: "f", ResponseID: "r", Fields: []ticket.FormField{{Key: "k", Value: raw(`["a",1]`)}}}
	full.Integration = map[string]json.RawMessage{"type": raw(`"default"`)}
	return []domain.Event{
		full,
		ticket.TicketContentEdited{Change: now, Title: ptr("t"), Description: ptr("")},
		ticket.TicketStatusChanged{Change: now, From: "open", To: "resolved", Kind: ticket.KindResolved, FeedbackRequested: true},
		ticket.TicketReopened{Change: now, From: "closed", To: "open", Kind: ticket.KindOpen},
		ticket.TicketPriorityChanged{Change: now, From: ticket.PriorityLow, To: ticket.PriorityHigh},
		ticket.TicketAssigned{Change: now, Assignee: agent, Previous: &bob},
		ticket.TicketUnassigned{Change: now, Previous: bob},
		ticket.TicketCategorized{Change: now, Category: "orders", SubCategory: "late", FromCategory: "general"},
		ticket.TicketTagged{Change: now, Tags: []string{"a", "b"}},
		ticket.TicketUntagged{Change: now, Tags: []string{"a"}},
		ticket.CustomFieldsMerged{Change: now, Patch: map[string]json.RawMessage{"a": raw(`{"b":1}`), "c": raw(`null`)}},
		ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryComment, Value: raw(`{"text":"hi"}`), Visibility: ticket.Internal},
		ticket.ActivityAdded{Change: now, ActivityID: entryID, Text: "x", Direction: ticket.Inbound},
		ticket.FeedbackSubmitted{Change: now, Rating: 4, Comment: "ok"},
		ticket.AttachmentAdded{Change: now, Attachment: ticket.Attachment{Type: ticket.AssetFile, Value: "x", Display: "d", File: file}},
		ticket.ReferencesLinked{Change: now, References: ticket.References{SupportTicketID: "9"}},
		ticket.CustomerLinked{Change: now, CustomerID: entryID, Code: "PID-2", Via: &ticket.CustomerIdentity{Kind: "email", Value: "a@example.com"},
			Previous: &ticket.CustomerRef{ID: entryID2, Code: "LID-1"}},
		ticket.CategoriesSet{Change: now, Categories: testConfig().Categories},
		ticket.StatusesSet{Change: now, Statuses: ticket.DefaultConfig().Statuses},
		ticket.PrioritiesSet{Change: now, Priorities: ticket.DefaultConfig().Priorities},
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	domaintest.CodecRoundTrip(t, samples(), ticket.Codec())
}

func TestCodec_EventTypes(t *testing.T) {
	all := ticket.EventTypes()
	if len(all) != len(ticket.TicketEventTypes())+len(ticket.ConfigEventTypes()) {
		t.Fatalf("EventTypes() = %q is not ticket types then config types", all)
	}
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(all) {
		t.Fatalf("EventTypes() has repeats: %q", all)
	}
}

func TestCodec_Errors(t *testing.T) {
	if _, err := ticket.Decode("ticket.exploded", 1, []byte(`{}`)); err == nil {
		t.Errorf("Decode(unknown type) = nil error")
	}
	if _, err := ticket.Decode("ticket.tagged", 1, []byte(`{"tags":`)); err == nil {
		t.Errorf("Decode(malformed) = nil error")
	}
	if _, err := ticket.Encode(foreign{}); err == nil {
		t.Errorf("Encode(foreign event) = nil error")
	}
	// Readers ignore members added by newer writers.
	e, err := ticket.Decode("ticket.tagged", 1, []byte(`{"tags":["a"],"added_later":1}`))
	if err != nil || !reflect.DeepEqual(e, ticket.TicketTagged{Tags: []string{"a"}}) {
		t.Errorf("Decode(with unknown member) = %#v, %v", e, err)
	}
}

type foreign struct{}

func (foreign) EventType() string { return "other.thing" }
