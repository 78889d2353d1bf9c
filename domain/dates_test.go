package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

func TestParseDate(t *testing.T) {
	ict := time.FixedZone("", 7*3600)
	tests := []struct {
		in       string
		want     time.Time
		dateOnly bool
	}{
		{"1993-01-01", time.Date(1993, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2019-07-08T00:00:00+07:00", time.Date(2019, 7, 8, 0, 0, 0, 0, ict), false}, // seed 004's date custom field
		{"2019-07-08T10:30:00.250Z", time.Date(2019, 7, 8, 10, 30, 0, 250e6, time.UTC), false},
		{"2019-07-08T10:30:00", time.Date(2019, 7, 8, 10, 30, 0, 0, time.UTC), false},
		{"1482470382793", time.UnixMilli(1482470382793).UTC(), false},                              // seed 004's closeDate
		{"Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)", time.Date(1993, 1, 1, 0, 0, 0, 0, ict), false}, // seed 004's dateOfBirth
		{"Fri Jan 02 1993 00:00:00 GMT+0700", time.Date(1993, 1, 2, 0, 0, 0, 0, ict), false},
		{" 1993-01-01 ", time.Date(1993, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2019-07-08T23:59:59.123456-05:00", time.Date(2019, 7, 8, 23, 59, 59, 123456000, time.FixedZone("", -5*3600)), false},
		{"2019-07-08 10:30:00", time.Date(2019, 7, 8, 10, 30, 0, 0, time.UTC), false},
		{"Mon Jul 08 2019 23:30:00 GMT-0400 (Eastern Daylight Time)", time.Date(2019, 7, 8, 23, 30, 0, 0, time.FixedZone("", -4*3600)), false},
		{"0", time.UnixMilli(0).UTC(), false},
	}
	for _, tt := range tests {
		got, dateOnly, err := domain.ParseDate(tt.in)
		if err != nil || !got.Equal(tt.want) || dateOnly != tt.dateOnly {
			t.Errorf("ParseDate(%q) = %v, %t, %v; want %v, %t", tt.in, got, dateOnly, err, tt.want, tt.dateOnly)
		}
		_, gotOff := got.Zone()
		if _, wantOff := tt.want.Zone(); gotOff != wantOff {
			t.Errorf("ParseDate(%q) offset %d, want the stated %d", tt.in, gotOff, wantOff)
		}
	}
	for _, bad := range []string{"", "yesterday", "1993-13-01", "1993-02-30", "01/02/1993", "Fri Jan 01 1993", "Fri Jan 01 1993 00:00:00 (ICT)",
		"12345678901234567890", "-5", "1.5", "2019-07-08T25:00:00Z"} {
		_, _, err := domain.ParseDate(bad)
		if !errors.Is(err, domain.ErrInvalidDate) || domain.KindOf(err) != domain.Invalid {
			t.Errorf("ParseDate(%q) = %v, want ErrInvalidDate (Invalid)", bad, err)
		}
		if err != nil && !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("ParseDate(%q) = %q, want the accepted forms listed", bad, err)
		}
	}
}

func TestParseDay(t *testing.T) {
	tests := []struct{ in, want string }{
		// The calendar date the sender meant, in its own offset: not
		// UTC's 1992-12-31.
		{"Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)", "1993-01-01"},
		{"Fri Jan 02 1993 00:00:00 GMT+0700 (ICT)", "1993-01-02"},
		{"1993-01-01", "1993-01-01"},
		{"2019-07-08T00:00:00+07:00", "2019-07-08"},
		{"2019-07-08T23:30:00-05:00", "2019-07-08"},
		{"1482470382793", "2016-12-23"},
	}
	for _, tt := range tests {
		if got, err := domain.ParseDay(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseDay(%q) = %q, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := domain.ParseDay("soon"); !errors.Is(err, domain.ErrInvalidDate) {
		t.Errorf("ParseDay(soon) = %v, want ErrInvalidDate", err)
	}
}
