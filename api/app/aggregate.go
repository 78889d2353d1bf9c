package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
)

// aggregate is what every domain aggregate offers the application layer.
type aggregate interface {
	Version() int64
	Pending() []domain.Event
}

// kind describes how to store one aggregate type.
type kind[A aggregate] struct {
	encode    func(domain.Event) ([]byte, error)
	decode    func(string, []byte) (domain.Event, error)
	rehydrate func([]domain.Event, int64) A
}

// readStream returns every event of stream, oldest first.
func readStream(ctx context.Context, store eventstore.Store, stream eventstore.StreamRef) ([]eventstore.Event, error) {
	var all []eventstore.Event
	for from := int64(1); ; {
		evs, err := store.ReadStream(ctx, stream, from, 1000)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		all = append(all, evs...)
		if len(evs) < 1000 {
			return all, nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}

// load rebuilds the aggregate in stream (version 0 if it has no events) and
// returns it with the position of its last event.
func (k kind[A]) load(ctx context.Context, store eventstore.Store, stream eventstore.StreamRef) (A, eventstore.Position, error) {
	var zero A
	evs, err := readStream(ctx, store, stream)
	if err != nil {
		return zero, eventstore.Position{}, err
	}
	history := make([]domain.Event, len(evs))
	for i, e := range evs {
		if history[i], err = k.decode(e.Type, e.Data); err != nil {
			return zero, eventstore.Position{}, err
		}
	}
	var last eventstore.Position
	if len(evs) > 0 {
		last = evs[len(evs)-1].Position
	}
	return k.rehydrate(history, int64(len(history))), last, nil
}

// run loads the aggregate, lets decide record events and appends them at
// the loaded version. A lost race re-decides on fresh state, unless the
// caller pinned ifVersion (If-Match), which then fails with
// PreconditionFailed. A decision that records nothing appends nothing and
// returns the position of the stream's last event.
func (k kind[A]) run(ctx context.Context, store eventstore.Store, stream eventstore.StreamRef, ifVersion *int64,
	now func() time.Time, m Meta, decide func(a A, at time.Time) error) (A, eventstore.Position, error) {
	var zero A
	for attempt := 0; ; attempt++ {
		a, last, err := k.load(ctx, store, stream)
		if err != nil {
			return zero, last, err
		}
		if ifVersion != nil && a.Version() != *ifVersion {
			return zero, last, domain.PreconditionFailedf("%s is at version %d, If-Match says %d", stream.Type, a.Version(), *ifVersion)
		}
		if err := decide(a, now()); err != nil {
			return zero, last, err
		}
		pending := a.Pending()
		if len(pending) == 0 {
			return a, last, nil
		}
		data, err := encode(pending, m, k.encode)
		if err != nil {
			return zero, last, err
		}
		res, err := store.Append(ctx, stream, eventstore.Exact(a.Version()), data)
		if errors.Is(err, eventstore.ErrVersionConflict) {
			if ifVersion != nil {
				return zero, last, domain.PreconditionFailedf("%s was changed concurrently; reload it", stream.Type)
			}
			if attempt < maxRetries {
				continue
			}
		}
		if err != nil {
			return zero, last, fmt.Errorf("%s: %w", stream, err)
		}
		return a, res.Last(), nil
	}
}

func encode(evs []domain.Event, m Meta, enc func(domain.Event) ([]byte, error)) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		b, err := enc(e)
		if err != nil {
			return nil, err
		}
		out[i] = eventstore.EventData{ID: uuid.NewString(), Type: e.EventType(), Data: b, Metadata: m.metadata()}
	}
	return out, nil
}
