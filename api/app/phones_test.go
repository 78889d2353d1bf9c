package app_test

import (
	"testing"

	"github.com/eventdesk/eventdesk/api/app"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		raw, region, want string
	}{
		{"0905000001", "VN", "+84905000001"},     // seed 004's sample, Vietnamese
		{"090 500 0001", "VN", "+84905000001"},   // spaces
		{"+84 905 000 001", "", "+84905000001"},  // international form needs no region
		{"+84905000001", "US", "+84905000001"},   // a "+" wins over the region
		{"(415) 555-2671", "US", "+14155552671"}, // punctuation
		{"01234567890", "VN", "01234567890"},     // no longer a valid Vietnamese number: digits
		{"0905000001", "", "0905000001"},         // no region: digits
		{"call me: 12-34", "VN", "1234"},         // not a number at all: digits
		{"+1 (800) FLOWERS", "", "+18003569377"}, // vanity letters dial as digits
	}
	for _, tt := range tests {
		if got := app.NormalizePhone(tt.raw, tt.region); got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, want %q", tt.raw, tt.region, got, tt.want)
		}
	}
	if !app.SupportedRegion("VN") || app.SupportedRegion("XX") {
		t.Error("SupportedRegion: want VN supported and XX not")
	}
}
