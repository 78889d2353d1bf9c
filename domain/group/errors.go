package group

import "github.com/eventdesk/eventdesk/domain"

// Errors of group commands. Match them with errors.Is.
var (
	// ErrNotFound: no such group in the tenant.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "group_not_found", Msg: "group not found"}
	// ErrNameTaken: another group of the tenant has (or had) the name.
	ErrNameTaken = &domain.Error{Kind: domain.Conflict, Code: "group_name_taken", Msg: "a group with this name exists or existed"}
	// ErrAlreadyExists: the group id is taken.
	ErrAlreadyExists = &domain.Error{Kind: domain.Conflict, Code: "group_exists", Msg: "group already exists"}
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
)
