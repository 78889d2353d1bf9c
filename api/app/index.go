package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
)

// indexed says how a kind of aggregate is listed: a per-tenant index stream
// that gets one entry per created aggregate (agent.AgentIndexed,
// group.GroupIndexed), written in the creation's own atomic append.
type indexed struct {
	stream func(tenant string) eventstore.StreamRef
	entry  func(id string) domain.Event
	id     func(domain.Event) (string, bool)
	codec  *domain.Codec
}

// createIndexed appends the pending events of a, a new aggregate, to stream —
// the first claiming key — and an entry for id to the tenant's index, and
// the appends in more (links on other streams), all or nothing. A retry of the same idempotent request answers what its
// first attempt stored. A taken key fails with eventstore.ErrKeyTaken and
// an existing stream with eventstore.ErrVersionConflict, for the caller to
// translate.
func createIndexed[A aggregate](ctx context.Context, r *repository[A], ix indexed, stream eventstore.StreamRef, a A, key string, m Meta,
	more ...eventstore.StreamAppend) (outcome[A], error) {
	landed := func() (outcome[A], bool, error) {
		if m.Idempotency == "" {
			return outcome[A]{}, false, nil
		}
		h, err := r.read(ctx, stream)
		if err != nil {
			return outcome[A]{}, false, err
		}
		if at, ok := h.landed(m); ok {
			return r.replay(h, at), true, nil
		}
		return outcome[A]{}, false, nil
	}
	if o, ok, err := landed(); ok || err != nil {
		return o, err
	}
	pending := a.Pending()
	data, err := encode(pending, m, r.encode)
	if err != nil {
		return outcome[A]{}, err
	}
	data[0].Key = key
	entry, err := encode([]domain.Event{ix.entry(stream.ID)}, m, ix.codec.Encode)
	if err != nil {
		return outcome[A]{}, fmt.Errorf("index %s: %w", stream, err)
	}
	entry[0].ID = m.eventID(len(data))
	crashPoint(ctx, StepDecided)
	res, err := r.store.AppendStreams(ctx, append([]eventstore.StreamAppend{
		{Stream: stream, Expected: eventstore.NoStream, Events: data},
		{Stream: ix.stream(stream.TenantID), Expected: eventstore.Any, Events: entry},
	}, more...))
	if err == nil && res[0].Duplicate || errors.Is(err, eventstore.ErrVersionConflict) || errors.Is(err, eventstore.ErrKeyTaken) {
		// Perhaps an earlier attempt of this very request created it.
		if o, ok, lerr := landed(); ok || lerr != nil {
			return o, lerr
		}
	}
	if err != nil {
		return outcome[A]{}, fmt.Errorf("create %s: %w", stream, err)
	}
	r.added(stream, history{}, pending, data, res[0])
	crashPoint(ctx, StepAppended)
	return outcome[A]{agg: a, events: pending, pos: res[0].Last()}, nil
}

// list returns the ids in the tenant's index, oldest first.
func (ix indexed) list(ctx context.Context, store eventstore.Store, tenant string) ([]string, error) {
	evs, err := readStream(ctx, store, ix.stream(tenant))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(evs))
	for _, e := range evs {
		de, err := ix.codec.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return nil, fmt.Errorf("index event %s: %w", e.ID, err)
		}
		if id, ok := ix.id(de); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// renameKey says what a rename of stream id (of streamType) to a name
// whose key is key claims: key, the first time the stream takes that name;
// nothing ("") if the stream claimed it before (a claim is made once).
// taken reports that another stream of the tenant holds the key, which
// the caller answers as its "name taken" conflict.
func renameKey(ctx context.Context, store eventstore.Store, tenant, streamType, id, key string) (claim string, taken bool, err error) {
	owner, ok, err := store.Lookup(ctx, tenant, streamType, key)
	switch {
	case err != nil:
		return "", false, err
	case ok && owner != id:
		return "", true, nil
	case ok:
		return "", false, nil
	}
	return key, false, nil
}
