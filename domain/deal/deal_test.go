package deal_test

import (
	"encoding/json"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/pipeline"
)

const (
	id    = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	pl    = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	pl2   = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	lead  = "11111111-1111-4111-8111-111111111111"
	won   = "22222222-2222-4222-8222-222222222222"
	other = "33333333-3333-4333-8333-333333333333"
	ana   = "44444444-4444-4444-8444-444444444444"
	cust  = "55555555-5555-4555-8555-555555555555"
	note  = "66666666-6666-4666-8666-666666666666"
)

var (
	by     = domaintest.Agent
	api    = domain.SourceAPI
	t0     = domain.Change{By: by, Source: api, At: domaintest.T0}
	now    = domain.Change{By: by, Source: api, At: domaintest.Noon}
	config = crm.Snapshot{DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"},
		CustomFields: []crm.FieldDef{{Name: "Budget", Entity: crm.EntityDeal, Type: crm.Number}, {Name: "Tier", Entity: crm.EntityDeal, Type: crm.Select, Options: []string{"Gold"}}}}
	sales = pipeline.Snapshot{ID: pl, Name: "Sales", Stages: []pipeline.Stage{{ID: lead, Name: "Lead", Probability: "0.1", Kind: pipeline.Open}, {ID: won, Name: "Won", Probability: "1", Kind: pipeline.Won}}}
	ctx   = deal.Context{Config: config, Pipeline: sales}
	base  = deal.Details{ExternalID: "1234567890", Name: "Booking-ID #0003", Value: "50000", Currency: "VND", Pipeline: pl, Stage: lead,
		Owners: deal.Owners{Agents: []string{ana}, Groups: []string{}}, Customer: cust, Contacts: []string{}, Permit: domain.Permit{Kind: domain.PermitEverybody}, Owner: ana}
	created = deal.DealCreated{Change: t0, ID: id, Details: base}
)

type scenario domaintest.Scenario[*deal.Deal]

func ptr[T any](v T) *T { return &v }

func TestNew(t *testing.T) {
	in := base
	in.Value, in.Currency, in.Category, in.CloseDate = " 050000", "vnd", "ui design", "1482470382793"
	in.Owners.Agents = []string{ana, ana}
	in.Custom = map[string]json.RawMessage{"budget": json.RawMessage(`"12.50"`)}
	d, err := deal.New(deal.CreateDeal{By: by, Source: api, ID: id, Details: in}, ctx, domaintest.Noon)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Category, want.CloseDate = "UI Design", "2016-12-23T05:19:42.793Z"
	want.Custom = map[string]json.RawMessage{"Budget": json.RawMessage(`12.50`)}
	domaintest.CheckEvents(t, d.Pending(), []domain.Event{deal.DealCreated{Change: now, ID: id, Details: want}})

	bad := func(f func(*deal.Details)) deal.Details { x := base; f(&x); return x }
	for name, tt := range map[string]struct {
		d    deal.Details
		want error
	}{
		"no name":           {bad(func(x *deal.Details) { x.Name = " " }), deal.ErrInvalidField.At("name")},
		"no stage":          {bad(func(x *deal.Details) { x.Stage = "" }), deal.ErrInvalidField.At("stage")},
		"unknown stage":     {bad(func(x *deal.Details) { x.Stage = other }), deal.ErrUnknownStage.At("stage")},
		"other pipeline":    {bad(func(x *deal.Details) { x.Pipeline = pl2 }), deal.ErrInvalidField.At("pipeline")},
		"float value":       {bad(func(x *deal.Details) { x.Value = "1.1234567" }), deal.ErrInvalidValue.At("value")},
		"huge value":        {bad(func(x *deal.Details) { x.Value = "1234567890123456789" }), deal.ErrInvalidValue.At("value")},
		"value no currency": {bad(func(x *deal.Details) { x.Currency = "" }), deal.ErrInvalidField.At("currency")},
		"bad currency":      {bad(func(x *deal.Details) { x.Currency = "ABC" }), crm.ErrInvalidCurrency.At("currency")},
		"bad category":      {bad(func(x *deal.Details) { x.Category = "Other" }), deal.ErrInvalidField.At("category")},
		"bad package":       {bad(func(x *deal.Details) { x.Package = "Goi B" }), deal.ErrInvalidField.At("package")},
		"bad close date":    {bad(func(x *deal.Details) { x.CloseDate = "soon" }), deal.ErrInvalidField.At("close_date")},
		"JavaScript date":   {bad(func(x *deal.Details) { x.CloseDate = "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)" }), nil},
		"bad owner id":      {bad(func(x *deal.Details) { x.Owners.Groups = []string{"Nhom 1"} }), deal.ErrInvalidField.At("owners.groups[0]")},
		"bad customer":      {bad(func(x *deal.Details) { x.Customer = "LID-1" }), deal.ErrInvalidField.At("customer")},
		"bad permit":        {bad(func(x *deal.Details) { x.Permit = domain.Permit{Kind: domain.PermitOwnerGroup} }), domain.ErrInvalidPermit.At("permit.group")},
		"unknown custom":    {bad(func(x *deal.Details) { x.Custom = map[string]json.RawMessage{"Colour": json.RawMessage(`"red"`)} }), crm.ErrUnknownCustomField.At("custom.Colour")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := deal.New(deal.CreateDeal{By: by, Source: api, ID: id, Details: tt.d}, ctx, domaintest.Noon)
			domaintest.CheckErr(t, err, tt.want)
		})
	}
}

