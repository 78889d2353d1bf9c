package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// FuzzParseDate checks the CRM's date reader: any input is a date or
// ErrInvalidDate, never a panic; a date formats (RFC 3339) and re-parses
// to the same instant; ParseDay's answer is a day that reads as itself.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"1993-01-01", "2019-07-08T00:00:00+07:00", "2019-07-08T10:30:00.250Z", "2019-07-08T10:30:00",
		"1482470382793", "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)", "Fri Jan 02 1993 00:00:00 GMT+0700",
		" 1993-01-01 ", "2019-07-08T23:59:59.123456-05:00", "2019-07-08 10:30:00", "2019-07-08 10:30:00+07:00",
		"2019-07-08T10:30", "Mon Jul 08 2019 23:30:00 GMT-0400 (Eastern Daylight Time)", "0",
		"999999999999999", "Fri Jan 01 1993 00:00:00 GMT+9999", "9999-12-31T23:59:59-23:59",
		"0000-01-01", "2019-02-30", "", "yesterday", "1993-01-01\x00", "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, dateOnly, err := domain.ParseDate(s)
		day, dayErr := domain.ParseDay(s)
		if (err == nil) != (dayErr == nil) {
			t.Fatalf("ParseDate() err %v, ParseDay() err %v", err, dayErr)
		}
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidDate) {
				t.Fatalf("ParseDate(%q) = %v, want ErrInvalidDate", s, err)
			}
			return
		}
		formatted := at.Format(time.RFC3339Nano)
		again, _, err := domain.ParseDate(formatted)
		if err != nil || !again.Equal(at) {
			t.Fatalf("ParseDate(%q) = %s, which re-parses to %v, %v", s, formatted, again, err)
		}
		if dateOnly && at.Format(time.DateOnly) != day {
			t.Fatalf("ParseDate(%q) is the day %s, ParseDay() %s", s, at.Format(time.DateOnly), day)
		}
		d2, err := domain.ParseDay(day)
		if err != nil || d2 != day {
			t.Fatalf("ParseDay(%q) = %q, %v; want itself", day, d2, err)
		}
	})
}
