// Package domaintest holds checks every aggregate package's tests share.
// Only test files import it.
package domaintest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
)

// CodecRoundTrip checks that samples holds one event of every type in
// types, in that order, and that each is Audited, encodes (with encode) to
// a JSON object carrying "by", "source" and "at", and decodes (with decode)
// back to an equal value.
func CodecRoundTrip(t *testing.T, samples []domain.Event, types []string,
	encode func(domain.Event) ([]byte, error), decode func(string, []byte) (domain.Event, error)) {
	t.Helper()
	var covered []string
	for _, e := range samples {
		typ := e.EventType()
		covered = append(covered, typ)
		t.Run(typ, func(t *testing.T) {
			if _, ok := e.(domain.Audited); !ok {
				t.Fatalf("%T is not domain.Audited", e)
			}
			b, err := encode(e)
			if err != nil {
				t.Fatalf("Encode() = %v", err)
			}
			if !bytes.HasPrefix(b, []byte("{")) || !json.Valid(b) {
				t.Fatalf("Encode() = %s, want a JSON object", b)
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal(b, &members); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"by", "source", "at"} {
				if _, ok := members[k]; !ok {
					t.Errorf("encoded %s lacks %q: %s", typ, k, b)
				}
			}
			got, err := decode(typ, b)
			if err != nil {
				t.Fatalf("Decode() = %v", err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("Decode(Encode(e)):\n got %#v\nwant %#v", got, e)
			}
		})
	}
	if !reflect.DeepEqual(covered, types) {
		t.Fatalf("samples cover %q, want every type %q", covered, types)
	}
}
