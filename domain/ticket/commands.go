package ticket

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// Commands. Every command names who issues it (By) and through which
// channel (Source); both are recorded in the resulting event, with the time
// the caller passes in.
//
// Rules shared by all ticket commands:
//   - On a ticket that does not exist they return ErrNotFound.
//   - Input is checked before state: a malformed command fails with an
//     Invalid error even on a closed ticket.
//   - A command that would change nothing (assigning the current assignee,
//     tagging with tags the ticket has, setting the current status, ...)
//     succeeds and records no event; callers then have nothing to append.
//   - On a closed ticket only Reopen, LogHistory, AddActivity,
//     SubmitFeedback and LinkReferences work; the others return ErrClosed
//     (and ChangeStatus to a closed status returns ErrAlreadyClosed).
type (
	// CreateTicket opens a ticket. ID (a lower-case UUID) and Number (the
	// tenant's next readable number, from 1) are chosen by the caller.
	// Empty Priority means DefaultPriority; empty Status means the tenant's
	// DefaultStatus; empty Category means uncategorized. CreatedBy is the
	// ticket's creator as the client states it (Fynd's created_by); nil
	// means By.
	CreateTicket struct {
		By          domain.Actor
		Source      domain.Source
		ID          string
		TenantID    string
		Number      int64
		Title       string
		Description string
		Category    string
		SubCategory string
		Priority    Priority
		Status      string
		Channel     string
		Tags        []string
		Custom      map[string]json.RawMessage
		CreatedBy   *domain.Actor
		Assignee    *domain.Actor
		Subscribers []string
		Attachments []Attachment
		References  References
		UserAgent   string
		Form        *FormResponse
		Integration map[string]json.RawMessage
	}

	// EditContent changes the title, the description or both; nil leaves a
	// field as it is.
	EditContent struct {
		By          domain.Actor
		Source      domain.Source
		Title       *string
		Description *string
	}

	// ChangeStatus moves the ticket to a configured status. Entering a
	// status of kind resolved makes feedback pending. A closed ticket
	// leaves closed only through Reopen.
	ChangeStatus struct {
		By     domain.Actor
		Source domain.Source
		Status string
	}

	// Reopen moves a closed ticket to Status, which must be of kind open or
	// pending; empty means the tenant's DefaultStatus.
	Reopen struct {
		By     domain.Actor
		Source domain.Source
		Status string
	}

	// ChangePriority sets the priority.
	ChangePriority struct {
		By       domain.Actor
		Source   domain.Source
		Priority Priority
	}

	// Assign gives the ticket to Assignee.
	Assign struct {
		By       domain.Actor
		Source   domain.Source
		Assignee domain.Actor
	}

	// Unassign takes the ticket from its assignee.
	Unassign struct {
		By     domain.Actor
		Source domain.Source
	}

	// Categorize sets the category and sub-category; both empty means
	// uncategorized.
	Categorize struct {
		By          domain.Actor
		Source      domain.Source
		Category    string
		SubCategory string
	}

	// Tag adds tags (trimmed, lower-cased; ones the ticket has are ignored).
	Tag struct {
		By     domain.Actor
		Source domain.Source
		Tags   []string
	}

	// Untag removes tags (normalised like Tag; ones the ticket lacks are
	// ignored).
	Untag struct {
		By     domain.Actor
		Source domain.Source
		Tags   []string
	}

	// MergeCustomFields merges Patch into the custom fields (_custom_json)
	// one level deep: each key is replaced by its value, or deleted when the
	// value is JSON null.
	MergeCustomFields struct {
		By     domain.Actor
		Source domain.Source
		Patch  map[string]json.RawMessage
	}

	// LogHistory adds a history entry. EntryID (a lower-case UUID) is chosen
	// by the caller and unique on the ticket. Value must be a JSON object;
	// for a rating, a "rating" member, if present, must be a number from 1
	// to 5, and the entry ends pending feedback. Empty Visibility means
	// Public.
	LogHistory struct {
		By         domain.Actor
		Source     domain.Source
		EntryID    string
		Type       HistoryType
		Value      json.RawMessage
		Visibility Visibility
	}

	// AddActivity records a portal activity. ActivityID (a lower-case UUID)
	// is chosen by the caller and unique on the ticket; Text is trimmed and
	// must not be empty.
	AddActivity struct {
		By         domain.Actor
		Source     domain.Source
		ActivityID string
		Text       string
		Direction  Direction
	}

	// SubmitFeedback records the customer's rating (1 to 5) and an optional
	// comment, and ends pending feedback. Feedback is accepted whether or
	// not it was requested; a later submission replaces the earlier one.
	SubmitFeedback struct {
		By      domain.Actor
		Source  domain.Source
		Rating  int
		Comment string
	}

	// AddAttachment attaches an asset or, with File set, an uploaded file
	// whose id is unique on the ticket.
	AddAttachment struct {
		By         domain.Actor
		Source     domain.Source
		Attachment Attachment
	}

	// LinkReferences sets the non-empty fields of References (ids in other
	// systems, contact details). It cannot clear a reference.
	LinkReferences struct {
		By         domain.Actor
		Source     domain.Source
		References References
	}

	// LinkCustomer links the ticket to the CRM customer CustomerID (a
	// lower-case UUID) whose readable code is Code, found by the identity
	// Via (nil when the customer was named outright). A ticket has one
	// customer; linking another replaces it.
	LinkCustomer struct {
		By         domain.Actor
		Source     domain.Source
		CustomerID string
		Code       string
		Via        *CustomerIdentity
	}
)

