package crm

import (
	"strconv"
	"strings"
	"time"
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

// NormalizeDate reads a date — "YYYY-MM-DD", RFC 3339 / ISO 8601, or epoch
// milliseconds — and returns it as "YYYY-MM-DD" when it names a day only,
// else as RFC 3339 (UTC offset kept).
func NormalizeDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Format(time.DateOnly), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.RFC3339Nano), nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 9 {
		return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), nil
	}
	return "", ErrInvalidField.Withf("%q is not a date", s)
}
