package ticket_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

func given(events ...domain.Event) []domain.Event { return events }

func TestTicket_EditContent(t *testing.T) {
	edit := func(title, desc *string) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.EditContent(ticket.EditContent{By: agent, Source: api, Title: title, Description: desc}, noon)
		}
	}
	run(t, []scenario{
		{"title and description", given(created), edit(ptr(" Box crushed "), ptr("Photos attached.")),
			given(ticket.TicketContentEdited{Change: now, Title: ptr("Box crushed"), Description: ptr("Photos attached.")}), nil},
		{"title only", given(created), edit(ptr("Box crushed"), nil),
			given(ticket.TicketContentEdited{Change: now, Title: ptr("Box crushed")}), nil},
		{"description cleared", given(created), edit(nil, ptr("")),
			given(ticket.TicketContentEdited{Change: now, Description: ptr("")}), nil},
		{"unchanged fields are left out", given(created), edit(ptr("Parcel arrived damaged"), ptr("New text")),
			given(ticket.TicketContentEdited{Change: now, Description: ptr("New text")}), nil},
		{"same content: no event", given(created), edit(ptr("Parcel arrived damaged"), ptr("The box was crushed.")), nil, nil},
		{"nothing given: no event", given(created), edit(nil, nil), nil, nil},
		{"empty title", given(created), edit(ptr(" "), nil), nil, ticket.ErrInvalidTitle},
		{"title too long", given(created), edit(ptr(strings.Repeat("a", 501)), nil), nil, ticket.ErrInvalidTitle},
		{"description too long", given(created), edit(nil, ptr(strings.Repeat("a", ticket.MaxDescriptionLength+1))), nil, ticket.ErrInvalidField.At("description")},
		{"closed ticket", given(created, closed), edit(ptr("New"), nil), nil, ticket.ErrClosed},
		{"no ticket", nil, edit(ptr("New"), nil), nil, ticket.ErrNotFound},
	})
}

func TestTicket_ChangeStatus(t *testing.T) {
	to := func(status string) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: status}, cfg, noon)
		}
	}
	custom := cfg.Clone()
	custom.Statuses = append(custom.Statuses, ticket.Status{Key: "solved", Display: "Solved", Color: "#00ff00", Kind: ticket.KindResolved},
		ticket.Status{Key: "spam", Display: "Spam", Color: "#000000", Kind: ticket.KindClosed})
	run(t, []scenario{
		{"open to in progress", given(created), to("in_progress"),
			given(ticket.TicketStatusChanged{Change: now, From: "open", To: "in_progress", Kind: ticket.KindOpen}), nil},
		{"open to pending", given(created), to("pending"),
			given(ticket.TicketStatusChanged{Change: now, From: "open", To: "pending", Kind: ticket.KindPending}), nil},
		{"resolving requests feedback", given(created), to("resolved"),
			given(ticket.TicketStatusChanged{Change: now, From: "open", To: "resolved", Kind: ticket.KindResolved, FeedbackRequested: true}), nil},
		{"another resolved status does not ask again", given(created, resolved), func(tk *ticket.Ticket) error {
			return tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "solved"}, custom, noon)
		}, given(ticket.TicketStatusChanged{Change: now, From: "resolved", To: "solved", Kind: ticket.KindResolved}), nil},
		{"resolved back to open", given(created, resolved), to("open"),
			given(ticket.TicketStatusChanged{Change: now, From: "resolved", To: "open", Kind: ticket.KindOpen}), nil},
		{"close", given(created), to("closed"),
			given(ticket.TicketStatusChanged{Change: now, From: "open", To: "closed", Kind: ticket.KindClosed}), nil},
		{"same status: no event", given(created), to("open"), nil, nil},
		{"unknown status", given(created), to("waiting"), nil, ticket.ErrUnknownStatus},
		{"empty status", given(created), to(""), nil, ticket.ErrUnknownStatus},
		{"close a closed ticket", given(created, closed), to("closed"), nil, ticket.ErrAlreadyClosed},
		{"close a closed ticket with another closed status", given(created, closed), func(tk *ticket.Ticket) error {
			return tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "spam"}, custom, noon)
		}, nil, ticket.ErrAlreadyClosed},
		{"a closed ticket leaves closed only by Reopen", given(created, closed), to("open"), nil, ticket.ErrClosed},
		{"unknown status beats closed", given(created, closed), to("waiting"), nil, ticket.ErrUnknownStatus},
		{"no ticket", nil, to("open"), nil, ticket.ErrNotFound},
	})
}