// New decides CreateTicket against the tenant's configuration and returns
// the new ticket, whose Pending holds one TicketCreated. It checks every
// field and returns all problems joined (see domain.Errors).
func New(c CreateTicket, cfg Config, at time.Time) (*Ticket, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id %q is not a lower-case UUID", c.ID))
	}
	if c.TenantID == "" || len(c.TenantID) > 64 {
		errs = append(errs, ErrInvalidField.At("tenant_id").Withf("tenant_id must be 1..64 bytes"))
	}
	if c.Number < 1 {
		errs = append(errs, ErrInvalidField.At("number").Withf("number must be at least 1, got %d", c.Number))
	}
	title, err := normTitle(c.Title)
	errs = append(errs, err,
		checkText("description", c.Description, MaxDescriptionLength),
		checkCategory(cfg, c.Category, c.SubCategory))
	priority := c.Priority
	if priority == "" {
		priority = DefaultPriority
	}
	if !priority.Valid() {
		errs = append(errs, ErrUnknownPriority.At("priority").Withf("unknown priority %q; allowed: %s", c.Priority, list(Priorities())))
	}
	status := cfg.DefaultStatus()
	if c.Status != "" {
		status, err = lookupStatus(cfg, c.Status)
		errs = append(errs, err)
	}
	channel := strings.TrimSpace(c.Channel)
	errs = append(errs, checkText("channel", channel, MaxChannelLength))
	tags, err := normTags(c.Tags)
	errs = append(errs, err)
	if len(tags) > MaxTags {
		errs = append(errs, ErrInvalidTag.At("tags").Withf("%d tags, at most %d allowed", len(tags), MaxTags))
	}
	custom, err := normJSONMap("custom", c.Custom, false)
	errs = append(errs, err)
	createdBy := c.By
	if c.CreatedBy != nil {
		createdBy = *c.CreatedBy
		errs = append(errs, createdBy.Validate("created_by"))
	}
	var assignee *domain.Actor
	if c.Assignee != nil {
		a := *c.Assignee
		assignee = &a
		errs = append(errs, a.Validate("assignee"))
	}
	subscribers, err := normSubscribers(c.Subscribers)
	errs = append(errs, err)
	attachments, err := normAttachments(c.Attachments)
	errs = append(errs, err)
	refs, err := normRefs(c.References)
	errs = append(errs, err)
	errs = append(errs, checkText("user_agent", c.UserAgent, MaxUserAgentLength))
	form, err := normForm(c.Form)
	errs = append(errs, err)
	integration, err := normJSONMap("integration", c.Integration, false)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}

	t := &Ticket{}
	t.record(TicketCreated{
		Change: ch,
		ID:     c.ID, TenantID: c.TenantID, Number: c.Number,
		Title: title, Description: c.Description,
		Category: c.Category, SubCategory: c.SubCategory,
		Priority: priority, Status: status.Key, StatusKind: status.Kind,
		Channel: channel, Tags: tags, Custom: custom,
		CreatedBy: createdBy, Assignee: assignee, Subscribers: subscribers,
		Attachments: attachments, References: refs, UserAgent: c.UserAgent,
		Form: form, Integration: integration,
	})
	return t, nil
}

// start runs the checks every command shares: the ticket exists and the
// actor, source and time are valid.
func (t *Ticket) start(by domain.Actor, source domain.Source, at time.Time) (domain.Change, error) {
	if !t.Exists() {
		return domain.Change{}, ErrNotFound
	}
	return domain.NewChange(by, source, at)
}

func (t *Ticket) closed() bool { return t.statusKind == KindClosed }

