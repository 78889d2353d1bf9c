package form_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// answers builds a submission from key, JSON value pairs.
func answers(kv ...string) []form.Response {
	var out []form.Response
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, form.Response{Key: kv[i], Value: raw(kv[i+1])})
	}
	return out
}

// required answers the form's three required inputs.
func required(more ...string) []form.Response {
	return answers(append([]string{"name", `"Cara"`, "email", `"cara@example.com"`, "reason", `"crushed"`}, more...)...)
}

func ff(key, value string) ticket.FormField { return ticket.FormField{Key: key, Value: raw(value)} }

func TestSnapshot_ValidateSubmission(t *testing.T) {
	s := form.Rehydrate(given(created), 1).Snapshot()
	base := []ticket.FormField{ff("name", `"Cara"`), ff("email", `"cara@example.com"`)}
	// want returns base, then the reason, then extra fields, in input order.
	want := func(extra ...ticket.FormField) []ticket.FormField {
		out := append([]ticket.FormField{}, base...)
		var after []ticket.FormField
		for _, f := range extra {
			switch f.Key {
			case "phone", "qty":
				out = append(out, f)
			default:
				after = append(after, f)
			}
		}
		out = append(out, ff("reason", `"crushed"`))
		return append(out, after...)
	}

	tests := []struct {
		name     string
		in       []form.Response
		want     []ticket.FormField
		wantErrs []string // code@field of each error, in order
	}{
		{"required only", required(), want(), nil},
		{"every input, in another order", answers(
			"order-id", `"FY123"`, "photo", `["https://cdn.example.com/a.jpg", "/v1/attachments/x"]`,
			"delivered_on", `"2025-02-28"`, "topics", `["refund", "replace", "refund"]`, "contact", `"phone"`,
			"reason", `"wrong"`, "qty", `2`, "phone", `"+91 99162 48135"`, "email", `"cara@example.com"`, "name", `"Cara"`,
		), []ticket.FormField{
			ff("name", `"Cara"`), ff("email", `"cara@example.com"`), ff("phone", `"+91 99162 48135"`), ff("qty", `2`),
			ff("reason", `"wrong"`), ff("contact", `"phone"`), ff("topics", `["refund","replace"]`),
			ff("delivered_on", `"2025-02-28"`), ff("photo", `["https://cdn.example.com/a.jpg","/v1/attachments/x"]`),
			ff("order-id", `"FY123"`),
		}, nil},
		{"strings trimmed", answers("name", `"  Cara "`, "email", `" cara@example.com"`, "reason", `" crushed "`), want(), nil},
		{"optional inputs left empty are dropped", required("phone", `""`, "qty", `null`, "topics", `[]`, "photo", `"  "`, "contact", `null`), want(), nil},
		{"missing value is no answer", append(required(), form.Response{Key: "qty"}), want(), nil},
		{"number as a string", required("qty", `"2.5"`), want(ff("qty", `"2.5"`)), nil},
		{"negative number with exponent", required("qty", `-1.5e3`), want(ff("qty", `-1.5e3`)), nil},
		{"mobile as an integer", required("phone", `9890425946`), want(ff("phone", `9890425946`)), nil},
		{"mobile with separators", required("phone", `"+1 (555) 010-0199"`), want(ff("phone", `"+1 (555) 010-0199"`)), nil},
		{"date as RFC 3339", required("delivered_on", `"2025-02-28T10:00:00+05:30"`), want(ff("delivered_on", `"2025-02-28T10:00:00+05:30"`)), nil},
		{"one checkbox value stands for an array", required("topics", `"refund"`), want(ff("topics", `["refund"]`)), nil},
		{"a number matches an option's spelling", required("topics", `[1]`), want(ff("topics", `["1"]`)), nil},
		{"one file", required("photo", `"https://cdn.example.com/a.jpg"`), want(ff("photo", `"https://cdn.example.com/a.jpg"`)), nil},
		{"text may be a number", answers("name", `42`, "email", `"cara@example.com"`, "reason", `"crushed"`), []ticket.FormField{
			ff("name", `42`), ff("email", `"cara@example.com"`), ff("reason", `"crushed"`),
		}, nil},
		{"text is stored as compact, escaped JSON", answers("name", `"<b>Cara</b>"`, "email", `"cara@example.com"`, "reason", `"crushed"`), []ticket.FormField{
			ff("name", `"\u003cb\u003eCara\u003c/b\u003e"`), ff("email", `"cara@example.com"`), ff("reason", `"crushed"`),
		}, nil},

		{"nothing answered", nil, nil, []string{"response_required@response[name]", "response_required@response[email]", "response_required@response[reason]"}},
		{"required answered with blanks", answers("name", `"  "`, "email", `null`, "reason", `""`), nil,
			[]string{"response_required@response[name]", "response_required@response[email]", "response_required@response[reason]"}},
		{"every kind of bad answer, each listed", answers(
			"name", `{"first":"Cara"}`, "email", `"cara"`, "phone", `"12345"`, "qty", `"two"`, "reason", `"lost"`,
			"contact", `["email"]`, "topics", `["refund","gift"]`, "delivered_on", `"28/02/2025"`, "photo", `"my photo.jpg"`,
			"order-id", `"123"`,
		), nil, []string{
			"invalid_response@response[name]", "invalid_response@response[email]", "invalid_response@response[phone]",
			"invalid_response@response[qty]", "invalid_response@response[reason]", "invalid_response@response[contact]",
			"invalid_response@response[topics]", "invalid_response@response[delivered_on]", "invalid_response@response[photo]",
			"invalid_response@response[order-id]",
		}},
		{"unknown keys", required("colour", `"red"`, "", `"x"`, "not a key", `1`), nil,
			[]string{"unknown_response@response[colour]", "invalid_response@response[4].key", "unknown_response@response[5].key"}},
		{"a key answered twice", required("name", `"Bob"`), nil, []string{"invalid_response@response[name]"}},
		{"email must be a string", answers("name", `"Cara"`, "email", `1`, "reason", `"crushed"`), nil, []string{"invalid_response@response[email]"}},
		{"email with a display name", answers("name", `"Cara"`, "email", `"Cara <cara@example.com>"`, "reason", `"crushed"`), nil, []string{"invalid_response@response[email]"}},
		{"booleans are no text", answers("name", `true`, "email", `"cara@example.com"`, "reason", `"crushed"`), nil, []string{"invalid_response@response[name]"}},
		{"number NaN", required("qty", `"NaN"`), nil, []string{"invalid_response@response[qty]"}},
		{"number Infinity", required("qty", `"Infinity"`), nil, []string{"invalid_response@response[qty]"}},
		{"number with a leading plus", required("qty", `"+1"`), nil, []string{"invalid_response@response[qty]"}},
		{"number in an array", required("qty", `[1]`), nil, []string{"invalid_response@response[qty]"}},
		{"mobile too long", required("phone", `"+1234567890123456"`), nil, []string{"invalid_response@response[phone]"}},
		{"mobile with letters", required("phone", `"call 5550100199"`), nil, []string{"invalid_response@response[phone]"}},
		{"mobile with a plus inside", required("phone", `"55+50100199"`), nil, []string{"invalid_response@response[phone]"}},
		{"date that does not exist", required("delivered_on", `"2025-02-30"`), nil, []string{"invalid_response@response[delivered_on]"}},
		{"date as a number", required("delivered_on", `20250228`), nil, []string{"invalid_response@response[delivered_on]"}},
		{"option value matched exactly", answers("name", `"Cara"`, "email", `"cara@example.com"`, "reason", `"Crushed"`), nil, []string{"invalid_response@response[reason]"}},
		{"option text is not its value", answers("name", `"Cara"`, "email", `"cara@example.com"`, "reason", `"Crushed box"`), nil, []string{"invalid_response@response[reason]"}},
		{"checkbox with an object", required("topics", `[{"value":"refund"}]`), nil, []string{"invalid_response@response[topics]"}},
		{"too many files", required("photo", `[`+strings.TrimSuffix(strings.Repeat(`"/f",`, form.MaxFilesPerAnswer+1), ",")+`]`), nil, []string{"invalid_response@response[photo]"}},
		{"file as a number", required("photo", `7`), nil, []string{"invalid_response@response[photo]"}},
		{"text too long", answers("name", `"`+strings.Repeat("a", form.MaxAnswerLength+1)+`"`, "email", `"cara@example.com"`, "reason", `"crushed"`), nil, []string{"invalid_response@response[name]"}},
		{"text with a NUL", answers("name", `"a\u0000b"`, "email", `"cara@example.com"`, "reason", `"crushed"`), nil, []string{"invalid_response@response[name]"}},
		{"value not JSON", answers("name", `{`, "email", `"cara@example.com"`, "reason", `"crushed"`), nil, []string{"invalid_response@response[name]"}},
		{"regex checked on the trimmed text", required("order-id", `" FY1 x"`), nil, []string{"invalid_response@response[order-id]"}},
		{"answers too large together", answers("name", `"`+strings.Repeat("é", form.MaxAnswerLength)+`"`, "email", `"cara@example.com"`, "reason", `"crushed"`,
			"order-id", `"FY`+strings.Repeat("1", 9990)+`"`, "photo", `[`+strings.TrimSuffix(strings.Repeat(`"/`+strings.Repeat("p", 2000)+`",`, 20), ",")+`]`),
			nil, []string{"invalid_response@response"}},
		{"too many answers", func() []form.Response {
			r := make([]form.Response, form.MaxResponsesPerSubmission+1)
			for i := range r {
				r[i] = form.Response{Key: "name", Value: raw(`"x"`)}
			}
			return r
		}(), nil, []string{"invalid_response@response"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ValidateSubmission(tt.in)
			if diff := cmp.Diff(fields(err), tt.wantErrs); diff != "" {
				t.Fatalf("ValidateSubmission() errors (-got +want):\n%s\nerror: %v", diff, err)
			}
			if err != nil && domain.KindOf(err) != domain.Invalid {
				t.Fatalf("ValidateSubmission() error kind = %v, want invalid", domain.KindOf(err))
			}
			if err != nil && got != nil {
				t.Fatalf("ValidateSubmission() = %s with an error, want no fields", show(got))
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Fatalf("ValidateSubmission() (-got +want):\n%s", diff)
			}
			for _, e := range domain.Errors(err) {
				if !strings.HasPrefix(e.Msg, "response") {
					t.Errorf("message %q does not start with its field", e.Msg)
				}
			}
		})
	}
}

