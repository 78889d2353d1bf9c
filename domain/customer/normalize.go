package customer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// Limits on a profile, in bytes unless said otherwise.
const (
	MaxNameLength       = 200
	MaxPassportLength   = 100
	MaxBackgroundLength = 65536
	MaxListLength       = 50 // e-mails, phones, websites, IMs, tags
	MaxAddresses        = 20
	MaxPhoneLength      = 64
	MaxWebsiteLength    = 2048
	MaxIMLength         = 512
	MaxTagLength        = 100
	MaxRefLength        = 200 // contact_id, custom field names, address parts
	MaxChannelLength    = 100
)

// The allowed types, in their canonical spelling; input matches them case-
// insensitively.
var (
	EmailTypes   = []string{"Work", "Home", "Mobile", "Other"}
	PhoneTypes   = EmailTypes
	AddressTypes = []string{"Work", "Home", "Other"}
	IMProtocols  = []string{"Skype", "Facebook", "Yahoo", "Viber", "Hangouts", "Other"}
)

// checker collects the field errors of one profile.
type checker struct{ errs []error }

func (c *checker) bad(field, format string, args ...any) {
	c.errs = append(c.errs, ErrInvalidField.At(field).Withf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// text trims s and checks it is UTF-8 without NUL and at most max bytes.
func (c *checker) text(field, s string, limit int) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		c.bad(field, "must be UTF-8 text without NUL")
	case len(s) > limit:
		c.bad(field, "must be at most %d bytes", limit)
	}
	return s
}

// uuid trims s and checks it is empty or a lower-case UUID.
func (c *checker) uuid(field, s string) string {
	if s = strings.TrimSpace(s); s != "" && !domain.ValidUUID(s) {
		c.bad(field, "must be a lower-case UUID")
	}
	return s
}

// canonical returns the spelling in allowed that s matches case-
// insensitively; empty stays empty.
func (c *checker) canonical(field, s string, allowed []string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a
		}
	}
	c.bad(field, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return s
}

// Normalize checks a profile and returns it normalised: text trimmed,
// e-mails lower case and deduplicated, types in their canonical spelling,
// the passport upper case without spaces, the date of birth as YYYY-MM-DD,
// phones' Normalized filled with their digits where the caller left it
// empty, tags and websites deduplicated, the permit normalised. Every bad
// field is reported, joined, each as ErrInvalidField at its JSON path
// ("emails[1].value").
func Normalize(p Profile) (Profile, error) {
	var c checker
	if p.Name = c.text("name", p.Name, MaxNameLength); p.Name == "" {
		c.bad("name", "is required")
	}
	p.LastName = c.text("last_name", p.LastName, MaxNameLength)
	p.Title = c.text("title", p.Title, MaxNameLength)
	p.Passport = NormalizePassport(c.text("passport", p.Passport, MaxPassportLength))
	if p.Gender != nil && (*p.Gender < Male || *p.Gender > Other) {
		c.bad("gender", "must be 0 (male), 1 (female) or 2 (other)")
	}
	p.Background = c.text("background", p.Background, MaxBackgroundLength)
	if p.DateOfBirth = strings.TrimSpace(p.DateOfBirth); p.DateOfBirth != "" {
		day, err := domain.ParseDay(p.DateOfBirth)
		if err != nil {
			c.errs = append(c.errs, ErrInvalidField.At("date_of_birth").Withf("date_of_birth: %v", err))
		}
		p.DateOfBirth = day
	}
	p.Emails = c.emails(p.Emails)
	p.Phones = c.phones(p.Phones)
	p.Addresses = c.addresses(p.Addresses)
	p.Websites = c.list("websites", p.Websites, MaxWebsiteLength)
	p.IMs = c.ims(p.IMs)
	p.Tags = c.list("tags", p.Tags, MaxTagLength)
	p.Custom = c.custom(p.Custom)
	p.ContactID = c.text("contact_id", p.ContactID, MaxRefLength)
	p.Account = c.uuid("account_id", p.Account)
	p.Owner = c.uuid("owner", p.Owner)
	permit, err := p.Permit.Normalize("permit")
	if err != nil {
		c.errs = append(c.errs, err)
	}
	p.Permit = permit
	p.Channel = c.text("channel", p.Channel, MaxChannelLength)
	if err := domain.Join(c.errs...); err != nil {
		return Profile{}, err
	}
	return p, nil
}

func (c *checker) emails(in []Email) []Email {
	if len(in) > MaxListLength {
		c.bad("emails", "at most %d", MaxListLength)
	}
	var out []Email
	for i, e := range in {
		f := fmt.Sprintf("emails[%d]", i)
		e.Type = c.canonical(f+".type", e.Type, EmailTypes)
		e.Value = strings.ToLower(strings.TrimSpace(e.Value))
		if !domain.ValidEmail(e.Value) {
			c.bad(f+".value", "%q is not an e-mail address", in[i].Value)
		}
		if !slices.ContainsFunc(out, func(x Email) bool { return x.Value == e.Value }) {
			out = append(out, e)
		}
	}
	return out
}