// EditContent changes the title and/or the description.
func (t *Ticket) EditContent(c EditContent, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	var title string
	if c.Title != nil {
		if title, err = normTitle(*c.Title); err != nil {
			return err
		}
	}
	if c.Description != nil {
		if err := checkText("description", *c.Description, MaxDescriptionLength); err != nil {
			return err
		}
	}
	if t.closed() {
		return ErrClosed
	}
	e := TicketContentEdited{Change: ch}
	if c.Title != nil && title != t.title {
		e.Title = &title
	}
	if c.Description != nil && *c.Description != t.description {
		d := *c.Description
		e.Description = &d
	}
	if e.Title == nil && e.Description == nil {
		return nil
	}
	t.record(e)
	return nil
}

// ChangeStatus moves the ticket to a status configured in cfg. It returns
// ErrUnknownStatus for a key cfg lacks, ErrAlreadyClosed to close a closed
// ticket, and ErrClosed to move a closed ticket anywhere else.
func (t *Ticket) ChangeStatus(c ChangeStatus, cfg Config, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	st, err := lookupStatus(cfg, c.Status)
	if err != nil {
		return err
	}
	switch {
	case t.closed() && st.Kind == KindClosed:
		return ErrAlreadyClosed
	case t.closed():
		return ErrClosed.Withf("ticket is closed; reopen it to move it to %q", st.Key)
	case st.Key == t.status:
		return nil
	}
	t.record(TicketStatusChanged{
		Change: ch, From: t.status, To: st.Key, Kind: st.Kind,
		FeedbackRequested: st.Kind == KindResolved && t.statusKind != KindResolved,
	})
	return nil
}

// Reopen moves a closed ticket back to a status of kind open or pending. It
// returns ErrNotClosed when the ticket is not closed.
func (t *Ticket) Reopen(c Reopen, cfg Config, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	st := cfg.DefaultStatus()
	if c.Status != "" {
		if st, err = lookupStatus(cfg, c.Status); err != nil {
			return err
		}
	}
	if st.Kind != KindOpen && st.Kind != KindPending {
		return ErrInvalidField.At("status").Withf("reopen needs a status of kind open or pending; %q is %s", st.Key, st.Kind)
	}
	if !t.closed() {
		return ErrNotClosed
	}
	t.record(TicketReopened{Change: ch, From: t.status, To: st.Key, Kind: st.Kind})
	return nil
}

// ChangePriority sets the priority or returns ErrUnknownPriority.
func (t *Ticket) ChangePriority(c ChangePriority, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if !c.Priority.Valid() {
		return ErrUnknownPriority.At("priority").Withf("unknown priority %q; allowed: %s", c.Priority, list(Priorities()))
	}
	if t.closed() {
		return ErrClosed
	}
	if c.Priority == t.priority {
		return nil
	}
	t.record(TicketPriorityChanged{Change: ch, From: t.priority, To: c.Priority})
	return nil
}

// Assign gives the ticket to an assignee; assigning the current assignee
// (the same Actor in every field) records nothing.
func (t *Ticket) Assign(c Assign, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if err := c.Assignee.Validate("assignee"); err != nil {
		return err
	}
	if t.closed() {
		return ErrClosed
	}
	if t.assignee != nil && *t.assignee == c.Assignee {
		return nil
	}
	e := TicketAssigned{Change: ch, Assignee: c.Assignee}
	if t.assignee != nil {
		prev := *t.assignee
		e.Previous = &prev
	}
	t.record(e)
	return nil
}

// Unassign takes the ticket from its assignee, if it has one.
func (t *Ticket) Unassign(c Unassign, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if t.closed() {
		return ErrClosed
	}
	if t.assignee == nil {
		return nil
	}
	t.record(TicketUnassigned{Change: ch, Previous: *t.assignee})
	return nil
}

// Categorize sets the category and sub-category, checked against cfg
// (ErrUnknownCategory, ErrUnknownSubCategory).
func (t *Ticket) Categorize(c Categorize, cfg Config, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if err := checkCategory(cfg, c.Category, c.SubCategory); err != nil {
		return err
	}
	if t.closed() {
		return ErrClosed
	}
	if c.Category == t.category && c.SubCategory == t.subCategory {
		return nil
	}
	t.record(TicketCategorized{
		Change: ch, Category: c.Category, SubCategory: c.SubCategory,
		FromCategory: t.category, FromSubCategory: t.subCategory,
	})
	return nil
}

