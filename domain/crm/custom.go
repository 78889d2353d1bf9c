package crm

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// UnknownPolicy says what CheckCustom does with a value under a name the
// tenant has not defined.
type UnknownPolicy int

// The policies for unknown custom fields.
const (
	// Refuse fails with ErrUnknownCustomField (the native API).
	Refuse UnknownPolicy = iota
	// Warn drops the value and lists a warning (the webhook listener).
	Warn
)

// CheckCustom checks custom values of entity against defs (the tenant's
// definitions; those of other entities are ignored) and returns them
// normalised, each in the JSON form of its type:
//
//   - text: a JSON string of at most MaxTextLength characters;
//   - number: a JSON number, or a string holding one, stored as a JSON
//     number with its digits exactly as written (never through a float);
//   - date: anything NormalizeDate reads, stored as "YYYY-MM-DD" or RFC 3339;
//   - checkbox: an array of strings or one string joined with "|" (seed
//     004), each one of the options, stored as an array without repeats;
//   - select: one of the options, as a string.
//
// Options match exactly, else case-insensitively (stored as defined). A
// null value is dropped. A value of the wrong type is ErrInvalidField at
// "custom.<name>" naming the expected type; an unknown name is
// ErrUnknownCustomField at "custom.<name>" under Refuse, and dropped with a
// warning under Warn. Every problem is returned, joined.
func CheckCustom(defs []FieldDef, entity string, values map[string]json.RawMessage, unknown UnknownPolicy) (map[string]json.RawMessage, []string, error) {
	if len(values) == 0 {
		return nil, nil, nil
	}
	byName := map[string]FieldDef{}
	for _, d := range defs {
		if string(d.Entity) == entity {
			byName[d.Name] = d
		}
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names)
	out := map[string]json.RawMessage{}
	var warnings []string
	var errs []error
	for _, name := range names {
		raw := values[name]
		field := "custom." + name
		d, ok := byName[name]
		if !ok {
			for _, x := range defs { // a name written in another case
				if string(x.Entity) == entity && strings.EqualFold(x.Name, strings.TrimSpace(name)) {
					d, ok = x, true
					break
				}
			}
		}
		if !ok {
			if unknown == Warn {
				warnings = append(warnings, "unknown custom field "+strconvQuote(name)+" ignored")
				continue
			}
			errs = append(errs, ErrUnknownCustomField.At(field).Withf("%s: no custom field %q is defined for %s", field, name, entity))
			continue
		}
		if isNull(raw) {
			continue
		}
		v, err := checkValue(d, field, raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[d.Name] = v
	}
	if len(errs) > 0 {
		return nil, warnings, domain.Join(errs...)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, warnings, nil
}

func checkValue(d FieldDef, field string, raw json.RawMessage) (json.RawMessage, error) {
	wrong := func(want string) error {
		return ErrInvalidField.At(field).Withf("%s: custom field %q is a %s field; want %s", field, d.Name, d.Type, want)
	}
	s, isString := text(raw)
	switch d.Type {
	case Text:
		if !isString {
			return nil, wrong("a string")
		}
		if utf8.RuneCountInString(s) > MaxTextLength {
			return nil, ErrInvalidField.At(field).Withf("%s: custom field %q holds at most %d characters", field, d.Name, MaxTextLength)
		}
		return marshal(s), nil
	case Number:
		n := strings.TrimSpace(string(raw))
		if isString {
			n = strings.TrimSpace(s)
		}
		if !ValidNumber(n) {
			return nil, wrong("a number (or a string holding one)")
		}
		return json.RawMessage(n), nil
	case Date:
		in := s
		if !isString {
			in = strings.TrimSpace(string(raw)) // epoch milliseconds
		}
		day, err := NormalizeDate(in)
		if err != nil {
			return nil, wrong("a date (YYYY-MM-DD, ISO 8601, epoch milliseconds or JavaScript's Date.toString())")
		}
		return marshal(day), nil
	case Select:
		if !isString {
			return nil, wrong("one of its options, as a string")
		}
		o, ok := option(d.Options, s)
		if !ok {
			return nil, ErrInvalidField.At(field).Withf("%s: %q is not an option of %q; options: %s", field, s, d.Name, strings.Join(d.Options, ", "))
		}
		return marshal(o), nil
	case Checkbox:
		var parts []string
		if isString {
			if strings.TrimSpace(s) != "" {
				parts = strings.Split(s, "|")
			}
		} else if err := json.Unmarshal(raw, &parts); err != nil || !strings.HasPrefix(strings.TrimSpace(string(raw)), "[") {
			return nil, wrong("an array of its options or a string joining them with \"|\"")
		}
		out := []string{}
		for _, p := range parts {
			o, ok := option(d.Options, p)
			if !ok {
				return nil, ErrInvalidField.At(field).Withf("%s: %q is not an option of %q; options: %s", field, p, d.Name, strings.Join(d.Options, ", "))
			}
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
		return marshal(out), nil
	}
	return nil, wrong("a known type")
}

// option returns the option v names: exactly, else case-insensitively.
func option(options []string, v string) (string, bool) {
	v = strings.TrimSpace(v)
	if slices.Contains(options, v) {
		return v, true
	}
	for _, o := range options {
		if strings.EqualFold(o, v) {
			return o, true
		}
	}
	return "", false
}

var numberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// ValidNumber reports whether s is a JSON number (as written, so its
// digits are kept exactly). At most 100 bytes.
func ValidNumber(s string) bool { return len(s) <= 100 && numberRE.MatchString(s) }

func text(raw json.RawMessage) (string, bool) {
	t := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(t, `"`) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

func marshal(v any) json.RawMessage {
	b, _ := json.Marshal(v) // strings and string slices always marshal
	return b
}

func strconvQuote(s string) string { return string(marshal(s)) }
