package form

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// Response is one answer of a submission: Fynd's
// CustomFormSubmissionPayload.response[] item. Value is any JSON value; a
// missing Value is null.
type Response struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// ValidateSubmission checks a submission's answers against the form and
// returns them normalised, in the order of the form's inputs, ready for
// ticket.FormResponse.Fields. It returns ErrNotFound when s is not a form,
// ErrDisabled when the form is disabled, and otherwise every problem
// joined (see domain.Errors), each matching ErrResponseRequired,
// ErrInvalidResponse or ErrUnknownResponse, with Field "response[<key>]"
// (or "response[<index>].key" for an entry whose key is empty or
// malformed, "response" for the submission as a whole).
//
// Answers are accepted as follows, strings trimmed first:
//
//	text, textarea     a string or a number; at most MaxAnswerLength characters
//	email              a string that is a bare e-mail address (domain.ValidEmail)
//	number             a number, or a string holding a JSON number ("42")
//	mobile             a string (or integer) of MinMobileDigits..MaxMobileDigits digits,
//	                   optional leading "+", separators " -.()"
//	date               a string "YYYY-MM-DD" or RFC 3339
//	dropdown, radio    one option value (a string; a number matches its spelling)
//	checkbox           an array of option values, or one value (stored as an array)
//	file               a string (a URL or attachment path), or an array of at most MaxFilesPerAnswer
//
// An input's Regex, if any, must match the answer's text. Null, "" (after
// trimming) and [] are no answer: an error for a required input, left out
// of the result otherwise. Keys must be the form's input keys, each at most
// once. Normalised values are: strings trimmed; numbers and number strings
// as given; choices as their option's value (a string); checkbox answers as
// an array without repeats; compact JSON throughout.
func (s Snapshot) ValidateSubmission(responses []Response) ([]ticket.FormField, error) {
	if !s.Exists() {
		return nil, ErrNotFound
	}
	if !s.Enabled {
		return nil, ErrDisabled
	}
	if len(responses) > MaxResponsesPerSubmission {
		return nil, ErrInvalidResponse.At("response").Withf("response: %d answers, at most %d allowed", len(responses), MaxResponsesPerSubmission)
	}
	var errs []error
	answers := map[string]json.RawMessage{}
	for i, r := range responses {
		switch _, known := s.Input(r.Key); {
		case !ValidInputKey(r.Key):
			f := fmt.Sprintf("response[%d].key", i)
			if r.Key == "" {
				errs = append(errs, ErrInvalidResponse.At(f).Withf("%s is required", f))
			} else {
				errs = append(errs, ErrUnknownResponse.At(f).Withf("%s: the form has no input %.64q", f, r.Key))
			}
		case !known:
			errs = append(errs, ErrUnknownResponse.At(answerField(r.Key)).Withf("%s: the form has no input %q", answerField(r.Key), r.Key))
		default:
			if _, dup := answers[r.Key]; dup {
				errs = append(errs, ErrInvalidResponse.At(answerField(r.Key)).Withf("%s: answered more than once", answerField(r.Key)))
				continue
			}
			answers[r.Key] = r.Value
		}
	}
	var out []ticket.FormField
	size := 0
	for _, in := range s.Inputs {
		field := answerField(in.Key)
		v, err := in.check(field, answers[in.Key])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v == nil {
			if in.Required {
				errs = append(errs, ErrResponseRequired.At(field).Withf("%s: %q is required", field, in.Display))
			}
			continue
		}
		size += len(in.Key) + len(v) + 4
		out = append(out, ticket.FormField{Key: in.Key, Value: v})
	}
	if size > MaxSubmissionSize {
		errs = append(errs, ErrInvalidResponse.At("response").Withf("response: about %d bytes of answers, at most %d allowed", size, MaxSubmissionSize))
	}
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func answerField(key string) string { return "response[" + key + "]" }

// check returns the normalised answer to in, or nil for no answer.
func (in Input) check(field string, raw json.RawMessage) (json.RawMessage, error) {
	bad := func(format string, args ...any) error {
		return ErrInvalidResponse.At(field).Withf(field+": "+format, args...)
	}
	var v any
	if len(bytes.TrimSpace(raw)) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, bad("not valid JSON")
		}
	}
	if s, ok := v.(string); ok {
		v = strings.TrimSpace(s)
	}
	if v == nil || v == "" {
		return nil, nil
	}
	if a, ok := v.([]any); ok && len(a) == 0 {
		return nil, nil
	}

	var text string // what the regex, if any, must match
	var out any
	switch in.Type {
	case Text, Textarea:
		s, ok := scalar(v)
		if !ok {
			return nil, bad("must be a string")
		}
		if !validText(s) {
			return nil, bad("must be UTF-8 text without NUL or other control characters (tab and line breaks aside)")
		}
		if utf8.RuneCountInString(s) > MaxAnswerLength {
			return nil, bad("must be at most %d characters of text", MaxAnswerLength)
		}
		text, out = s, v
	case Email:
		s, ok := v.(string)
		if !ok || !domain.ValidEmail(s) {
			return nil, bad("must be an e-mail address")
		}
		text, out = s, s
	case Number:
		s, ok := scalar(v)
		if !ok || !isJSONNumber(s) {
			return nil, bad("must be a number")
		}
		text, out = s, v
	case Mobile:
		s, ok := scalar(v)
		if !ok || !validMobile(s) {
			return nil, bad("must be a mobile number of %d to %d digits", MinMobileDigits, MaxMobileDigits)
		}
		text, out = s, v
	case Date:
		s, ok := v.(string)
		if !ok || !validDate(s) {
			return nil, bad("must be a date (YYYY-MM-DD)")
		}
		text, out = s, s
	case Dropdown, Radio:
		s, ok := scalar(v)
		if !ok {
			return nil, bad("must be one of %s", in.optionValues())
		}
		if _, ok := in.option(s); !ok {
			return nil, bad("%.64q is not one of %s", s, in.optionValues())
		}
		out = s
	case Checkbox:
		items, ok := v.([]any)
		if !ok {
			items = []any{v}
		}
		var values []string
		for _, item := range items {
			s, ok := scalar(item)
			if !ok {
				return nil, bad("must be an array of %s", in.optionValues())
			}
			if _, ok := in.option(s); !ok {
				return nil, bad("%.64q is not one of %s", s, in.optionValues())
			}
			if !slices.Contains(values, s) {
				values = append(values, s)
			}
		}
		out = values
	case File:
		items, isArray := v.([]any)
		if !isArray {
			items = []any{v}
		}
		if len(items) > MaxFilesPerAnswer {
			return nil, bad("at most %d files", MaxFilesPerAnswer)
		}
		refs := make([]string, 0, len(items))
		for _, item := range items {
			s, ok := item.(string)
			if s = strings.TrimSpace(s); !ok || !validFileRef(s) {
				return nil, bad("must be a file URL or path, or an array of them")
			}
			refs = append(refs, s)
		}
		if isArray {
			out = refs
		} else {
			out = refs[0]
		}
	default: // unreachable: definitions are checked
		return nil, bad("the input's type %q takes no answers", in.Type)
	}
	if in.Regex != "" && text != "" {
		re, err := regexp.Compile(in.Regex)
		if err == nil && !re.MatchString(text) {
			return nil, bad("does not have the expected format")
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, bad("cannot be stored")
	}
	return b, nil
}