func TestTicket_Reopen(t *testing.T) {
	reopen := func(status string) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.Reopen(ticket.Reopen{By: agent, Source: api, Status: status}, cfg, noon)
		}
	}
	run(t, []scenario{
		{"to the default status", given(created, closed), reopen(""),
			given(ticket.TicketReopened{Change: now, From: "closed", To: "open", Kind: ticket.KindOpen}), nil},
		{"to a chosen open status", given(created, closed), reopen("in_progress"),
			given(ticket.TicketReopened{Change: now, From: "closed", To: "in_progress", Kind: ticket.KindOpen}), nil},
		{"to a pending status", given(created, closed), reopen("pending"),
			given(ticket.TicketReopened{Change: now, From: "closed", To: "pending", Kind: ticket.KindPending}), nil},
		{"then it can change again", given(created, closed, ticket.TicketReopened{Change: before, From: "closed", To: "open", Kind: ticket.KindOpen}),
			func(tk *ticket.Ticket) error {
				return tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "closed"}, cfg, noon)
			}, given(ticket.TicketStatusChanged{Change: now, From: "open", To: "closed", Kind: ticket.KindClosed}), nil},
		{"to a resolved status", given(created, closed), reopen("resolved"), nil, ticket.ErrInvalidField.At("status")},
		{"to a closed status", given(created, closed), reopen("closed"), nil, ticket.ErrInvalidField.At("status")},
		{"to an unknown status", given(created, closed), reopen("waiting"), nil, ticket.ErrUnknownStatus},
		{"an open ticket", given(created), reopen(""), nil, ticket.ErrNotClosed},
		{"a resolved ticket", given(created, resolved), reopen(""), nil, ticket.ErrNotClosed},
		{"no ticket", nil, reopen(""), nil, ticket.ErrNotFound},
	})
}

func TestTicket_ChangePriority(t *testing.T) {
	to := func(p ticket.Priority) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.ChangePriority(ticket.ChangePriority{By: agent, Source: api, Priority: p}, noon)
		}
	}
	run(t, []scenario{
		{"raise", given(created), to(ticket.PriorityUrgent),
			given(ticket.TicketPriorityChanged{Change: now, From: ticket.PriorityLow, To: ticket.PriorityUrgent}), nil},
		{"same: no event", given(created), to(ticket.PriorityLow), nil, nil},
		{"unknown", given(created), to("critical"), nil, ticket.ErrUnknownPriority},
		{"wrong case", given(created), to("High"), nil, ticket.ErrUnknownPriority},
		{"closed ticket", given(created, closed), to(ticket.PriorityHigh), nil, ticket.ErrClosed},
		{"no ticket", nil, to(ticket.PriorityHigh), nil, ticket.ErrNotFound},
	})
}

func TestTicket_Assign(t *testing.T) {
	assign := func(a domain.Actor) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.Assign(ticket.Assign{By: agent, Source: api, Assignee: a}, noon)
		}
	}
	renamedBob := bob
	renamedBob.Name = "Robert"
	run(t, []scenario{
		{"unassigned ticket", given(created), assign(bob),
			given(ticket.TicketAssigned{Change: now, Assignee: bob}), nil},
		{"reassign", given(created, assignedToBob), assign(agent),
			given(ticket.TicketAssigned{Change: now, Assignee: agent, Previous: &bob}), nil},
		{"same assignee: no event", given(created, assignedToBob), assign(bob), nil, nil},
		{"same id, new details", given(created, assignedToBob), assign(renamedBob),
			given(ticket.TicketAssigned{Change: now, Assignee: renamedBob, Previous: &bob}), nil},
		{"invalid assignee", given(created), assign(domain.Actor{Name: "Nobody", Kind: domain.ActorAgent}), nil, domain.ErrInvalidActor.At("assignee")},
		{"closed ticket", given(created, closed), assign(bob), nil, ticket.ErrClosed},
		{"no ticket", nil, assign(bob), nil, ticket.ErrNotFound},
	})
}

func TestTicket_Unassign(t *testing.T) {
	unassign := func(tk *ticket.Ticket) error {
		return tk.Unassign(ticket.Unassign{By: agent, Source: api}, noon)
	}
	run(t, []scenario{
		{"assigned ticket", given(created, assignedToBob), unassign,
			given(ticket.TicketUnassigned{Change: now, Previous: bob}), nil},
		{"unassigned ticket: no event", given(created), unassign, nil, nil},
		{"closed ticket", given(created, assignedToBob, closed), unassign, nil, ticket.ErrClosed},
		{"no ticket", nil, unassign, nil, ticket.ErrNotFound},
	})
}

