package identity_test

import (
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/identity"
)

func TestHolder(t *testing.T) {
	tests := []struct {
		name    string
		history []domain.Event
		want    string
	}{
		{"never claimed", nil, ""},
		{"claimed", []domain.Event{identity.Claimed{Customer: "a"}}, "a"},
		{"moved by a merge", []domain.Event{identity.Claimed{Customer: "a"}, identity.Claimed{Customer: "b"}}, "b"},
		{"released", []domain.Event{identity.Claimed{Customer: "a"}, identity.Released{Customer: "a"}}, ""},
		{"a stale release changes nothing", []domain.Event{identity.Claimed{Customer: "a"}, identity.Claimed{Customer: "b"}, identity.Released{Customer: "a"}}, "b"},
		{"claimed again", []domain.Event{identity.Claimed{Customer: "a"}, identity.Released{Customer: "a"}, identity.Claimed{Customer: "c"}}, "c"},
	}
	for _, tt := range tests {
		if got := identity.Holder(tt.history); got != tt.want {
			t.Errorf("%s: Holder() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStreamID(t *testing.T) {
	if got := identity.StreamID("email", "ana@example.com"); got != "email:ana@example.com" {
		t.Errorf("StreamID() = %q, want email:ana@example.com", got)
	}
	long := identity.StreamID("email", strings.Repeat("a", 250)+"@example.com")
	if len(long) > 200 || !strings.HasPrefix(long, "email:sha256:") {
		t.Errorf("StreamID(long) = %q, want a hashed id of at most 200 bytes", long)
	}
	if identity.StreamID("email", strings.Repeat("a", 250)) == identity.StreamID("email", strings.Repeat("b", 250)) {
		t.Error("two long values share a stream id")
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	for _, e := range []domain.Event{identity.Claimed{Customer: "a"}, identity.Released{Customer: "a"}} {
		b, err := identity.Codec().Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"customer":"a"}`; string(b) != want {
			t.Errorf("Encode(%T) = %s, want %s", e, b, want)
		}
		got, err := identity.Codec().Decode(e.EventType(), 1, b)
		if err != nil || got != e {
			t.Errorf("Decode(Encode(%T)) = %#v, %v; want %#v", e, got, err, e)
		}
	}
}