// scalar returns a string or a number's spelling.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// isJSONNumber reports whether s is a JSON number literal: valid JSON that
// starts like a number can be nothing else.
func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') && json.Valid([]byte(s))
}

// validMobile accepts "+919916248135", "+1 (555) 010-0199", "98904 25946".
func validMobile(s string) bool {
	digits := 0
	for i, c := range s {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '+' && i == 0:
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		default:
			return false
		}
	}
	return digits >= MinMobileDigits && digits <= MaxMobileDigits
}

func validDate(s string) bool {
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func validFileRef(s string) bool {
	return s != "" && len(s) <= MaxURLLength && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

func (in Input) optionValues() string {
	vals := make([]string, len(in.Options))
	for i, o := range in.Options {
		vals[i] = fmt.Sprintf("%q", o.Value)
	}
	return strings.Join(vals, ", ")
}

// CreateTicket returns the command that creates the ticket for a
// submission whose normalised answers ValidateSubmission returned:
//
//   - Source domain.SourceForm; the form's Priority and Category;
//   - Title "<form title> Response", as Fynd titles them;
//   - Description one "<display>: <answer>" line per answer, in input
//     order, choices shown by their option text, lists joined with ", "
//     (Fynd writes the same as HTML; ours is plain text), cut to
//     ticket.MaxDescriptionLength;
//   - Form the slug and the answers.
//
// The caller sets By, ID, TenantID and Number, and may set CreatedBy,
// Attachments (the submission's attachments), UserAgent, Form.ResponseID
// and the rest before calling ticket.New.
func (s Snapshot) CreateTicket(fields []ticket.FormField) ticket.CreateTicket {
	var b strings.Builder
	for _, f := range fields {
		in, ok := s.Input(f.Key)
		label := f.Key
		if ok {
			label = in.Display
		}
		fmt.Fprintf(&b, "%s: %s\n", label, in.render(f.Value))
	}
	desc := strings.TrimSuffix(b.String(), "\n")
	if utf8.RuneCountInString(desc) > ticket.MaxDescriptionLength {
		desc = string([]rune(desc)[:ticket.MaxDescriptionLength])
	}
	form := &ticket.FormResponse{Slug: s.Slug}
	for _, f := range fields {
		form.Fields = append(form.Fields, ticket.FormField{Key: f.Key, Value: slices.Clone(f.Value)})
	}
	return ticket.CreateTicket{
		Source:      domain.SourceForm,
		Title:       s.Title + " Response",
		Description: desc,
		Category:    s.Category,
		Priority:    s.Priority,
		Form:        form,
	}
}

// render shows an answer to in as text.
func (in Input) render(raw json.RawMessage) string {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return string(raw)
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	parts := make([]string, 0, len(items))
	for _, item := range items {
		s, ok := scalar(item)
		if !ok {
			b, _ := json.Marshal(item)
			s = string(b)
		}
		if o, ok := in.option(s); ok && in.Type.HasOptions() {
			s = o.Text
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