func TestTicket_Categorize(t *testing.T) {
	to := func(cat, sub string) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.Categorize(ticket.Categorize{By: agent, Source: api, Category: cat, SubCategory: sub}, cfg, noon)
		}
	}
	run(t, []scenario{
		{"another sub-category", given(created), to("orders", "late"),
			given(ticket.TicketCategorized{Change: now, Category: "orders", SubCategory: "late", FromCategory: "orders", FromSubCategory: "damaged"}), nil},
		{"another category without sub-category", given(created), to("general", ""),
			given(ticket.TicketCategorized{Change: now, Category: "general", FromCategory: "orders", FromSubCategory: "damaged"}), nil},
		{"uncategorize", given(created), to("", ""),
			given(ticket.TicketCategorized{Change: now, FromCategory: "orders", FromSubCategory: "damaged"}), nil},
		{"same: no event", given(created), to("orders", "damaged"), nil, nil},
		{"unknown category", given(created), to("billing", ""), nil, ticket.ErrUnknownCategory},
		{"unknown sub-category", given(created), to("orders", "lost"), nil, ticket.ErrUnknownSubCategory},
		{"sub-category of another category", given(created), to("general", "late"), nil, ticket.ErrUnknownSubCategory},
		{"sub-category alone", given(created), to("", "late"), nil, ticket.ErrUnknownSubCategory},
		{"closed ticket", given(created, closed), to("general", ""), nil, ticket.ErrClosed},
		{"no ticket", nil, to("general", ""), nil, ticket.ErrNotFound},
	})
}

func TestTicket_Tag(t *testing.T) {
	tag := func(tags ...string) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error { return tk.Tag(ticket.Tag{By: agent, Source: api, Tags: tags}, noon) }
	}
	many := make([]string, ticket.MaxTags)
	for i := range many {
		many[i] = strings.Repeat("t", i+1)
	}
	run(t, []scenario{
		{"new tags, normalised, in order", given(created), tag(" Refund ", "VIP", "refund", "Late Delivery"),
			given(ticket.TicketTagged{Change: now, Tags: []string{"refund", "late delivery"}}), nil},
		{"only known tags: no event", given(created), tag("VIP"), nil, nil},
		{"no tags: no event", given(created), tag(), nil, nil},
		{"empty tag", given(created), tag("ok", "  "), nil, ticket.ErrInvalidTag.At("tags[1]")},
		{"tag too long", given(created), tag(strings.Repeat("x", ticket.MaxTagLength+1)), nil, ticket.ErrInvalidTag},
		{"control character", given(created), tag("a\x00b"), nil, ticket.ErrInvalidTag},
		{"too many tags", given(created), tag(many...), nil, ticket.ErrInvalidTag},
		{"closed ticket", given(created, closed), tag("x"), nil, ticket.ErrClosed},
		{"no ticket", nil, tag("x"), nil, ticket.ErrNotFound},
	})
}

func TestTicket_Untag(t *testing.T) {
	untag := func(tags ...string) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error { return tk.Untag(ticket.Untag{By: agent, Source: api, Tags: tags}, noon) }
	}
	tagged := ticket.TicketTagged{Change: before, Tags: []string{"refund", "late"}}
	run(t, []scenario{
		{"known tags, normalised", given(created, tagged), untag(" VIP ", "late", "unknown"),
			given(ticket.TicketUntagged{Change: now, Tags: []string{"vip", "late"}}), nil},
		{"unknown tags: no event", given(created), untag("nope"), nil, nil},
		{"empty tag", given(created), untag(""), nil, ticket.ErrInvalidTag},
		{"closed ticket", given(created, closed), untag("vip"), nil, ticket.ErrClosed},
		{"no ticket", nil, untag("vip"), nil, ticket.ErrNotFound},
	})
}

