package domain

import "slices"

// Root is what every aggregate has besides its state: the version of its
// stream it was loaded at and the events it recorded since. Aggregates
// embed it, start it with LoadedAt in their Rehydrate, and record every
// event through Record, so that deciding and evolving stay one code path.
type Root struct {
	version int64
	pending []Event
}

// LoadedAt returns the Root of an aggregate loaded at version, with
// nothing recorded yet.
func LoadedAt(version int64) Root { return Root{version: version} }

// Version is the stream version the aggregate was loaded at (0 for a new
// one): the version to expect when appending Pending. After a successful
// append the stream is at Version()+len(Pending()).
func (r *Root) Version() int64 { return r.version }

// Pending returns the events recorded since the aggregate was loaded or
// created, oldest first. The events are values; the slice is a copy.
func (r *Root) Pending() []Event { return slices.Clone(r.pending) }

// Current is the version the aggregate is at with its pending events
// counted: what its snapshots show.
func (r *Root) Current() int64 { return r.version + int64(len(r.pending)) }

// Record evolves the aggregate by e with apply and keeps e as pending.
func (r *Root) Record(e Event, apply func(Event)) {
	apply(e)
	r.pending = append(r.pending, e)
}
