package listener

import "github.com/eventdesk/eventdesk/domain"

// Errors of listener commands. Match them with errors.Is.
var (
	// ErrNotFound: no such listener in the tenant (or it was deleted).
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "listener_not_found", Msg: "listener not found"}
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
	// ErrAlreadyExists: the listener id is taken.
	ErrAlreadyExists = &domain.Error{Kind: domain.Conflict, Code: "listener_exists", Msg: "listener already exists"}
)
