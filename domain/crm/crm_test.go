package crm_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/domaintest"
)

var (
	by   = domaintest.Agent
	api  = domain.SourceAPI
	t0   = domain.Change{By: by, Source: api, At: domaintest.T0}
	now  = domain.Change{By: by, Source: api, At: domaintest.Noon}
	set0 = crm.ConfigSet{Change: t0, Region: "VN", DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}
	cf0  = crm.CustomFieldsSet{Change: t0, Fields: []crm.FieldDef{{Name: "Budget", Entity: crm.EntityDeal, Type: crm.Number}}}
)

type scenario domaintest.Scenario[*crm.Config]

func TestConfig_Commands(t *testing.T) {
	tests := []scenario{
		{"first set", nil, func(c *crm.Config) error {
			return c.Set(crm.SetConfig{Region: " vn", DealCategories: []string{" UI  Design "}, Packages: []string{"Goi A"}}, by, api, domaintest.Noon)
		}, []domain.Event{crm.ConfigSet{Change: now, Region: "VN", DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}}, nil},
		{"same again", []domain.Event{set0}, func(c *crm.Config) error {
			return c.Set(crm.SetConfig{Region: "VN", DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}, by, api, domaintest.Noon)
		}, nil, nil},
		{"clear region", []domain.Event{set0}, func(c *crm.Config) error {
			return c.Set(crm.SetConfig{DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}, by, api, domaintest.Noon)
		}, []domain.Event{crm.ConfigSet{Change: now, Region: "", DealCategories: []string{"UI Design"}, Packages: []string{"Goi A"}}}, nil},
		{"bad region", nil, func(c *crm.Config) error {
			return c.Set(crm.SetConfig{Region: "Viet"}, by, api, domaintest.Noon)
		}, nil, crm.ErrInvalidRegion.At("region")},
		{"duplicate category", nil, func(c *crm.Config) error {
			return c.Set(crm.SetConfig{DealCategories: []string{"A", "a"}}, by, api, domaintest.Noon)
		}, nil, crm.ErrInvalidField.At("deal_categories[1]")},
		{"empty package", nil, func(c *crm.Config) error {
			return c.Set(crm.SetConfig{Packages: []string{" "}}, by, api, domaintest.Noon)
		}, nil, crm.ErrInvalidField.At("packages[0]")},
		{"fields", []domain.Event{set0}, func(c *crm.Config) error {
			return c.SetCustomFields([]crm.FieldDef{{Name: " Pets ", Entity: crm.EntityContact, Type: crm.Checkbox, Options: []string{"Dog", "Cat"}},
				{Name: "Pets", Entity: crm.EntityDeal, Type: crm.Text}}, by, api, domaintest.Noon)
		}, []domain.Event{crm.CustomFieldsSet{Change: now, Fields: []crm.FieldDef{
			{Name: "Pets", Entity: crm.EntityContact, Type: crm.Checkbox, Options: []string{"Dog", "Cat"}},
			{Name: "Pets", Entity: crm.EntityDeal, Type: crm.Text}}}}, nil},
		{"same fields", []domain.Event{cf0}, func(c *crm.Config) error {
			return c.SetCustomFields([]crm.FieldDef{{Name: "Budget", Entity: crm.EntityDeal, Type: crm.Number}}, by, api, domaintest.Noon)
		}, nil, nil},
		{"select without options", nil, func(c *crm.Config) error {
			return c.SetCustomFields([]crm.FieldDef{{Name: "Tier", Entity: crm.EntityDeal, Type: crm.Select}}, by, api, domaintest.Noon)
		}, nil, crm.ErrInvalidField.At("custom_fields[0].options")},
		{"duplicate field", nil, func(c *crm.Config) error {
			return c.SetCustomFields([]crm.FieldDef{{Name: "X", Entity: crm.EntityDeal, Type: crm.Text}, {Name: "x", Entity: crm.EntityDeal, Type: crm.Date}}, by, api, domaintest.Noon)
		}, nil, crm.ErrInvalidField.At("custom_fields[1].name")},
		{"bad entity and type", nil, func(c *crm.Config) error {
			return c.SetCustomFields([]crm.FieldDef{{Name: "X", Entity: "ticket", Type: "colour"}}, by, api, domaintest.Noon)
		}, nil, crm.ErrInvalidField.At("custom_fields[0].type")},
		{"options on text", nil, func(c *crm.Config) error {
			return c.SetCustomFields([]crm.FieldDef{{Name: "X", Entity: crm.EntityLead, Type: crm.Text, Options: []string{"a"}}}, by, api, domaintest.Noon)
		}, nil, crm.ErrInvalidField.At("custom_fields[0].options")},
		{"clear fields", []domain.Event{cf0}, func(c *crm.Config) error { return c.SetCustomFields(nil, by, api, domaintest.Noon) },
			[]domain.Event{crm.CustomFieldsSet{Change: now, Fields: []crm.FieldDef{}}}, nil},
	}
	domaintest.Run(t, tests, crm.Codec(), crm.Rehydrate, crm.Evolve)
}

func TestCodec(t *testing.T) {
	domaintest.CodecRoundTrip(t, []domain.Event{set0, cf0}, crm.Codec())
	change := `"by":{"id":"u-1","name":"Ana Agent","email":"ana@example.com","kind":"agent"},"source":"api","at":"2025-03-01T09:00:00Z"`
	for _, tt := range []struct {
		e    domain.Event
		want string
	}{
		{set0, `{` + change + `,"region":"VN","deal_categories":["UI Design"],"packages":["Goi A"]}`},
		{cf0, `{` + change + `,"fields":[{"name":"Budget","entity":"deal","type":"number"}]}`},
	} {
		e, want := tt.e, tt.want
		if b, err := crm.Encode(e); err != nil || string(b) != want {
			t.Errorf("Encode(%T) = %s, %v; want %s", e, b, err, want)
		}
	}
}