// NormalizePassport returns the form passports are compared by: upper
// case, without spaces ("b 123" → "B123").
func NormalizePassport(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }

// Digits returns the characters of a phone number it is matched by when it
// does not parse: its digits, with a leading "+" kept.
func Digits(raw string) string {
	raw = strings.TrimSpace(raw)
	var b strings.Builder
	for i, r := range raw {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (c *checker) phones(in []Phone) []Phone {
	if len(in) > MaxListLength {
		c.bad("phones", "at most %d", MaxListLength)
	}
	var out []Phone
	for i, p := range in {
		f := fmt.Sprintf("phones[%d]", i)
		p.Type = c.canonical(f+".type", p.Type, PhoneTypes)
		if p.Value = c.text(f+".value", p.Value, MaxPhoneLength); p.Value == "" {
			c.bad(f+".value", "is required")
			continue
		}
		if p.Normalized = c.text(f+".normalized", p.Normalized, MaxPhoneLength); p.Normalized == "" {
			p.Normalized = Digits(p.Value)
		}
		if strings.Trim(p.Normalized, "+") == "" {
			c.bad(f+".value", "%q holds no digits", p.Value)
			continue
		}
		if !slices.ContainsFunc(out, func(x Phone) bool { return x.Normalized == p.Normalized }) {
			out = append(out, p)
		}
	}
	return out
}

func (c *checker) addresses(in []Address) []Address {
	if len(in) > MaxAddresses {
		c.bad("addresses", "at most %d", MaxAddresses)
	}
	out := make([]Address, 0, len(in))
	for i, a := range in {
		f := fmt.Sprintf("addresses[%d]", i)
		a.Type = c.canonical(f+".type", a.Type, AddressTypes)
		a.Street = c.text(f+".street", a.Street, MaxRefLength)
		a.City = c.text(f+".city", a.City, MaxRefLength)
		a.State = c.text(f+".state", a.State, MaxRefLength)
		a.Zip = c.text(f+".zip", a.Zip, MaxRefLength)
		a.Country.Code = c.text(f+".country.code", a.Country.Code, MaxRefLength)
		a.Country.Name = c.text(f+".country.name", a.Country.Name, MaxRefLength)
		// A code is 2 or 3 letters; anything else sent as one is a name
		// (seed 004 sends "country": "country"): never refused for it.
		if code := a.Country.Code; code != "" {
			if n := len(code); (n == 2 || n == 3) && strings.Trim(strings.ToUpper(code), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
				a.Country.Code = strings.ToUpper(code)
			} else {
				if a.Country.Name == "" {
					a.Country.Name = code
				}
				a.Country.Code = ""
			}
		}
		if a != (Address{Type: a.Type}) || a.Type != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (c *checker) ims(in []IM) []IM {
	if len(in) > MaxListLength {
		c.bad("ims", "at most %d", MaxListLength)
	}
	var out []IM
	for i, m := range in {
		f := fmt.Sprintf("ims[%d]", i)
		if strings.TrimSpace(m.Protocol) == "" {
			m.Protocol = "Other"
		}
		m.Protocol = c.canonical(f+".protocol", m.Protocol, IMProtocols)
		if m.Value = c.text(f+".value", m.Value, MaxIMLength); m.Value == "" {
			c.bad(f+".value", "is required")
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// list trims, drops empty values and repeats, and bounds a list of
// strings.
func (c *checker) list(field string, in []string, limit int) []string {
	var out []string
	for i, s := range in {
		if s = c.text(fmt.Sprintf("%s[%d]", field, i), s, limit); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > MaxListLength {
		c.bad(field, "at most %d", MaxListLength)
	}
	return out
}

func (c *checker) custom(in map[string]json.RawMessage) map[string]json.RawMessage {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) { // errors in a stable order
		v := in[name]
		f := "custom." + name
		n := strings.TrimSpace(name)
		if n == "" || len(n) > MaxRefLength || !utf8.ValidString(n) || strings.ContainsRune(n, 0) {
			c.bad(f, "a custom field name must be 1..%d bytes of UTF-8", MaxRefLength)
			continue
		}
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil || len(v) == 0 {
			c.bad(f, "is not a JSON value")
			continue
		}
		out[n] = b.Bytes() // compact, as stored, so that equal values compare equal
	}
	return out
}

// Identities returns the identities of p: every e-mail address, every
// phone's normalised form, the passport and the external contact id, each
// once, in that order.
func (p Profile) Identities() []Identity {
	var out []Identity
	add := func(k IdentityKind, v string) {
		if id := (Identity{Kind: k, Value: v}); v != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, e := range p.Emails {
		add(ByEmail, e.Value)
	}
	for _, ph := range p.Phones {
		add(ByPhone, ph.Normalized)
	}
	add(ByPassport, p.Passport)
	add(ByContactID, p.ContactID)
	return out
}
