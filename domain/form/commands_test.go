package form_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

func TestNew(t *testing.T) {
	create := func(d form.Definition) form.CreateForm {
		return form.CreateForm{By: agent, Source: api, ID: formID, Slug: slug, Definition: d}
	}
	with := func(f func(*form.CreateForm)) form.CreateForm {
		c := create(minimalDef())
		f(&c)
		return c
	}
	withDef := func(f func(*form.Definition)) form.CreateForm { return create(defWith(f)) }
	withInput := func(in form.Input) form.CreateForm {
		d := minimalDef()
		d.Inputs = []form.Input{in}
		return create(d)
	}
	choice := func(typ form.InputType, opts ...form.Option) form.Input {
		return form.Input{Type: typ, Key: "pick", Display: "Pick", Options: opts}
	}

	// messy is def as a client might send it: padded, upper-case colors,
	// labels and option texts left out.
	messy := defWith(func(d *form.Definition) {
		d.Title = "  Damage report "
		d.Description = "\nTell us what arrived damaged.  "
		d.HeaderImage = " https://cdn.example.com/header.png"
		d.SuccessMessage = " Thanks, we are on it. "
		d.SubmitButton = form.SubmitButton{Title: " Send ", TitleColor: "", BackgroundColor: "#112233"}
		d.PollForAssignment = &form.PollForAssignment{Duration: 60, Message: " Finding an agent", SuccessMessage: "Found one", FailureMessage: "Nobody is free "}
		d.Inputs[0] = form.Input{Type: form.Text, Key: "name", Display: " Name ", Required: true, Placeholder: " Your name "}
		d.Inputs[4] = form.Input{Type: form.Dropdown, Key: "reason", Display: "Reason", Required: true, Options: []form.Option{
			{Text: "Crushed box", Value: " crushed "}, {Text: " Wrong item", Value: "wrong"},
		}}
		d.Inputs[5] = form.Input{Type: form.Radio, Key: "contact", Display: "Contact by", Options: []form.Option{
			{Text: "E-mail", Value: "email"}, {Text: "Phone", Value: "phone"},
		}}
	})
	defaults := form.Definition{
		Title:          "Contact us",
		Inputs:         []form.Input{{Type: form.Text, Key: "message", Display: "message"}},
		Priority:       ticket.PriorityLow,
		SuccessMessage: form.DefaultSuccessMessage,
		SubmitButton:   form.DefaultSubmitButton,
	}

	tests := []struct {
		name    string
		cmd     form.CreateForm
		then    []domain.Event
		wantErr error
	}{
		{"minimal: defaults resolved", create(minimalDef()), given(form.FormCreated{Change: now, ID: formID, Slug: slug, Definition: defaults}), nil},
		{"every field", create(def), given(form.FormCreated{Change: now, ID: formID, Slug: slug, Definition: def}), nil},
		{"every field, normalised", create(messy), given(form.FormCreated{Change: now, ID: formID, Slug: slug, Definition: def}), nil},
		{"option text defaults to its value", withInput(choice(form.Radio, form.Option{Value: "yes"})), given(form.FormCreated{
			Change: now, ID: formID, Slug: slug, Definition: func() form.Definition {
				d := defaults
				d.Inputs = []form.Input{{Type: form.Radio, Key: "pick", Display: "Pick", Options: []form.Option{{Text: "yes", Value: "yes"}}}}
				return d
			}(),
		}), nil},
		{"header image on this server", withDef(func(d *form.Definition) { d.HeaderImage = "/v1/attachments/x" }), given(form.FormCreated{
			Change: now, ID: formID, Slug: slug, Definition: defWith(func(d *form.Definition) { d.HeaderImage = "/v1/attachments/x" }),
		}), nil},
		{"poll for assignment of 0 seconds", withDef(func(d *form.Definition) { d.PollForAssignment = &form.PollForAssignment{} }), given(form.FormCreated{
			Change: now, ID: formID, Slug: slug, Definition: defWith(func(d *form.Definition) { d.PollForAssignment = &form.PollForAssignment{} }),
		}), nil},
		{"slug of 100 characters", with(func(c *form.CreateForm) { c.Slug = strings.Repeat("a", 100) }), given(form.FormCreated{
			Change: now, ID: formID, Slug: strings.Repeat("a", 100), Definition: defaults,
		}), nil},

		{"id not a UUID", with(func(c *form.CreateForm) { c.ID = "f1" }), nil, form.ErrInvalidField.At("id")},
		{"empty slug", with(func(c *form.CreateForm) { c.Slug = "" }), nil, form.ErrInvalidSlug},
		{"upper-case slug", with(func(c *form.CreateForm) { c.Slug = "Damage" }), nil, form.ErrInvalidSlug},
		{"slug starting with a dash", with(func(c *form.CreateForm) { c.Slug = "-damage" }), nil, form.ErrInvalidSlug},
		{"slug with an underscore", with(func(c *form.CreateForm) { c.Slug = "damage_report" }), nil, form.ErrInvalidSlug},
		{"slug too long", with(func(c *form.CreateForm) { c.Slug = strings.Repeat("a", 101) }), nil, form.ErrInvalidSlug},
		{"invalid actor", with(func(c *form.CreateForm) { c.By = domain.Actor{Kind: domain.ActorAgent} }), nil, domain.ErrInvalidActor.At("by")},
		{"unknown source", with(func(c *form.CreateForm) { c.Source = "fax" }), nil, domain.ErrUnknownSource},
		{"empty title", withDef(func(d *form.Definition) { d.Title = " " }), nil, form.ErrInvalidTitle.At("title")},
		{"title too long", withDef(func(d *form.Definition) { d.Title = strings.Repeat("é", 201) }), nil, form.ErrInvalidTitle.At("title")},
		{"title with a NUL", withDef(func(d *form.Definition) { d.Title = "a\x00b" }), nil, form.ErrInvalidTitle.At("title")},
		{"description too long", withDef(func(d *form.Definition) { d.Description = strings.Repeat("d", form.MaxDescriptionLength+1) }), nil, form.ErrInvalidField.At("description")},
		{"description with a control character", withDef(func(d *form.Definition) { d.Description = "bell\a" }), nil, form.ErrInvalidField.At("description")},
		{"header image with a space", withDef(func(d *form.Definition) { d.HeaderImage = "https://cdn.example.com/a b.png" }), nil, form.ErrInvalidField.At("header_image")},
		{"header image not a URL", withDef(func(d *form.Definition) { d.HeaderImage = "header.png" }), nil, form.ErrInvalidField.At("header_image")},
		{"header image of another scheme", withDef(func(d *form.Definition) { d.HeaderImage = "javascript:alert(1)" }), nil, form.ErrInvalidField.At("header_image")},
		{"header image protocol-relative", withDef(func(d *form.Definition) { d.HeaderImage = "//evil.example.com/x.png" }), nil, form.ErrInvalidField.At("header_image")},
		{"unknown priority", withDef(func(d *form.Definition) { d.Priority = "critical" }), nil, ticket.ErrUnknownPriority.At("priority")},
		{"unknown category", withDef(func(d *form.Definition) { d.Category = "billing" }), nil, ticket.ErrUnknownCategory.At("category")},
		{"success message too long", withDef(func(d *form.Definition) { d.SuccessMessage = strings.Repeat("m", 1001) }), nil, form.ErrInvalidField.At("success_message")},
		{"bad button color", withDef(func(d *form.Definition) { d.SubmitButton.BackgroundColor = "blue" }), nil, ticket.ErrInvalidColor.At("submit_button.background_color")},
		{"short button color", withDef(func(d *form.Definition) { d.SubmitButton.TitleColor = "#fff" }), nil, ticket.ErrInvalidColor.At("submit_button.title_color")},
		{"button title too long", withDef(func(d *form.Definition) { d.SubmitButton.Title = strings.Repeat("b", 201) }), nil, form.ErrInvalidField.At("submit_button.title")},
		{"negative poll duration", withDef(func(d *form.Definition) { d.PollForAssignment.Duration = -1 }), nil, form.ErrInvalidField.At("poll_for_assignment.duration")},
		{"poll duration too long", withDef(func(d *form.Definition) { d.PollForAssignment.Duration = form.MaxPollDuration + 1 }), nil, form.ErrInvalidField.At("poll_for_assignment.duration")},
		{"poll message too long", withDef(func(d *form.Definition) { d.PollForAssignment.FailureMessage = strings.Repeat("m", 1001) }), nil, form.ErrInvalidField.At("poll_for_assignment.failure_message")},
		{"no inputs", withDef(func(d *form.Definition) { d.Inputs = nil }), nil, form.ErrInvalidField.At("inputs")},
		{"too many inputs", withDef(func(d *form.Definition) {
			d.Inputs = nil
			for i := range form.MaxInputs + 1 {
				d.Inputs = append(d.Inputs, form.Input{Type: form.Text, Key: "k" + strings.Repeat("x", i%60) + string(rune('a'+i%26))})
			}
		}), nil, form.ErrInvalidField.At("inputs")},
		{"unknown input type", withInput(form.Input{Type: "password", Key: "pw"}), nil, form.ErrUnknownInputType.At("inputs[0].type")},
		{"input without key", withInput(form.Input{Type: form.Text}), nil, form.ErrInvalidInputKey.At("inputs[0].key")},
		{"input key starting with a digit", withInput(form.Input{Type: form.Text, Key: "1st"}), nil, form.ErrInvalidInputKey.At("inputs[0].key")},
		{"input key with a space", withInput(form.Input{Type: form.Text, Key: "first name"}), nil, form.ErrInvalidInputKey.At("inputs[0].key")},
		{"input key too long", withInput(form.Input{Type: form.Text, Key: strings.Repeat("k", 65)}), nil, form.ErrInvalidInputKey.At("inputs[0].key")},
		{"duplicate input key", withDef(func(d *form.Definition) { d.Inputs[3].Key = "name" }), nil, form.ErrDuplicateInputKey.At("inputs[3].key")},
		{"label too long", withInput(form.Input{Type: form.Text, Key: "k", Display: strings.Repeat("l", 201)}), nil, form.ErrInvalidField.At("inputs[0].display")},
		{"placeholder too long", withInput(form.Input{Type: form.Text, Key: "k", Placeholder: strings.Repeat("p", 201)}), nil, form.ErrInvalidField.At("inputs[0].placeholder")},
		{"regex that does not compile", withInput(form.Input{Type: form.Text, Key: "k", Regex: "(a"}), nil, form.ErrInvalidRegex.At("inputs[0].regex")},
		{"regex too long", withInput(form.Input{Type: form.Text, Key: "k", Regex: strings.Repeat("a", 501)}), nil, form.ErrInvalidRegex.At("inputs[0].regex")},
		{"regex on a dropdown", withInput(form.Input{Type: form.Dropdown, Key: "k", Regex: "a", Options: []form.Option{{Value: "a"}}}), nil, form.ErrInvalidRegex.At("inputs[0].regex")},
		{"regex on a file", withInput(form.Input{Type: form.File, Key: "k", Regex: "a"}), nil, form.ErrInvalidRegex.At("inputs[0].regex")},
		{"dropdown without options", withInput(choice(form.Dropdown)), nil, form.ErrInvalidOptions.At("inputs[0].options")},
		{"radio without options", withInput(choice(form.Radio)), nil, form.ErrInvalidOptions.At("inputs[0].options")},
		{"checkbox without options", withInput(choice(form.Checkbox)), nil, form.ErrInvalidOptions.At("inputs[0].options")},
		{"options on a text input", withInput(form.Input{Type: form.Text, Key: "k", Options: []form.Option{{Value: "a"}}}), nil, form.ErrInvalidOptions.At("inputs[0].options")},
		{"option without value", withInput(choice(form.Radio, form.Option{Text: "Yes"})), nil, form.ErrInvalidOptions.At("inputs[0].options[0].value")},
		{"option value repeated", withInput(choice(form.Radio, form.Option{Value: "a"}, form.Option{Value: " a"})), nil, form.ErrInvalidOptions.At("inputs[0].options[1].value")},
		{"option value too long", withInput(choice(form.Radio, form.Option{Value: strings.Repeat("v", 201)})), nil, form.ErrInvalidOptions.At("inputs[0].options[0].value")},
		{"option text too long", withInput(choice(form.Radio, form.Option{Value: "a", Text: strings.Repeat("t", 201)})), nil, form.ErrInvalidOptions.At("inputs[0].options[0].text")},
		{"too many options", withInput(func() form.Input {
			in := choice(form.Checkbox)
			for i := range form.MaxOptions + 1 {
				in.Options = append(in.Options, form.Option{Value: strings.Repeat("v", i+1)})
			}
			return in
		}()), nil, form.ErrInvalidOptions.At("inputs[0].options")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := form.New(tt.cmd, cfg, noon)
			domaintest.CheckErr(t, err, tt.wantErr)
			if err != nil {
				if f != nil {
					t.Fatalf("New() = %v, %v; want no form with the error", f, err)
				}
				return
			}
			domaintest.CheckEvents(t, f.Pending(), tt.then)
			if f.Version() != 0 || !f.Exists() || f.Slug() != tt.cmd.Slug {
				t.Fatalf("New(): Version() = %d, Exists() = %v, Slug() = %q; want 0, true, %q", f.Version(), f.Exists(), f.Slug(), tt.cmd.Slug)
			}
			domaintest.CheckReplay(t, f.Pending(), f.Snapshot(), codec, form.Rehydrate, form.Evolve)
		})
	}
}

