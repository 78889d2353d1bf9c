package form

import "github.com/eventdesk/eventdesk/domain"

// Errors returned by form commands and by ValidateSubmission. Returned
// errors are often copies of these with a precise Msg and Field; match them
// with errors.Is, which compares codes (see domain.Error.Is). Validation
// that finds several problems returns them joined; domain.Errors lists
// them. Unknown priorities and categories are reported with
// ticket.ErrUnknownPriority and ticket.ErrUnknownCategory, bad colors with
// ticket.ErrInvalidColor, so that clients see one code per problem.
var (
	// ErrNotFound: no form has the slug in the tenant. Commands on a Form
	// that was never created return it.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "form_not_found", Msg: "form not found"}
	// ErrAlreadyExists is for callers: appending a new form's events found
	// the slug's stream already there (an eventstore version conflict at
	// NoStream).
	ErrAlreadyExists = &domain.Error{Kind: domain.Conflict, Code: "form_already_exists", Msg: "a form with this slug already exists"}
	// ErrDisabled: the form is disabled and takes no submissions.
	ErrDisabled = &domain.Error{Kind: domain.Conflict, Code: "form_disabled", Msg: "form is disabled"}

	// ErrInvalidSlug: the slug does not match SlugPattern.
	ErrInvalidSlug = &domain.Error{Kind: domain.Invalid, Code: "invalid_slug", Msg: "invalid slug"}
	// ErrInvalidTitle: the title is empty or longer than MaxTitleLength.
	ErrInvalidTitle = &domain.Error{Kind: domain.Invalid, Code: "invalid_title", Msg: "invalid title"}
	// ErrUnknownInputType: an input's type is not one of InputTypes.
	ErrUnknownInputType = &domain.Error{Kind: domain.Invalid, Code: "unknown_input_type", Msg: "unknown input type"}
	// ErrInvalidInputKey: an input key does not match InputKeyPattern.
	ErrInvalidInputKey = &domain.Error{Kind: domain.Invalid, Code: "invalid_input_key", Msg: "invalid input key"}
	// ErrDuplicateInputKey: two inputs of a form share a key.
	ErrDuplicateInputKey = &domain.Error{Kind: domain.Invalid, Code: "duplicate_input_key", Msg: "duplicate input key"}
	// ErrInvalidOptions: a dropdown, radio or checkbox input has no
	// options, an option is malformed or repeated, or another type has
	// options.
	ErrInvalidOptions = &domain.Error{Kind: domain.Invalid, Code: "invalid_options", Msg: "invalid options"}
	// ErrInvalidRegex: an input's regex does not compile, is too long, or
	// is set on a type that takes none.
	ErrInvalidRegex = &domain.Error{Kind: domain.Invalid, Code: "invalid_regex", Msg: "invalid regex"}
	// ErrInvalidField covers every other malformed input; Field names it
	// (e.g. "id", "header_image", "inputs[2].display",
	// "poll_for_assignment.duration").
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}

	// ErrResponseRequired: a required input has no answer, or an empty one.
	// Field is "response[<key>]".
	ErrResponseRequired = &domain.Error{Kind: domain.Invalid, Code: "response_required", Msg: "an answer is required"}
	// ErrInvalidResponse: an answer does not fit its input (wrong JSON type,
	// not an e-mail address, not a number, not one of the options, no match
	// for the regex, too long), or the submission as a whole is malformed
	// (an entry without a key, a key answered twice, too large). Field is
	// "response[<key>]", "response[<index>].key" or "response".
	ErrInvalidResponse = &domain.Error{Kind: domain.Invalid, Code: "invalid_response", Msg: "invalid answer"}
	// ErrUnknownResponse: an answer's key is not an input of the form.
	// Field is "response[<key>]".
	ErrUnknownResponse = &domain.Error{Kind: domain.Invalid, Code: "unknown_response", Msg: "no such input"}
)
