package native

import (
	"fmt"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// formRequest is the body of POST /v1/forms and PUT /v1/forms/{slug}: the
// slug and the form's Definition, whose members sit at the top level
// (title, inputs, priority, …), as in the form's JSON.
type formRequest struct {
	Slug string `json:"slug"`
	form.Definition
}

// writeForm answers a form with its version as ETag and, for writes, the
// position of the form's last event as Eventdesk-Position.
func writeForm(w http.ResponseWriter, status int, f form.Snapshot, pos eventstore.Position) {
	writeVersioned(w, status, f.Version, pos, f)
}

// createForm creates a form. Every problem with the definition (slug,
// title, each input, priority, category, colors, …) is listed in one 422;
// a slug already taken in the tenant is 409.
func (s *Server) createForm(w http.ResponseWriter, r *http.Request) {
	var req formRequest
	m, err := s.request(r, &req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, pos, err := s.Forms.Create(r.Context(), tenantOf(r).ID, req.Slug, req.Definition, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/forms/"+f.Slug)
	writeForm(w, http.StatusCreated, f, pos)
}

// putForm replaces a form's definition (PUT: members left out get their
// defaults, not their previous values). The slug is the form's name and
// never changes; the body may repeat it. If-Match pins the version.
func (s *Server) putForm(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	var req formRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Slug != "" && req.Slug != slug {
		// An unknown form is 404 before its body is judged, as Update does.
		if _, err := s.Forms.Get(r.Context(), tenantOf(r).ID, slug); err != nil {
			s.fail(w, r, err)
			return
		}
		s.fail(w, r, web.Invalid(web.FieldError{Field: "slug", Code: "slug_mismatch",
			Detail: fmt.Sprintf("slug %q differs from the form's slug %q in the path; a form's slug never changes", req.Slug, slug)}))
		return
	}
	m, err := conditionalMeta(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !form.ValidSlug(slug) {
		s.fail(w, r, form.ErrNotFound)
		return
	}
	f, pos, err := s.Forms.Update(r.Context(), tenantOf(r).ID, slug, req.Definition, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeForm(w, http.StatusOK, f, pos)
}

func (s *Server) getForm(w http.ResponseWriter, r *http.Request) {
	f, err := s.Forms.Get(r.Context(), tenantOf(r).ID, r.PathValue("slug"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeForm(w, http.StatusOK, f, eventstore.Position{})
}

func (s *Server) listForms(w http.ResponseWriter, r *http.Request) {
	forms, err := s.Forms.List(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"forms": forms})
}

// submitFormRequest is a form submission: the answers, and assets the
// client attached (uploaded beforehand, or links).
type submitFormRequest struct {
	Response    []form.Response  `json:"response"`
	Attachments []formAttachment `json:"attachments"`
}

// formAttachment is an asset attached to a submission (Fynd's
// TicketAsset). Uploaded-file metadata is never taken from clients: it
// comes from POST /v1/tickets/{id}/attachments.
type formAttachment struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Display string `json:"display"`
}

// FormSubmission answers a valid submission: the form's success message
// and the ticket the submission opened.
type FormSubmission struct {
	Message string          `json:"message"`
	Ticket  ticket.Snapshot `json:"ticket"`
}

// submitForm validates a submission against the form and, when valid,
// opens a ticket (source form) holding the answers. An invalid submission
// is one 422 listing every bad answer (response[<key>]) and attachment; a
// disabled form is 409.
//
// login_required is honoured trivially: the native API admits only
// callers holding the tenant's API key, so every submitter here is
// authenticated. Surfaces that take anonymous submissions must check
// form.Snapshot.LoginRequired themselves.
func (s *Server) submitForm(w http.ResponseWriter, r *http.Request) {
	var req submitFormRequest
	m, err := s.request(r, &req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tenant, slug := tenantOf(r).ID, r.PathValue("slug")
	var c fieldCheck
	atts := make([]ticket.Attachment, len(req.Attachments))
	for i, a := range req.Attachments {
		field := fmt.Sprintf("attachments[%d]", i)
		c.required(field+".type", a.Type)
		c.oneOf(field+".type", a.Type, names(ticket.AssetTypes()))
		c.required(field+".value", a.Value)
		atts[i] = ticket.Attachment{Type: ticket.AssetType(a.Type), Value: a.Value, Display: a.Display}
	}
	if len(c.errs) > 0 {
		// List the answers' problems beside the attachments' in one 422.
		f, err := s.Forms.Get(r.Context(), tenant, slug)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if _, err := f.ValidateSubmission(req.Response); err != nil {
			cl := web.Classify(err)
			if cl.Status != http.StatusUnprocessableEntity {
				s.fail(w, r, err)
				return
			}
			c.errs = append(cl.Fields, c.errs...)
		}
		s.fail(w, r, c.err())
		return
	}
	f, res, err := s.Forms.Submit(r.Context(), tenant, slug, app.Submission{Responses: req.Response, Attachments: atts}, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/tickets/"+res.Ticket.ID)
	if !res.Position.IsZero() {
		w.Header().Set("Eventdesk-Position", res.Position.String())
	}
	web.WriteJSON(w, http.StatusCreated, "application/json", FormSubmission{Message: f.SuccessMessage, Ticket: res.Ticket})
}
