package form

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// ValidSlug reports whether s matches SlugPattern.
func ValidSlug(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || i > 0 && c == '-') {
			return false
		}
	}
	return true
}

// ValidInputKey reports whether s matches InputKeyPattern.
func ValidInputKey(s string) bool {
	if len(s) == 0 || len(s) > 64 || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isLetter(c) || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// normDefinition checks d and returns it normalised: text trimmed, colors
// lower-cased, defaults resolved, empty option lists nil. It returns every
// problem joined.
func normDefinition(d Definition, cfg ticket.Config) (Definition, error) {
	var errs []error
	out := Definition{
		Title:          strings.TrimSpace(d.Title),
		Description:    strings.TrimSpace(d.Description),
		HeaderImage:    strings.TrimSpace(d.HeaderImage),
		Priority:       d.Priority,
		Category:       d.Category,
		LoginRequired:  d.LoginRequired,
		ShouldNotify:   d.ShouldNotify,
		SuccessMessage: strings.TrimSpace(d.SuccessMessage),
	}
	switch n := utf8.RuneCountInString(out.Title); {
	case n == 0:
		errs = append(errs, ErrInvalidTitle.At("title").Withf("title is required"))
	case n > MaxTitleLength || !validText(out.Title):
		errs = append(errs, ErrInvalidTitle.At("title").Withf("title must be at most %d characters of text", MaxTitleLength))
	}
	errs = append(errs, checkText("description", out.Description, MaxDescriptionLength))
	if out.HeaderImage != "" && !validImageURL(out.HeaderImage) {
		errs = append(errs, ErrInvalidField.At("header_image").Withf("header_image must be an http(s) URL or a path starting with \"/\", at most %d bytes", MaxURLLength))
	}
	if out.Priority == "" {
		out.Priority = ticket.DefaultPriority
	}
	if !out.Priority.Valid() {
		errs = append(errs, ticket.ErrUnknownPriority.At("priority").Withf("unknown priority %q; allowed: low, medium, high, urgent", d.Priority))
	}
	if out.Category != "" {
		if _, ok := cfg.Category(out.Category); !ok {
			errs = append(errs, ticket.ErrUnknownCategory.At("category").Withf("unknown category %q: not in the tenant's ticket configuration", out.Category))
		}
	}
	if out.SuccessMessage == "" {
		out.SuccessMessage = DefaultSuccessMessage
	}
	errs = append(errs, checkText("success_message", out.SuccessMessage, MaxMessageLength))

	var err error
	out.SubmitButton, err = normButton(d.SubmitButton)
	errs = append(errs, err)
	if d.PollForAssignment != nil {
		p, err := normPoll(*d.PollForAssignment)
		out.PollForAssignment = &p
		errs = append(errs, err)
	}
	out.Inputs, err = normInputs(d.Inputs)
	errs = append(errs, err)
	if err := domain.Join(errs...); err != nil {
		return Definition{}, err
	}
	return out, nil
}

func normButton(b SubmitButton) (SubmitButton, error) {
	var errs []error
	b.Title = strings.TrimSpace(b.Title)
	if b.Title == "" {
		b.Title = DefaultSubmitButton.Title
	}
	errs = append(errs, checkText("submit_button.title", b.Title, MaxDisplayLength))
	var err error
	b.TitleColor, err = normColor("submit_button.title_color", b.TitleColor, DefaultSubmitButton.TitleColor)
	errs = append(errs, err)
	b.BackgroundColor, err = normColor("submit_button.background_color", b.BackgroundColor, DefaultSubmitButton.BackgroundColor)
	errs = append(errs, err)
	return b, domain.Join(errs...)
}

func normPoll(p PollForAssignment) (PollForAssignment, error) {
	var errs []error
	if p.Duration < 0 || p.Duration > MaxPollDuration {
		errs = append(errs, ErrInvalidField.At("poll_for_assignment.duration").Withf("poll_for_assignment.duration must be 0..%d seconds, got %d", MaxPollDuration, p.Duration))
	}
	for _, m := range []struct {
		name string
		v    *string
	}{{"message", &p.Message}, {"success_message", &p.SuccessMessage}, {"failure_message", &p.FailureMessage}} {
		*m.v = strings.TrimSpace(*m.v)
		errs = append(errs, checkText("poll_for_assignment."+m.name, *m.v, MaxMessageLength))
	}
	return p, domain.Join(errs...)
}

func normInputs(in []Input) ([]Input, error) {
	switch {
	case len(in) == 0:
		return nil, ErrInvalidField.At("inputs").Withf("a form needs at least one input")
	case len(in) > MaxInputs:
		return nil, ErrInvalidField.At("inputs").Withf("%d inputs, at most %d allowed", len(in), MaxInputs)
	}
	var errs []error
	out := make([]Input, 0, len(in))
	seen := map[string]bool{}
	for i, input := range in {
		n, err := normInput(fmt.Sprintf("inputs[%d]", i), input, seen)
		errs = append(errs, err)
		out = append(out, n)
	}
	return out, domain.Join(errs...)
}

func normInput(field string, in Input, seen map[string]bool) (Input, error) {
	var errs []error
	out := Input{
		Type:        in.Type,
		Key:         in.Key,
		Display:     strings.TrimSpace(in.Display),
		Required:    in.Required,
		Placeholder: strings.TrimSpace(in.Placeholder),
		Regex:       in.Regex,
	}
	if !in.Type.Valid() {
		errs = append(errs, ErrUnknownInputType.At(field+".type").Withf("%s.type: unknown input type %q; allowed: %s", field, in.Type, joinTypes()))
	}
	switch {
	case !ValidInputKey(in.Key):
		errs = append(errs, ErrInvalidInputKey.At(field+".key").Withf("%s.key %q must match %s", field, in.Key, InputKeyPattern))
	case seen[in.Key]:
		errs = append(errs, ErrDuplicateInputKey.At(field+".key").Withf("%s.key %q is used by another input", field, in.Key))
	}
	seen[in.Key] = true
	if out.Display == "" {
		out.Display = in.Key
	}
	errs = append(errs,
		checkText(field+".display", out.Display, MaxDisplayLength),
		checkText(field+".placeholder", out.Placeholder, MaxPlaceholderLength))
	if in.Regex != "" {
		switch {
		case in.Type.HasOptions() || in.Type == File:
			errs = append(errs, ErrInvalidRegex.At(field+".regex").Withf("%s.regex: %s inputs take no regex", field, in.Type))
		case len(in.Regex) > MaxRegexLength:
			errs = append(errs, ErrInvalidRegex.At(field+".regex").Withf("%s.regex is longer than %d bytes", field, MaxRegexLength))
		default:
			if _, err := regexp.Compile(in.Regex); err != nil {
				errs = append(errs, ErrInvalidRegex.At(field+".regex").Withf("%s.regex does not compile: %v", field, err))
			}
		}
	}
	opts, err := normOptions(field, in)
	out.Options = opts
	errs = append(errs, err)
	return out, domain.Join(errs...)
}

func normOptions(field string, in Input) ([]Option, error) {
	switch {
	case !in.Type.HasOptions() && len(in.Options) > 0:
		return nil, ErrInvalidOptions.At(field+".options").Withf("%s.options: %s inputs take no options", field, in.Type)
	case !in.Type.HasOptions():
		return nil, nil
	case len(in.Options) == 0:
		return nil, ErrInvalidOptions.At(field+".options").Withf("%s.options: a %s input needs at least one option", field, in.Type)
	case len(in.Options) > MaxOptions:
		return nil, ErrInvalidOptions.At(field+".options").Withf("%s.options: at most %d options", field, MaxOptions)
	}
	var errs []error
	out := make([]Option, 0, len(in.Options))
	seen := map[string]bool{}
	for j, o := range in.Options {
		f := fmt.Sprintf("%s.options[%d]", field, j)
		o.Value = strings.TrimSpace(o.Value)
		o.Text = strings.TrimSpace(o.Text)
		switch {
		case o.Value == "":
			errs = append(errs, ErrInvalidOptions.At(f+".value").Withf("%s.value is required", f))
		case utf8.RuneCountInString(o.Value) > MaxOptionValueLength || !validText(o.Value):
			errs = append(errs, ErrInvalidOptions.At(f+".value").Withf("%s.value must be at most %d characters of text", f, MaxOptionValueLength))
		case seen[o.Value]:
			errs = append(errs, ErrInvalidOptions.At(f+".value").Withf("%s.value %q is listed twice", f, o.Value))
		}
		seen[o.Value] = true
		if o.Text == "" {
			o.Text = o.Value
		}
		if err := checkText(f+".text", o.Text, MaxDisplayLength); err != nil {
			errs = append(errs, ErrInvalidOptions.At(f+".text").Withf("%s", err.Error()))
		}
		out = append(out, o)
	}
	return out, domain.Join(errs...)
}

// checkText checks free text that may be empty: valid UTF-8, at most max
// characters, no control characters but tab and line breaks (a NUL could
// not even be stored).
func checkText(field, s string, max int) error {
	if !validText(s) {
		return ErrInvalidField.At(field).Withf("%s must be UTF-8 text without control characters", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return ErrInvalidField.At(field).Withf("%s has %d characters, at most %d allowed", field, n, max)
	}
	return nil
}

func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
	})
}

// validImageURL accepts an absolute http or https URL, or a path on this
// server ("/v1/attachments/…").
func validImageURL(s string) bool {
	if len(s) > MaxURLLength || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return false
	}
	if strings.HasPrefix(s, "/") {
		return !strings.HasPrefix(s, "//")
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// normColor lower-cases a "#rrggbb" color; empty means def.
func normColor(field, s, def string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return def, nil
	}
	ok := len(s) == 7 && s[0] == '#'
	for i := 1; ok && i < len(s); i++ {
		ok = '0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f'
	}
	if !ok {
		return s, ticket.ErrInvalidColor.At(field).Withf("%s: color %q must be #rrggbb", field, s)
	}
	return s, nil
}

func joinTypes() string {
	var b strings.Builder
	for i, t := range InputTypes() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(t))
	}
	return b.String()
}
