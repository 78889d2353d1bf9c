package customer_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/domaintest"
)

const (
	id      = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	otherID = "1c8f5d2f-4b2a-4d7f-8b64-6e2a3c4d5e6f"
	mergeID = "2d9a6e3a-5c3b-4e8a-9c75-7f3b4d5e6f7a"
	ticket  = "33333333-3333-4333-8333-333333333333"
	note    = "44444444-4444-4444-8444-444444444444"
	deal    = "55555555-5555-4555-8555-555555555555"
	owner   = "66666666-6666-4666-8666-666666666666"
	group   = "77777777-7777-4777-8777-777777777777"
	account = "88888888-8888-4888-8888-888888888888"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	noon  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	admin = domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}
	api   = domain.SourceAPI

	atCreation = domain.Change{By: admin, Source: api, At: t0}
	now        = domain.Change{By: admin, Source: api, At: noon}

	everybody = domain.Permit{Kind: domain.PermitEverybody}

	anaProfile = customer.Profile{Name: "Ana", Emails: []customer.Email{{Type: "Work", Value: "ana@example.com"}},
		Phones: []customer.Phone{{Type: "Mobile", Value: "+84 905 000 001", Normalized: "+84905000001"}}, Permit: everybody}
	created = customer.CustomerCreated{Change: atCreation, ID: id, Kind: customer.Contact, Code: "PID-1", Profile: anaProfile}
	lead    = customer.CustomerCreated{Change: atCreation, ID: id, Kind: customer.Lead, Code: "LID-7", Profile: anaProfile}
	merged  = customer.CustomerMerged{Change: atCreation, Into: otherID, MergeID: mergeID}

	viaEmail = &customer.Identity{Kind: customer.ByEmail, Value: "ana@example.com"}
)

// scenario is one given/when/then case (domaintest.Scenario).
type scenario domaintest.Scenario[*customer.Customer]

