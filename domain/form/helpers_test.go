package form_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// Fixtures: a form created by an agent through the API at t0 and changed
// at t1; the commands under test run at noon, by the agent, through the
// API.
const (
	formID = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	slug   = "damage-report"
	api    = domain.SourceAPI
)

var (
	t0, t1 = domaintest.T0, domaintest.T1
	noon   = domaintest.Noon

	agent = domaintest.Agent

	atCreation = domain.Change{By: agent, Source: api, At: t0}
	before     = domain.Change{By: agent, Source: api, At: t1}
	now        = domain.Change{By: agent, Source: api, At: noon}

	cfg = testConfig()

	// def is a normalised definition with one input of every type.
	def = form.Definition{
		Title:       "Damage report",
		Description: "Tell us what arrived damaged.",
		HeaderImage: "https://cdn.example.com/header.png",
		Inputs: []form.Input{
			{Type: form.Text, Key: "name", Display: "Name", Required: true, Placeholder: "Your name"},
			{Type: form.Email, Key: "email", Display: "Email", Required: true, Regex: `\S+@\S+\.\S+`},
			{Type: form.Mobile, Key: "phone", Display: "Phone"},
			{Type: form.Number, Key: "qty", Display: "Quantity"},
			{Type: form.Dropdown, Key: "reason", Display: "Reason", Required: true, Options: []form.Option{
				{Text: "Crushed box", Value: "crushed"}, {Text: "Wrong item", Value: "wrong"},
			}},
			{Type: form.Radio, Key: "contact", Display: "Contact by", Options: []form.Option{
				{Text: "E-mail", Value: "email"}, {Text: "Phone", Value: "phone"},
			}},
			{Type: form.Checkbox, Key: "topics", Display: "Topics", Options: []form.Option{
				{Text: "Refund", Value: "refund"}, {Text: "Replacement", Value: "replace"}, {Text: "Other", Value: "1"},
			}},
			{Type: form.Date, Key: "delivered_on", Display: "Delivered on"},
			{Type: form.File, Key: "photo", Display: "Photo"},
			{Type: form.Textarea, Key: "order-id", Display: "Order", Regex: `^FY[0-9]+$`},
		},
		Priority:       ticket.PriorityHigh,
		Category:       "orders",
		ShouldNotify:   true,
		SuccessMessage: "Thanks, we are on it.",
		SubmitButton:   form.SubmitButton{Title: "Send", TitleColor: "#ffffff", BackgroundColor: "#112233"},
		PollForAssignment: &form.PollForAssignment{
			Duration: 60, Message: "Finding an agent", SuccessMessage: "Found one", FailureMessage: "Nobody is free",
		},
	}

	created  = form.FormCreated{Change: atCreation, ID: formID, Slug: slug, Definition: def}
	disabled = form.FormDisabled{Change: before}
)

// testConfig is ticket.DefaultConfig with an "orders" category.
func testConfig() ticket.Config {
	c := ticket.DefaultConfig()
	c.Categories = append(c.Categories, ticket.Category{Key: "orders", Display: "Orders"})
	return c
}

// minimalDef is the least a form needs: a title and one input.
func minimalDef() form.Definition {
	return form.Definition{Title: "Contact us", Inputs: []form.Input{{Type: form.Text, Key: "message"}}}
}

// defWith returns a copy of def changed by f.
func defWith(f func(*form.Definition)) form.Definition {
	d := def
	d.Inputs = append([]form.Input(nil), def.Inputs...)
	p := *def.PollForAssignment
	d.PollForAssignment = &p
	f(&d)
	return d
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func given(events ...domain.Event) []domain.Event { return events }

var codec = form.Codec()

// scenario is one given/when/then case (domaintest.Scenario).
type scenario domaintest.Scenario[*form.Form]

// run runs the scenarios (domaintest.Run).
func run(t *testing.T, tests []scenario) {
	t.Helper()
	domaintest.Run(t, tests, codec, form.Rehydrate, form.Evolve)
}

// fields lists "code@field" of every *domain.Error in err.
func fields(err error) []string {
	var out []string
	for _, e := range domain.Errors(err) {
		out = append(out, e.Code+"@"+e.Field)
	}
	return out
}

func show(v any) string {
	var b strings.Builder
	j, _ := json.Marshal(v)
	fmt.Fprintf(&b, "%s", j)
	return b.String()
}
