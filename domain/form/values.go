package form

import (
	"slices"

	"github.com/eventdesk/eventdesk/domain/ticket"
)

// Patterns of the form's names.
const (
	// SlugPattern is the form of slugs: they appear in URLs.
	SlugPattern = `^[a-z0-9][a-z0-9-]{0,99}$`
	// InputKeyPattern is the form of input keys.
	InputKeyPattern = `^[a-zA-Z][a-zA-Z0-9_-]{0,63}$`
)

// Limits on a form definition. Lengths count characters (runes) unless
// noted.
const (
	MaxTitleLength            = 200
	MaxDescriptionLength      = 10_000
	MaxURLLength              = 2048 // bytes: the header image, each file answer
	MaxMessageLength          = 1_000
	MaxDisplayLength          = 200 // input labels, option texts, the button title
	MaxPlaceholderLength      = 200
	MaxRegexLength            = 500 // bytes
	MaxInputs                 = ticket.MaxFormFields
	MaxOptions                = 100 // per input
	MaxOptionValueLength      = 200
	MaxPollDuration           = 3600 // seconds
	MaxAnswerLength           = 10_000
	MaxFilesPerAnswer         = 20
	MaxMobileDigits           = 15 // E.164
	MinMobileDigits           = 7
	MaxSubmissionSize         = ticket.MaxJSONSize // bytes of JSON, keys and values
	MaxResponsesPerSubmission = 2 * MaxInputs
)

// DefaultSuccessMessage is shown after a submission when the form does
// not set its own.
const DefaultSuccessMessage = "Thank you for your submission."

// DefaultSubmitButton is how the submit button looks unless the form says
// otherwise, field by field.
var DefaultSubmitButton = SubmitButton{Title: "Submit", TitleColor: "#ffffff", BackgroundColor: "#2e31be"}

// InputType is the kind of a form input; it decides which answers are
// valid. Values are persisted.
type InputType string

// The input types.
const (
	// Text: a single line of text (a JSON string or number).
	Text InputType = "text"
	// Textarea: free text (a JSON string or number).
	Textarea InputType = "textarea"
	// Email: an e-mail address.
	Email InputType = "email"
	// Number: a JSON number, or a string holding one ("42", "-1.5e3").
	Number InputType = "number"
	// Mobile: a phone number, 7 to 15 digits with an optional leading "+"
	// and spaces, dashes, dots or parentheses between them.
	Mobile InputType = "mobile"
	// Dropdown: one of the input's option values.
	Dropdown InputType = "dropdown"
	// Radio: one of the input's option values.
	Radio InputType = "radio"
	// Checkbox: any number of the input's option values (an array, or a
	// single value standing for an array of one).
	Checkbox InputType = "checkbox"
	// Date: "YYYY-MM-DD" or an RFC 3339 timestamp.
	Date InputType = "date"
	// File: a reference to an uploaded file (a URL or an attachment path),
	// or an array of them.
	File InputType = "file"
)

// InputTypes returns every InputType, in documentation order.
func InputTypes() []InputType {
	return []InputType{Text, Textarea, Email, Number, Mobile, Dropdown, Radio, Checkbox, Date, File}
}

// Valid reports whether t is one of InputTypes.
func (t InputType) Valid() bool { return slices.Contains(InputTypes(), t) }

// HasOptions reports whether inputs of type t choose among options
// (dropdown, radio, checkbox).
func (t InputType) HasOptions() bool { return t == Dropdown || t == Radio || t == Checkbox }

// Definition is everything about a form that its owner edits: what New
// records and Update replaces. Its JSON names are persisted (events embed
// it) and are Fynd's CustomForm names; Category is ours.
type Definition struct {
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	HeaderImage string  `json:"header_image,omitempty"`
	Inputs      []Input `json:"inputs"`
	// Priority is the priority of the tickets submissions create.
	Priority ticket.Priority `json:"priority"`
	// Category is the ticket category key of the tickets submissions
	// create; empty means uncategorized.
	Category string `json:"category,omitempty"`
	// LoginRequired: only authenticated users may submit (enforced by the
	// caller).
	LoginRequired bool `json:"login_required"`
	// ShouldNotify: assignees are told about each new submission.
	ShouldNotify      bool               `json:"should_notify"`
	SuccessMessage    string             `json:"success_message"`
	SubmitButton      SubmitButton       `json:"submit_button"`
	PollForAssignment *PollForAssignment `json:"poll_for_assignment,omitempty"`
}

// Input is one field of a form.
type Input struct {
	Type InputType `json:"type"`
	// Key names the answer in submissions (InputKeyPattern).
	Key string `json:"key"`
	// Display is the label shown to the user; empty means Key.
	Display     string `json:"display"`
	Required    bool   `json:"required"`
	Placeholder string `json:"placeholder,omitempty"`
	// Regex, when set, is a regular expression (RE2 syntax, unanchored,
	// like Fynd's "\\S+@\\S+\\.\\S+") that string answers must match. Only
	// text, textarea, email, number, mobile and date inputs take one.
	Regex string `json:"regex,omitempty"`
	// Options are the choices of dropdown, radio and checkbox inputs (at
	// least one, values unique); other types take none.
	Options []Option `json:"options,omitempty"`
}

// Option is one choice of a dropdown, radio or checkbox input. Answers name
// the Value; Text is what the user reads (empty means Value).
type Option struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

// SubmitButton is how the form's submit button looks (Fynd SubmitButton).
// Colors are "#rrggbb".
type SubmitButton struct {
	Title           string `json:"title"`
	TitleColor      string `json:"title_color"`
	BackgroundColor string `json:"background_color"`
}

// PollForAssignment asks the form's page to wait, after a submission, for
// an agent to be assigned to the ticket (Fynd PollForAssignment). Duration
// is in seconds (0 to MaxPollDuration).
type PollForAssignment struct {
	Duration       int    `json:"duration"`
	Message        string `json:"message"`
	SuccessMessage string `json:"success_message"`
	FailureMessage string `json:"failure_message"`
}

// Input returns the input with the key.
func (d Definition) Input(key string) (Input, bool) {
	for _, in := range d.Inputs {
		if in.Key == key {
			return in, true
		}
	}
	return Input{}, false
}

// clone returns a deep copy of d.
func (d Definition) clone() Definition {
	if d.Inputs != nil {
		d.Inputs = slices.Clone(d.Inputs)
		for i := range d.Inputs {
			d.Inputs[i].Options = slices.Clone(d.Inputs[i].Options)
		}
	}
	if d.PollForAssignment != nil {
		p := *d.PollForAssignment
		d.PollForAssignment = &p
	}
	return d
}

// option returns the input's option with the value.
func (in Input) option(value string) (Option, bool) {
	for _, o := range in.Options {
		if o.Value == value {
			return o, true
		}
	}
	return Option{}, false
}
