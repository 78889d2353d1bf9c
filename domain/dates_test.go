package domain_test

import (
	"errors"
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
	for _, bad := range []string{"", "yesterday", "1993-13-01", "01/02/1993", "Fri Jan 01 1993", "12345678901234567890", "-5"} {
		if _, _, err := domain.ParseDate(bad); !errors.Is(err, domain.ErrInvalidDate) {
			t.Errorf("ParseDate(%q) = %v, want ErrInvalidDate", bad, err)
		}
	}
}

func TestParseDay(t *testing.T) {
	// The calendar date the sender meant, in its own offset: not UTC's
	// 1992-12-31.
	if got, err := domain.ParseDay("Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)"); err != nil || got != "1993-01-01" {
		t.Errorf("ParseDay() = %q, %v; want 1993-01-01", got, err)
	}
}
