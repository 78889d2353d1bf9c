package app

import (
	"context"
	"fmt"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/identity"
	"github.com/eventdesk/eventdesk/eventstore"
)

// reservation is an identity's reservation stream as read: who holds the
// identity and the stream's version, which the append that moves it
// expects.
type reservation struct {
	id      customer.Identity
	holder  string // customer id; "" if free
	version int64
}

func identityStream(tenant string, id customer.Identity) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: identity.StreamType, ID: identity.StreamID(string(id.Kind), id.Value)}
}

// reserve reads the reservation of every identity in ids, in order.
func reserve(ctx context.Context, store eventstore.Store, tenant string, ids []customer.Identity) ([]reservation, error) {
	res, _, err := reserveAlong(ctx, store, tenant, ids, nil)
	return res, err
}

// unreserved is what reserve would read of ids if none was ever reserved:
// each free, its stream unwritten.
func unreserved(ids []customer.Identity) []reservation {
	res := make([]reservation, len(ids))
	for i, id := range ids {
		res[i] = reservation{id: id}
	}
	return res
}

// reserveAlong is reserve that also reads along, in the same round trip,
// and returns what it read.
func reserveAlong(ctx context.Context, store eventstore.Store, tenant string, ids []customer.Identity, along []eventstore.StreamRead) ([]reservation, [][]eventstore.Event, error) {
	reads := make([]eventstore.StreamRead, 0, len(ids)+len(along))
	at := make([]int, len(ids)) // ids[i] is read by reads[at[i]]
	seen := map[eventstore.StreamRef]int{}
	for i, id := range ids {
		st := identityStream(tenant, id)
		k, ok := seen[st]
		if !ok {
			k = len(reads)
			seen[st] = k
			reads = append(reads, eventstore.StreamRead{Stream: st, From: 1})
		}
		at[i] = k
	}
	n := len(reads)
	got, err := readStreams(ctx, store, append(reads, along...))
	if err != nil {
		return nil, nil, fmt.Errorf("read identities: %w", err)
	}
	out := make([]reservation, len(ids))
	for i, id := range ids {
		evs := got[at[i]]
		history := make([]domain.Event, len(evs))
		for k, e := range evs {
			if history[k], err = identity.Codec().Decode(e.Type, e.SchemaVersion, e.Data); err != nil {
				return nil, nil, fmt.Errorf("identity %s: %w", id.Value, err)
			}
		}
		out[i] = reservation{id: id, holder: identity.Holder(history), version: int64(len(evs))}
	}
	return out, got[n:], nil
}

// batch gathers the parts of one atomic multi-stream append. Event ids
// follow Meta.eventID in the order events are added, so a retry of an
// idempotent command appends the very same ids and the store recognises
// it.
type batch struct {
	m     Meta
	parts []eventstore.StreamAppend
	n     int
}

// add appends events to stream, expecting it at expected.
func (b *batch) add(stream eventstore.StreamRef, expected eventstore.ExpectedVersion, events []domain.Event, enc func(domain.Event) ([]byte, error)) error {
	if len(events) == 0 {
		return nil
	}
	data, err := encode(events, b.m, enc)
	if err != nil {
		return err
	}
	for i := range data {
		data[i].ID = b.m.eventID(b.n + i)
	}
	b.n += len(data)
	b.parts = append(b.parts, eventstore.StreamAppend{Stream: stream, Expected: expected, Events: data})
	return nil
}

// claim moves the reserved identity r to customer, expecting its stream
// unchanged since it was read.
func (b *batch) claim(tenant string, r reservation, customerID string) error {
	return b.add(identityStream(tenant, r.id), eventstore.Exact(r.version),
		[]domain.Event{identity.Claimed{Customer: customerID}}, identity.Codec().Encode)
}

// check makes the append land only if stream is at version: a stream
// the command decided on without writing to it.
func (b *batch) check(stream eventstore.StreamRef, version int64) {
	b.parts = append(b.parts, eventstore.StreamAppend{Stream: stream, Expected: eventstore.Exact(version)})
}

// release frees the reserved identity r, which customerID holds.
func (b *batch) release(tenant string, r reservation, customerID string) error {
	return b.add(identityStream(tenant, r.id), eventstore.Exact(r.version),
		[]domain.Event{identity.Released{Customer: customerID}}, identity.Codec().Encode)
}

// append stores the batch, all or nothing.
func (b *batch) append(ctx context.Context, store eventstore.Store) ([]eventstore.AppendResult, error) {
	crashPoint(ctx, StepDecided)
	res, err := store.AppendStreams(ctx, b.parts)
	if err == nil {
		crashPoint(ctx, StepAppended)
	}
	return res, err
}
