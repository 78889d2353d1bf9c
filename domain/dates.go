package domain

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidDate reports a date or time in none of the accepted forms.
var ErrInvalidDate = &Error{Kind: Invalid, Code: "invalid_date",
	Msg: "not a date: use YYYY-MM-DD, ISO 8601 (2019-07-08T00:00:00+07:00), epoch milliseconds or JavaScript's Date.toString() form"}

// jsDate matches JavaScript's Date.toString(): "Fri Jan 01 1993 00:00:00
// GMT+0700 (ICT)", the zone name in parentheses optional.
var jsDate = regexp.MustCompile(`^[A-Z][a-z]{2} ([A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2}) GMT([+-]\d{4})(?: \([^()]*\))?$`)

// ParseDate reads s in any form Eventdesk's clients send dates in:
// "YYYY-MM-DD" (dateOnly true), ISO 8601 / RFC 3339 with or without
// fractional seconds ("2019-07-08T00:00:00+07:00", "…Z", and without an
// offset, read as UTC), epoch milliseconds as digits (seed 004's
// closeDate 1482470382793), and JavaScript's Date.toString() form (seed
// 004's "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)"). The offset the input
// states is kept, so the calendar date is the one the sender meant. Any
// other form is ErrInvalidDate.
func ParseDate(s string) (t time.Time, dateOnly bool, err error) {
	t, dateOnly, ok := parseDate(strings.TrimSpace(s))
	// Only instants RFC 3339 can write are dates: years 0000 to 9999 and
	// offsets within a day. Others (15-digit epoch milliseconds, "GMT+9999")
	// would be stored in a form no reader, ParseDate included, reads back,
	// and every later change of their record would fail. (Found by
	// FuzzParseDate.)
	if ok {
		if _, err := time.Parse(time.RFC3339Nano, t.Format(time.RFC3339Nano)); err == nil {
			return t, dateOnly, nil
		}
	}
	return time.Time{}, false, ErrInvalidDate.Withf("%q is not a date: use YYYY-MM-DD, ISO 8601 (2019-07-08T00:00:00+07:00) with a year up to 9999, epoch milliseconds or JavaScript's Date.toString() form", s)
}

func parseDate(s string) (t time.Time, dateOnly, ok bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, false, true
		}
	}
	if m := jsDate.FindStringSubmatch(s); m != nil {
		if t, err := time.Parse("Jan 02 2006 15:04:05 -0700", m[1]+" "+m[2]); err == nil {
			return t, false, true
		}
	}
	if len(s) >= 1 && len(s) <= 15 && strings.Trim(s, "0123456789") == "" {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), false, true
		}
	}
	return time.Time{}, false, false
}

// ParseDay returns the calendar date of s (any form ParseDate reads) as
// "YYYY-MM-DD", in the offset s states.
func ParseDay(s string) (string, error) {
	t, _, err := ParseDate(s)
	if err != nil {
		return "", err
	}
	return t.Format(time.DateOnly), nil
}