func run(t *testing.T, tests []scenario) {
	t.Helper()
	domaintest.Run(t, tests, customer.Codec(), customer.Rehydrate, customer.Evolve)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		c       customer.Create
		then    []domain.Event
		wantErr []error
	}{
		{"contact, profile normalised",
			customer.Create{ID: id, Kind: customer.Contact, Code: "PID-1", Profile: customer.Profile{Name: " Ana ",
				Emails: []customer.Email{{Type: "work", Value: " Ana@Example.COM"}},
				Phones: []customer.Phone{{Type: "MOBILE", Value: "+84 905 000 001", Normalized: "+84905000001"}}}},
			[]domain.Event{customer.CustomerCreated{Change: now, ID: id, Kind: customer.Contact, Code: "PID-1", Profile: anaProfile}}, nil},
		{"account", customer.Create{ID: id, Kind: customer.Account, Code: "CID-12", Profile: customer.Profile{Name: "Acme"}},
			[]domain.Event{customer.CustomerCreated{Change: now, ID: id, Kind: customer.Account, Code: "CID-12",
				Profile: customer.Profile{Name: "Acme", Permit: everybody}}}, nil},
		{"lead", customer.Create{ID: id, Kind: customer.Lead, Code: "LID-7", Profile: customer.Profile{Name: "Bo", Account: account}},
			[]domain.Event{customer.CustomerCreated{Change: now, ID: id, Kind: customer.Lead, Code: "LID-7",
				Profile: customer.Profile{Name: "Bo", Account: account, Permit: everybody}}}, nil},
		{"every field bad", customer.Create{ID: "x", Kind: customer.Contact, Code: "CID-1", Profile: customer.Profile{Gender: ptr(customer.Gender(5))}}, nil,
			[]error{customer.ErrInvalidField.At("id"), customer.ErrInvalidField.At("code"), customer.ErrInvalidField.At("name"), customer.ErrInvalidField.At("gender")}},
		{"unknown kind", customer.Create{ID: id, Kind: "vendor", Code: "PID-1", Profile: customer.Profile{Name: "X"}}, nil,
			[]error{customer.ErrInvalidField.At("kind")}},
		{"code zero", customer.Create{ID: id, Kind: customer.Contact, Code: "PID-0", Profile: customer.Profile{Name: "X"}}, nil,
			[]error{customer.ErrInvalidField.At("code")}},
		{"code with leading zero", customer.Create{ID: id, Kind: customer.Contact, Code: "PID-01", Profile: customer.Profile{Name: "X"}}, nil,
			[]error{customer.ErrInvalidField.At("code")}},
		{"account of an account", customer.Create{ID: id, Kind: customer.Account, Code: "CID-1", Profile: customer.Profile{Name: "X", Account: account}}, nil,
			[]error{customer.ErrInvalidField.At("account_id")}},
		{"no actor", customer.Create{By: domain.Actor{}, ID: id, Kind: customer.Contact, Code: "PID-1", Profile: customer.Profile{Name: "X"}}, nil,
			[]error{errors.New("any")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "no actor" {
				tt.c.By = admin
			}
			tt.c.Source = api
			c, err := customer.New(tt.c, noon)
			if tt.wantErr != nil {
				if err == nil || c != nil {
					t.Fatalf("New() = %v, %v; want an error and no customer", c, err)
				}
				for _, want := range tt.wantErr {
					if want.Error() != "any" && !errors.Is(err, want) {
						t.Errorf("New() = %v, want %v among its errors", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v, want nil", err)
			}
			domaintest.CheckEvents(t, c.Pending(), tt.then)
			domaintest.CheckReplay(t, c.Pending(), c.Snapshot(), customer.Codec(), customer.Rehydrate, customer.Evolve)
		})
	}
}

func TestCustomer_Update(t *testing.T) {
	edited := anaProfile
	edited.Title = "CEO"
	edited.Tags = []string{"vip"}
	run(t, []scenario{
		{"title and tags", []domain.Event{created}, func(c *customer.Customer) error {
			p := anaProfile
			p.Title, p.Tags = " CEO ", []string{"vip", "", "vip"}
			return c.Update(admin, api, p, noon)
		}, []domain.Event{customer.CustomerUpdated{Change: now, Profile: edited}}, nil},
		{"the same after normalising records nothing", []domain.Event{created}, func(c *customer.Customer) error {
			p := anaProfile
			p.Name, p.Permit = "Ana  ", domain.Permit{}
			return c.Update(admin, api, p, noon)
		}, nil, nil},
		{"bad profile", []domain.Event{created}, func(c *customer.Customer) error {
			return c.Update(admin, api, customer.Profile{Name: ""}, noon)
		}, nil, customer.ErrInvalidField.At("name")},
		{"an account's account", []domain.Event{customer.CustomerCreated{Change: atCreation, ID: id, Kind: customer.Account, Code: "CID-1", Profile: anaProfile}},
			func(c *customer.Customer) error {
				return c.Update(admin, api, customer.Profile{Name: "Acme", Account: account}, noon)
			}, nil, customer.ErrInvalidField.At("account_id")},
		{"its own account", []domain.Event{created}, func(c *customer.Customer) error {
			return c.Update(admin, api, customer.Profile{Name: "Ana", Account: id}, noon)
		}, nil, customer.ErrInvalidField.At("account_id")},
		{"merged", []domain.Event{created, merged}, func(c *customer.Customer) error {
			return c.Update(admin, api, edited, noon)
		}, nil, customer.ErrMerged},
		{"no customer", nil, func(c *customer.Customer) error { return c.Update(admin, api, edited, noon) }, nil, customer.ErrNotFound},
	})
}

func TestCustomer_RecordDuplicate(t *testing.T) {
	matched := []customer.Identity{*viaEmail}
	sent := customer.Profile{Name: "Ana B", Emails: []customer.Email{{Value: "ana@example.com"}}}
	run(t, []scenario{
		{"recorded", []domain.Event{created}, func(c *customer.Customer) error {
			return c.RecordDuplicate(admin, api, matched, sent, noon)
		}, []domain.Event{customer.DuplicateSubmitted{Change: now, Matched: matched, Submitted: sent}}, nil},
		{"merged", []domain.Event{created, merged}, func(c *customer.Customer) error {
			return c.RecordDuplicate(admin, api, matched, sent, noon)
		}, nil, customer.ErrMerged},
		{"no customer", nil, func(c *customer.Customer) error { return c.RecordDuplicate(admin, api, matched, sent, noon) }, nil, customer.ErrNotFound},
	})
}

func TestCustomer_Convert(t *testing.T) {
	run(t, []scenario{
		{"lead", []domain.Event{lead}, func(c *customer.Customer) error { return c.Convert(admin, api, "PID-12", noon) },
			[]domain.Event{customer.LeadConverted{Change: now, Code: "PID-12"}}, nil},
		{"contact", []domain.Event{created}, func(c *customer.Customer) error { return c.Convert(admin, api, "PID-12", noon) },
			nil, customer.ErrNotLead},
		{"converted lead", []domain.Event{lead, customer.LeadConverted{Change: atCreation, Code: "PID-12"}},
			func(c *customer.Customer) error { return c.Convert(admin, api, "PID-13", noon) }, nil, customer.ErrNotLead},
		{"not a PID code", []domain.Event{lead}, func(c *customer.Customer) error { return c.Convert(admin, api, "LID-8", noon) },
			nil, customer.ErrInvalidField.At("code")},
		{"merged", []domain.Event{lead, merged}, func(c *customer.Customer) error { return c.Convert(admin, api, "PID-12", noon) },
			nil, customer.ErrMerged},
		{"no customer", nil, func(c *customer.Customer) error { return c.Convert(admin, api, "PID-12", noon) }, nil, customer.ErrNotFound},
	})

	c := customer.Rehydrate([]domain.Event{lead}, 1)
	if err := c.Convert(admin, api, "PID-12", noon); err != nil {
		t.Fatal(err)
	}
	s := c.Snapshot()
	if s.Kind != customer.Contact || s.Code != "PID-12" || strings.Join(s.Codes, ",") != "LID-7,PID-12" {
		t.Errorf("after Convert: kind %q, code %q, codes %q; want contact, PID-12, [LID-7 PID-12]", s.Kind, s.Code, s.Codes)
	}
	ids := s.Identities()
	if got := ids[len(ids)-2:]; got[0] != (customer.Identity{Kind: customer.ByCode, Value: "LID-7"}) || got[1] != (customer.Identity{Kind: customer.ByCode, Value: "PID-12"}) {
		t.Errorf("Identities() ends with %v, want both codes", got)
	}
}

func TestCustomer_LinkTicket(t *testing.T) {
	linked := customer.TicketLinked{Change: now, TicketID: ticket, Number: 42, Title: "Refund", Via: viaEmail}
	run(t, []scenario{
		{"linked", []domain.Event{created}, func(c *customer.Customer) error {
			return c.LinkTicket(admin, api, ticket, 42, "Refund", viaEmail, noon)
		}, []domain.Event{linked}, nil},
		{"again records nothing", []domain.Event{created, linked}, func(c *customer.Customer) error {
			return c.LinkTicket(admin, api, ticket, 42, "Refund", nil, noon)
		}, nil, nil},
		{"bad ticket id", []domain.Event{created}, func(c *customer.Customer) error {
			return c.LinkTicket(admin, api, "T-1", 42, "Refund", nil, noon)
		}, nil, customer.ErrInvalidField.At("ticket_id")},
		{"merged", []domain.Event{created, merged}, func(c *customer.Customer) error {
			return c.LinkTicket(admin, api, ticket, 42, "Refund", nil, noon)
		}, nil, customer.ErrMerged},
		{"no customer", nil, func(c *customer.Customer) error { return c.LinkTicket(admin, api, ticket, 42, "Refund", nil, noon) }, nil, customer.ErrNotFound},
	})
}

func TestCustomer_AddNote(t *testing.T) {
	added := customer.NoteAdded{Change: now, NoteID: note, Body: "Called back", Owner: owner,
		Permit: domain.Permit{Kind: domain.PermitOwnerGroup, Group: group}, Tag: "call", Channel: "phone", Via: viaEmail}
	input := customer.NoteInput{NoteID: note, Body: "  Called back\n", Owner: owner,
		Permit: domain.Permit{Kind: domain.PermitOwnerGroup, Group: group, Agents: []string{owner}}, Tag: " call", Channel: "phone", Via: viaEmail}
	with := func(f func(*customer.NoteInput)) customer.NoteInput { n := input; f(&n); return n }
	longest := strings.Repeat("é", customer.MaxNoteLength) // 65536 characters, 131072 bytes
	run(t, []scenario{
		{"added, permit normalised", []domain.Event{created}, func(c *customer.Customer) error { return c.AddNote(admin, api, input, noon) },
			[]domain.Event{added}, nil},
		{"the longest body", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, customer.NoteInput{NoteID: note, Body: longest}, noon)
		}, []domain.Event{customer.NoteAdded{Change: now, NoteID: note, Body: longest, Permit: everybody}}, nil},
		{"the same note again records nothing", []domain.Event{created, added}, func(c *customer.Customer) error { return c.AddNote(admin, api, input, noon) },
			nil, nil},
		{"too long", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, with(func(n *customer.NoteInput) { n.Body = longest + "x" }), noon)
		}, nil, customer.ErrInvalidField.At("body")},
		{"blank", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, with(func(n *customer.NoteInput) { n.Body = " \n" }), noon)
		}, nil, customer.ErrInvalidField.At("body")},
		{"bad id", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, with(func(n *customer.NoteInput) { n.NoteID = "n1" }), noon)
		}, nil, customer.ErrInvalidField.At("id")},
		{"bad owner", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, with(func(n *customer.NoteInput) { n.Owner = "ana" }), noon)
		}, nil, customer.ErrInvalidField.At("owner")},
		{"bad permit", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, with(func(n *customer.NoteInput) { n.Permit = domain.Permit{Kind: domain.PermitOwnerGroup} }), noon)
		}, nil, domain.ErrInvalidPermit.At("permit.group")},
		{"long tag", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, with(func(n *customer.NoteInput) { n.Tag = strings.Repeat("t", 101) }), noon)
		}, nil, customer.ErrInvalidField.At("tag")},
		{"long channel", []domain.Event{created}, func(c *customer.Customer) error {
			return c.AddNote(admin, api, with(func(n *customer.NoteInput) { n.Channel = strings.Repeat("c", 101) }), noon)
		}, nil, customer.ErrInvalidField.At("channel")},
		{"merged", []domain.Event{created, merged}, func(c *customer.Customer) error { return c.AddNote(admin, api, input, noon) },
			nil, customer.ErrMerged},
		{"no customer", nil, func(c *customer.Customer) error { return c.AddNote(admin, api, input, noon) }, nil, customer.ErrNotFound},
	})
}