func TestNew_ReportsEveryProblem(t *testing.T) {
	c := form.CreateForm{By: agent, Source: api, ID: "x", Slug: "Bad Slug", Definition: form.Definition{
		Priority: "critical",
		Inputs: []form.Input{
			{Type: form.Text, Key: "a"},
			{Type: "color", Key: "a"},
			{Type: form.Radio, Key: "b"},
		},
		SubmitButton: form.SubmitButton{TitleColor: "red"},
	}}
	_, err := form.New(c, cfg, noon)
	want := []string{
		"invalid_field@id", "invalid_slug@slug", "invalid_title@title", "unknown_priority@priority",
		"invalid_color@submit_button.title_color",
		"unknown_input_type@inputs[1].type", "duplicate_input_key@inputs[1].key", "invalid_options@inputs[2].options",
	}
	if diff := cmp.Diff(fields(err), want); diff != "" {
		t.Fatalf("New() errors (-got +want):\n%s", diff)
	}
	if domain.KindOf(err) != domain.Invalid {
		t.Fatalf("New() error kind = %v, want invalid", domain.KindOf(err))
	}
}

func TestNew_ZeroTime(t *testing.T) {
	_, err := form.New(form.CreateForm{By: agent, Source: api, ID: formID, Slug: slug, Definition: minimalDef()}, cfg, time.Time{})
	if err == nil || domain.KindOf(err) != domain.Internal {
		t.Fatalf("New(zero time) = %v, want an internal error", err)
	}
}

