package listener

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeedSamplesSyntax reads every sample of seed 004 verbatim: the two
// that are JSON pass, every other one is refused at its first mistake,
// named.
func TestSeedSamplesSyntax(t *testing.T) {
	tests := []struct {
		file                 string
		line, column, offset int
		found                string
	}{
		{"model_flow.txt", 2, 1, 2, "unquoted word senderUser"},
		{"add_contact_structure.txt", 1, 3, 2, "unquoted word senderUser"},
		{"add_contact_sample.json", 0, 0, 0, ""},
		{"add_lead_structure.txt", 1, 39, 38, "comment"},
		{"add_lead_sample.json", 0, 0, 0, ""},
		{"update_lead_structure.txt", 1, 3, 2, "unquoted word senderUser"},
		{"update_lead_sample.txt", 1, 738, 741, "missing comma"},
		{"update_contact_structure.txt", 1, 3, 2, "unquoted word senderUser"},
		{"update_contact_sample.txt", 1, 646, 647, "unquoted word status"},
		{"add_note_structure.txt", 1, 17, 16, "placeholder <email>"},
		{"add_note_contact_sample.txt", 1, 258, 257, "comment"},
		{"add_note_deal_sample.txt", 1, 186, 185, "trailing comma"},
		{"add_deal_sample.txt", 1, 112, 111, "comment"},
		{"add_ticket_structure.txt", 1, 17, 16, "placeholder <email>"},
		{"add_ticket_sample.txt", 1, 119, 118, "comment"},
		{"send_sms_structure.txt", 1, 17, 16, "placeholder <email>"},
		{"send_sms_sample.txt", 1, 135, 134, "curly quote U+201C; use a straight double quote"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "seed", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := checkSyntax(b)
			if tt.found == "" {
				if got != nil {
					t.Fatalf("checkSyntax() = %v, want nil", got)
				}
				if !json.Valid(b) {
					t.Fatalf("checkSyntax() = nil for a body encoding/json refuses")
				}
				return
			}
			if got == nil {
				t.Fatalf("checkSyntax() = nil, want an error at line %d column %d", tt.line, tt.column)
			}
			if got.Line != tt.line || got.Column != tt.column || got.Offset != tt.offset || got.Found != tt.found {
				t.Errorf("checkSyntax() = line %d column %d offset %d found %q (%s), want line %d column %d offset %d found %q",
					got.Line, got.Column, got.Offset, got.Found, got.Message, tt.line, tt.column, tt.offset, tt.found)
			}
			if json.Valid(b) {
				t.Errorf("encoding/json accepts the sample")
			}
		})
	}
}

func TestSyntaxMessages(t *testing.T) {
	tests := []struct{ body, found, msg string }{
		{`{"a": 1,}`, "trailing comma", "remove the comma before '}'"},
		{`[1, 2,]`, "trailing comma", "remove the comma before ']'"},
		{`[1 2]`, "missing comma", "a comma is missing"},
		{`{"a": 1 "b": 2}`, "missing comma", `after the member "a"`},
		{`{"permit: { "status": 3}`, "unquoted word status", "is its closing quote missing?"},
		{`{"a": /* x */ 1}`, "comment", "expected a value"},
		{`{'a': 1}`, "single quote; use a straight double quote", "expected a key"},
		{"{\"a\": \u201Cx\u201D}", "curly quote U+201C; use a straight double quote", "expected a value"},
		{`{"a": <phone>}`, "placeholder <phone>", "expected a value"},
		{`{"a": "x`, "end of input", "never closed"},
		{"{\"a\": \"x\ny\"}", "control character U+000A", "closing quote missing"},
		{`{"a": 01}`, "'1'", "expected ',' or '}'"},
		{`{"a": 1} x`, "unquoted word x", "end of the body"},
		{``, "end of input", "expected a value"},
		{strings.Repeat("[", 100), "nesting deeper than 64", "nests too deeply"},
	}
	for _, tt := range tests {
		got := checkSyntax([]byte(tt.body))
		if got == nil {
			t.Errorf("checkSyntax(%q) = nil, want %q", tt.body, tt.found)
			continue
		}
		if got.Found != tt.found || !strings.Contains(got.Message, tt.msg) {
			t.Errorf("checkSyntax(%q) = found %q, message %q; want found %q, message with %q", tt.body, got.Found, got.Message, tt.found, tt.msg)
		}
	}
	for _, ok := range []string{`{}`, `[]`, `{"a":[1,-2.5e+3,true,false,null,"\u00e9\n"]}`, " 0 ", `"x"`} {
		if got := checkSyntax([]byte(ok)); got != nil {
			t.Errorf("checkSyntax(%q) = %v, want nil", ok, got)
		}
	}
}

// The column counts characters and the offset bytes: the update samples
// hold Vietnamese text ("Thành viên") before their mistake, so there they
// differ.
