package projections

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// TestTextArrayRoundTrip sends awkward elements through PostgreSQL as a
// text[] and a jsonb[] parameter and reads them back unchanged.
func TestTextArrayRoundTrip(t *testing.T) {
	db := pgtest.DB(t)
	in := textArray{"", "plain", `say "hi"`, `back\slash`, `\"`, "{a,b}", "NULL", " spaced ", "tab\tnew\nline", "ünïcødé ✓"}
	var got []string
	if err := db.QueryRow(`SELECT $1::text[]`, in).Scan(pq.Array(&got)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string(in), got); diff != "" {
		t.Errorf("text[] round trip (-sent +got):\n%s", diff)
	}

	docs := textArray{`{"q":"say \"hi\"","b":"back\\slash","u":"\u00fc"}`, `[1,"two",null]`, `"{a,b}"`}
	var back []string
	if err := db.QueryRow(`SELECT array_agg(d::text ORDER BY o) FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(d, o)`,
		docs).Scan(pq.Array(&back)); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"b": "back\\slash", "q": "say \"hi\"", "u": "ü"}`, `[1, "two", null]`, `"{a,b}"`}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("jsonb[] round trip (-want +got):\n%s", diff)
	}

	var empty []string
	if err := db.QueryRow(`SELECT $1::text[]`, textArray{}).Scan(pq.Array(&empty)); err != nil {
		t.Fatal(err)
	}
	if len(empty) != 0 {
		t.Errorf("empty array: got %q, want none", empty)
	}
}