func TestForm_Update(t *testing.T) {
	update := func(d form.Definition) func(*form.Form) error {
		return func(f *form.Form) error {
			return f.Update(form.UpdateForm{By: agent, Source: api, Definition: d}, cfg, noon)
		}
	}
	retitled := defWith(func(d *form.Definition) { d.Title = "Damaged parcel" })
	shorter := defWith(func(d *form.Definition) { d.Inputs = d.Inputs[:2] })
	run(t, []scenario{
		{"new title", given(created), update(retitled), given(form.FormUpdated{Change: now, Definition: retitled}), nil},
		{"inputs removed", given(created), update(shorter), given(form.FormUpdated{Change: now, Definition: shorter}), nil},
		{"fields left out get their defaults", given(created), update(minimalDef()), given(form.FormUpdated{Change: now, Definition: form.Definition{
			Title:          "Contact us",
			Inputs:         []form.Input{{Type: form.Text, Key: "message", Display: "message"}},
			Priority:       ticket.PriorityLow,
			SuccessMessage: form.DefaultSuccessMessage,
			SubmitButton:   form.DefaultSubmitButton,
		}}), nil},
		{"a disabled form can be edited", given(created, disabled), update(retitled), given(form.FormUpdated{Change: now, Definition: retitled}), nil},
		{"same definition: no event", given(created), update(def), nil, nil},
		{"same once normalised: no event", given(created), update(defWith(func(d *form.Definition) {
			d.Title = " Damage report "
			d.SubmitButton.BackgroundColor = "#112233"
		})), nil, nil},
		{"invalid definition", given(created), update(defWith(func(d *form.Definition) { d.Title = "" })), nil, form.ErrInvalidTitle},
		{"unknown category", given(created), update(defWith(func(d *form.Definition) { d.Category = "billing" })), nil, ticket.ErrUnknownCategory},
		{"invalid actor", given(created), func(f *form.Form) error {
			return f.Update(form.UpdateForm{By: domain.Actor{Kind: "robot"}, Source: api, Definition: retitled}, cfg, noon)
		}, nil, domain.ErrInvalidActor},
		{"no form", nil, update(retitled), nil, form.ErrNotFound},
	})
}