func TestCustomer_LinkDeal(t *testing.T) {
	linked := customer.DealLinked{Change: now, DealID: deal, Name: "Renewal", Role: customer.RoleCustomer}
	run(t, []scenario{
		{"linked", []domain.Event{created}, func(c *customer.Customer) error {
			return c.LinkDeal(admin, api, deal, "Renewal", customer.RoleCustomer, nil, noon)
		}, []domain.Event{linked}, nil},
		{"same deal and role records nothing", []domain.Event{created, linked}, func(c *customer.Customer) error {
			return c.LinkDeal(admin, api, deal, "Renewal", customer.RoleCustomer, nil, noon)
		}, nil, nil},
		{"same deal, other role", []domain.Event{created, linked}, func(c *customer.Customer) error {
			return c.LinkDeal(admin, api, deal, "Renewal", customer.RoleContact, viaEmail, noon)
		}, []domain.Event{customer.DealLinked{Change: now, DealID: deal, Name: "Renewal", Role: customer.RoleContact, Via: viaEmail}}, nil},
		{"bad role", []domain.Event{created}, func(c *customer.Customer) error {
			return c.LinkDeal(admin, api, deal, "Renewal", "buyer", nil, noon)
		}, nil, customer.ErrInvalidField.At("role")},
		{"bad deal id", []domain.Event{created}, func(c *customer.Customer) error {
			return c.LinkDeal(admin, api, "D-1", "Renewal", customer.RoleCustomer, nil, noon)
		}, nil, customer.ErrInvalidField.At("deal_id")},
		{"merged", []domain.Event{created, merged}, func(c *customer.Customer) error {
			return c.LinkDeal(admin, api, deal, "Renewal", customer.RoleCustomer, nil, noon)
		}, nil, customer.ErrMerged},
		{"no customer", nil, func(c *customer.Customer) error {
			return c.LinkDeal(admin, api, deal, "Renewal", customer.RoleCustomer, nil, noon)
		}, nil, customer.ErrNotFound},
	})

	c := customer.Rehydrate([]domain.Event{created, linked}, 2)
	if err := c.LinkDeal(admin, api, deal, "Renewal", customer.RoleContact, nil, noon); err != nil {
		t.Fatal(err)
	}
	if got := c.Snapshot().Items; len(got) != 1 || got[0] != (customer.Item{Kind: "deal", ID: deal}) {
		t.Errorf("Items = %v, want the deal once", got)
	}
}

