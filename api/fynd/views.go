package fynd

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/domain/videoroom"
)

// Ticket is Fynd's Ticket: exactly the documented members, always all of
// them.
type Ticket struct {
	ID                string                     `json:"_id"`
	Context           TicketContext              `json:"context"`
	CreatedOn         CreatedOn                  `json:"created_on"`
	ResponseID        string                     `json:"response_id"`
	Content           TicketContent              `json:"content"`
	Category          TicketCategory             `json:"category"`
	SubCategory       string                     `json:"sub_category"`
	Source            string                     `json:"source"`
	Status            Status                     `json:"status"`
	Priority          Priority                   `json:"priority"`
	CreatedBy         CreatedBy                  `json:"created_by"`
	AssignedTo        *AssignedTo                `json:"assigned_to"`
	Tags              []string                   `json:"tags"`
	CustomJSON        map[string]json.RawMessage `json:"_custom_json"`
	IsFeedbackPending bool                       `json:"is_feedback_pending"`
	Integration       map[string]json.RawMessage `json:"integration"`
	CreatedAt         string                     `json:"created_at"`
	UpdatedAt         string                     `json:"updated_at"`
}

// TicketContext is Fynd's TicketContext. CompanyID is a string, as Fynd
// sends it ("884").
type TicketContext struct {
	ApplicationID string `json:"application_id"`
	CompanyID     string `json:"company_id"`
}

// CreatedOn is Fynd's CreatedOn.
type CreatedOn struct {
	UserAgent string `json:"user_agent"`
}

// TicketContent is Fynd's TicketContent.
type TicketContent struct {
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Attachments []TicketAsset `json:"attachments"`
}

// TicketAsset is Fynd's TicketAsset.
type TicketAsset struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Display string `json:"display"`
}

// TicketCategory is Fynd's TicketCategory (key and display only).
type TicketCategory struct {
	Key     string `json:"key"`
	Display string `json:"display"`
}

// Status is Fynd's Status.
type Status struct {
	Key     string `json:"key"`
	Display string `json:"display"`
	Color   string `json:"color"`
}

// Priority is Fynd's Priority; Key is one of low, medium, high, urgent.
type Priority struct {
	Key     string `json:"key"`
	Display string `json:"display"`
	Color   string `json:"color"`
}

// CreatedBy is who created a ticket or a history entry, shaped like
// Fynd's sample: the user's id and the user.
type CreatedBy struct {
	ID   string `json:"id"`
	User User   `json:"user"`
}

// AssignedTo is the ticket's assignee, shaped like Fynd's sample: the
// agent's id beside the user's members.
type AssignedTo struct {
	AgentID string `json:"agent_id"`
	User
}

// User is the subset of Fynd's UserSchema Eventdesk knows of a person.
type User struct {
	ID        string  `json:"_id"`
	FirstName string  `json:"first_name,omitempty"`
	LastName  string  `json:"last_name,omitempty"`
	Emails    []Email `json:"emails,omitempty"`
}

// Email is Fynd's Email.
type Email struct {
	Email   string `json:"email"`
	Primary bool   `json:"primary"`
}

// Participant is Fynd's Participant.
type Participant struct {
	Identity string `json:"identity"`
	Status   string `json:"status"`
	User     User   `json:"user"`
}

// Participants is Fynd's GetParticipantsInsideVideoRoomResponse.
type Participants struct {
	Participants []Participant `json:"participants"`
}

// VideoToken is Fynd's GetTokenForVideoRoomResponse.
type VideoToken struct {
	AccessToken string `json:"access_token"`
}