func TestForm_Disable(t *testing.T) {
	disable := func(f *form.Form) error { return f.Disable(form.Disable{By: agent, Source: api}, noon) }
	run(t, []scenario{
		{"enabled form", given(created), disable, given(form.FormDisabled{Change: now}), nil},
		{"re-enabled form", given(created, disabled, form.FormEnabled{Change: before}), disable, given(form.FormDisabled{Change: now}), nil},
		{"already disabled: no event", given(created, disabled), disable, nil, nil},
		{"unknown source", given(created), func(f *form.Form) error {
			return f.Disable(form.Disable{By: agent, Source: "fax"}, noon)
		}, nil, domain.ErrUnknownSource},
		{"no form", nil, disable, nil, form.ErrNotFound},
	})
}

func TestForm_Enable(t *testing.T) {
	enable := func(f *form.Form) error { return f.Enable(form.Enable{By: agent, Source: api}, noon) }
	run(t, []scenario{
		{"disabled form", given(created, disabled), enable, given(form.FormEnabled{Change: now}), nil},
		{"already enabled: no event", given(created), enable, nil, nil},
		{"invalid actor", given(created, disabled), func(f *form.Form) error {
			return f.Enable(form.Enable{By: domain.Actor{}, Source: api}, noon)
		}, nil, domain.ErrInvalidActor},
		{"no form", nil, enable, nil, form.ErrNotFound},
	})
}