func TestProfile_Identities(t *testing.T) {
	p := customer.Profile{Name: "Ana",
		Emails:    []customer.Email{{Value: "ana@example.com"}, {Value: "a@example.com"}},
		Phones:    []customer.Phone{{Value: "0905 000 001", Normalized: "+84905000001"}, {Value: "+84905000001", Normalized: "+84905000001"}},
		Passport:  "B1234567",
		ContactID: "lsq-1"}
	want := []customer.Identity{{Kind: customer.ByEmail, Value: "ana@example.com"}, {Kind: customer.ByEmail, Value: "a@example.com"},
		{Kind: customer.ByPhone, Value: "+84905000001"}, {Kind: customer.ByPassport, Value: "B1234567"}, {Kind: customer.ByContactID, Value: "lsq-1"}}
	if got := p.Identities(); !equalJSON(got, want) {
		t.Errorf("Identities() = %v, want %v", got, want)
	}
	s := customer.Snapshot{Profile: p, Codes: []string{"LID-7", "PID-12"}}
	want = append(want, customer.Identity{Kind: customer.ByCode, Value: "LID-7"}, customer.Identity{Kind: customer.ByCode, Value: "PID-12"})
	if got := s.Identities(); !equalJSON(got, want) {
		t.Errorf("Snapshot.Identities() = %v, want %v", got, want)
	}
	if got := (customer.Profile{Name: "X"}).Identities(); len(got) != 0 {
		t.Errorf("Identities() of an empty profile = %v, want none", got)
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	full := anaProfile
	full.Gender = ptr(customer.Female)
	full.Custom = map[string]json.RawMessage{"Size": json.RawMessage(`"L"`)}
	full.Addresses = []customer.Address{{Type: "Home", City: "Da Nang", Country: customer.Country{Code: "VN"}}}
	items := []customer.Item{{Kind: "note", ID: note}}
	domaintest.CodecRoundTrip(t, []domain.Event{
		customer.CustomerCreated{Change: now, ID: id, Kind: customer.Contact, Code: "PID-1", Profile: full},
		customer.CustomerUpdated{Change: now, Profile: full},
		customer.DuplicateSubmitted{Change: now, Matched: []customer.Identity{*viaEmail}, Submitted: anaProfile},
		customer.LeadConverted{Change: now, Code: "PID-2"},
		customer.CustomerMerged{Change: now, Into: otherID, MergeID: mergeID},
		customer.CustomerAbsorbed{Change: now, From: otherID, MergeID: mergeID, Identities: []customer.Identity{*viaEmail}, Before: anaProfile, Profile: full},
		customer.CustomerUnmerged{Change: now, Restored: otherID, MergeID: mergeID, Identities: []customer.Identity{*viaEmail}, Profile: anaProfile, Items: items},
		customer.CustomerRestored{Change: now, From: id, MergeID: mergeID, Items: items},
		customer.TicketLinked{Change: now, TicketID: ticket, Number: 7, Title: "Hi", Via: viaEmail},
		customer.NoteAdded{Change: now, NoteID: note, Body: "b", Owner: owner, Permit: everybody, Tag: "t", Channel: "c", Via: viaEmail},
		customer.DealLinked{Change: now, DealID: deal, Name: "Renewal", Role: customer.RoleContact, Via: viaEmail},
	}, customer.Codec())
	if got := customer.EventTypes(); len(got) != 11 {
		t.Errorf("EventTypes() = %v, want 11 types", got)
	}
}

// TestCodec_Persisted pins the stored form of the events others read.
func TestCodec_Persisted(t *testing.T) {
	change := `"by":{"id":"api_key","kind":"integration"},"source":"api","at":"2025-03-01T09:00:00Z"`
	ana := `{"name":"Ana","emails":[{"type":"Work","value":"ana@example.com"}],` +
		`"phones":[{"type":"Mobile","value":"+84 905 000 001","normalized":"+84905000001"}],"permit":{"kind":"everybody"}}`
	full := anaProfile
	full.Gender = ptr(customer.Female)
	full.DateOfBirth = "1993-01-01"
	full.Addresses = []customer.Address{{Type: "Home", City: "Da Nang", Country: customer.Country{Code: "VN"}}}
	full.Custom = map[string]json.RawMessage{"Size": json.RawMessage(`"L"`)}
	full.Owner = owner
	fullJSON := `{"name":"Ana","gender":1,"date_of_birth":"1993-01-01","emails":[{"type":"Work","value":"ana@example.com"}],` +
		`"phones":[{"type":"Mobile","value":"+84 905 000 001","normalized":"+84905000001"}],` +
		`"addresses":[{"type":"Home","city":"Da Nang","country":{"code":"VN"}}],"custom":{"Size":"L"},` +
		`"owner":"` + owner + `","permit":{"kind":"everybody"}}`
	tests := []struct {
		e    domain.Event
		want string
	}{
		{customer.CustomerCreated{Change: atCreation, ID: id, Kind: customer.Contact, Code: "PID-1", Profile: anaProfile},
			`{` + change + `,"id":"` + id + `","kind":"contact","code":"PID-1","profile":` + ana + `}`},
		{customer.CustomerUpdated{Change: atCreation, Profile: full}, `{` + change + `,"profile":` + fullJSON + `}`},
		{customer.NoteAdded{Change: atCreation, NoteID: note, Body: "Called", Owner: owner, Permit: domain.Permit{Kind: domain.PermitOwner}, Via: viaEmail},
			`{` + change + `,"note_id":"` + note + `","body":"Called","owner":"` + owner + `","permit":{"kind":"owner"},"via":{"kind":"email","value":"ana@example.com"}}`},
		{customer.CustomerAbsorbed{Change: atCreation, From: otherID, MergeID: mergeID, Identities: []customer.Identity{{Kind: customer.ByPhone, Value: "+84905000002"}},
			Before: anaProfile, Profile: anaProfile},
			`{` + change + `,"from":"` + otherID + `","merge_id":"` + mergeID + `","identities":[{"kind":"phone","value":"+84905000002"}],"before":` + ana + `,"profile":` + ana + `}`},
	}
	for _, tt := range tests {
		b, err := customer.Encode(tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("Encode(%T) =\n%s\nwant\n%s", tt.e, b, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
