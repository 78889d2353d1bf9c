package customer_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   customer.Profile
		want customer.Profile
	}{
		{"minimal", customer.Profile{Name: "  Ana\t"}, customer.Profile{Name: "Ana", Permit: everybody}},
		{"text trimmed, passport upper case without spaces",
			customer.Profile{Name: "Ana", LastName: " Le ", Title: " CEO", Passport: " b 123 4567 ", Background: " met at a fair ",
				ContactID: " lsq-1 ", Channel: " facebook ", Owner: owner, Account: account, Gender: ptr(customer.Other)},
			customer.Profile{Name: "Ana", LastName: "Le", Title: "CEO", Passport: "B1234567", Background: "met at a fair",
				ContactID: "lsq-1", Channel: "facebook", Owner: owner, Account: account, Gender: ptr(customer.Other), Permit: everybody}},
		{"date of birth: seed 004's JavaScript date keeps its calendar day",
			customer.Profile{Name: "Ana", DateOfBirth: "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)"},
			customer.Profile{Name: "Ana", DateOfBirth: "1993-01-01", Permit: everybody}},
		{"date of birth: ISO", customer.Profile{Name: "Ana", DateOfBirth: "1993-01-01T00:00:00+07:00"},
			customer.Profile{Name: "Ana", DateOfBirth: "1993-01-01", Permit: everybody}},
		{"e-mails lower case, types canonical, repeats dropped keeping the first",
			customer.Profile{Name: "Ana", Emails: []customer.Email{{Type: "HOME", Value: " Ana@Example.com "}, {Value: "b@example.com"}, {Type: "work", Value: "ana@example.com"}}},
			customer.Profile{Name: "Ana", Emails: []customer.Email{{Type: "Home", Value: "ana@example.com"}, {Value: "b@example.com"}}, Permit: everybody}},
		{"phones: the caller's Normalized kept, else digits with a leading +, repeats by Normalized dropped",
			customer.Profile{Name: "Ana", Phones: []customer.Phone{
				{Type: "mobile", Value: "0905 000 001", Normalized: "+84905000001"},
				{Value: " +84 (905) 000-001 "},
				{Value: "0905.000.002"},
				{Type: "Work", Value: "+84905000001"}}},
			customer.Profile{Name: "Ana", Phones: []customer.Phone{
				{Type: "Mobile", Value: "0905 000 001", Normalized: "+84905000001"},
				{Value: "0905.000.002", Normalized: "0905000002"}}, Permit: everybody}},
		{"addresses: types canonical, country codes upper case, a longer code is a name, empty ones dropped",
			customer.Profile{Name: "Ana", Addresses: []customer.Address{
				{Type: "home", Street: " 1 Bach Dang ", City: "Da Nang", Country: customer.Country{Code: "vn"}},
				{City: "Hue", Country: customer.Country{Code: "country"}}, // seed 004 sends "country":"country"
				{Country: customer.Country{Code: "Viet Nam", Name: "Vietnam"}},
				{}}},
			customer.Profile{Name: "Ana", Addresses: []customer.Address{
				{Type: "Home", Street: "1 Bach Dang", City: "Da Nang", Country: customer.Country{Code: "VN"}},
				{City: "Hue", Country: customer.Country{Name: "country"}},
				{Country: customer.Country{Name: "Vietnam"}}}, Permit: everybody}},
		{"websites and tags trimmed, empty and repeated dropped; tags case-sensitive",
			customer.Profile{Name: "Ana", Websites: []string{" https://a.example ", "", "https://a.example"}, Tags: []string{"vip", " VIP", "vip ", " "}},
			customer.Profile{Name: "Ana", Websites: []string{"https://a.example"}, Tags: []string{"vip", "VIP"}, Permit: everybody}},
		{"IMs: protocols canonical",
			customer.Profile{Name: "Ana", IMs: []customer.IM{{Protocol: "skype", Value: " ana.le "}, {Protocol: "HANGOUTS", Value: "ana"}}},
			customer.Profile{Name: "Ana", IMs: []customer.IM{{Protocol: "Skype", Value: "ana.le"}, {Protocol: "Hangouts", Value: "ana"}}, Permit: everybody}},
		{"custom fields by trimmed name",
			customer.Profile{Name: "Ana", Custom: map[string]json.RawMessage{" Size ": json.RawMessage(`"L"`), "Seats": json.RawMessage(` 12 `)}},
			customer.Profile{Name: "Ana", Custom: map[string]json.RawMessage{"Size": json.RawMessage(`"L"`), "Seats": json.RawMessage(`12`)}, Permit: everybody}},
		{"permit normalised",
			customer.Profile{Name: "Ana", Owner: owner, Permit: domain.Permit{Kind: domain.PermitOwnerAgents, Agents: []string{owner, owner}, Group: group}},
			customer.Profile{Name: "Ana", Owner: owner, Permit: domain.Permit{Kind: domain.PermitOwnerAgents, Agents: []string{owner}}}},
		{"a 200-byte name", customer.Profile{Name: strings.Repeat("é", 100)}, customer.Profile{Name: strings.Repeat("é", 100), Permit: everybody}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := customer.Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Normalize() (-want +got):\n%s", diff)
			}
			again, err := customer.Normalize(got)
			if err != nil || !equalJSON(again, got) {
				t.Errorf("Normalize(Normalize(p)) = %+v, %v; want it unchanged", again, err)
			}
		})
	}
}

