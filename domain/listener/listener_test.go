package listener_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/listener"
)

const id = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	noon  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	admin = domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}
	api   = domain.SourceAPI

	atCreation = domain.Change{By: admin, Source: api, At: t0}
	now        = domain.Change{By: admin, Source: api, At: noon}

	settings = listener.Settings{Name: "Web form", Enabled: true, AllowedCIDRs: []string{}}
	created  = listener.ListenerCreated{Change: atCreation, ID: id, Settings: settings}
)

type scenario domaintest.Scenario[*listener.Listener]

func TestNew(t *testing.T) {
	l, err := listener.New(listener.CreateListener{By: admin, Source: api, ID: id, Settings: listener.Settings{
		Name: " Web form ", Enabled: true, AllowedCIDRs: []string{"10.0.0.7", "10.1.2.3/16", "::ffff:10.0.0.7"}}}, noon)
	if err != nil {
		t.Fatal(err)
	}
	want := listener.Settings{Name: "Web form", Enabled: true, AllowedCIDRs: []string{"10.0.0.7/32", "10.1.0.0/16"}}
	domaintest.CheckEvents(t, l.Pending(), []domain.Event{listener.ListenerCreated{Change: now, ID: id, Settings: want}})

	_, err = listener.New(listener.CreateListener{By: admin, Source: api, ID: id, Settings: listener.Settings{
		Name: "", AllowedCIDRs: []string{"10.0.0.300"}, RateLimit: -1,
		AutoEmail: listener.AutoEmail{Enabled: true, Subject: "Hi {{.Name}}", Body: "{{.Password}}"},
		AutoSMS:   listener.AutoSMS{Enabled: true}}}, noon)
	var fields []string
	for _, e := range domain.Errors(err) {
		fields = append(fields, e.Field)
	}
	wantFields := []string{"name", "allowed_cidrs[0]", "auto_email.body", "auto_sms.template", "rate_limit"}
	if len(fields) != len(wantFields) {
		t.Fatalf("New(bad settings) fields = %v, want %v", fields, wantFields)
	}
	for i := range fields {
		if fields[i] != wantFields[i] {
			t.Errorf("New(bad settings) fields = %v, want %v", fields, wantFields)
		}
	}
}

func TestTemplates(t *testing.T) {
	for _, bad := range []string{"{{.Password}}", "{{printf \"%s\" .Name}}", "{{if .Name}}x{{end}}", "{{range .Name}}{{end}}",
		"{{$x := .Name}}", "{{.Name.Length}}", "{{define \"x\"}}y{{end}}", "{{template \"x\"}}", "{{call .Name}}", "{{.Name", "{{len .Name}}"} {
		if _, err := listener.ParseTemplate("auto_sms.template", bad); err == nil {
			t.Errorf("ParseTemplate(%q) = nil error, want refused", bad)
		} else {
			domaintest.CheckErr(t, err, listener.ErrInvalidField.At("auto_sms.template"))
		}
	}
	got, err := listener.Render("Hi {{.Name}} {{.LastName}} ({{.Code}}, {{.Email}}, {{.Phone}}) <b>", listener.TemplateFields{
		Name: "Huy", LastName: "Nguyen", Code: "PID-1", Email: "h@x.com", Phone: "+84123"})
	if want := "Hi Huy Nguyen (PID-1, h@x.com, +84123) <b>"; err != nil || got != want {
		t.Errorf("Render() = %q, %v; want %q", got, err, want)
	}
}

func TestAllows(t *testing.T) {
	s, err := listener.Normalize(listener.Settings{Name: "x", AllowedCIDRs: []string{"203.0.113.0/24", "2001:db8::1"}})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"203.0.113.9": true, "::ffff:203.0.113.9": true, "203.0.114.1": false,
		"2001:db8::1": true, "2001:db8::2": false} {
		if got := s.Allows(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", addr, got, want)
		}
	}
	if !(listener.Settings{}).Allows(netip.MustParseAddr("1.2.3.4")) {
		t.Errorf("no allow-list refuses an address")
	}
	if got := (listener.Settings{}).Limit(); got != listener.DefaultRateLimit {
		t.Errorf("Limit() = %d, want %d", got, listener.DefaultRateLimit)
	}
}

func TestListener_Commands(t *testing.T) {
	renamed := settings
	renamed.Name = "Shop"
	deleted := listener.ListenerDeleted{Change: now}
	tests := []scenario{
		{"update", []domain.Event{created}, func(l *listener.Listener) error { return l.Update(renamed, admin, api, noon) },
			[]domain.Event{listener.ListenerUpdated{Change: now, Settings: renamed}}, nil},
		{"same settings", []domain.Event{created}, func(l *listener.Listener) error { return l.Update(settings, admin, api, noon) }, nil, nil},
		{"bad update", []domain.Event{created}, func(l *listener.Listener) error {
			return l.Update(listener.Settings{}, admin, api, noon)
		}, nil, listener.ErrInvalidField.At("name")},
		{"rotate", []domain.Event{created}, func(l *listener.Listener) error { return l.Rotate(admin, api, noon) },
			[]domain.Event{listener.ListenerRotated{Change: now, Generation: 1}}, nil},
		{"rotate again", []domain.Event{created, listener.ListenerRotated{Change: now, Generation: 1}},
			func(l *listener.Listener) error { return l.Rotate(admin, api, noon) },
			[]domain.Event{listener.ListenerRotated{Change: now, Generation: 2}}, nil},
		{"delete", []domain.Event{created}, func(l *listener.Listener) error { return l.Delete(admin, api, noon) },
			[]domain.Event{deleted}, nil},
		{"update deleted", []domain.Event{created, deleted}, func(l *listener.Listener) error { return l.Update(renamed, admin, api, noon) },
			nil, listener.ErrNotFound},
		{"rotate deleted", []domain.Event{created, deleted}, func(l *listener.Listener) error { return l.Rotate(admin, api, noon) },
			nil, listener.ErrNotFound},
		{"delete none", nil, func(l *listener.Listener) error { return l.Delete(admin, api, noon) }, nil, listener.ErrNotFound},
	}
	domaintest.Run(t, tests, listener.Codec(), listener.Rehydrate, listener.Evolve)
}

func TestCodec(t *testing.T) {
	domaintest.CodecRoundTrip(t, []domain.Event{created, listener.ListenerUpdated{Change: now, Settings: settings},
		listener.ListenerRotated{Change: now, Generation: 1}, listener.ListenerDeleted{Change: now}}, listener.Codec())
	got := domaintest.RoundTrip(t, []domain.Event{listener.ListenerIndexed{ID: id}}, listener.IndexCodec())
	domaintest.CheckEvents(t, got, []domain.Event{listener.ListenerIndexed{ID: id}})
}