func TestTicket_MergeCustomFields(t *testing.T) {
	merge := func(patch map[string]json.RawMessage) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.MergeCustomFields(ticket.MergeCustomFields{By: agent, Source: api, Patch: patch}, noon)
		}
	}
	nested := ticket.CustomFieldsMerged{Change: before, Patch: map[string]json.RawMessage{"meta": raw(`{"a":1,"b":2}`)}}
	tooMany := map[string]json.RawMessage{}
	for i := range ticket.MaxCustomKeys {
		tooMany[strings.Repeat("k", i+1)] = raw(`1`)
	}
	run(t, []scenario{
		{"set, replace and delete", given(created), merge(map[string]json.RawMessage{
			"order_id": raw(`"FY124"`), "rma": raw(` { "n" : 7 } `), "ghost": raw(`null`),
		}), given(ticket.CustomFieldsMerged{Change: now, Patch: map[string]json.RawMessage{"order_id": raw(`"FY124"`), "rma": raw(`{"n":7}`)}}), nil},
		{"delete with null", given(created), merge(map[string]json.RawMessage{"order_id": raw(`null`)}),
			given(ticket.CustomFieldsMerged{Change: now, Patch: map[string]json.RawMessage{"order_id": raw(`null`)}}), nil},
		{"shallow: a nested object is replaced whole", given(created, nested), merge(map[string]json.RawMessage{"meta": raw(`{"a":3}`)}),
			given(ticket.CustomFieldsMerged{Change: now, Patch: map[string]json.RawMessage{"meta": raw(`{"a":3}`)}}), nil},
		{"equal in meaning: no event", given(created, nested), merge(map[string]json.RawMessage{"meta": raw(`{"b": 2, "a": 1}`), "order_id": raw(`"FY123"`)}), nil, nil},
		{"null for an absent key: no event", given(created), merge(map[string]json.RawMessage{"ghost": raw(`null`)}), nil, nil},
		{"empty patch: no event", given(created), merge(nil), nil, nil},
		{"HTML-sensitive text survives storage", given(created), merge(map[string]json.RawMessage{"note": raw(`"<b>&</b>"`)}),
			given(ticket.CustomFieldsMerged{Change: now, Patch: map[string]json.RawMessage{"note": raw(`"\u003cb\u003e\u0026\u003c/b\u003e"`)}}), nil},
		{"not JSON", given(created), merge(map[string]json.RawMessage{"x": raw(`{"a":`)}), nil, ticket.ErrInvalidField.At("custom.x")},
		{"empty value", given(created), merge(map[string]json.RawMessage{"x": nil}), nil, ticket.ErrInvalidField.At("custom.x")},
		{"too many keys in the result", given(created), merge(tooMany), nil, ticket.ErrInvalidField.At("custom")},
		{"too large", given(created), merge(map[string]json.RawMessage{"big": raw(`"` + strings.Repeat("x", ticket.MaxJSONSize) + `"`)}), nil, ticket.ErrInvalidField.At("custom")},
		{"closed ticket", given(created, closed), merge(map[string]json.RawMessage{"x": raw(`1`)}), nil, ticket.ErrClosed},
		{"no ticket", nil, merge(map[string]json.RawMessage{"x": raw(`1`)}), nil, ticket.ErrNotFound},
	})
}

func TestTicket_LogHistory(t *testing.T) {
	logEntry := func(id string, typ ticket.HistoryType, value string, vis ticket.Visibility) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.LogHistory(ticket.LogHistory{By: agent, Source: api, EntryID: id, Type: typ, Value: raw(value), Visibility: vis}, noon)
		}
	}
	logged := ticket.HistoryLogged{Change: before, EntryID: entryID, Type: ticket.HistoryComment, Value: raw(`{"text":"hi"}`), Visibility: ticket.Public}
	run(t, []scenario{
		{"public comment by default", given(created), logEntry(entryID, ticket.HistoryComment, `{ "text": "On its way" }`, ""),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryComment, Value: raw(`{"text":"On its way"}`), Visibility: ticket.Public}), nil},
		{"internal comment", given(created), logEntry(entryID, ticket.HistoryComment, `{"text":"customer is VIP"}`, ticket.Internal),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryComment, Value: raw(`{"text":"customer is VIP"}`), Visibility: ticket.Internal}), nil},
		{"log", given(created), logEntry(entryID, ticket.HistoryLog, `{"message":"sla breached"}`, ""),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryLog, Value: raw(`{"message":"sla breached"}`), Visibility: ticket.Public}), nil},
		{"thread", given(created), logEntry(entryID, ticket.HistoryThread, `{}`, ""),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryThread, Value: raw(`{}`), Visibility: ticket.Public}), nil},
		{"rating ends pending feedback", given(created, resolved), logEntry(entryID, ticket.HistoryRating, `{"rating":4.5}`, ""),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryRating, Value: raw(`{"rating":4.5}`), Visibility: ticket.Public}), nil},
		{"rating without a rating member", given(created), logEntry(entryID, ticket.HistoryRating, `{"stars":"many"}`, ""),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryRating, Value: raw(`{"stars":"many"}`), Visibility: ticket.Public}), nil},
		{"on a closed ticket", given(created, closed), logEntry(entryID, ticket.HistoryComment, `{"text":"thanks"}`, ""),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID, Type: ticket.HistoryComment, Value: raw(`{"text":"thanks"}`), Visibility: ticket.Public}), nil},
		{"second entry", given(created, logged), logEntry(entryID2, ticket.HistoryComment, `{"text":"again"}`, ""),
			given(ticket.HistoryLogged{Change: now, EntryID: entryID2, Type: ticket.HistoryComment, Value: raw(`{"text":"again"}`), Visibility: ticket.Public}), nil},
		{"rating 0", given(created), logEntry(entryID, ticket.HistoryRating, `{"rating":0}`, ""), nil, ticket.ErrInvalidRating},
		{"rating 6", given(created), logEntry(entryID, ticket.HistoryRating, `{"rating":6}`, ""), nil, ticket.ErrInvalidRating},
		{"rating not a number", given(created), logEntry(entryID, ticket.HistoryRating, `{"rating":"5"}`, ""), nil, ticket.ErrInvalidRating},
		{"unknown type", given(created), logEntry(entryID, "note", `{}`, ""), nil, ticket.ErrUnknownHistoryType},
		{"unknown visibility", given(created), logEntry(entryID, ticket.HistoryComment, `{}`, "private"), nil, ticket.ErrUnknownVisibility},
		{"value not an object", given(created), logEntry(entryID, ticket.HistoryComment, `"hello"`, ""), nil, ticket.ErrInvalidField.At("value")},
		{"value not JSON", given(created), logEntry(entryID, ticket.HistoryComment, `{`, ""), nil, ticket.ErrInvalidField.At("value")},
		{"value too large", given(created), logEntry(entryID, ticket.HistoryComment, `{"t":"`+strings.Repeat("x", ticket.MaxJSONSize)+`"}`, ""), nil, ticket.ErrInvalidField.At("value")},
		{"entry id not a UUID", given(created), logEntry("1", ticket.HistoryComment, `{}`, ""), nil, ticket.ErrInvalidField.At("entry_id")},
		{"entry id used", given(created, logged), logEntry(entryID, ticket.HistoryComment, `{}`, ""), nil, ticket.ErrDuplicateID},
		{"no ticket", nil, logEntry(entryID, ticket.HistoryComment, `{}`, ""), nil, ticket.ErrNotFound},
	})
}

