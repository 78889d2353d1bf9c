package outbox

import "github.com/eventdesk/eventdesk/domain"

// Errors of outbox commands. Match them with errors.Is.
var (
	// ErrNotFound: no such message in the tenant.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "message_not_found", Msg: "message not found"}
	// ErrAlreadyExists: the message id is taken.
	ErrAlreadyExists = &domain.Error{Kind: domain.Conflict, Code: "message_exists", Msg: "message already exists"}
	// ErrNotRetryable: only a failed or dead-lettered message can be retried.
	ErrNotRetryable = &domain.Error{Kind: domain.Conflict, Code: "message_not_retryable", Msg: "only a failed or dead-lettered message can be retried"}
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
)
