package domain

import (
	"errors"
	"fmt"
)

// Kind classifies an Error so that entry points can answer it without
// looking at its text: the api package maps each Kind to an HTTP status once.
type Kind uint8

// The kinds of business failure.
const (
	// Internal is a bug or an infrastructure failure; its message is not
	// meant for clients.
	Internal Kind = iota
	// Invalid input: the command can never succeed as given.
	Invalid
	// NotFound: the thing the command is about does not exist (or belongs
	// to another tenant, which callers must not reveal).
	NotFound
	// Conflict: the command is well formed but the current state refuses it
	// (closing a closed ticket, a duplicate id).
	Conflict
	// PreconditionFailed: a precondition stated by the caller, such as an
	// expected version, does not hold.
	PreconditionFailed
	// Unauthenticated: the caller's credentials are missing or unknown.
	Unauthenticated
	// TooLarge: the input exceeds a size limit (a body, a file).
	TooLarge
	// RateLimited: the caller sent too many requests; it may retry later.
	RateLimited
	// Unavailable: the engine cannot serve the request now (shutting down,
	// a dependency down); it may be retried.
	Unavailable
	// Forbidden: the caller is authenticated but may not do this (an
	// agent's token managing agents without the admin role).
	Forbidden
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "precondition_failed",
	"unauthenticated", "too_large", "rate_limited", "unavailable", "forbidden"}

// String returns the snake_case name of k, e.g. "not_found".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error is a business failure whose Msg is safe to show clients.
//
// Code is a stable machine-readable name ("unknown_status") that APIs may
// expose; Field, when set, names the input field at fault ("title",
// "tags[2]"). Packages export sentinels built from Error; a returned error
// usually is a copy of a sentinel with a more precise Msg or Field (see
// Withf and At), and errors.Is still matches it, because Is compares codes.
// Sentinels leave Field empty so that they match a copy at any field.
type Error struct {
	Kind  Kind
	Code  string
	Msg   string
	Field string
}

// Error returns Msg, or Code when Msg is empty.
func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Code
	}
	return e.Msg
}

// Is reports whether target is an *Error with the same non-empty Code and,
// when target names a Field, the same Field. It lets
// errors.Is(err, ticket.ErrUnknownStatus) match a copy made with Withf, and
// errors.Is(err, ticket.ErrInvalidField.At("channel")) match only that field.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Code == "" || t.Code != e.Code {
		return false
	}
	return t.Field == "" || t.Field == e.Field
}

// Withf returns a copy of e whose Msg is formatted from format and args.
func (e *Error) Withf(format string, args ...any) *Error {
	c := *e
	c.Msg = fmt.Sprintf(format, args...)
	return &c
}

// At returns a copy of e that names field as the input at fault.
func (e *Error) At(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// Invalidf returns an Invalid error with code "invalid" about field (which
// may be empty).
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: "invalid", Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error with code "not_found".
func NotFoundf(format string, args ...any) *Error {
	return &Error{Kind: NotFound, Code: "not_found", Msg: fmt.Sprintf(format, args...)}
}

// Conflictf returns a Conflict error with code "conflict".
func Conflictf(format string, args ...any) *Error {
	return &Error{Kind: Conflict, Code: "conflict", Msg: fmt.Sprintf(format, args...)}
}

// PreconditionFailedf returns a PreconditionFailed error with code
// "precondition_failed".
func PreconditionFailedf(format string, args ...any) *Error {
	return &Error{Kind: PreconditionFailed, Code: "precondition_failed", Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the Kind of the first *Error in err's tree, or Internal
// when there is none (including for a nil err).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Errors returns every *Error in err's tree, depth first. Validation that
// finds several bad fields joins them with errors.Join; Errors lets an API
// list each one.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *Error:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// Join returns nil for no errors, the error itself for one, and
// errors.Join(errs...) otherwise, so that a single failure stays a plain
// *Error.
func Join(errs ...error) error {
	var nonNil []error
	for _, e := range errs {
		if e != nil {
			nonNil = append(nonNil, e)
		}
	}
	switch len(nonNil) {
	case 0:
		return nil
	case 1:
		return nonNil[0]
	}
	return errors.Join(nonNil...)
}