func TestTicket_AddActivity(t *testing.T) {
	add := func(id, text string, dir ticket.Direction) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.AddActivity(ticket.AddActivity{By: agent, Source: api, ActivityID: id, Text: text, Direction: dir}, noon)
		}
	}
	added := ticket.ActivityAdded{Change: before, ActivityID: entryID, Text: "x", Direction: ticket.Inbound}
	run(t, []scenario{
		{"inbound", given(created), add(entryID, " The lead submitted the ticket through our portal ", ticket.Inbound),
			given(ticket.ActivityAdded{Change: now, ActivityID: entryID, Text: "The lead submitted the ticket through our portal", Direction: ticket.Inbound}), nil},
		{"outbound on a closed ticket", given(created, closed), add(entryID, "We replied", ticket.Outbound),
			given(ticket.ActivityAdded{Change: now, ActivityID: entryID, Text: "We replied", Direction: ticket.Outbound}), nil},
		{"empty text", given(created), add(entryID, "  ", ticket.Inbound), nil, ticket.ErrInvalidField.At("text")},
		{"text too long", given(created), add(entryID, strings.Repeat("x", ticket.MaxTextLength+1), ticket.Inbound), nil, ticket.ErrInvalidField.At("text")},
		{"unknown direction", given(created), add(entryID, "x", "inbound"), nil, ticket.ErrUnknownDirection},
		{"no direction", given(created), add(entryID, "x", ""), nil, ticket.ErrUnknownDirection},
		{"id not a UUID", given(created), add("1", "x", ticket.Inbound), nil, ticket.ErrInvalidField.At("activity_id")},
		{"id used", given(created, added), add(entryID, "x", ticket.Inbound), nil, ticket.ErrDuplicateID},
		{"no ticket", nil, add(entryID, "x", ticket.Inbound), nil, ticket.ErrNotFound},
	})
}

func TestTicket_SubmitFeedback(t *testing.T) {
	submit := func(rating int, comment string) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.SubmitFeedback(ticket.SubmitFeedback{By: customer, Source: domain.SourceSalesChannel, Rating: rating, Comment: comment}, noon)
		}
	}
	byCustomer := domain.Change{By: customer, Source: domain.SourceSalesChannel, At: noon}
	run(t, []scenario{
		{"requested feedback", given(created, resolved), submit(5, " Quick and kind "),
			given(ticket.FeedbackSubmitted{Change: byCustomer, Rating: 5, Comment: "Quick and kind"}), nil},
		{"on a closed ticket", given(created, closed), submit(1, ""),
			given(ticket.FeedbackSubmitted{Change: byCustomer, Rating: 1}), nil},
		{"unrequested feedback", given(created), submit(3, ""),
			given(ticket.FeedbackSubmitted{Change: byCustomer, Rating: 3}), nil},
		{"rating 0", given(created, resolved), submit(0, ""), nil, ticket.ErrInvalidRating},
		{"rating 6", given(created, resolved), submit(6, ""), nil, ticket.ErrInvalidRating},
		{"comment too long", given(created, resolved), submit(4, strings.Repeat("x", ticket.MaxTextLength+1)), nil, ticket.ErrInvalidField.At("comment")},
		{"no ticket", nil, submit(5, ""), nil, ticket.ErrNotFound},
	})
}