var defs = []crm.FieldDef{
	{Name: "Note", Entity: crm.EntityDeal, Type: crm.Text},
	{Name: "Budget", Entity: crm.EntityDeal, Type: crm.Number},
	{Name: "Start", Entity: crm.EntityDeal, Type: crm.Date},
	{Name: "Pets", Entity: crm.EntityDeal, Type: crm.Checkbox, Options: []string{"Dog", "Cat"}},
	{Name: "Tier", Entity: crm.EntityDeal, Type: crm.Select, Options: []string{"Gold", "Silver"}},
	{Name: "Age", Entity: crm.EntityContact, Type: crm.Number},
}

func TestCheckCustom(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"text", `{"Note":"hi"}`, `{"Note":"hi"}`, nil},
		{"text wrong type", `{"Note":5}`, ``, crm.ErrInvalidField.At("custom.Note")},
		{"number exact", `{"Budget":12345678901234567890.123456789}`, `{"Budget":12345678901234567890.123456789}`, nil},
		{"number as string", `{"Budget":" 42.50 "}`, `{"Budget":42.50}`, nil},
		{"number not numeric", `{"Budget":"lots"}`, ``, crm.ErrInvalidField.At("custom.Budget")},
		{"number bool", `{"Budget":true}`, ``, crm.ErrInvalidField.At("custom.Budget")},
		{"date day", `{"Start":"2019-07-08"}`, `{"Start":"2019-07-08"}`, nil},
		{"date instant", `{"Start":"2019-07-08T00:00:00+07:00"}`, `{"Start":"2019-07-08T00:00:00+07:00"}`, nil},
		{"date epoch ms", `{"Start":1482470382793}`, `{"Start":"2016-12-23T05:19:42.793Z"}`, nil},
		{"date JavaScript", `{"Start":"Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)"}`, `{"Start":"1993-01-01T00:00:00+07:00"}`, nil},
		{"date bad", `{"Start":"someday"}`, ``, crm.ErrInvalidField.At("custom.Start")},
		{"checkbox joined", `{"Pets":"Dog|cat|Dog"}`, `{"Pets":["Dog","Cat"]}`, nil},
		{"checkbox array", `{"Pets":["Cat"]}`, `{"Pets":["Cat"]}`, nil},
		{"checkbox unknown option", `{"Pets":"Dog|Fish"}`, ``, crm.ErrInvalidField.At("custom.Pets")},
		{"checkbox number", `{"Pets":3}`, ``, crm.ErrInvalidField.At("custom.Pets")},
		{"select", `{"Tier":"gold"}`, `{"Tier":"Gold"}`, nil},
		{"select unknown", `{"Tier":"Bronze"}`, ``, crm.ErrInvalidField.At("custom.Tier")},
		{"name in another case", `{"budget":1}`, `{"Budget":1}`, nil},
		{"null dropped", `{"Note":null}`, `null`, nil},
		{"other entity's field", `{"Age":3}`, ``, crm.ErrUnknownCustomField.At("custom.Age")},
		{"unknown", `{"Colour":"red"}`, ``, crm.ErrUnknownCustomField.At("custom.Colour")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
				t.Fatal(err)
			}
			got, _, err := crm.CheckCustom(defs, "deal", in, crm.Refuse)
			domaintest.CheckErr(t, err, tt.err)
			if tt.err != nil {
				return
			}
			if b, _ := json.Marshal(got); string(b) != tt.want {
				t.Errorf("CheckCustom(%s) = %s, want %s", tt.in, b, tt.want)
			}
		})
	}
	// Several problems are all named; Warn drops unknown names.
	_, _, err := crm.CheckCustom(defs, "deal", map[string]json.RawMessage{"Note": json.RawMessage(`1`), "Tier": json.RawMessage(`"x"`)}, crm.Refuse)
	var fields []string
	for _, e := range domain.Errors(err) {
		fields = append(fields, e.Field)
	}
	if want := []string{"custom.Note", "custom.Tier"}; !slices.Equal(fields, want) {
		t.Errorf("fields at fault = %v, want %v", fields, want)
	}
	got, warnings, err := crm.CheckCustom(defs, "deal", map[string]json.RawMessage{"Colour": json.RawMessage(`"red"`), "Note": json.RawMessage(`"x"`)}, crm.Warn)
	if err != nil || len(got) != 1 || len(warnings) != 1 {
		t.Errorf("CheckCustom(Warn) = %v, %v, %v; want Note kept and one warning", got, warnings, err)
	}
}

func TestValues(t *testing.T) {
	for code, want := range map[string]bool{"VN": true, "US": true, "vn": false, "VNM": false, "": false, "V1": false} {
		if got := crm.ValidRegion(code); got != want {
			t.Errorf("ValidRegion(%q) = %v, want %v", code, got, want)
		}
	}
	for code, want := range map[string]bool{"VND": true, " usd ": true, "eur": true, "XXX": false, "ABC": false, "": false, "EURO": false} {
		if got := crm.ValidCurrency(code); got != want {
			t.Errorf("ValidCurrency(%q) = %v, want %v", code, got, want)
		}
	}
	if c, ok := crm.Currency(" vnd"); c != "VND" || !ok {
		t.Errorf("Currency(\" vnd\") = %q, %v; want VND, true", c, ok)
	}
}