// Tag adds the tags the ticket lacks. It returns ErrInvalidTag for a
// malformed tag or when the ticket would carry more than MaxTags.
func (t *Ticket) Tag(c Tag, at time.Time) error {
	ch, added, err := t.tagChange(c.By, c.Source, c.Tags, at, false)
	if err != nil || len(added) == 0 {
		return err
	}
	if n := len(t.tags) + len(added); n > MaxTags {
		return ErrInvalidTag.At("tags").Withf("the ticket would carry %d tags, at most %d allowed", n, MaxTags)
	}
	t.record(TicketTagged{Change: ch, Tags: added})
	return nil
}

// Untag removes the tags the ticket has.
func (t *Ticket) Untag(c Untag, at time.Time) error {
	ch, removed, err := t.tagChange(c.By, c.Source, c.Tags, at, true)
	if err != nil || len(removed) == 0 {
		return err
	}
	t.record(TicketUntagged{Change: ch, Tags: removed})
	return nil
}

// tagChange runs the checks Tag and Untag share and returns the
// normalised tags that would change: those the ticket has (has) or lacks.
func (t *Ticket) tagChange(by domain.Actor, source domain.Source, raw []string, at time.Time, has bool) (domain.Change, []string, error) {
	ch, err := t.start(by, source, at)
	if err != nil {
		return domain.Change{}, nil, err
	}
	tags, err := normTags(raw)
	if err != nil {
		return domain.Change{}, nil, err
	}
	if t.closed() {
		return domain.Change{}, nil, ErrClosed
	}
	var changed []string
	for _, tag := range tags {
		if slices.Contains(t.tags, tag) == has {
			changed = append(changed, tag)
		}
	}
	return ch, changed, nil
}

// MergeCustomFields merges a patch into the custom fields. Entries that
// change nothing (a value equal in meaning to the current one, null for an
// absent key) are dropped; if none is left nothing is recorded. The result
// must stay within MaxCustomKeys and MaxJSONSize.
func (t *Ticket) MergeCustomFields(c MergeCustomFields, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	patch, err := normJSONMap("custom", c.Patch, true)
	if err != nil {
		return err
	}
	if t.closed() {
		return ErrClosed
	}
	merged := cloneMap(t.custom)
	for k, v := range patch {
		cur, ok := t.custom[k]
		switch {
		case isNull(v) && !ok, !isNull(v) && ok && jsonEqual(cur, v):
			delete(patch, k)
		case isNull(v):
			delete(merged, k)
		default:
			merged[k] = v
		}
	}
	if len(patch) == 0 {
		return nil
	}
	if len(merged) > MaxCustomKeys {
		return ErrInvalidField.At("custom").Withf("custom: %d keys, at most %d allowed", len(merged), MaxCustomKeys)
	}
	if err := checkJSONSize("custom", merged); err != nil {
		return err
	}
	t.record(CustomFieldsMerged{Change: ch, Patch: patch})
	return nil
}

// LogHistory adds a history entry; it works on closed tickets too. It
// returns ErrDuplicateID when the entry id is already used on the ticket.
func (t *Ticket) LogHistory(c LogHistory, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if err := checkID("entry_id", c.EntryID); err != nil {
		return err
	}
	if !c.Type.Valid() {
		return ErrUnknownHistoryType.At("type").Withf("unknown history type %q; allowed: %s", c.Type, list(HistoryTypes()))
	}
	vis := c.Visibility
	if vis == "" {
		vis = Public
	}
	if vis != Public && vis != Internal {
		return ErrUnknownVisibility.At("visibility").Withf("unknown visibility %q; allowed: public, internal", c.Visibility)
	}
	value, err := checkHistoryValue(c.Type, c.Value)
	if err != nil {
		return err
	}
	if t.usedIDs[c.EntryID] {
		return ErrDuplicateID.At("entry_id").Withf("history entry %s already exists on this ticket", c.EntryID)
	}
	t.record(HistoryLogged{Change: ch, EntryID: c.EntryID, Type: c.Type, Value: value, Visibility: vis})
	return nil
}

// AddActivity records a portal activity; it works on closed tickets too.
// It returns ErrDuplicateID when the activity id is already used.
func (t *Ticket) AddActivity(c AddActivity, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if err := checkID("activity_id", c.ActivityID); err != nil {
		return err
	}
	text := strings.TrimSpace(c.Text)
	if text == "" {
		return ErrInvalidField.At("text").Withf("text is required")
	}
	if err := checkText("text", text, MaxTextLength); err != nil {
		return err
	}
	if c.Direction != Inbound && c.Direction != Outbound {
		return ErrUnknownDirection.At("direction").Withf("unknown direction %q; allowed: INBOUND, OUTBOUND", c.Direction)
	}
	if t.usedIDs[c.ActivityID] {
		return ErrDuplicateID.At("activity_id").Withf("activity %s already exists on this ticket", c.ActivityID)
	}
	t.record(ActivityAdded{Change: ch, ActivityID: c.ActivityID, Text: text, Direction: c.Direction})
	return nil
}

