package app

import (
	"context"
	"strconv"

	"github.com/google/uuid"
)

// idempotencyNamespace is the UUID namespace of the ids derived from an
// idempotent request (Meta.Idempotency).
var idempotencyNamespace = uuid.MustParse("2f0a5c5e-8d7b-4c36-9a53-3e1f3b6f0d11")

// eventID is the id of the i-th event a command appends. Without
// Idempotency it is a fresh time-ordered UUID; with it, a name-based UUID
// derived from it and i, the same on every retry of the request, so that
// the event store recognises a retried append as a duplicate of the one
// that landed (eventstore: "re-appending events whose ids are already
// stored returns the original result") and a command can find, in a
// stream, what an earlier run of it appended.
func (m Meta) eventID(i int) string {
	if m.Idempotency == "" {
		return NewID()
	}
	return uuid.NewSHA1(idempotencyNamespace, []byte(m.Idempotency+"/event/"+strconv.Itoa(i))).String()
}

// derivedID is the id of a thing the command creates (a ticket, an
// attachment): with Idempotency, derived from it and name, so a retry
// creates the same thing; otherwise fresh.
func (m Meta) derivedID(name string) string {
	if m.Idempotency == "" {
		return NewID()
	}
	return uuid.NewSHA1(idempotencyNamespace, []byte(m.Idempotency+"/"+name)).String()
}

// Step names a point in a write at which a crash test may stop the
// process (see WithCrashPoints).
type Step string

// The steps of a write the application layer reports.
const (
	// StepDecided: the command decided and its events are encoded (a new
	// ticket has taken its number); nothing is appended yet.
	StepDecided Step = "decided"
	// StepAppended: the append committed; the caller has not been
	// answered.
	StepAppended Step = "appended"
)

type crashKey struct{}

// WithCrashPoints returns ctx carrying a fault-injection hook for crash
// tests: the application layer calls at(step) at each Step of a write, and
// a hook that wants to simulate a crash there never returns normally (it
// panics with http.ErrAbortHandler, say, which ends the request without an
// answer and without any clean-up, as kill -9 would). Production code
// never sets one.
func WithCrashPoints(ctx context.Context, at func(Step)) context.Context {
	return context.WithValue(ctx, crashKey{}, at)
}

// crashPoint calls ctx's fault-injection hook, if any, at step.
func crashPoint(ctx context.Context, step Step) {
	if at, ok := ctx.Value(crashKey{}).(func(Step)); ok && at != nil {
		at(step)
	}
}