func TestNormalize_Errors(t *testing.T) {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tests := []struct {
		name   string
		in     customer.Profile
		fields []string
	}{
		{"name required", customer.Profile{Name: " "}, []string{"name"}},
		{"name too long", customer.Profile{Name: strings.Repeat("é", 100) + "x"}, []string{"name"}},
		{"name not UTF-8", customer.Profile{Name: "Ana\xff"}, []string{"name"}},
		{"name with NUL", customer.Profile{Name: "A\x00na"}, []string{"name"}},
		{"every scalar bad", customer.Profile{Name: "Ana", LastName: strings.Repeat("l", 201), Title: strings.Repeat("t", 201),
			Passport: strings.Repeat("P", 101), Gender: ptr(customer.Gender(3)), Background: strings.Repeat("b", 65537),
			DateOfBirth: "yesterday", ContactID: strings.Repeat("c", 201), Account: "ACME", Owner: "ana", Channel: strings.Repeat("c", 101),
			Permit: domain.Permit{Kind: "secret"}},
			[]string{"last_name", "title", "passport", "gender", "background", "date_of_birth", "contact_id", "account_id", "owner", "permit.kind", "channel"}},
		{"negative gender", customer.Profile{Name: "Ana", Gender: ptr(customer.Gender(-1))}, []string{"gender"}},
		{"e-mails", customer.Profile{Name: "Ana", Emails: []customer.Email{{Value: "ok@example.com"}, {Value: "nope"}, {Type: "Pager", Value: "p@example.com"}}},
			[]string{"emails[1].value", "emails[2].type"}},
		{"too many e-mails", customer.Profile{Name: "Ana", Emails: func() []customer.Email {
			var out []customer.Email
			for _, s := range many(51, func(i int) string { return strings.Repeat("a", i+1) + "@example.com" }) {
				out = append(out, customer.Email{Value: s})
			}
			return out
		}()}, []string{"emails"}},
		{"phones", customer.Profile{Name: "Ana", Phones: []customer.Phone{{Value: " "}, {Value: "call me"}, {Type: "Fax", Value: "1"}, {Value: strings.Repeat("1", 65)}, {Value: "1", Normalized: "+1\x00"}}},
			[]string{"phones[0].value", "phones[1].value", "phones[2].type", "phones[3].value", "phones[4].normalized"}},
		{"addresses", customer.Profile{Name: "Ana", Addresses: []customer.Address{{Type: "Mobile", City: "Hue"}, {Street: strings.Repeat("s", 201)},
			{Country: customer.Country{Name: strings.Repeat("n", 201)}}}},
			[]string{"addresses[0].type", "addresses[1].street", "addresses[2].country.name"}},
		{"too many addresses", customer.Profile{Name: "Ana", Addresses: make([]customer.Address, 21)}, []string{"addresses"}},
		{"websites", customer.Profile{Name: "Ana", Websites: []string{"https://" + strings.Repeat("w", 2041)}}, []string{"websites[0]"}},
		{"too many websites", customer.Profile{Name: "Ana", Websites: many(51, func(i int) string { return "https://" + strings.Repeat("w", i+1) })},
			[]string{"websites"}},
		{"IMs", customer.Profile{Name: "Ana", IMs: []customer.IM{{Protocol: "ICQ", Value: "1"}, {Protocol: "Skype", Value: " "}, {Protocol: "Viber", Value: strings.Repeat("v", 513)}}},
			[]string{"ims[0].protocol", "ims[1].value", "ims[2].value"}},
		{"tags", customer.Profile{Name: "Ana", Tags: []string{strings.Repeat("t", 101)}}, []string{"tags[0]"}},
		{"too many tags", customer.Profile{Name: "Ana", Tags: many(51, func(i int) string { return strings.Repeat("t", i+1) })}, []string{"tags"}},
		{"custom", customer.Profile{Name: "Ana", Custom: map[string]json.RawMessage{"": json.RawMessage(`1`), "Size": json.RawMessage(`{nope`)}},
			[]string{"custom.", "custom.Size"}},
		{"empty custom value", customer.Profile{Name: "Ana", Custom: map[string]json.RawMessage{"Size": nil}}, []string{"custom.Size"}},
		{"permit without its group", customer.Profile{Name: "Ana", Permit: domain.Permit{Kind: domain.PermitOwnerGroup}}, []string{"permit.group"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := customer.Normalize(tt.in)
			if err == nil {
				t.Fatalf("Normalize() = %+v, nil; want errors at %q", got, tt.fields)
			}
			var fields []string
			for _, e := range domain.Errors(err) {
				fields = append(fields, e.Field)
				if e.Msg == "" || e.Kind != domain.Invalid {
					t.Errorf("error at %q: kind %v, message %q; want Invalid with a message", e.Field, e.Kind, e.Msg)
				}
			}
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("fields at fault (-want +got):\n%s\n(error: %v)", diff, err)
			}
			for _, f := range tt.fields {
				if strings.HasPrefix(f, "permit") {
					continue
				}
				if !errors.Is(err, customer.ErrInvalidField.At(f)) {
					t.Errorf("Normalize() = %v, want ErrInvalidField at %q", err, f)
				}
			}
		})
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{"+84 (905) 000-001": "+84905000001", " 0905.000.001": "0905000001", "1-800-FLOWERS": "1800", "no": "", "5+5": "55"} {
		if got := customer.Digits(in); got != want {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
}
