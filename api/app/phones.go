package app

import (
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/eventdesk/eventdesk/domain/customer"
)

// NormalizePhone returns the form a phone number is matched by: E.164
// ("+84905000001") when libphonenumber parses raw as a valid number — in
// region (ISO 3166 alpha-2, "" for none) unless raw starts with "+" — and
// otherwise raw's digits alone (a leading "+" kept). A number that does not
// parse is never refused: it is kept as written and matched by its digits.
//
// When raw itself does not parse, its digits are tried too: the form must
// normalise to itself, or a number written "090000000!" would be kept as
// 090000000 while the same number sent again as those digits matches as
// +39090000000 (found by FuzzNormalizePhone).
func NormalizePhone(raw, region string) string {
	raw, region = strings.TrimSpace(raw), strings.ToUpper(region)
	digits := customer.Digits(raw)
	for _, s := range []string{raw, digits} {
		if n, err := phonenumbers.Parse(s, region); err == nil && phonenumbers.IsValidNumber(n) {
			return phonenumbers.Format(n, phonenumbers.E164)
		}
	}
	return digits
}

// normalizePhones sets the Normalized form of every phone of p that lacks
// one, parsing in region.
func normalizePhones(p *customer.Profile, region string) {
	p.Phones = slices.Clone(p.Phones) // the caller's profile may decide again
	for i := range p.Phones {
		if p.Phones[i].Normalized == "" {
			p.Phones[i].Normalized = NormalizePhone(p.Phones[i].Value, region)
		}
	}
}

// SupportedRegion reports whether libphonenumber knows region (an upper-case
// ISO 3166 alpha-2 code) as a phone region.
func SupportedRegion(region string) bool {
	_, ok := phonenumbers.GetSupportedRegions()[region]
	return ok
}
