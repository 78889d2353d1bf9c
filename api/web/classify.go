package web

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Class is what an error means to a client, whatever the surface: the one
// answer web.Classify gives, which each surface only renders in its own
// envelope (problem+json, Fynd's {"message"}, LeadSquared's
// ExceptionType, the support envelope).
type Class struct {
	// Kind is the kind of failure; surfaces that document other statuses
	// than the native API's choose theirs by Kind.
	Kind domain.Kind
	// Status is the native API's HTTP status.
	Status int
	// Code is a stable machine-readable name ("ticket_not_found",
	// "validation_failed", "concurrent_modification").
	Code string
	// Title is a summary that whoever built the error chose (a *Problem
	// titled other than its status text), e.g. the support surface's
	// "Malformed JSON request"; empty otherwise.
	Title string
	// Message is safe to show the client; for Internal errors it is
	// generic and says nothing of the cause.
	Message string
	// Fields lists every input field at fault (validation errors).
	Fields []FieldError
	// Internal marks an unexpected error (a bug): log it, answer it
	// generically.
	Internal bool
	// RetryAfter, when positive, is how long the client should wait before
	// retrying; every surface sends it as Retry-After (SetRetryAfter).
	RetryAfter time.Duration
}

// DatabaseRetryAfter is the Retry-After of a request that could not reach
// the database: short, since the pool reconnects as soon as it answers.
const DatabaseRetryAfter = 2 * time.Second

// StorageRetryAfter is the Retry-After of an upload the file system
// refused: a full or read-only disk takes an operator, not a moment.
const StorageRetryAfter = time.Minute

// CodeStorageUnavailable is the code of an upload that could not be
// written (the data directory full, read-only or not writable), answered
// 503.
const CodeStorageUnavailable = "storage_unavailable"

// CodeDatabaseUnavailable is the code of a request that could not reach
// the database (refused, reset, shut down), answered 503.
const CodeDatabaseUnavailable = "database_unavailable"

// SetRetryAfter sets Retry-After, in whole seconds (at least 1), on h when
// c asks the client to wait; each surface calls it before writing c.
func SetRetryAfter(h http.Header, c Class) {
	if c.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((c.RetryAfter+time.Second-1)/time.Second), 10))
	}
}

// CodeConcurrentModification is the code of a lost race (the store's
// ErrVersionConflict), for surfaces that word it their own way.
const CodeConcurrentModification = "concurrent_modification"

// msgInternal is the message of every unexpected error.
const msgInternal = "internal error; it has been logged"

// Classify says what any error from the lower layers means to a client: its
// kind, native status, a stable code, a message safe to show, the fields
// at fault, and whether it is unexpected. It knows:
//
//   - *Problem (and *BodyError): built at the HTTP layer, answered as it
//     says;
//   - *domain.Error, joined ones too: by Kind (Invalid lists every field);
//     app.ErrUnauthenticated is one, of kind Unauthenticated;
//   - *http.MaxBytesError: TooLarge (app.ErrFileTooLarge is a domain
//     error of that kind);
//   - the store's errors: *eventstore.InvalidError (Invalid, naming the
//     field), ErrVersionConflict, ErrDuplicateEvent and ErrKeyTaken
//     (Conflict);
//   - context.Canceled and context.DeadlineExceeded: Unavailable (503);
//   - a database that cannot be reached (connection refused or reset, the
//     server shutting down or not yet accepting connections: see
//     databaseUnreachable): Unavailable (503, database_unavailable) with
//     RetryAfter, never Internal;
//   - a file system refusing a write (full, read-only, not permitted: see
//     storageUnavailable): Unavailable (503, storage_unavailable) with
//     RetryAfter;
//     Triage answers a client that has gone with nothing at all;
//   - anything else, and domain errors of kind Internal: Internal.
func Classify(err error) Class {
	var (
		p      *Problem
		de     *domain.Error
		inv    *eventstore.InvalidError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &p):
		return problemClass(p)
	case errors.As(err, &tooBig):
		return Class{Kind: domain.TooLarge, Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Message: fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit)}
	case errors.As(err, &de) && de.Kind != domain.Internal:
		return domainClass(err, de.Kind)
	case errors.As(err, &inv):
		// The store's field names ("events[0].data") are not the
		// request's: say what is wrong, not where inside the store.
		msg := "the request cannot be stored: " + storeReason(inv.Reason)
		return Class{Kind: domain.Invalid, Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: msg,
			Fields: []FieldError{{Field: "body", Code: "invalid", Detail: msg}}}
	case errors.Is(err, eventstore.ErrVersionConflict):
		return Class{Kind: domain.Conflict, Status: http.StatusConflict, Code: CodeConcurrentModification, Message: "modified concurrently; retry"}
	case errors.Is(err, eventstore.ErrDuplicateEvent):
		return Class{Kind: domain.Conflict, Status: http.StatusConflict, Code: "duplicate_id", Message: "an id in this request is already used"}
	case errors.Is(err, eventstore.ErrKeyTaken):
		return Class{Kind: domain.Conflict, Status: http.StatusConflict, Code: "key_taken", Message: "a unique value of this request is already taken; retry"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Class{Kind: domain.Unavailable, Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: "the request was interrupted before it finished; retry it"}
	case storageUnavailable(err):
		return Class{Kind: domain.Unavailable, Status: http.StatusServiceUnavailable, Code: CodeStorageUnavailable,
			Message: "the file cannot be stored: the server's storage is full or not writable; retry later", RetryAfter: StorageRetryAfter}
	case databaseUnreachable(err):
		return Class{Kind: domain.Unavailable, Status: http.StatusServiceUnavailable, Code: CodeDatabaseUnavailable,
			Message: "the database cannot be reached right now; retry shortly", RetryAfter: DatabaseRetryAfter}
	}
	return Class{Kind: domain.Internal, Status: http.StatusInternalServerError, Code: "internal", Message: msgInternal, Internal: true}
}

