package app_test

import (
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain/customer"
)

// FuzzNormalizePhone checks the phone normaliser: any input, in any
// region, gives a form without panicking; normalising that form again
// gives itself; and the form is E.164 or digits (a leading "+" kept).
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range [][2]string{
		{"+919916248135", ""}, {"0905 000 001", "VN"}, {"+84905000001", "VN"}, {"(650) 253-0000", "US"},
		{"1-800-FLOWERS", "US"}, {"+1 650 253 0000 ext. 12", "US"}, {"0909123456", "vn"}, {"12345", "ZZ"},
		{"", ""}, {"+", "US"}, {"++1", ""}, {"٠٩٠٥٠٠٠٠٠١", "VN"}, {"+44 (0) 20 7946 0958", "GB"},
		{"tel:+1-650-253-0000", ""}, {"9876543210", "IN"}, {"\x00+1", "US"}, {"+\xff1", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		n := app.NormalizePhone(raw, region)
		if again := app.NormalizePhone(n, region); again != n {
			t.Fatalf("NormalizePhone(%q, %q) = %q, which normalises to %q", raw, region, n, again)
		}
		if strings.Trim(n, "+0123456789") != "" || strings.LastIndex(n, "+") > 0 {
			t.Fatalf("NormalizePhone(%q, %q) = %q, not E.164 or digits", raw, region, n)
		}
		if customer.Digits(n) != n {
			t.Fatalf("NormalizePhone(%q, %q) = %q, whose digits are %q", raw, region, n, customer.Digits(n))
		}
	})
}
