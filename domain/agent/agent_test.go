package agent_test

import (
	"errors"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/domaintest"
)

const id = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	noon  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	admin = domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}
	api   = domain.SourceAPI

	atCreation = domain.Change{By: admin, Source: api, At: t0}
	now        = domain.Change{By: admin, Source: api, At: noon}

	created     = agent.AgentCreated{Change: atCreation, ID: id, Email: "ana@example.com", Name: "Ana", Role: agent.Member}
	deactivated = agent.AgentDeactivated{Change: atCreation}
)

func ptr[T any](v T) *T { return &v }

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		c       agent.CreateAgent
		then    []domain.Event
		wantErr []error
	}{
		{"e-mail normalised, role defaults to agent",
			agent.CreateAgent{ID: id, Email: "  Ana@Example.COM ", Name: " Ana "},
			[]domain.Event{agent.AgentCreated{Change: now, ID: id, Email: "ana@example.com", Name: "Ana", Role: agent.Member}}, nil},
		{"admin", agent.CreateAgent{ID: id, Email: "bo@example.com", Name: "Bo", Role: agent.Admin},
			[]domain.Event{agent.AgentCreated{Change: now, ID: id, Email: "bo@example.com", Name: "Bo", Role: agent.Admin}}, nil},
		{"every field bad", agent.CreateAgent{ID: "x", Email: "nope", Name: " ", Role: "boss"}, nil,
			[]error{agent.ErrInvalidField.At("id"), agent.ErrInvalidField.At("email"), agent.ErrInvalidField.At("name"), agent.ErrUnknownRole.At("role")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.By, tt.c.Source = admin, api
			a, err := agent.New(tt.c, noon)
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("New() = %v, want %v among its errors", err, want)
				}
			}
			if tt.wantErr != nil {
				if a != nil {
					t.Errorf("New() returned an agent with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v, want nil", err)
			}
			domaintest.CheckEvents(t, a.Pending(), tt.then)
			domaintest.CheckReplay(t, a.Pending(), a.Snapshot(), agent.Codec(), agent.Rehydrate, agent.Evolve)
		})
	}
}

func TestUnknownRoleListsAllowed(t *testing.T) {
	_, err := agent.ParseRole("boss")
	if err == nil || err.Error() != `unknown role "boss"; allowed: admin, agent` {
		t.Errorf("ParseRole(boss) = %v, want the allowed values listed", err)
	}
}

func TestAgent_Update(t *testing.T) {
	tests := []struct {
		name    string
		given   []domain.Event
		when    agent.UpdateAgent
		then    []domain.Event
		wantErr error
	}{
		{"rename", []domain.Event{created}, agent.UpdateAgent{Name: ptr("Ana B")},
			[]domain.Event{agent.AgentUpdated{Change: now, Name: "Ana B"}}, nil},
		{"promote", []domain.Event{created}, agent.UpdateAgent{Role: ptr(agent.Admin)},
			[]domain.Event{agent.AgentUpdated{Change: now, Role: agent.Admin}}, nil},
		{"unchanged records nothing", []domain.Event{created}, agent.UpdateAgent{Name: ptr("Ana"), Role: ptr(agent.Member), Active: ptr(true)}, nil, nil},
		{"deactivate", []domain.Event{created}, agent.UpdateAgent{Active: ptr(false)},
			[]domain.Event{agent.AgentDeactivated{Change: now}}, nil},
		{"reactivate and rename", []domain.Event{created, deactivated}, agent.UpdateAgent{Name: ptr("Ana B"), Active: ptr(true)},
			[]domain.Event{agent.AgentUpdated{Change: now, Name: "Ana B"}, agent.AgentReactivated{Change: now}}, nil},
		{"bad role", []domain.Event{created}, agent.UpdateAgent{Role: ptr(agent.Role("boss"))}, nil, agent.ErrUnknownRole},
		{"empty name", []domain.Event{created}, agent.UpdateAgent{Name: ptr("")}, nil, agent.ErrInvalidField.At("name")},
		{"no agent", nil, agent.UpdateAgent{Name: ptr("X")}, nil, agent.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := agent.Rehydrate(tt.given, int64(len(tt.given)))
			tt.when.By, tt.when.Source = admin, api
			err := a.Update(tt.when, noon)
			domaintest.CheckErr(t, err, tt.wantErr)
			domaintest.CheckEvents(t, a.Pending(), tt.then)
			domaintest.CheckReplay(t, append(append([]domain.Event{}, tt.given...), a.Pending()...), a.Snapshot(), agent.Codec(), agent.Rehydrate, agent.Evolve)
		})
	}
}

func TestAgent_DeactivateReactivate(t *testing.T) {
	a := agent.Rehydrate([]domain.Event{created}, 1)
	if err := a.Deactivate(admin, api, noon); err != nil || a.Snapshot().Active {
		t.Fatalf("Deactivate() = %v, active %t; want nil, false", err, a.Snapshot().Active)
	}
	if err := a.Reactivate(admin, api, noon); err != nil || !a.Snapshot().Active {
		t.Fatalf("Reactivate() = %v, active %t; want nil, true", err, a.Snapshot().Active)
	}
	if got := len(a.Pending()); got != 2 {
		t.Errorf("got %d pending events, want 2", got)
	}
}

func TestCodec_RoundTrip(t *testing.T) {
	domaintest.CodecRoundTrip(t, []domain.Event{created,
		agent.AgentUpdated{Change: now, Name: "Ana B", Role: agent.Admin}, deactivated, agent.AgentReactivated{Change: now}}, agent.Codec())
}

// TestCodec_Persisted pins the stored form of the events.
func TestCodec_Persisted(t *testing.T) {
	change := `"by":{"id":"api_key","kind":"integration"},"source":"api","at":"2025-03-01T09:00:00Z"`
	tests := []struct {
		e    domain.Event
		want string
	}{
		{created, `{` + change + `,"id":"` + id + `","email":"ana@example.com","name":"Ana","role":"agent"}`},
		{agent.AgentUpdated{Change: atCreation, Role: agent.Admin}, `{` + change + `,"role":"admin"}`},
		{deactivated, `{` + change + `}`},
	}
	for _, tt := range tests {
		b, err := agent.Encode(tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("Encode(%T) =\n%s\nwant\n%s", tt.e, b, tt.want)
		}
	}
}
