package agent

import "github.com/eventdesk/eventdesk/domain"

// Errors of agent commands. Match them with errors.Is.
var (
	// ErrNotFound: no such agent in the tenant.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "agent_not_found", Msg: "agent not found"}
	// ErrEmailTaken: another agent of the tenant has (or had) the e-mail
	// address.
	ErrEmailTaken = &domain.Error{Kind: domain.Conflict, Code: "agent_email_taken", Msg: "an agent with this e-mail address already exists"}
	// ErrAlreadyExists: the agent id is taken.
	ErrAlreadyExists = &domain.Error{Kind: domain.Conflict, Code: "agent_exists", Msg: "agent already exists"}
	// ErrInactive: the agent is deactivated (it gets no tokens).
	ErrInactive = &domain.Error{Kind: domain.Conflict, Code: "agent_inactive", Msg: "agent is deactivated"}
	// ErrUnknownRole: a role that is not one of Roles.
	ErrUnknownRole = &domain.Error{Kind: domain.Invalid, Code: "unknown_role", Msg: "unknown role; allowed: admin, agent"}
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
)