// TicketHistory is Fynd's TicketHistory.
type TicketHistory struct {
	ID        string          `json:"_id"`
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
	TicketID  string          `json:"ticket_id"`
	CreatedOn CreatedOn       `json:"created_on"`
	CreatedBy CreatedBy       `json:"created_by"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
}

// CustomForm is Fynd's CustomForm. PollForAssignment is left out when the
// form has none (Fynd's schemas allow it absent, not null).
type CustomForm struct {
	ID                string                  `json:"_id"`
	ApplicationID     string                  `json:"application_id"`
	Slug              string                  `json:"slug"`
	HeaderImage       string                  `json:"header_image"`
	Title             string                  `json:"title"`
	Description       string                  `json:"description"`
	Priority          Priority                `json:"priority"`
	LoginRequired     bool                    `json:"login_required"`
	ShouldNotify      bool                    `json:"should_notify"`
	SuccessMessage    string                  `json:"success_message"`
	SubmitButton      form.SubmitButton       `json:"submit_button"`
	Inputs            []form.Input            `json:"inputs"`
	CreatedOn         CreatedOn               `json:"created_on"`
	PollForAssignment *form.PollForAssignment `json:"poll_for_assignment,omitempty"`
}

// SubmitCustomFormResponse is Fynd's SubmitCustomFormResponse.
type SubmitCustomFormResponse struct {
	Message string `json:"message"`
	Ticket  Ticket `json:"ticket"`
}

// timestamp renders t as Fynd does: RFC 3339, UTC, milliseconds.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// sourceOf maps Eventdesk's sources onto Fynd's two: channels customers
// use (a storefront, a form, a portal, a support app or e-mail) are
// sales_channel; the company's own (its panel, the native API, webhooks)
// are platform_panel.
func sourceOf(s domain.Source) string {
	switch s {
	case domain.SourceSalesChannel, domain.SourceForm, domain.SourcePortal, domain.SourceEmail:
		return string(domain.SourceSalesChannel)
	}
	return string(domain.SourcePlatformPanel)
}

func priorityOf(cfg ticket.Config, p ticket.Priority) Priority {
	st := cfg.Priority(p)
	return Priority{Key: string(st.Key), Display: st.Display, Color: st.Color}
}

// userOf shows an actor as a Fynd user: its id (the e-mail when it has
// none), its name split at the first space, its e-mail.
func userOf(a domain.Actor) User {
	u := User{ID: actorID(a)}
	if name := strings.TrimSpace(a.Name); name != "" {
		u.FirstName, u.LastName, _ = strings.Cut(name, " ")
		u.LastName = strings.TrimSpace(u.LastName)
	}
	if a.Email != "" {
		u.Emails = []Email{{Email: a.Email, Primary: true}}
	}
	return u
}

func actorID(a domain.Actor) string {
	if a.ID != "" {
		return a.ID
	}
	return a.Email
}

func createdByOf(a domain.Actor) CreatedBy { return CreatedBy{ID: actorID(a), User: userOf(a)} }

// ticketView renders a ticket for the tenant's Fynd application.
func ticketView(s ticket.Snapshot, cfg ticket.Config, c caller) Ticket {
	t := Ticket{
		ID:        s.ID,
		Context:   TicketContext{ApplicationID: c.appID, CompanyID: strconv.FormatInt(c.tenant.CompanyID, 10)},
		CreatedOn: CreatedOn{UserAgent: s.UserAgent},
		Content: TicketContent{Title: s.Title, Description: s.Description,
			Attachments: make([]TicketAsset, 0, len(s.Attachments))},
		SubCategory:       s.SubCategory,
		Source:            sourceOf(s.Source),
		Priority:          priorityOf(cfg, s.Priority),
		CreatedBy:         createdByOf(s.CreatedBy),
		Tags:              s.Tags,
		CustomJSON:        s.Custom,
		IsFeedbackPending: s.IsFeedbackPending,
		Integration:       s.Integration,
		CreatedAt:         timestamp(s.CreatedAt),
		UpdatedAt:         timestamp(s.UpdatedAt),
	}
	for _, a := range s.Attachments {
		t.Content.Attachments = append(t.Content.Attachments, TicketAsset{Type: string(a.Type), Value: a.Value, Display: a.Display})
	}
	if s.Category != "" {
		t.Category = TicketCategory{Key: s.Category, Display: s.Category}
		if cat, ok := cfg.Category(s.Category); ok {
			t.Category.Display = cat.Display
		}
	}
	st := cfg.LookupStatus(s.Status, s.StatusKind)
	t.Status = Status{Key: st.Key, Display: st.Display, Color: st.Color}
	if s.Assignee != nil {
		t.AssignedTo = &AssignedTo{AgentID: actorID(*s.Assignee), User: userOf(*s.Assignee)}
	}
	if s.Form != nil {
		t.ResponseID = s.Form.ResponseID
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if t.CustomJSON == nil {
		t.CustomJSON = map[string]json.RawMessage{}
	}
	if t.Integration == nil {
		t.Integration = map[string]json.RawMessage{}
	}
	return t
}

func formView(f form.Snapshot, cfg ticket.Config, c caller) CustomForm {
	inputs := f.Inputs
	if inputs == nil {
		inputs = []form.Input{}
	}
	return CustomForm{
		ID: f.ID, ApplicationID: c.appID, Slug: f.Slug,
		HeaderImage: f.HeaderImage, Title: f.Title, Description: f.Description,
		Priority:      priorityOf(cfg, f.Priority),
		LoginRequired: f.LoginRequired, ShouldNotify: f.ShouldNotify,
		SuccessMessage:    f.SuccessMessage,
		SubmitButton:      f.SubmitButton,
		Inputs:            inputs,
		CreatedOn:         CreatedOn{UserAgent: ""},
		PollForAssignment: f.PollForAssignment,
	}
}

func participantsView(r videoroom.Snapshot) Participants {
	out := Participants{Participants: []Participant{}}
	for _, p := range r.Connected() {
		out.Participants = append(out.Participants, Participant{Identity: p.Identity, Status: string(p.Status), User: userOf(p.User)})
	}
	return out
}