func TestTicket_AddAttachment(t *testing.T) {
	attach := func(a ticket.Attachment) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.AddAttachment(ticket.AddAttachment{By: agent, Source: api, Attachment: a}, noon)
		}
	}
	file := ticket.Attachment{Type: ticket.AssetFile, Value: "/v1/attachments/" + fileID, Display: "log.txt",
		File: &ticket.File{ID: fileID, Filename: "log.txt", ContentType: "text/plain", Size: 12, SHA256: sha}}
	withFile := ticket.AttachmentAdded{Change: before, Attachment: file}
	var full []domain.Event
	full = append(full, created)
	for range ticket.MaxAttachments {
		full = append(full, ticket.AttachmentAdded{Change: before, Attachment: ticket.Attachment{Type: ticket.AssetOrder, Value: "FY1"}})
	}
	run(t, []scenario{
		{"an uploaded file", given(created), attach(file),
			given(ticket.AttachmentAdded{Change: now, Attachment: file}), nil},
		{"an order reference", given(created), attach(ticket.Attachment{Type: ticket.AssetOrder, Value: " FY123 "}),
			given(ticket.AttachmentAdded{Change: now, Attachment: ticket.Attachment{Type: ticket.AssetOrder, Value: "FY123"}}), nil},
		{"unknown asset type", given(created), attach(ticket.Attachment{Type: "pdf", Value: "x"}), nil, ticket.ErrUnknownAssetType},
		{"no value", given(created), attach(ticket.Attachment{Type: ticket.AssetImage}), nil, ticket.ErrInvalidField.At("attachment.value")},
		{"file id not a UUID", given(created), attach(ticket.Attachment{Type: ticket.AssetFile, Value: "x",
			File: &ticket.File{ID: "f", Filename: "a", ContentType: "text/plain", SHA256: sha}}), nil, ticket.ErrInvalidField.At("attachment.file.id")},
		{"negative size", given(created), attach(ticket.Attachment{Type: ticket.AssetFile, Value: "x",
			File: &ticket.File{ID: fileID, Filename: "a", ContentType: "text/plain", Size: -1, SHA256: sha}}), nil, ticket.ErrInvalidField.At("attachment.file.size")},
		{"no content type", given(created), attach(ticket.Attachment{Type: ticket.AssetFile, Value: "x",
			File: &ticket.File{ID: fileID, Filename: "a", SHA256: sha}}), nil, ticket.ErrInvalidField.At("attachment.file.content_type")},
		{"file id used", given(created, withFile), attach(file), nil, ticket.ErrDuplicateID},
		{"too many attachments", full, attach(file), nil, ticket.ErrInvalidField.At("attachments")},
		{"closed ticket", given(created, closed), attach(file), nil, ticket.ErrClosed},
		{"no ticket", nil, attach(file), nil, ticket.ErrNotFound},
	})
}

func TestTicket_LinkReferences(t *testing.T) {
	link := func(r ticket.References) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.LinkReferences(ticket.LinkReferences{By: agent, Source: api, References: r}, noon)
		}
	}
	linked := ticket.ReferencesLinked{Change: before, References: ticket.References{LeadID: "lead-1", ContactEmail: "a@example.com"}}
	run(t, []scenario{
		{"new references, normalised", given(created), link(ticket.References{SupportTicketID: " 345 ", ContactEmail: "Sudipta@Example.com"}),
			given(ticket.ReferencesLinked{Change: now, References: ticket.References{SupportTicketID: "345", ContactEmail: "sudipta@example.com"}}), nil},
		{"only changed fields recorded", given(created, linked), link(ticket.References{LeadID: "lead-1", ContactEmail: "b@example.com"}),
			given(ticket.ReferencesLinked{Change: now, References: ticket.References{ContactEmail: "b@example.com"}}), nil},
		{"on a closed ticket", given(created, closed), link(ticket.References{DeviceID: "7237F578-828D-43D9-995D-F8B7AC8A4881"}),
			given(ticket.ReferencesLinked{Change: now, References: ticket.References{DeviceID: "7237F578-828D-43D9-995D-F8B7AC8A4881"}}), nil},
		{"same references: no event", given(created, linked), link(ticket.References{LeadID: "lead-1"}), nil, nil},
		{"nothing: no event", given(created), link(ticket.References{}), nil, nil},
		{"bad email", given(created), link(ticket.References{ContactEmail: "x"}), nil, ticket.ErrInvalidEmail},
		{"bad phone", given(created), link(ticket.References{ContactPhone: "12"}), nil, ticket.ErrInvalidField.At("references.contact_phone")},
		{"too long", given(created), link(ticket.References{LeadID: strings.Repeat("l", ticket.MaxReferenceLength+1)}), nil, ticket.ErrInvalidField.At("references.lead_id")},
		{"no ticket", nil, link(ticket.References{LeadID: "x"}), nil, ticket.ErrNotFound},
	})
}