func TestDeal_Commands(t *testing.T) {
	renewals := pipeline.Snapshot{ID: pl2, Name: "Renewals", Stages: []pipeline.Stage{{ID: other, Name: "Open", Probability: "0", Kind: pipeline.Open}}}
	tests := []scenario{
		{"update fields", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Name: ptr("Booking 3"), Value: ptr("1234.50"), Description: ptr("x"),
				Custom: map[string]json.RawMessage{"Tier": json.RawMessage(`"gold"`)}}, ctx, by, api, domaintest.Noon)
		}, []domain.Event{deal.DealUpdated{Change: now, Name: ptr("Booking 3"), Value: ptr("1234.50"), Description: ptr("x"),
			Custom: &map[string]json.RawMessage{"Tier": json.RawMessage(`"Gold"`)}}}, nil},
		{"nothing changes", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Name: ptr("Booking-ID #0003"), Stage: ptr(lead)}, ctx, by, api, domaintest.Noon)
		}, nil, nil},
		{"clear value and currency", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Value: ptr(""), Currency: ptr("")}, ctx, by, api, domaintest.Noon)
		}, []domain.Event{deal.DealUpdated{Change: now, Value: ptr(""), Currency: ptr("")}}, nil},
		{"clear currency only", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Currency: ptr("")}, ctx, by, api, domaintest.Noon)
		}, nil, deal.ErrInvalidField.At("currency")},
		{"owners and permit", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Owners: &deal.Owners{Agents: []string{}, Groups: []string{cust}}, Contacts: &[]string{cust},
				Permit: &domain.Permit{Kind: domain.PermitOwner}}, ctx, by, api, domaintest.Noon)
		}, []domain.Event{deal.DealUpdated{Change: now, Owners: &deal.Owners{Agents: []string{}, Groups: []string{cust}}, Contacts: &[]string{cust},
			Permit: &domain.Permit{Kind: domain.PermitOwner}}}, nil},
		{"stage", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Stage: ptr(won)}, ctx, by, api, domaintest.Noon)
		}, []domain.Event{deal.StageChanged{Change: now, Pipeline: pl, FromStage: lead, ToStage: won}}, nil},
		{"stage and name", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Name: ptr("N"), Stage: ptr(won)}, ctx, by, api, domaintest.Noon)
		}, []domain.Event{deal.DealUpdated{Change: now, Name: ptr("N")}, deal.StageChanged{Change: now, Pipeline: pl, FromStage: lead, ToStage: won}}, nil},
		{"another pipeline", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Pipeline: ptr(pl2), Stage: ptr(other)}, deal.Context{Config: config, Pipeline: renewals}, by, api, domaintest.Noon)
		}, []domain.Event{deal.StageChanged{Change: now, Pipeline: pl2, FromPipeline: pl, FromStage: lead, ToStage: other}}, nil},
		{"another pipeline without stage", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Pipeline: ptr(pl2)}, deal.Context{Config: config, Pipeline: renewals}, by, api, domaintest.Noon)
		}, nil, deal.ErrInvalidField.At("stage")},
		{"unknown stage", []domain.Event{created}, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Stage: ptr(other)}, ctx, by, api, domaintest.Noon)
		}, nil, deal.ErrUnknownStage.At("stage")},
		{"remove custom", []domain.Event{created, deal.DealUpdated{Change: t0, Custom: &map[string]json.RawMessage{"Tier": json.RawMessage(`"Gold"`)}}},
			func(d *deal.Deal) error {
				return d.Update(deal.UpdateDeal{Custom: map[string]json.RawMessage{"Tier": json.RawMessage(`null`)}}, ctx, by, api, domaintest.Noon)
			}, []domain.Event{deal.DealUpdated{Change: now, Custom: &map[string]json.RawMessage{}}}, nil},
		{"update missing", nil, func(d *deal.Deal) error {
			return d.Update(deal.UpdateDeal{Name: ptr("x")}, ctx, by, api, domaintest.Noon)
		}, nil, deal.ErrNotFound},
		{"note", []domain.Event{created}, func(d *deal.Deal) error {
			return d.AddNote(deal.AddNote{ID: note, Body: "Called them", Owner: ana, Tag: " webhook ", Channel: "Kite Chat"}, by, api, domaintest.Noon)
		}, []domain.Event{deal.NoteAdded{Change: now, NoteID: note, Body: "Called them", Owner: ana, Permit: domain.Permit{Kind: domain.PermitEverybody}, Tag: "webhook", Channel: "Kite Chat"}}, nil},
		{"same note again", []domain.Event{created, deal.NoteAdded{Change: t0, NoteID: note, Body: "x", Permit: domain.Permit{Kind: domain.PermitEverybody}}}, func(d *deal.Deal) error {
			return d.AddNote(deal.AddNote{ID: note, Body: "x"}, by, api, domaintest.Noon)
		}, nil, nil},
		{"empty note", []domain.Event{created}, func(d *deal.Deal) error {
			return d.AddNote(deal.AddNote{ID: note, Body: " "}, by, api, domaintest.Noon)
		},
			nil, deal.ErrInvalidField.At("body")},
		{"note bad permit", []domain.Event{created}, func(d *deal.Deal) error {
			return d.AddNote(deal.AddNote{ID: note, Body: "x", Permit: domain.Permit{Kind: domain.PermitOwnerAgents}}, by, api, domaintest.Noon)
		}, nil, domain.ErrInvalidPermit.At("permit.agents")},
		{"note on none", nil, func(d *deal.Deal) error {
			return d.AddNote(deal.AddNote{ID: note, Body: "x"}, by, api, domaintest.Noon)
		}, nil, deal.ErrNotFound},
	}
	domaintest.Run(t, tests, deal.Codec(), deal.Rehydrate, deal.Evolve)
}

