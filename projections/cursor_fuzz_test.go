package projections

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"
)

// FuzzCursors checks the readers of the list cursors (tickets by number,
// customers and deals by creation, timelines by position): any input is
// a cursor or ErrBadCursor, never a panic, and a cursor read encodes to
// one that reads back the same.
func FuzzCursors(f *testing.F) {
	at := time.Date(2026, 12, 4, 16, 39, 5, 123456789, time.UTC)
	for _, s := range []string{
		encodeCursor(34), encodeCursor(-1), encodeCursor(1 << 62),
		encodeCreatedCursor(at, "27e8259d-0681-4adb-b5e8-14f66a208dd4"),
		encodeCreatedCursor(time.Time{}, "27e8259d-0681-4adb-b5e8-14f66a208dd4"),
		base64.RawURLEncoding.EncodeToString([]byte("9999-12-31T23:59:59-23:59 27e8259d-0681-4adb-b5e8-14f66a208dd4")),
		base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d-%d", 987654, 12)),
		base64.RawURLEncoding.EncodeToString([]byte("-1--1")),
		"", "=", "bjo", "bjoxMg==", "%%%", "n:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		if n, err := decodeCursor(c); err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCursor(%q) = %v, want ErrBadCursor", c, err)
			}
		} else if m, err := decodeCursor(encodeCursor(n)); err != nil || m != n {
			t.Fatalf("decodeCursor(%q) = %d, which re-encodes to %d, %v", c, n, m, err)
		}
		if at, id, err := decodeCreatedCursor(c); err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCreatedCursor(%q) = %v, want ErrBadCursor", c, err)
			}
		} else if at2, id2, err := decodeCreatedCursor(encodeCreatedCursor(at, id)); err != nil || !at2.Equal(at) || id2 != id {
			t.Fatalf("decodeCreatedCursor(%q) = %v %s, which re-encodes to %v %s, %v", c, at, id, at2, id2, err)
		}
		if tx, seq, err := decodeTimelineCursor(c); err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeTimelineCursor(%q) = %v, want ErrBadCursor", c, err)
			}
		} else {
			again := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d-%d", tx, seq))
			if tx2, seq2, err := decodeTimelineCursor(again); err != nil || tx2 != tx || seq2 != seq {
				t.Fatalf("decodeTimelineCursor(%q) = %d-%d, which re-encodes to %d-%d, %v", c, tx, seq, tx2, seq2, err)
			}
		}
	})
}