func TestTicket_LinkCustomer(t *testing.T) {
	const lead, contact = "44444444-4444-4444-8444-444444444444", "55555555-5555-4555-8555-555555555555"
	byEmail := &ticket.CustomerIdentity{Kind: "email", Value: "cara@example.com"}
	link := func(id, code string, via *ticket.CustomerIdentity) func(*ticket.Ticket) error {
		return func(tk *ticket.Ticket) error {
			return tk.LinkCustomer(ticket.LinkCustomer{By: agent, Source: api, CustomerID: id, Code: code, Via: via}, noon)
		}
	}
	linked := ticket.CustomerLinked{Change: before, CustomerID: lead, Code: "LID-1", Via: byEmail}
	run(t, []scenario{
		{"first customer", given(created), link(lead, " LID-1 ", &ticket.CustomerIdentity{Kind: " email", Value: "cara@example.com "}),
			given(ticket.CustomerLinked{Change: now, CustomerID: lead, Code: "LID-1", Via: byEmail}), nil},
		{"named outright", given(created), link(lead, "LID-1", nil),
			given(ticket.CustomerLinked{Change: now, CustomerID: lead, Code: "LID-1"}), nil},
		{"same customer again: no event", given(created, linked), link(lead, "PID-9", nil), nil, nil},
		{"another customer replaces it", given(created, linked), link(contact, "PID-2", nil),
			given(ticket.CustomerLinked{Change: now, CustomerID: contact, Code: "PID-2", Previous: &ticket.CustomerRef{ID: lead, Code: "LID-1"}}), nil},
		{"on a closed ticket", given(created, closed), link(lead, "LID-1", nil),
			given(ticket.CustomerLinked{Change: now, CustomerID: lead, Code: "LID-1"}), nil},
		{"bad customer id", given(created), link("LID-1", "LID-1", nil), nil, ticket.ErrInvalidField.At("customer_id")},
		{"via without a value", given(created), link(lead, "LID-1", &ticket.CustomerIdentity{Kind: "email"}), nil, ticket.ErrInvalidField.At("via")},
		{"code too long", given(created), link(lead, strings.Repeat("x", ticket.MaxReferenceLength+1), nil), nil, ticket.ErrInvalidField.At("code")},
		{"no ticket", nil, link(lead, "LID-1", nil), nil, ticket.ErrNotFound},
	})
}

func TestTicket_CustomerInSnapshot(t *testing.T) {
	const lead, contact = "44444444-4444-4444-8444-444444444444", "55555555-5555-4555-8555-555555555555"
	history := given(created)
	tk := ticket.Rehydrate(history, int64(len(history)))
	if got := tk.Snapshot().Customer; got != nil {
		t.Fatalf("Customer before any link = %+v, want nil", got)
	}
	history = given(created, ticket.CustomerLinked{Change: before, CustomerID: lead, Code: "LID-1"},
		ticket.CustomerLinked{Change: now, CustomerID: contact, Code: "PID-2"})
	tk = ticket.Rehydrate(history, int64(len(history)))
	want := &ticket.CustomerRef{ID: contact, Code: "PID-2"}
	if got := tk.Snapshot().Customer; got == nil || *got != *want {
		t.Fatalf("Customer = %+v, want %+v", got, want)
	}
	// Evolve keeps the link through events that do not touch it.
	s := ticket.Evolve(tk.Snapshot(), ticket.TicketTagged{Change: now, Tags: []string{"x"}})
	if s.Customer == nil || *s.Customer != *want {
		t.Fatalf("Evolve(...).Customer = %+v, want %+v", s.Customer, want)
	}
}

