package eventstore_test

import (
	"testing"

	"github.com/eventdesk/eventdesk/eventstore"
)

// FuzzParsePosition checks the position reader of every API (after=,
// min_position=, Eventdesk-Position): any input is a position or an
// error, never a panic, and a position prints as a string that parses
// back to it (String and ParsePosition, MarshalText and UnmarshalText).
func FuzzParsePosition(f *testing.F) {
	for _, s := range []string{"", "0", "0-0", "1-2", "987654-12", "18446744073709551615-9223372036854775807",
		"18446744073709551616-0", "1--2", "-1-2", "1-+2", "+1-2", "1-2-3", "1_0-2", " 1-2", "0x1-2", "1-", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := eventstore.ParsePosition(s)
		var q eventstore.Position
		uerr := q.UnmarshalText([]byte(s))
		if (err == nil) != (uerr == nil) || q != p {
			t.Fatalf("ParsePosition(%q) = %v, %v; UnmarshalText %v, %v", s, p, err, q, uerr)
		}
		if err != nil {
			return
		}
		if p.Seq < 0 {
			t.Fatalf("ParsePosition(%q) = %v, a negative sequence", s, p)
		}
		again, err := eventstore.ParsePosition(p.String())
		if err != nil || again != p {
			t.Fatalf("ParsePosition(%q) = %v, whose String %q parses to %v, %v", s, p, p.String(), again, err)
		}
		b, _ := p.MarshalText()
		if string(b) != p.String() {
			t.Fatalf("MarshalText() = %q, String() = %q", b, p.String())
		}
		if p.Less(p) || (p.IsZero() != (p == eventstore.Position{})) {
			t.Fatalf("%v: Less or IsZero inconsistent", p)
		}
	})
}
