package pubsub

import (
	"regexp"
	"testing"
)

func TestJSONBObject(t *testing.T) {
	tests := []struct {
		payload string
		want    bool
	}{
		{`{}`, true},
		{` {"a": [1, "x"]} `, true},
		{`{"a":"\u00e9\n\\u0000"}`, true}, // an escaped backslash, then "u0000"
		{`{"emoji":"\ud83d\ude00"}`, true},
		{`{"a":"\u0000"}`, false},
		{`{"a":"\ud83d"}`, false},
		{`{"a":"\ud83dx"}`, false},
		{`{"a":"\ud83d\u0041"}`, false},
		{`{"a":"\ude00"}`, false},
		{`[1]`, false},
		{`"x"`, false},
		{`0`, false},
		{`{`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := jsonbObject([]byte(tt.payload)); got != tt.want {
			t.Errorf("jsonbObject(%s) = %v, want %v", tt.payload, got, tt.want)
		}
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	for _, p := range []string{"", "x", "0", `[1,2]`, `"s"`, "\x00\xff binary", `{"a":"\u0000"}`, `{"a":1}`} {
		data, wrapped := encodePayload([]byte(p))
		if got := string(decodePayload(data, wrapped)); got != p {
			t.Errorf("payload %q came back as %q", p, got)
		}
	}
}

func TestEventID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a := EventID("t1", "TicketClosed", "msg-1")
	if !uuid.MatchString(a) {
		t.Fatalf("EventID = %q, want a version 5 UUID", a)
	}
	if b := EventID("t1", "TicketClosed", "msg-1"); b != a {
		t.Errorf("EventID is not deterministic: got %s, want %s", b, a)
	}
	for _, other := range [][3]string{
		{"t2", "TicketClosed", "msg-1"},
		{"t1", "TicketOpened", "msg-1"},
		{"t1", "TicketClosed", "msg-2"},
		{"t1", "TicketClose", "dmsg-1"}, // same concatenation, other split
	} {
		if b := EventID(other[0], other[1], other[2]); b == a {
			t.Errorf("EventID%q = EventID(t1, TicketClosed, msg-1) = %s, want distinct ids", other, a)
		}
	}
}

func TestCheckpointName(t *testing.T) {
	if a, b := CheckpointName("a/b", "c"), CheckpointName("a", "b/c"); a == b {
		t.Errorf("CheckpointName(a/b, c) = CheckpointName(a, b/c) = %q, want distinct names", a)
	}
}
