package support

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/projections"
)

// MaxCategoryLength bounds the category, in characters.
const MaxCategoryLength = ticket.MaxReferenceLength

// Channel is the channel of tickets created through this surface.
const Channel = "support_message"

// message is a create-support-message request.
type message struct {
	uuid, udid, subject, text, email, name, category, phone string
	images                                                  []string
}

// required are the mandatory members, in the documented order.
var required = []string{"uuid", "udid", "subject", "message", "email", "category"}

// parseMessage reads and checks the body: every mandatory member present
// and not blank (else one 400 naming all that are missing), the uuid a
// UUID, the e-mail an e-mail address, the category bounded. The rest is
// checked by the domain.
func parseMessage(b body) (message, error) {
	var m message
	fields := []struct {
		name string
		dst  *string
	}{
		{"uuid", &m.uuid}, {"udid", &m.udid}, {"subject", &m.subject}, {"message", &m.text},
		{"email", &m.email}, {"name", &m.name}, {"category", &m.category}, {"phone", &m.phone},
	}
	for _, f := range fields {
		v, err := b.text(f.name)
		if err != nil {
			return m, err
		}
		*f.dst = v
	}
	images, err := b.strings("images")
	if err != nil {
		return m, err
	}
	m.images = images
	var missing, details []string
	for _, f := range fields {
		if slices.Contains(required, f.name) && strings.TrimSpace(*f.dst) == "" {
			missing = append(missing, f.name)
			details = append(details, f.name+" must not be blank")
		}
	}
	if len(missing) > 0 {
		return m, badRequest("Required fields are missing: "+strings.Join(missing, ", "), strings.Join(details, "; "))
	}
	var bad []string
	if u, err := uuid.Parse(strings.TrimSpace(m.uuid)); err != nil {
		bad, details = append(bad, "uuid"), append(details, fmt.Sprintf("uuid %q is not a UUID", m.uuid))
	} else {
		m.uuid = u.String()
	}
	if m.email = strings.TrimSpace(m.email); !domain.ValidEmail(m.email) {
		bad, details = append(bad, "email"), append(details, fmt.Sprintf("email %q is not an e-mail address", m.email))
	}
	if m.category = strings.TrimSpace(m.category); utf8.RuneCountInString(m.category) > MaxCategoryLength || !utf8.ValidString(m.category) {
		bad, details = append(bad, "category"), append(details, fmt.Sprintf("category must be at most %d characters of UTF-8", MaxCategoryLength))
	}
	if len(bad) > 0 {
		return m, badRequest("Invalid value for: "+strings.Join(bad, ", "), strings.Join(details, "; "))
	}
	return m, nil
}

// command turns a message into CreateTicket. The category is kept as sent
// in the custom field support_category and, when the tenant has a
// category with that key or display (without regard to case), it becomes
// the ticket's category too.
func command(m message, cfg ticket.Config) ticket.CreateTicket {
	catJSON, _ := json.Marshal(m.category)
	c := ticket.CreateTicket{
		ID:          uuid.NewString(),
		Title:       m.subject,
		Description: m.text,
		Channel:     Channel,
		Custom:      map[string]json.RawMessage{customCategory: catJSON},
		References: ticket.References{
			UserID:         m.uuid,
			DeviceID:       strings.TrimSpace(m.udid),
			ContactName:    strings.TrimSpace(m.name),
			ContactEmail:   m.email,
			ContactPhone:   strings.TrimSpace(m.phone),
			ClientTicketID: uuid.NewString(),
		},
	}
	if cat, ok := matchCategory(cfg, m.category); ok {
		c.Category = cat
	}
	for _, img := range m.images {
		c.Attachments = append(c.Attachments, ticket.Attachment{Type: ticket.AssetImage, Value: img})
	}
	// The user who wrote is the ticket's creator; the API key that sent it
	// is the actor of the event.
	by := domain.Actor{Kind: domain.ActorUser, ID: m.uuid, Email: m.email}
	if len(c.References.ContactName) <= domain.MaxActorNameLength {
		by.Name = c.References.ContactName
	}
	c.CreatedBy = &by
	return c
}

// matchCategory finds the configured category named v, by key or display,
// without regard to case.
func matchCategory(cfg ticket.Config, v string) (string, bool) {
	for _, c := range cfg.Categories {
		if strings.EqualFold(c.Key, v) || strings.EqualFold(c.Display, v) {
			return c.Key, true
		}
	}
	return "", false
}

// createMessage is POST /api/user/log/message.
func (h *Handler) createMessage(w http.ResponseWriter, r *http.Request, tenant app.Tenant) error {
	b, err := decodeObject(r, false)
	if err != nil {
		return err
	}
	m, err := parseMessage(b)
	if err != nil {
		return err
	}
	cfg, _, err := h.d.Tickets.Config(r.Context(), tenant.ID)
	if err != nil {
		return err
	}
	res, err := h.d.Tickets.Create(r.Context(), tenant.ID, command(m, cfg), meta(w, r))
	if err != nil {
		return err
	}
	h.waitReadModel(r.Context(), res)
	return ok(w, record(res.Ticket, cfg, nil), MsgCreated)
}

// waitReadModel waits, within WaitTimeout, for the read model to hold
// res's write, so that the client's next call finds the ticket by its
// client id. Running out of time is logged, not failed: the write stands.
func (h *Handler) waitReadModel(ctx context.Context, res app.Result) {
	if h.d.Waiter == nil || res.Position.IsZero() {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, h.d.WaitTimeout)
	defer cancel()
	if err := h.d.Waiter.WaitFor(wctx, projections.TicketsName, res.Position); err != nil && ctx.Err() == nil {
		h.d.Logger.WarnContext(ctx, "support: read model lags; answering anyway", "ticket_id", res.Ticket.ID,
			"position", res.Position.String(), "err", err)
	}
}