func TestSnapshot_ValidateSubmission_State(t *testing.T) {
	tests := []struct {
		name    string
		given   []domain.Event
		wantErr error
	}{
		{"enabled form", given(created), nil},
		{"re-enabled form", given(created, disabled, form.FormEnabled{Change: before}), nil},
		{"disabled form", given(created, disabled), form.ErrDisabled},
		{"no form", nil, form.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := form.Rehydrate(tt.given, int64(len(tt.given))).Snapshot().ValidateSubmission(required())
			domaintest.CheckErr(t, err, tt.wantErr)
		})
	}
}

func TestSnapshot_CreateTicket(t *testing.T) {
	s := form.Rehydrate(given(created), 1).Snapshot()
	fields, err := s.ValidateSubmission(answers(
		"name", `"Cara"`, "email", `"cara@example.com"`, "qty", `2`, "reason", `"crushed"`,
		"topics", `["refund","1"]`, "photo", `["/v1/attachments/a","/v1/attachments/b"]`, "order-id", `"FY123"`,
	))
	if err != nil {
		t.Fatal(err)
	}
	got := s.CreateTicket(fields)
	want := ticket.CreateTicket{
		Source:   domain.SourceForm,
		Title:    "Damage report Response",
		Category: "orders", Priority: ticket.PriorityHigh,
		Description: "Name: Cara\nEmail: cara@example.com\nQuantity: 2\nReason: Crushed box\nTopics: Refund, Other\n" +
			"Photo: /v1/attachments/a, /v1/attachments/b\nOrder: FY123",
		Form: &ticket.FormResponse{Slug: slug, Fields: fields},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("CreateTicket() (-got +want):\n%s", diff)
	}

	// The caller completes the command; ticket.New accepts it.
	got.By, got.ID, got.TenantID, got.Number = domain.Actor{Email: "cara@example.com", Kind: domain.ActorUser}, formID, "acme", 1
	tk, err := ticket.New(got, cfg, noon)
	if err != nil {
		t.Fatalf("ticket.New(CreateTicket()) = %v", err)
	}
	if ts := tk.Snapshot(); ts.Source != domain.SourceForm || ts.Form == nil || !cmp.Equal(ts.Form.Fields, fields) {
		t.Fatalf("ticket = %s, want source form with the answers", show(ts))
	}

	// Nothing answered: an empty description and no fields.
	empty := form.Rehydrate(given(form.FormCreated{Change: atCreation, ID: formID, Slug: "contact", Definition: form.Definition{
		Title: "Contact", Inputs: []form.Input{{Type: form.Text, Key: "message", Display: "Message"}},
		Priority: ticket.PriorityLow, SuccessMessage: form.DefaultSuccessMessage, SubmitButton: form.DefaultSubmitButton,
	}}), 1).Snapshot()
	f, err := empty.ValidateSubmission(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := empty.CreateTicket(f)
	if c.Title != "Contact Response" || c.Description != "" || c.Category != "" || c.Form.Slug != "contact" || c.Form.Fields != nil {
		t.Fatalf("CreateTicket(no answers) = %+v", c)
	}

	// A long submission is cut to the ticket's limit.
	d := form.Definition{Title: "Long", Priority: ticket.PriorityLow, SuccessMessage: form.DefaultSuccessMessage, SubmitButton: form.DefaultSubmitButton}
	var kv []string
	for i := range 30 {
		key := "k" + strconv.Itoa(i)
		d.Inputs = append(d.Inputs, form.Input{Type: form.Textarea, Key: key, Display: strings.Repeat("L", form.MaxDisplayLength)})
		kv = append(kv, key, `"`+strings.Repeat("a", 2000)+`"`)
	}
	long := form.Rehydrate(given(form.FormCreated{Change: atCreation, ID: formID, Slug: "long", Definition: d}), 1).Snapshot()
	lf, err := long.ValidateSubmission(answers(kv...))
	if err != nil {
		t.Fatal(err)
	}
	if d := long.CreateTicket(lf).Description; len([]rune(d)) != ticket.MaxDescriptionLength {
		t.Fatalf("description has %d characters, want %d", len([]rune(d)), ticket.MaxDescriptionLength)
	}
}

func TestResponse_JSON(t *testing.T) {
	// Fynd's CustomFormSubmissionPayload.response items decode into Response.
	var payload struct {
		Response []form.Response `json:"response"`
	}
	if err := json.Unmarshal([]byte(`{"response":[{"key":"name","value":"Cara"},{"key":"qty"}]}`), &payload); err != nil {
		t.Fatal(err)
	}
	want := []form.Response{{Key: "name", Value: raw(`"Cara"`)}, {Key: "qty"}}
	if diff := cmp.Diff(payload.Response, want); diff != "" {
		t.Fatalf("decoded (-got +want):\n%s", diff)
	}
}

// TestFinding8_NULAnswerNamesTheRule: an answer with a NUL is refused for
// what it holds, not reported as too long.
func TestFinding8_NULAnswerNamesTheRule(t *testing.T) {
	s := form.Rehydrate(given(created), 1).Snapshot()
	_, err := s.ValidateSubmission(answers("name", `"a\u0000b"`, "email", `"cara@example.com"`, "reason", `"crushed"`))
	errs := domain.Errors(err)
	if len(errs) != 1 || strings.Contains(errs[0].Error(), "at most") || !strings.Contains(errs[0].Error(), "NUL") {
		t.Fatalf("ValidateSubmission() = %v, want one error naming NUL, not the length", err)
	}
}
