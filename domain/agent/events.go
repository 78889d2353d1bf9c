package agent

import "github.com/eventdesk/eventdesk/domain"

// Agent events. Each embeds domain.Change ("by", "source", "at" in JSON).
// Type strings and JSON names are persisted and must never change meaning.
type (
	// AgentCreated added an agent to the tenant, active. Email is
	// normalised (NormalizeEmail) and is the stream's key.
	AgentCreated struct {
		domain.Change
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  Role   `json:"role"`
	}

	// AgentUpdated changed the agent's name or role; an empty member is
	// unchanged.
	AgentUpdated struct {
		domain.Change
		Name string `json:"name,omitempty"`
		Role Role   `json:"role,omitempty"`
	}

	// AgentDeactivated made the agent inactive: it can no longer act (its
	// tokens stop working) but stays in history.
	AgentDeactivated struct{ domain.Change }

	// AgentReactivated made a deactivated agent active again.
	AgentReactivated struct{ domain.Change }
)

// EventType returns "agent.created".
func (AgentCreated) EventType() string { return "agent.created" }

// EventType returns "agent.updated".
func (AgentUpdated) EventType() string { return "agent.updated" }

// EventType returns "agent.deactivated".
func (AgentDeactivated) EventType() string { return "agent.deactivated" }

// EventType returns "agent.reactivated".
func (AgentReactivated) EventType() string { return "agent.reactivated" }
