package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
)

type pinged struct {
	N int `json:"n"`
}

func (pinged) EventType() string { return "test.pinged" }

type foreign struct{}

func (foreign) EventType() string { return "test.foreign" }

func TestCodec(t *testing.T) {
	c := domain.NewCodec("test", domain.EventKindOf[pinged]())
	if got := c.Types(); !reflect.DeepEqual(got, []string{"test.pinged"}) {
		t.Errorf("Types() = %v", got)
	}
	if got := c.Version("test.pinged"); got != 1 {
		t.Errorf("Version() = %d, want 1 (no upcasters)", got)
	}
	if got := c.Version("test.unknown"); got != 0 {
		t.Errorf("Version(unknown) = %d, want 0", got)
	}
	b, err := c.Encode(pinged{N: 7})
	if err != nil || string(b) != `{"n":7}` {
		t.Fatalf("Encode = %s, %v; want {\"n\":7}", b, err)
	}
	e, err := c.Decode("test.pinged", 1, []byte(`{"n":7,"later_field":true}`))
	if err != nil || e != (pinged{N: 7}) {
		t.Errorf("Decode = %#v, %v; want pinged{7} (unknown members ignored)", e, err)
	}
	if _, err := c.Encode(foreign{}); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("Encode(foreign event) = %v, want ErrUnknownEventType", err)
	}
	if _, err := c.Decode("test.unknown", 1, []byte(`{}`)); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("Decode(unknown type) = %v, want ErrUnknownEventType", err)
	}
	if _, err := c.Decode("test.pinged", 1, []byte(`{"n":"x"}`)); err == nil {
		t.Error("Decode(malformed) succeeded, want an error")
	}
}

func TestNewCodec_DuplicateTypePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewCodec with a type listed twice did not panic")
		}
	}()
	domain.NewCodec("test", domain.EventKindOf[pinged](), domain.EventKindOf[pinged]())
}

// noted is at schema version 3. Version 1 stored {"note": ...}; version 2
// renamed it to "text"; version 3 added "lang", "en" for older notes.
type noted struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
}

func (noted) EventType() string { return "test.noted" }

var (
	renameNote = domain.UpcastMembers(func(m map[string]json.RawMessage) error {
		m["text"] = m["note"]
		delete(m, "note")
		return nil
	})
	addLang = domain.UpcastMembers(func(m map[string]json.RawMessage) error {
		if _, ok := m["lang"]; !ok {
			m["lang"] = json.RawMessage(`"en"`)
		}
		return nil
	})
	errBadNote = errors.New("note is not a string")
	checkNote  = func(data []byte) ([]byte, error) { // a hand-written upcaster that refuses what it cannot read
		var v struct {
			Note json.RawMessage `json:"note"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		var s string
		if json.Unmarshal(v.Note, &s) != nil {
			return nil, errBadNote
		}
		return renameNote(data)
	}
)

func TestCodec_Upcast(t *testing.T) {
	c := domain.NewCodec("test", domain.EventKindOf[pinged](), domain.EventKindOf[noted](checkNote, addLang))
	tests := []struct {
		name     string
		version  int
		data     string
		want     noted
		wantData string
		wantErr  error // nil, a sentinel, or errAny
	}{
		{"v1 to v3 in two steps", 1, `{"note":"hi"}`, noted{Text: "hi", Lang: "en"}, `{"lang":"en","text":"hi"}`, nil},
		{"absent version means 1", 0, `{"note":"hi"}`, noted{Text: "hi", Lang: "en"}, `{"lang":"en","text":"hi"}`, nil},
		{"v2 to v3 in one step", 2, `{"text":"hi","lang":"fr"}`, noted{Text: "hi", Lang: "fr"}, `{"lang":"fr","text":"hi"}`, nil},
		{"v3 is current, untouched", 3, `{"text": "hi", "lang": "de"}`, noted{Text: "hi", Lang: "de"}, `{"text": "hi", "lang": "de"}`, nil},
		{"too new", 4, `{"text":"hi"}`, noted{}, "", domain.ErrUnknownSchemaVersion},
		{"negative", -1, `{"note":"hi"}`, noted{}, "", domain.ErrUnknownSchemaVersion},
		{"malformed JSON at v1", 1, `{"note":`, noted{}, "", errAny},
		{"wrong shape at v1", 1, `{"note":7}`, noted{}, "", errBadNote},
		{"malformed JSON at v2", 2, `{"text":`, noted{}, "", errAny},
		{"null at v2", 2, `null`, noted{}, "", errAny},
		{"wrong shape at v3", 3, `{"text":7}`, noted{}, "", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.data)
			v, data, upErr := c.Upcast("test.noted", tt.version, in)
			e, err := c.Decode("test.noted", tt.version, in)
			if string(in) != tt.data {
				t.Fatalf("Upcast or Decode modified its input: got %s, want %s", in, tt.data)
			}
			if tt.wantErr != nil {
				if err == nil || tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Fatalf("Decode() = %#v, %v; want error %v", e, err, tt.wantErr)
				}
				if tt.wantErr != errAny && !errors.Is(upErr, tt.wantErr) {
					t.Fatalf("Upcast() error = %v, want %v", upErr, tt.wantErr)
				}
				return
			}
			if upErr != nil || v != 3 || string(data) != tt.wantData {
				t.Errorf("Upcast() = %d, %s, %v; want 3, %s", v, data, upErr, tt.wantData)
			}
			if err != nil || e != tt.want {
				t.Errorf("Decode() = %#v, %v; want %#v", e, err, tt.want)
			}
		})
	}
	if _, _, err := c.Upcast("test.unknown", 1, []byte(`{}`)); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("Upcast(unknown type) = %v, want ErrUnknownEventType", err)
	}
}

// errAny stands for any error in tables.
var errAny = errors.New("any error")

func TestCodec_With(t *testing.T) {
	v1 := domain.NewCodec("test", domain.EventKindOf[noted]())
	v2 := v1.With(domain.EventKindOf[noted](renameNote), domain.EventKindOf[pinged]())
	if got, want := v1.Version("test.noted"), 1; got != want {
		t.Errorf("original Version() = %d after With, want %d", got, want)
	}
	if got, want := v2.Version("test.noted"), 2; got != want {
		t.Errorf("derived Version() = %d, want %d", got, want)
	}
	if got, want := v2.Types(), []string{"test.noted", "test.pinged"}; !reflect.DeepEqual(got, want) {
		t.Errorf("derived Types() = %v, want %v", got, want)
	}
	if got := v1.Types(); !reflect.DeepEqual(got, []string{"test.noted"}) {
		t.Errorf("original Types() = %v after With", got)
	}
	if _, err := v1.Decode("test.noted", 2, []byte(`{"text":"hi"}`)); !errors.Is(err, domain.ErrUnknownSchemaVersion) {
		t.Errorf("original Decode(v2) = %v, want ErrUnknownSchemaVersion", err)
	}
	e, err := v2.Decode("test.noted", 1, []byte(`{"note":"hi"}`))
	if err != nil || e != (noted{Text: "hi"}) {
		t.Errorf("derived Decode(v1) = %#v, %v; want %#v", e, err, noted{Text: "hi"})
	}
}
