package crm

import (
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// ValidRegion reports whether code has the form of an ISO 3166 alpha-2
// region: two upper-case ASCII letters. Whether a phone library supports
// it is for the application layer to check.
func ValidRegion(code string) bool {
	return len(code) == 2 && 'A' <= code[0] && code[0] <= 'Z' && 'A' <= code[1] && code[1] <= 'Z'
}

// Currency returns the ISO 4217 code code names (trimmed, upper-cased) and
// whether it is an active currency (ValidCurrency).
func Currency(code string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	_, ok := currencies[c]
	return c, ok
}

// ValidCurrency reports whether code, trimmed and upper-cased, is an active
// ISO 4217 currency code.
func ValidCurrency(code string) bool {
	_, ok := Currency(code)
	return ok
}

// currencies are the active ISO 4217 codes (list one, 2025), funds and
// precious metals included. The codes for testing (XTS) and for "no
// currency" (XXX) are left out: a deal's value is never in them.
var currencies = func() map[string]struct{} {
	const list = `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR
PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC
XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG`
	m := map[string]struct{}{}
	for _, c := range strings.Fields(list) {
		m[c] = struct{}{}
	}
	return m
}()

// NormalizeDate reads a date in any form domain.ParseDate reads —
// "YYYY-MM-DD", ISO 8601 / RFC 3339, epoch milliseconds, JavaScript's
// Date.toString() — and returns it as "YYYY-MM-DD" when it names a day
// only, else as RFC 3339 in the offset it states.
func NormalizeDate(s string) (string, error) {
	t, dateOnly, err := domain.ParseDate(s)
	if err != nil {
		return "", err
	}
	if dateOnly {
		return t.Format(time.DateOnly), nil
	}
	return t.Format(time.RFC3339Nano), nil
}