// databaseUnreachable reports whether err says the database could not be
// reached, rather than that it refused the request: a dial or network
// failure, a connection the driver found broken, or a server that is
// shutting down, starting up or out of connections (SQLSTATE class 08,
// 57P01-57P03, 53300). Drivers are recognised by behaviour (SQLState),
// not imported: nothing in api knows which one cmd wires.
func databaseUnreachable(err error) bool {
	var (
		netErr *net.OpError
		coded  interface{ SQLState() string }
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &netErr):
		return true
	case errors.As(err, &coded):
		code := coded.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	return false
}

// storageUnavailable reports whether err is the file system refusing a
// write: full (ENOSPC, EDQUOT), read-only (EROFS) or not permitted
// (EACCES, EPERM), on a path (an *fs.PathError or *os.LinkError).
func storageUnavailable(err error) bool {
	var (
		pathErr *fs.PathError
		linkErr *os.LinkError
	)
	if !errors.As(err, &pathErr) && !errors.As(err, &linkErr) {
		return false
	}
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EACCES, syscall.EPERM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// storeReason is the part of a store's refusal a client may read: the
// rule ("contains a NUL character", "1234567 bytes, the limit is …"),
// never an internal id.
func storeReason(reason string) string {
	if strings.Contains(reason, "UUID") || strings.Contains(reason, "repeated") || strings.Contains(reason, "claimed") {
		return "it is not valid"
	}
	return reason
}

// domainClass classifies err, whose first *domain.Error is of kind k: every
// domain error of that kind in err's tree counts (validation joins several).
func domainClass(err error, k domain.Kind) Class {
	var all []*domain.Error
	for _, e := range domain.Errors(err) {
		if e.Kind == k {
			all = append(all, e)
		}
	}
	msgs := make([]string, len(all))
	for i, e := range all {
		msgs[i] = e.Error()
	}
	c := Class{Kind: k, Status: statusOf[k], Code: all[0].Code, Message: strings.Join(msgs, "; ")}
	if k == domain.Invalid {
		c.Code = "validation_failed"
		c.Fields = make([]FieldError, len(all))
		for i, e := range all {
			c.Fields[i] = FieldError{Field: e.Field, Code: e.Code, Detail: e.Error()}
		}
	}
	return c
}

// statusOf maps kinds to the native API's statuses, once.
var statusOf = map[domain.Kind]int{
	domain.Internal:           http.StatusInternalServerError,
	domain.Invalid:            http.StatusUnprocessableEntity,
	domain.NotFound:           http.StatusNotFound,
	domain.Conflict:           http.StatusConflict,
	domain.PreconditionFailed: http.StatusPreconditionFailed,
	domain.Unauthenticated:    http.StatusUnauthorized,
	domain.TooLarge:           http.StatusRequestEntityTooLarge,
	domain.RateLimited:        http.StatusTooManyRequests,
	domain.Unavailable:        http.StatusServiceUnavailable,
	domain.Forbidden:          http.StatusForbidden,
}

// problemClass classifies a problem built at the HTTP layer: it is
// answered as it says, never as unexpected (whoever built a 500 problem
// has logged its cause).
func problemClass(p *Problem) Class {
	c := Class{Kind: kindOfStatus(p.Status), Status: p.Status, Code: p.Code, Message: p.Detail, Fields: p.Errors}
	if p.Title != http.StatusText(p.Status) {
		c.Title = p.Title
	}
	return c
}

// kindOfStatus is the kind of failure an HTTP status stands for: the
// kind statusOf maps to it, else Internal for 5xx and Invalid for 4xx.
func kindOfStatus(status int) domain.Kind {
	if status == http.StatusForbidden {
		return domain.Unauthenticated // the vendor surfaces' refused credentials
	}
	for k, s := range statusOf {
		if s == status {
			return k
		}
	}
	if status >= 500 {
		return domain.Internal
	}
	return domain.Invalid
}

// Triage is the step every surface's error answer starts with. It
// classifies err and decides, once for all surfaces:
//
//   - a request whose client has gone (its context is done) gets no
//     answer at all, and nothing is logged: nobody reads the answer, the
//     error is most likely the cancellation itself, and an answer written
//     anyway (a 499, say) would be stored as the outcome of an idempotent
//     write that the client's retry must still be able to run;
//   - an unexpected error is logged at ERROR, with its cause, here and
//     nowhere else;
//   - an interrupted request whose client is still there (a deadline ran
//     out, the server is stopping) is logged at WARN and answered 503.
//
// answer is false when the client has gone; otherwise the surface renders
// c in its envelope.
func Triage(r *http.Request, log *slog.Logger, err error) (c Class, answer bool) {
	c = Classify(err)
	ctx := r.Context()
	if ctx.Err() != nil {
		return c, false
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	attrs := []any{"method", r.Method, "path", r.URL.Path, "route", r.Pattern, "request_id", RequestID(r), "err", err}
	switch {
	case c.Internal:
		log.ErrorContext(ctx, "request failed", attrs...)
	case c.Kind == domain.Unavailable && c.Code == "unavailable":
		log.WarnContext(ctx, "request interrupted", attrs...)
	case c.Code == CodeDatabaseUnavailable:
		log.WarnContext(ctx, "database unreachable; answered 503", attrs...)
	case c.Code == CodeStorageUnavailable:
		log.ErrorContext(ctx, "storage refused a write; answered 503", attrs...)
	}
	return c, true
}
