package customer

import "github.com/eventdesk/eventdesk/domain"

// Errors of customer commands. Match them with errors.Is.
var (
	// ErrNotFound: no such customer in the tenant.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "customer_not_found", Msg: "customer not found"}
	// ErrInvalidField: malformed input; Field names it.
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
	// ErrMerged: the customer is merged into another and frozen; commands
	// go to the survivor.
	ErrMerged = &domain.Error{Kind: domain.Conflict, Code: "customer_merged", Msg: "customer is merged into another"}
	// ErrNotLead: only a lead converts to a contact.
	ErrNotLead = &domain.Error{Kind: domain.Conflict, Code: "not_a_lead", Msg: "customer is not a lead"}
	// ErrNotMerged: the customer is not merged into the one named.
	ErrNotMerged = &domain.Error{Kind: domain.Conflict, Code: "not_merged", Msg: "customer is not merged into this one"}
	// ErrKindMismatch: only customers of one kind merge.
	ErrKindMismatch = &domain.Error{Kind: domain.Invalid, Code: "kind_mismatch", Msg: "customers of different kinds cannot merge"}
	// ErrAlreadyExists: the customer id is taken.
	ErrAlreadyExists = &domain.Error{Kind: domain.Conflict, Code: "customer_exists", Msg: "customer already exists"}
)
