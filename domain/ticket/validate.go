package ticket

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// Input checks shared by the commands. Each returns the normalised value
// and an error naming the field; callers join errors where a command has
// several fields.

func checkID(field, id string) error {
	if !domain.ValidUUID(id) {
		return ErrInvalidField.At(field).Withf("%s: %q is not a lower-case UUID", field, id)
	}
	return nil
}

func normTitle(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return s, ErrInvalidTitle.At("title").Withf("title is not valid UTF-8")
	case n == 0:
		return s, ErrInvalidTitle.At("title").Withf("title is required")
	case n > MaxTitleLength:
		return s, ErrInvalidTitle.At("title").Withf("title has %d characters, at most %d allowed", n, MaxTitleLength)
	}
	return s, nil
}

// checkText checks free text that may be empty.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return ErrInvalidField.At(field).Withf("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return ErrInvalidField.At(field).Withf("%s has %d characters, at most %d allowed", field, n, max)
	}
	return nil
}

func normTag(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return s, ErrInvalidTag.At(field).Withf("%s: tag is empty", field)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return s, ErrInvalidTag.At(field).Withf("%s: tag %q has invalid characters", field, s)
	case utf8.RuneCountInString(s) > MaxTagLength:
		return s, ErrInvalidTag.At(field).Withf("%s: tag longer than %d characters", field, MaxTagLength)
	}
	return s, nil
}