func TestForm_Snapshot(t *testing.T) {
	updated := defWith(func(d *form.Definition) { d.Title = "Damaged parcel" })
	f := form.Rehydrate(given(created, form.FormUpdated{Change: before, Definition: updated}), 2)
	if err := f.Disable(form.Disable{By: agent, Source: api}, noon); err != nil {
		t.Fatal(err)
	}
	want := form.Snapshot{
		ID: formID, Slug: slug, Definition: updated, Enabled: false,
		CreatedBy: agent, CreatedAt: t0, UpdatedAt: noon, Version: 3,
	}
	got := f.Snapshot()
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("Snapshot() (-got +want):\n%s", diff)
	}
	// The snapshot is a copy.
	got.Inputs[4].Options[0].Value = "changed"
	got.PollForAssignment.Duration = 1
	if again := f.Snapshot(); !cmp.Equal(again, want) {
		t.Fatalf("changing a snapshot changed the form (-got +want):\n%s", cmp.Diff(again, want))
	}
	if in, ok := want.Input("reason"); !ok || in.Type != form.Dropdown {
		t.Fatalf("Input(reason) = %+v, %v; want the dropdown", in, ok)
	}
	if _, ok := want.Input("nope"); ok {
		t.Fatalf("Input(nope) found an input")
	}
	if s := form.Rehydrate(nil, 0).Snapshot(); s.Exists() || s.Enabled {
		t.Fatalf("Snapshot of no form = %+v, want neither existing nor enabled", s)
	}
}