// TestCommands_CheckActorSourceAndTime runs every command with a bad actor,
// a bad source and a zero time.
func TestCommands_CheckActorSourceAndTime(t *testing.T) {
	type cmd func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error
	commands := map[string]cmd{
		"EditContent": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.EditContent(ticket.EditContent{By: by, Source: src, Title: ptr("x")}, at)
		},
		"ChangeStatus": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.ChangeStatus(ticket.ChangeStatus{By: by, Source: src, Status: "pending"}, cfg, at)
		},
		"Reopen": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.Reopen(ticket.Reopen{By: by, Source: src}, cfg, at)
		},
		"ChangePriority": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.ChangePriority(ticket.ChangePriority{By: by, Source: src, Priority: ticket.PriorityHigh}, at)
		},
		"Assign": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.Assign(ticket.Assign{By: by, Source: src, Assignee: bob}, at)
		},
		"Unassign": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.Unassign(ticket.Unassign{By: by, Source: src}, at)
		},
		"Categorize": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.Categorize(ticket.Categorize{By: by, Source: src, Category: "general"}, cfg, at)
		},
		"Tag": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.Tag(ticket.Tag{By: by, Source: src, Tags: []string{"x"}}, at)
		},
		"Untag": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.Untag(ticket.Untag{By: by, Source: src, Tags: []string{"vip"}}, at)
		},
		"MergeCustomFields": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.MergeCustomFields(ticket.MergeCustomFields{By: by, Source: src, Patch: map[string]json.RawMessage{"x": raw(`1`)}}, at)
		},
		"LogHistory": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.LogHistory(ticket.LogHistory{By: by, Source: src, EntryID: entryID, Type: ticket.HistoryLog, Value: raw(`{}`)}, at)
		},
		"AddActivity": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.AddActivity(ticket.AddActivity{By: by, Source: src, ActivityID: entryID, Text: "x", Direction: ticket.Inbound}, at)
		},
		"SubmitFeedback": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.SubmitFeedback(ticket.SubmitFeedback{By: by, Source: src, Rating: 5}, at)
		},
		"AddAttachment": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.AddAttachment(ticket.AddAttachment{By: by, Source: src, Attachment: ticket.Attachment{Type: ticket.AssetOrder, Value: "FY1"}}, at)
		},
		"LinkReferences": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.LinkReferences(ticket.LinkReferences{By: by, Source: src, References: ticket.References{LeadID: "l"}}, at)
		},
		"LinkCustomer": func(tk *ticket.Ticket, by domain.Actor, src domain.Source, at time.Time) error {
			return tk.LinkCustomer(ticket.LinkCustomer{By: by, Source: src, CustomerID: entryID2, Code: "LID-1"}, at)
		},
	}
	for name, c := range commands {
		t.Run(name, func(t *testing.T) {
			history := given(created)
			if name == "Reopen" {
				history = given(created, closed)
			}
			if name == "Unassign" {
				history = given(created, assignedToBob)
			}
			for _, bad := range []struct {
				what    string
				by      domain.Actor
				src     domain.Source
				at      time.Time
				wantErr error
			}{
				{"bad actor", domain.Actor{Kind: "robot"}, api, noon, domain.ErrInvalidActor},
				{"bad source", agent, "fax", noon, domain.ErrUnknownSource},
				{"no source", agent, "", noon, domain.ErrUnknownSource},
			} {
				tk := ticket.Rehydrate(history, int64(len(history)))
				domaintest.CheckErr(t, c(tk, bad.by, bad.src, bad.at), bad.wantErr)
				if len(tk.Pending()) != 0 {
					t.Fatalf("%s: recorded %s", bad.what, show(tk.Pending()))
				}
			}
			tk := ticket.Rehydrate(history, int64(len(history)))
			if err := c(tk, agent, api, time.Time{}); err == nil || domain.KindOf(err) != domain.Internal {
				t.Fatalf("zero time: got %v, want an Internal error", err)
			}
			tk = ticket.Rehydrate(history, int64(len(history)))
			if err := c(tk, agent, api, noon); err != nil || len(tk.Pending()) != 1 {
				t.Fatalf("valid command: got %v and %d events, want nil and 1", err, len(tk.Pending()))
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := map[int64]string{1: "#001", 34: "#034", 999: "#999", 1234: "#1234", 1234567: "#1234567"}
	for n, want := range tests {
		if got := ticket.Key(n); got != want {
			t.Errorf("Key(%d) = %q, want %q", n, got, want)
		}
		if got, ok := ticket.ParseKey(want); !ok || got != n {
			t.Errorf("ParseKey(%q) = %d, %v; want %d, true", want, got, ok, n)
		}
	}
	for _, s := range []string{"34", "034"} {
		if got, ok := ticket.ParseKey(s); !ok || got != 34 {
			t.Errorf("ParseKey(%q) = %d, %v; want 34, true", s, got, ok)
		}
	}
	for _, s := range []string{"", "#", "#0", "-3", "+3", "#x", ticketID} {
		if got, ok := ticket.ParseKey(s); ok {
			t.Errorf("ParseKey(%q) = %d, true; want false", s, got)
		}
	}
}

func TestParsePriority(t *testing.T) {
	for in, want := range map[string]ticket.Priority{"low": ticket.PriorityLow, " Low ": ticket.PriorityLow, "URGENT": ticket.PriorityUrgent} {
		if got, err := ticket.ParsePriority(in); err != nil || got != want {
			t.Errorf("ParsePriority(%q) = %q, %v; want %q, nil", in, got, err, want)
		}
	}
	if _, err := ticket.ParsePriority("critical"); !errors.Is(err, ticket.ErrUnknownPriority) {
		t.Errorf("ParsePriority(critical) = %v, want ErrUnknownPriority", err)
	}
}
