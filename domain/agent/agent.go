// Package agent holds the Agent aggregate: a member of a tenant's support
// staff, with an e-mail address unique in the tenant, a name, a role and
// whether the agent is active.
//
// The e-mail address is the agent's identity in the tenant: the
// application layer claims it as the stream's event-store key when the
// agent is created (NormalizeEmail gives the key), and such keys are never
// released, so an agent's e-mail address never changes after creation and
// a deactivated agent keeps it. Agents are deactivated, never deleted.
package agent

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of agents; the stream id is the agent's
// id (a lower-case UUID). It is persisted.
const StreamType = "agent"

// MaxNameLength bounds an agent's name, in bytes.
const MaxNameLength = 200

// Role is what an agent may do. Values are persisted.
type Role string

// The roles.
const (
	// Admin manages the tenant's agents, groups and tokens, and sees every
	// record.
	Admin Role = "admin"
	// Member is a plain agent ("agent").
	Member Role = "agent"
)

// Roles returns every Role, in documentation order.
func Roles() []Role { return []Role{Admin, Member} }

// ParseRole returns the Role named s (exactly, lower case) or
// ErrUnknownRole listing the allowed values.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles(), r) {
		return r, nil
	}
	return "", ErrUnknownRole.At("role").Withf("unknown role %q; allowed: admin, agent", s)
}

// NormalizeEmail returns the form of an e-mail address agents are compared
// by: trimmed and lower case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Agent is the agent aggregate. Its methods check a command against the
// agent's state and record events; they never read the clock or do I/O.
// An Agent is not safe for concurrent use: load, decide, append, discard.
type Agent struct {
	id, email, name      string
	role                 Role
	active               bool
	createdAt, updatedAt time.Time
	domain.Root
}

// Rehydrate rebuilds an Agent from its stored history at version. An empty
// history gives an agent that does not exist: every command but New
// returns ErrNotFound.
func Rehydrate(history []domain.Event, version int64) *Agent {
	a := &Agent{Root: domain.LoadedAt(version)}
	for _, e := range history {
		a.apply(e)
	}
	return a
}

// Exists reports whether the agent was ever created.
func (a *Agent) Exists() bool { return a.id != "" }

// ID returns the agent's id.
func (a *Agent) ID() string { return a.id }

// Snapshot is a read-only copy of an agent's state.
type Snapshot struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Exists reports whether s is the snapshot of an agent that was created.
func (s Snapshot) Exists() bool { return s.ID != "" }

// Actor returns the agent as the actor of the changes it makes.
func (s Snapshot) Actor() domain.Actor {
	return domain.Actor{Kind: domain.ActorAgent, ID: s.ID, Email: s.Email, Name: s.Name}
}

// Snapshot returns a copy of the agent's current state, pending events
// included.
func (a *Agent) Snapshot() Snapshot {
	return Snapshot{ID: a.id, Email: a.email, Name: a.name, Role: a.role, Active: a.active,
		CreatedAt: a.createdAt, UpdatedAt: a.updatedAt, Version: a.Current()}
}

// Evolve returns the snapshot s after event e, applying e exactly as the
// aggregate does.
func Evolve(s Snapshot, e domain.Event) Snapshot {
	a := &Agent{id: s.ID, email: s.Email, name: s.Name, role: s.Role, active: s.Active,
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, Root: domain.LoadedAt(s.Version + 1)}
	a.apply(e)
	return a.Snapshot()
}

func (a *Agent) record(e domain.Event) { a.Record(e, a.apply) }

// apply evolves the state by one event. It never fails.
func (a *Agent) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		a.updatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case AgentCreated:
		a.id, a.email, a.name, a.role, a.active, a.createdAt = e.ID, e.Email, e.Name, e.Role, true, e.At
	case AgentUpdated:
		if e.Name != "" {
			a.name = e.Name
		}
		if e.Role != "" {
			a.role = e.Role
		}
	case AgentDeactivated:
		a.active = false
	case AgentReactivated:
		a.active = true
	}
}

// validName checks a name: 1..MaxNameLength bytes of UTF-8 once trimmed.
func validName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxNameLength || !utf8.ValidString(name) {
		return "", ErrInvalidField.At(field).Withf("%s must be 1..%d bytes of UTF-8", field, MaxNameLength)
	}
	return name, nil
}
