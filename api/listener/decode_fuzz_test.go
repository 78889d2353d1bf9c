package listener

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/api/web"
)

// addSeeds adds every sample of seed 004 (testdata/seed, the valid and
// the invalid ones verbatim) and each hostile input of issue 14 §3.
func addSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "seed", "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed samples: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	const sender = "huy.nguyenviet@htklabs.com" // the document's, an agent in the HTTP-level target
	for _, s := range []string{
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-contact","data":{"name":"a\u0000b"}}]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-note","data":{"content":"\ud800"}}]}`,
		`{"senderUser":"` + sender + `","senderUser":"b@x.com","data":[]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-contact","data":{"name":"a","name":"b"}}]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-note","data":{"v":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-ticket","data":{"title":"t","cusFields":{"v":` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}}}]}`,
		`{"senderUser":"` + sender + `","data":` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-deal","data":{"name":"a","closeDate":999999999999999}}]}`,
		`{"senderUser":"` + sender + `","data":[{"actionType":"add-contact","data":{"name":"a","dateOfBirth":"999999999999999","phones":[{"value":"090000000!"}]}}]}`,
		"{\"senderUser\":\"caf\xe9\",\"data\":[]}",
		`{"senderUser":"` + sender + `","data":[1e400, null, "x", {}]}`,
		`{"senderUser":"","data":[]}`, `{"data":[]}`, `{"senderUser":"nobody@x.com","data":{}}`, `[]`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
}

// AddSeeds is addSeeds, for the HTTP-level target (FuzzListener).
var AddSeeds = addSeeds

// jsonDepth is how deeply valid JSON b nests (its outermost container is 1).
func jsonDepth(b []byte) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// FuzzCheckSyntax checks the listener's own JSON reader: any body is
// accepted or refused at a position, never a panic; it accepts exactly
// the JSON encoding/json accepts (nesting within bounds), and the line,
// column and byte offset it names agree with each other.
func FuzzCheckSyntax(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		se := checkSyntax(b)
		valid := json.Valid(b)
		if se == nil {
			if !valid {
				t.Fatalf("checkSyntax() = nil for a body encoding/json refuses")
			}
			return
		}
		if valid && utf8.Valid(b) && jsonDepth(b) <= maxDepth {
			t.Fatalf("checkSyntax() = %v for JSON nested %d deep", se, jsonDepth(b))
		}
		if se.Offset < 0 || se.Offset > len(b) || se.Line < 1 || se.Column < 1 || se.Found == "" || se.Message == "" {
			t.Fatalf("checkSyntax() = %+v: position or description out of range (body of %d bytes)", se, len(b))
		}
		if lines := bytes.Count(b[:se.Offset], []byte("\n")) + 1; lines != se.Line {
			t.Fatalf("checkSyntax() names line %d at byte %d, which is on line %d", se.Line, se.Offset, lines)
		}
	})
}

// FuzzDecodeDelivery checks how a delivery's body is read: any body is a
// sender and actions, a 400 or a 422 in the listener's shape, never a
// panic; what it accepts passes the rules of every surface (valid text,
// no repeated member, bounded nesting: web.CheckValue), names a sender
// and holds at most MaxActions actions, each JSON.
func FuzzDecodeDelivery(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sender, actions, status, e := decodeDelivery(b)
		if e != nil {
			if status != http.StatusBadRequest && status != http.StatusUnprocessableEntity || e.Code == "" || e.Message == "" {
				t.Fatalf("decodeDelivery() = %d %+v, want a 400 or 422 with a code and a message", status, e)
			}
			return
		}
		if err := web.CheckValue(b); err != nil {
			t.Fatalf("decodeDelivery() accepted a body web.CheckValue refuses: %v", err)
		}
		if strings.TrimSpace(sender) == "" || len(actions) > MaxActions {
			t.Fatalf("decodeDelivery() = sender %q, %d actions", sender, len(actions))
		}
		for i, a := range actions {
			if !json.Valid(a) {
				t.Fatalf("action %d = %s, not JSON", i, a)
			}
		}
	})
}