func TestParseValue(t *testing.T) {
	for in, want := range map[string]string{"50000": "50000", "1234.50": "1234.50", "007.5": "7.5", "0": "0", "5e4": "50000",
		"1.5E-3": "0.0015", "999999999999999999.999999": "999999999999999999.999999"} {
		if got, err := deal.ParseValue(in); err != nil || got != want {
			t.Errorf("ParseValue(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1,5", "abc", "1e-9", "1e30", "0.1234567", "NaN", "1/2", "0x10"} {
		if got, err := deal.ParseValue(in); err == nil {
			t.Errorf("ParseValue(%q) = %q, want an error", in, got)
		}
	}
}

func TestCodec(t *testing.T) {
	domaintest.CodecRoundTrip(t, []domain.Event{created, deal.DealUpdated{Change: now, Name: ptr("x"), Contacts: &[]string{}},
		deal.StageChanged{Change: now, Pipeline: pl, FromStage: lead, ToStage: won},
		deal.NoteAdded{Change: now, NoteID: note, Body: "b", Permit: domain.Permit{Kind: domain.PermitOwner}}}, deal.Codec())
	change := `"by":{"id":"u-1","name":"Ana Agent","email":"ana@example.com","kind":"agent"},"source":"api","at":"2025-03-01T09:00:00Z"`
	for _, tt := range []struct {
		e    domain.Event
		want string
	}{
		{created, `{` + change + `,"id":"` + id + `","external_id":"1234567890","name":"Booking-ID #0003","value":"50000","currency":"VND",` +
			`"pipeline":"` + pl + `","stage":"` + lead + `","owners":{"agents":["` + ana + `"],"groups":[]},"customer":"` + cust + `","contacts":[],` +
			`"permit":{"kind":"everybody"},"owner":"` + ana + `"}`},
		{deal.DealUpdated{Change: t0, Value: ptr(""), Contacts: &[]string{cust}}, `{` + change + `,"value":"","contacts":["` + cust + `"]}`},
		{deal.StageChanged{Change: t0, Pipeline: pl, FromStage: lead, ToStage: won}, `{` + change + `,"pipeline":"` + pl + `","from_stage":"` + lead + `","to_stage":"` + won + `"}`},
		{deal.NoteAdded{Change: t0, NoteID: note, Body: "b", Owner: ana, Permit: domain.Permit{Kind: domain.PermitOwner}, Tag: "t", Channel: "c"},
			`{` + change + `,"note_id":"` + note + `","body":"b","owner":"` + ana + `","permit":{"kind":"owner"},"tag":"t","channel":"c"}`},
	} {
		if b, err := deal.Encode(tt.e); err != nil || string(b) != tt.want {
			t.Errorf("Encode(%T) =\n %s, %v\nwant\n %s", tt.e, b, err, tt.want)
		}
	}
}