// normTags trims and lower-cases tags and drops repeats, keeping the order
// of first appearance. It returns nil for no tags.
func normTags(in []string) ([]string, error) {
	var out []string
	var errs []error
	for i, s := range in {
		tag, err := normTag(fmt.Sprintf("tags[%d]", i), s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out, domain.Join(errs...)
}

func normEmail(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !domain.ValidEmail(s) {
		return s, ErrInvalidEmail.At(field).Withf("%s: %q is not an e-mail address", field, s)
	}
	return s, nil
}

func normSubscribers(in []string) ([]string, error) {
	if len(in) > MaxSubscribers {
		return nil, ErrInvalidField.At("subscribers").Withf("at most %d subscribers", MaxSubscribers)
	}
	var out []string
	var errs []error
	for i, s := range in {
		e, err := normEmail(fmt.Sprintf("subscribers[%d]", i), s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, domain.Join(errs...)
}

// canonicalJSON checks that raw is JSON and returns it as json.Marshal
// writes it (compact, HTML-escaped), so that it survives a round trip
// through an event unchanged.
func canonicalJSON(raw json.RawMessage) (json.RawMessage, bool) {
	if len(raw) == 0 || !json.Valid(raw) {
		return nil, false
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, false
	}
	return b, true
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// jsonEqual compares two JSON values by meaning: key order and number
// spelling aside (a store may keep JSON as jsonb, which reorders keys).
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if dec(a, &x) != nil || dec(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

func dec(raw json.RawMessage, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}

// normJSONMap checks a map of JSON values (custom fields, integration):
// keys of 1..MaxCustomKeyLength characters, valid JSON values. With
// keepNull false, null values are dropped (absent and null mean the same on
// creation). It returns nil for an empty map.
func normJSONMap(field string, in map[string]json.RawMessage, keepNull bool) (map[string]json.RawMessage, error) {
	if len(in) > MaxCustomKeys {
		return nil, ErrInvalidField.At(field).Withf("%s: at most %d keys", field, MaxCustomKeys)
	}
	var errs []error
	out := map[string]json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		f := field + "." + k
		if k == "" || utf8.RuneCountInString(k) > MaxCustomKeyLength || !utf8.ValidString(k) {
			errs = append(errs, ErrInvalidField.At(field).Withf("%s: key %q must be 1..%d characters", field, k, MaxCustomKeyLength))
			continue
		}
		v, ok := canonicalJSON(in[k])
		if !ok {
			errs = append(errs, ErrInvalidField.At(f).Withf("%s is not valid JSON", f))
			continue
		}
		if !keepNull && isNull(v) {
			continue
		}
		out[k] = v
	}
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	if err := checkJSONSize(field, out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func checkJSONSize(field string, m map[string]json.RawMessage) error {
	size := 0
	for k, v := range m {
		size += len(k) + len(v) + 4
	}
	if size > MaxJSONSize {
		return ErrInvalidField.At(field).Withf("%s: about %d bytes of JSON, at most %d allowed", field, size, MaxJSONSize)
	}
	return nil
}

func normAttachment(field string, a Attachment) (Attachment, error) {
	var errs []error
	if !a.Type.Valid() {
		errs = append(errs, ErrUnknownAssetType.At(field+".type").Withf("%s.type: unknown asset type %q; allowed: %s", field, a.Type, list(AssetTypes())))
	}
	a.Value = strings.TrimSpace(a.Value)
	if a.Value == "" {
		errs = append(errs, ErrInvalidField.At(field+".value").Withf("%s.value is required", field))
	}
	errs = append(errs,
		checkText(field+".value", a.Value, 2048),
		checkText(field+".display", a.Display, MaxTitleLength))
	if a.File != nil {
		f := *a.File
		ff := field + ".file"
		errs = append(errs, checkID(ff+".id", f.ID))
		if f.Filename == "" || strings.ContainsAny(f.Filename, "/\\\x00") || len(f.Filename) > 255 || !utf8.ValidString(f.Filename) {
			errs = append(errs, ErrInvalidField.At(ff+".filename").Withf("%s.filename must be 1..255 bytes of UTF-8 without path separators", ff))
		}
		if f.ContentType == "" || len(f.ContentType) > 255 {
			errs = append(errs, ErrInvalidField.At(ff+".content_type").Withf("%s.content_type must be 1..255 bytes", ff))
		}
		if f.Size < 0 {
			errs = append(errs, ErrInvalidField.At(ff+".size").Withf("%s.size must not be negative", ff))
		}
		if !validSHA256(f.SHA256) {
			errs = append(errs, ErrInvalidField.At(ff+".sha256").Withf("%s.sha256 must be 64 lower-case hex digits", ff))
		}
		a.File = &f
	}
	return a, domain.Join(errs...)
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

func normAttachments(in []Attachment) ([]Attachment, error) {
	if len(in) > MaxAttachments {
		return nil, ErrInvalidField.At("attachments").Withf("at most %d attachments", MaxAttachments)
	}
	var out []Attachment
	var errs []error
	ids := map[string]bool{}
	for i, a := range in {
		field := fmt.Sprintf("attachments[%d]", i)
		a, err := normAttachment(field, a)
		if err == nil && a.File != nil {
			if ids[a.File.ID] {
				err = ErrDuplicateID.At(field+".file.id").Withf("%s.file.id %s is listed twice", field, a.File.ID)
			}
			ids[a.File.ID] = true
		}
		errs = append(errs, err)
		out = append(out, a)
	}
	return out, domain.Join(errs...)
}

// normRefs trims references, lower-cases the contact e-mail and checks
// each field.
func normRefs(r References) (References, error) {
	var errs []error
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"lead_id", &r.LeadID}, {"customer_id", &r.CustomerID}, {"contact_name", &r.ContactName},
		{"contact_email", &r.ContactEmail}, {"contact_phone", &r.ContactPhone},
		{"client_ticket_id", &r.ClientTicketID}, {"support_ticket_id", &r.SupportTicketID},
		{"user_id", &r.UserID}, {"device_id", &r.DeviceID},
	} {
		*f.v = strings.TrimSpace(*f.v)
		errs = append(errs, checkText("references."+f.name, *f.v, MaxReferenceLength))
	}
	if r.ContactEmail != "" {
		e, err := normEmail("references.contact_email", r.ContactEmail)
		r.ContactEmail = e
		errs = append(errs, err)
	}
	if r.ContactPhone != "" && !validPhone(r.ContactPhone) {
		errs = append(errs, ErrInvalidField.At("references.contact_phone").Withf("references.contact_phone %q is not a phone number", r.ContactPhone))
	}
	if r.ClientTicketID != "" && !domain.ValidUUID(strings.ToLower(r.ClientTicketID)) {
		errs = append(errs, ErrInvalidField.At("references.client_ticket_id").Withf("references.client_ticket_id %q is not a UUID", r.ClientTicketID))
	}
	return r, domain.Join(errs...)
}

// validPhone accepts digits with an optional leading "+" and the usual
// separators: "+919916248135", "+1 (555) 010-0199".
func validPhone(s string) bool {
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
	return digits >= 3 && digits <= 20
}

func normForm(f *FormResponse) (*FormResponse, error) {
	if f == nil {
		return nil, nil
	}
	out := FormResponse{Slug: f.Slug, ResponseID: f.ResponseID}
	var errs []error
	if !validSlug(f.Slug) {
		errs = append(errs, ErrInvalidField.At("form.slug").Withf("form.slug %q must be 1..128 of a-z, 0-9, '_' and '-', starting with a letter or digit", f.Slug))
	}
	errs = append(errs, checkText("form.response_id", f.ResponseID, MaxReferenceLength))
	if len(f.Fields) > MaxFormFields {
		errs = append(errs, ErrInvalidField.At("form.fields").Withf("form.fields: at most %d", MaxFormFields))
	}
	size := 0
	for i, ff := range f.Fields {
		field := fmt.Sprintf("form.fields[%d]", i)
		if ff.Key == "" || utf8.RuneCountInString(ff.Key) > MaxCustomKeyLength || !utf8.ValidString(ff.Key) {
			errs = append(errs, ErrInvalidField.At(field+".key").Withf("%s.key must be 1..%d characters", field, MaxCustomKeyLength))
		}
		v, ok := canonicalJSON(ff.Value)
		if !ok {
			errs = append(errs, ErrInvalidField.At(field+".value").Withf("%s.value is not valid JSON", field))
		}
		size += len(ff.Key) + len(v)
		out.Fields = append(out.Fields, FormField{Key: ff.Key, Value: v})
	}
	if size > MaxJSONSize {
		errs = append(errs, ErrInvalidField.At("form.fields").Withf("form.fields: about %d bytes, at most %d allowed", size, MaxJSONSize))
	}
	return &out, domain.Join(errs...)
}

func validSlug(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || (i > 0 && (c == '_' || c == '-'))
		if !ok {
			return false
		}
	}
	return true
}

// checkCategory checks a category and sub-category against cfg; both
// empty means uncategorized.
func checkCategory(cfg Config, category, sub string) error {
	if category == "" {
		if sub != "" {
			return ErrUnknownSubCategory.At("sub_category").Withf("sub-category %q needs a category", sub)
		}
		return nil
	}
	cat, ok := cfg.Category(category)
	if !ok {
		return ErrUnknownCategory.At("category").Withf("unknown category %q; allowed: %s", category, cfg.categoryKeys())
	}
	if sub == "" {
		return nil
	}
	if _, ok := cat.SubCategory(sub); !ok {
		keys := make([]string, len(cat.SubCategories))
		for i, s := range cat.SubCategories {
			keys[i] = s.Key
		}
		return ErrUnknownSubCategory.At("sub_category").Withf("unknown sub-category %q of %q; allowed: %s", sub, category, strings.Join(keys, ", "))
	}
	return nil
}

func lookupStatus(cfg Config, key string) (Status, error) {
	st, ok := cfg.Status(key)
	if !ok {
		return Status{}, ErrUnknownStatus.At("status").Withf("unknown status %q; allowed: %s", key, cfg.statusKeys())
	}
	return st, nil
}

// checkHistoryValue requires a JSON object and, for ratings, a "rating"
// member (when present) that is a number from 1 to 5.
func checkHistoryValue(typ HistoryType, raw json.RawMessage) (json.RawMessage, error) {
	v, ok := canonicalJSON(raw)
	if !ok || !isObject(v) {
		return nil, ErrInvalidField.At("value").Withf("value must be a JSON object")
	}
	if len(v) > MaxJSONSize {
		return nil, ErrInvalidField.At("value").Withf("value has %d bytes, at most %d allowed", len(v), MaxJSONSize)
	}
	if typ == HistoryRating {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, ErrInvalidField.At("value").Withf("value must be a JSON object")
		}
		if r, ok := m["rating"]; ok {
			var n float64
			if json.Unmarshal(r, &n) != nil || n < 1 || n > 5 {
				return nil, ErrInvalidRating.At("value.rating").Withf("value.rating must be a number from 1 to 5, got %s", r)
			}
		}
	}
	return v, nil
}
