package fynd

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain/form"
)

// getForm answers GET form/{slug}.
func (h *Handler) getForm(w http.ResponseWriter, r *http.Request, c caller) error {
	f, err := h.d.Forms.Get(r.Context(), c.tenant.ID, r.PathValue("slug"))
	if err != nil {
		return notFound(err, "form")
	}
	cfg, _, err := h.d.Tickets.Config(r.Context(), c.tenant.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, formView(f, cfg, c))
	return nil
}

// submitForm answers POST form/{slug}/submit (CustomFormSubmissionPayload).
// The body's shape is checked first (400); the answers are then checked
// against the form's inputs (422, every bad answer listed).
func (h *Handler) submitForm(w http.ResponseWriter, r *http.Request, c caller) error {
	slug := r.PathValue("slug")
	f, err := h.d.Forms.Get(r.Context(), c.tenant.ID, slug)
	if err != nil {
		return notFound(err, "form")
	}
	if f.LoginRequired && c.user == nil {
		return errLoginRequired
	}
	body, err := readObject(r)
	if err != nil {
		return err
	}
	var responses []form.Response
	for i, raw := range body.array("response", true) {
		item, ok := body.item("response", i, raw)
		if !ok {
			continue
		}
		responses = append(responses, form.Response{Key: item.str("key", false), Value: item.raw("value")})
	}
	attachments := assets(body, "attachments")
	if err := body.err(); err != nil {
		return err
	}
	sub := app.Submission{Responses: responses, Attachments: attachments, UserAgent: userAgent(r), ResponseID: uuid.NewString()}
	f, res, err := h.d.Forms.Submit(r.Context(), c.tenant.ID, slug, sub, c.meta)
	if err != nil {
		return notFound(err, "form")
	}
	cfg, _, err := h.d.Tickets.Config(r.Context(), c.tenant.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SubmitCustomFormResponse{Message: f.SuccessMessage, Ticket: ticketView(res.Ticket, cfg, c)})
	return nil
}
