package fynd

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// priorities and historyTypes are Fynd's PriorityEnum and HistoryTypeEnum.
var (
	priorities   = enum(ticket.Priorities())
	historyTypes = []string{string(ticket.HistoryRating), string(ticket.HistoryLog), string(ticket.HistoryComment), string(ticket.HistoryThread)}
	assetTypes   = enum(ticket.AssetTypes())
)

func enum[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// userAgent is the request's User-Agent, cut to what a ticket keeps.
func userAgent(r *http.Request) string {
	ua := strings.ToValidUTF8(r.UserAgent(), "\uFFFD")
	if utf8.RuneCountInString(ua) > ticket.MaxUserAgentLength {
		ua = string([]rune(ua)[:ticket.MaxUserAgentLength])
	}
	return ua
}

// getTicket answers GET ticket/{id}; id is the ticket's _id, its number
// ("34") or its key ("#034", URL-encoded).
func (h *Handler) getTicket(w http.ResponseWriter, r *http.Request, c caller) error {
	t, _, err := h.d.Tickets.Load(r.Context(), c.tenant.ID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "ticket")
	}
	cfg, _, err := h.d.Tickets.Config(r.Context(), c.tenant.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ticketView(t.Snapshot(), cfg, c))
	return nil
}

// createTicket answers POST ticket/ (AddTicketPayload).
func (h *Handler) createTicket(w http.ResponseWriter, r *http.Request, c caller) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	cmd := ticket.CreateTicket{UserAgent: userAgent(r)}
	cmd.Category = body.str("category", true)
	if content, ok := body.obj("content", true); ok {
		cmd.Title = content.str("title", true)
		cmd.Description = content.str("description", false)
		cmd.Attachments = assets(content, "attachments")
	}
	cmd.Priority = ticket.Priority(body.oneOf("priority", false, priorities))
	cmd.Status = body.str("status", false)
	if raw := body.raw("_custom_json"); raw != nil {
		if raw[0] != '{' || json.Unmarshal(raw, &cmd.Custom) != nil {
			body.addf("_custom_json must be an object, not %s", jsonKind(raw))
		}
	}
	cmd.Subscribers = body.strings("subscribers")
	if raw := body.raw("created_by"); raw != nil {
		u, err := parseUser("created_by", raw)
		if err != nil { // parseUser's errors are all the client's
			body.addf("%s", err.Error())
		} else {
			cmd.CreatedBy = &u
		}
	}
	if err := body.err(); err != nil {
		return err
	}
	res, err := h.d.Tickets.Create(r.Context(), c.tenant.ID, cmd, c.meta)
	if err != nil {
		return err
	}
	cfg, _, err := h.d.Tickets.Config(r.Context(), c.tenant.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ticketView(res.Ticket, cfg, c))
	return nil
}

// assets reads member of o as a list of TicketAsset.
func assets(o object, member string) []ticket.Attachment {
	items := o.array(member, false)
	var out []ticket.Attachment
	for i, raw := range items {
		a, ok := o.item(member, i, raw)
		if !ok {
			continue
		}
		out = append(out, ticket.Attachment{
			Type:    ticket.AssetType(a.oneOf("type", true, assetTypes)),
			Value:   a.str("value", true),
			Display: a.str("display", false),
		})
	}
	return out
}

// createHistory answers POST ticket/{id}/history (TicketHistoryPayload).
func (h *Handler) createHistory(w http.ResponseWriter, r *http.Request, c caller) error {
	body, err := readObject(r)
	if err != nil {
		return err
	}
	typ := body.oneOf("type", true, historyTypes)
	value := body.raw("value")
	switch {
	case value == nil:
		body.addf("value is required")
	case value[0] != '{':
		body.addf("value must be an object, not %s", jsonKind(value))
	}
	if err := body.err(); err != nil {
		return err
	}
	res, err := h.d.Tickets.LogHistory(r.Context(), c.tenant.ID, r.PathValue("id"),
		app.HistoryInput{Type: ticket.HistoryType(typ), Value: value, Visibility: ticket.Public}, c.meta)
	if err != nil {
		return notFound(err, "ticket")
	}
	hl := res.Entry
	writeJSON(w, http.StatusOK, TicketHistory{
		ID: hl.EntryID, Type: string(hl.Type), Value: hl.Value,
		TicketID:  strconv.FormatInt(res.Ticket.Number, 10),
		CreatedOn: CreatedOn{UserAgent: userAgent(r)},
		CreatedBy: createdByOf(hl.By),
		CreatedAt: timestamp(hl.At), UpdatedAt: timestamp(hl.At),
	})
	return nil
}