// SubmitFeedback records the customer's rating; it works on closed tickets
// too. It returns ErrInvalidRating outside 1..5.
func (t *Ticket) SubmitFeedback(c SubmitFeedback, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if c.Rating < 1 || c.Rating > 5 {
		return ErrInvalidRating.At("rating").Withf("rating must be from 1 to 5, got %d", c.Rating)
	}
	comment := strings.TrimSpace(c.Comment)
	if err := checkText("comment", comment, MaxTextLength); err != nil {
		return err
	}
	t.record(FeedbackSubmitted{Change: ch, Rating: c.Rating, Comment: comment})
	return nil
}

// AddAttachment attaches an asset or an uploaded file. It returns
// ErrDuplicateID when the file id is already used on the ticket.
func (t *Ticket) AddAttachment(c AddAttachment, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	a, err := normAttachment("attachment", c.Attachment)
	if err != nil {
		return err
	}
	if t.closed() {
		return ErrClosed
	}
	if a.File != nil && t.usedIDs[a.File.ID] {
		return ErrDuplicateID.At("attachment.file.id").Withf("attachment %s already exists on this ticket", a.File.ID)
	}
	if len(t.attachments) >= MaxAttachments {
		return ErrInvalidField.At("attachments").Withf("a ticket has at most %d attachments", MaxAttachments)
	}
	t.record(AttachmentAdded{Change: ch, Attachment: a})
	return nil
}

// LinkReferences sets the given references; it works on closed tickets
// too. Fields equal to the current ones are left out of the event.
func (t *Ticket) LinkReferences(c LinkReferences, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	refs, err := normRefs(c.References)
	if err != nil {
		return err
	}
	var diff References
	keep := func(dst *string, v, cur string) {
		if v != "" && v != cur {
			*dst = v
		}
	}
	keep(&diff.LeadID, refs.LeadID, t.refs.LeadID)
	keep(&diff.CustomerID, refs.CustomerID, t.refs.CustomerID)
	keep(&diff.ContactName, refs.ContactName, t.refs.ContactName)
	keep(&diff.ContactEmail, refs.ContactEmail, t.refs.ContactEmail)
	keep(&diff.ContactPhone, refs.ContactPhone, t.refs.ContactPhone)
	keep(&diff.ClientTicketID, refs.ClientTicketID, t.refs.ClientTicketID)
	keep(&diff.SupportTicketID, refs.SupportTicketID, t.refs.SupportTicketID)
	keep(&diff.UserID, refs.UserID, t.refs.UserID)
	keep(&diff.DeviceID, refs.DeviceID, t.refs.DeviceID)
	if diff == (References{}) {
		return nil
	}
	t.record(ReferencesLinked{Change: ch, References: diff})
	return nil
}

// LinkCustomer links the ticket to a CRM customer; it works on closed
// tickets too (the link is bookkeeping, not a change of the conversation).
// Linking the customer the ticket already has records nothing, whatever
// Code and Via say, so that the process that links tickets may run the
// command again after a crash.
func (t *Ticket) LinkCustomer(c LinkCustomer, at time.Time) error {
	ch, err := t.start(c.By, c.Source, at)
	if err != nil {
		return err
	}
	var errs []error
	if !domain.ValidUUID(c.CustomerID) {
		errs = append(errs, ErrInvalidField.At("customer_id").Withf("customer_id %q is not a lower-case UUID", c.CustomerID))
	}
	code := strings.TrimSpace(c.Code)
	errs = append(errs, checkText("code", code, MaxReferenceLength))
	var via *CustomerIdentity
	if c.Via != nil {
		v := CustomerIdentity{Kind: strings.TrimSpace(c.Via.Kind), Value: strings.TrimSpace(c.Via.Value)}
		if v.Kind == "" || v.Value == "" {
			errs = append(errs, ErrInvalidField.At("via").Withf("via needs a kind and a value"))
		}
		errs = append(errs, checkText("via.kind", v.Kind, MaxReferenceLength), checkText("via.value", v.Value, MaxReferenceLength))
		via = &v
	}
	if err := domain.Join(errs...); err != nil {
		return err
	}
	if t.customer != nil && t.customer.ID == c.CustomerID {
		return nil
	}
	var prev *CustomerRef
	if t.customer != nil {
		p := *t.customer
		prev = &p
	}
	t.record(CustomerLinked{Change: ch, CustomerID: c.CustomerID, Code: code, Via: via, Previous: prev})
	return nil
}
