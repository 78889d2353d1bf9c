// Package form is the custom form domain: the Form aggregate (a tenant's
// form definition, event-sourced), the validation of a submission against
// it, and the codec that stores its events as JSON objects.
//
// A form is what Fynd calls a CustomForm: a slug, a title, a list of inputs
// (field definitions) and how the form looks and behaves. A valid submission
// creates a ticket (source form) carrying the answers; the form itself
// records nothing when it is submitted.
//
// # Writing
//
// One stream per form and tenant: StreamType "form", stream id the slug.
//
//	f, err := form.New(form.CreateForm{By: me, Source: domain.SourceAPI, ID: id, Slug: "damage-report", Definition: def}, cfg, now)
//	appendAt(form.StreamType, "damage-report", eventstore.NoStream, f.Pending()) // a version conflict: form.ErrAlreadyExists
//
//	history, version := load(form.StreamType, slug) // decoded with Decode
//	f := form.Rehydrate(history, version)
//	if err := f.Update(form.UpdateForm{By: me, Source: domain.SourceAPI, Definition: def}, cfg, now); err != nil {
//		return err // a *domain.Error, possibly several joined (domain.Errors)
//	}
//	appendAt(form.StreamType, slug, f.Version(), f.Pending())
//
// # Submitting
//
//	s := f.Snapshot()
//	fields, err := s.ValidateSubmission(responses) // every bad answer, joined
//	c := s.CreateTicket(fields)                     // then set By, ID, TenantID, Number, ...
//	t, err := ticket.New(c, cfg, now)
//
// Every error ValidateSubmission returns for the answers is Invalid and
// matches ErrResponseRequired, ErrInvalidResponse or ErrUnknownResponse;
// the API answers them 422, listing each (domain.Errors). It returns
// ErrNotFound for a form that does not exist and ErrDisabled for a disabled
// one.
//
// # Event types
//
// These strings are persisted; never rename one. All are at schema version
// 1; to change a shape, bump its version with an upcaster in codec.go (see
// "Event versions" in package domain).
//
//	form.created   FormCreated
//	form.updated   FormUpdated
//	form.disabled  FormDisabled
//	form.enabled   FormEnabled
//
// The form index (IndexStreamType, one stream per tenant) has its own codec,
// IndexCodec:
//
//	form_index.added  FormIndexed
//
// # Decisions
//
//   - The slug is the form's name within its tenant (SlugPattern) and never
//     changes; ID is a lower-case UUID chosen by the caller (Fynd's _id).
//   - Update replaces the whole Definition (PUT semantics). Commands that
//     would change nothing record nothing; Disable and Enable are
//     idempotent.
//   - Input keys match InputKeyPattern, which admits "-" (Fynd's own forms
//     use keys such as "single-lineeee"), and are unique within a form,
//     case-sensitively.
//   - Empty Priority means ticket.DefaultPriority; empty SuccessMessage means
//     DefaultSuccessMessage; empty submit-button fields get
//     DefaultSubmitButton's. Defaults are resolved when the event is
//     recorded, so changing them never rewrites an existing form.
//   - Category, when set, must be a category of the tenant's ticket
//     configuration when the form is created or updated. If the tenant
//     later removes it, ticket.New refuses the submission's ticket with
//     ticket.ErrUnknownCategory; callers may then create it uncategorized.
//   - login_required is enforced by the caller, which alone knows whether
//     the submitter is authenticated.
//   - Answers are checked per input type (see ValidateSubmission); optional
//     inputs left empty (null, "", []) are not stored.
package form
