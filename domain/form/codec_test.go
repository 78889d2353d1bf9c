package form_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/form"
)

// samples holds one fully populated event of every type.
func samples() []domain.Event {
	return []domain.Event{
		created,
		form.FormUpdated{Change: now, Definition: defWith(func(d *form.Definition) { d.PollForAssignment = nil })},
		form.FormDisabled{Change: now},
		form.FormEnabled{Change: now},
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	domaintest.CodecRoundTrip(t, samples(), form.Codec())
}

// TestCodec_Persisted pins the stored form of FormCreated: its JSON names
// are persisted and must not change.
func TestCodec_Persisted(t *testing.T) {
	e := form.FormCreated{Change: now, ID: formID, Slug: "contact", Definition: form.Definition{
		Title:          "Contact",
		Inputs:         []form.Input{{Type: form.Radio, Key: "pick", Display: "Pick", Required: true, Options: []form.Option{{Text: "Yes", Value: "y"}}}},
		Priority:       "low",
		SuccessMessage: "Thanks",
		SubmitButton:   form.DefaultSubmitButton,
	}}
	b, err := form.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"by":{"id":"u-1","name":"Ana Agent","email":"ana@example.com","kind":"agent"},"source":"api","at":"2025-03-01T12:00:00Z",` +
		`"id":"0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e","slug":"contact","title":"Contact",` +
		`"inputs":[{"type":"radio","key":"pick","display":"Pick","required":true,"options":[{"text":"Yes","value":"y"}]}],` +
		`"priority":"low","login_required":false,"should_notify":false,"success_message":"Thanks",` +
		`"submit_button":{"title":"Submit","title_color":"#ffffff","background_color":"#2e31be"}}`
	if string(b) != want {
		t.Fatalf("Encode() =\n%s\nwant\n%s", b, want)
	}
}

func TestCodec_Errors(t *testing.T) {
	if _, err := form.Decode("form.exploded", 1, []byte(`{}`)); err == nil {
		t.Errorf("Decode(unknown type) = nil error")
	}
	if _, err := form.Decode("form.updated", 1, []byte(`{"inputs":`)); err == nil {
		t.Errorf("Decode(malformed) = nil error")
	}
	if _, err := form.Encode(foreign{}); err == nil {
		t.Errorf("Encode(foreign event) = nil error")
	}
	// Readers ignore members added by newer writers.
	e, err := form.Decode("form.disabled", 1, []byte(`{"source":"api","added_later":1}`))
	if err != nil || !cmp.Equal(e, form.FormDisabled{Change: domain.Change{Source: api}}) {
		t.Errorf("Decode(with unknown member) = %#v, %v", e, err)
	}
}

type foreign struct{}

func (foreign) EventType() string { return "other.thing" }

func TestIndexCodec(t *testing.T) {
	c := form.IndexCodec()
	e := form.FormIndexed{Slug: "damage-report"}
	b, err := c.Encode(e)
	// The stored shape of version 1; changing it needs a new version.
	if want := `{"slug":"damage-report"}`; err != nil || string(b) != want {
		t.Fatalf("Encode() = %s, %v; want %s", b, err, want)
	}
	if got := c.Version(e.EventType()); got != 1 {
		t.Errorf("Version(%s) = %d, want 1", e.EventType(), got)
	}
	// What Forms.Create stored before the index had a codec.
	got, err := c.Decode("form_index.added", 0, []byte(`{"slug": "damage-report"}`))
	if err != nil || got != e {
		t.Errorf("Decode() = %#v, %v; want %#v", got, err, e)
	}
}
