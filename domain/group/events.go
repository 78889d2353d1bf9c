package group

import "github.com/eventdesk/eventdesk/domain"

// Group events. Each embeds domain.Change ("by", "source", "at" in JSON).
// Type strings and JSON names are persisted and must never change meaning.
type (
	// GroupCreated created a group named Name with Members (agent ids).
	GroupCreated struct {
		domain.Change
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Members []string `json:"members"`
	}

	// GroupRenamed gave the group a new name.
	GroupRenamed struct {
		domain.Change
		Name string `json:"name"`
	}

	// MembersAdded added agents to the group.
	MembersAdded struct {
		domain.Change
		Agents []string `json:"agents"`
	}

	// MembersRemoved removed agents from the group.
	MembersRemoved struct {
		domain.Change
		Agents []string `json:"agents"`
	}
)

// EventType returns "group.created".
func (GroupCreated) EventType() string { return "group.created" }

// EventType returns "group.renamed".
func (GroupRenamed) EventType() string { return "group.renamed" }

// EventType returns "group.members_added".
func (MembersAdded) EventType() string { return "group.members_added" }

// EventType returns "group.members_removed".
func (MembersRemoved) EventType() string { return "group.members_removed" }
