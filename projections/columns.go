package projections

import (
	"database/sql/driver"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// textArray is a text[] (or jsonb[]) parameter. The projection writers send
// a batch column by column, one array per column: PostgreSQL unnests
// arrays of text several times faster than it takes a JSON record set apart
// (9 against 37 ms for 700 ticket rows), and a live projection shares the
// machine's cores with the requests whose events it follows. A textArray is
// encoded in one allocation: lib/pq's StringArray grows its buffer element
// by element, which for a batch of JSON documents cost more than the
// statement saved.
type textArray []string

// Value implements driver.Valuer. It returns the literal as []byte, which
// lib/pq sends as it is (a string it would copy once more: a batch's
// columns are a megabyte).
func (a textArray) Value() (driver.Value, error) { return a.appendLiteral(nil), nil }

// literal writes a as a PostgreSQL array literal: {"…","…"}, with every
// element quoted and its quotes and backslashes escaped.
func (a textArray) literal() string {
	b := a.appendLiteral(nil)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again: no copy
}

// appendLiteral appends a's literal to b, growing it once.
func (a textArray) appendLiteral(b []byte) []byte {
	n := 2 + len(a)*3
	for _, s := range a {
		n += len(s) + strings.Count(s, `"`) + strings.Count(s, `\`)
	}
	b = slices.Grow(b, n)
	b = append(b, '{')
	for i, s := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for {
			j := strings.IndexAny(s, `"\`)
			if j < 0 {
				break
			}
			b = append(b, s[:j]...)
			b = append(b, '\\', s[j])
			s = s[j+1:]
		}
		b = append(b, s...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// timestamp formats at for a timestamptz element, to the nanosecond
// (PostgreSQL rounds it to microseconds, as it does any input).
func timestamp(at time.Time) string { return at.Format(time.RFC3339Nano) }
