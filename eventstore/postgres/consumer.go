package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
)

// ConsumeOptions tune Consume.
type ConsumeOptions = eventstore.ConsumeOptions

var _ eventstore.Consumer = (*Store)(nil)

// errCheckpointMoved: another instance of the same consumer advanced the
// checkpoint; resume from where it got to.
var errCheckpointMoved = errors.New("checkpoint moved by another instance")

// Consume runs the durable consumer name until ctx is done: it resumes
// after the consumer's checkpoint, hands each batch to h inside a
// transaction and stores the new checkpoint in that same transaction, so
// every event is applied exactly once across crashes and restarts. Several
// processes may run the same consumer: the checkpoint row is locked for the
// batch and a batch someone else already applied is dropped.
func (s *Store) Consume(ctx context.Context, name string, opt ConsumeOptions, h eventstore.BatchHandler) error {
	if name == "" {
		return &eventstore.InvalidError{Field: "consumer name", Reason: "empty"}
	}
	for {
		from, err := s.Checkpoint(ctx, name)
		if err == nil {
			q := opt.Query
			q.After = from
			err = eventstore.Follow(ctx, s, q, eventstore.FollowOptions{Notifier: s, Poll: opt.Poll, Linger: opt.Linger, OnError: opt.OnError,
				ReadAhead: opt.ReadAhead, Budget: opt.Budget},
				func(ctx context.Context, evs []eventstore.Event) error {
					return s.applyBatch(ctx, name, from, evs, h, &from)
				})
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, errCheckpointMoved):
			continue
		case opt.OnError == nil:
			return err
		}
		opt.OnError(err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(opt.Poll, 100*time.Millisecond)):
		}
	}
}

func (s *Store) applyBatch(ctx context.Context, name string, from eventstore.Position, evs []eventstore.Event,
	h eventstore.BatchHandler, next *eventstore.Position) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("consumer %s: begin: %w", name, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	cur, err := s.LockCheckpoint(ctx, tx, name)
	if err != nil {
		return err
	}
	if cur != from {
		return errCheckpointMoved
	}
	if err := h(ctx, tx, evs); err != nil {
		return fmt.Errorf("consumer %s: batch after %s: %w", name, from, err)
	}
	last := evs[len(evs)-1].Position
	if err := s.SaveCheckpoint(ctx, tx, name, last); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("consumer %s: commit: %w", name, err)
	}
	// The batch's transaction held back every event appended after it took
	// its id (the fence); those may be readable only now, and their own
	// wake-ups have come and gone: wake the followers (coalesced, as after
	// an append), or they would see them only at their next poll.
	s.committed()
	*next = last
	return nil
}

// LockCheckpoint implements eventstore.Consumer with a transaction-level
// advisory lock on the consumer's name, then a plain read of its row
// (which, under READ COMMITTED, sees the last committed checkpoint).
//
// Not SELECT … FOR UPDATE: a row lock takes a transaction id at once, and
// every event appended after that id is held back from every reader of
// the log (the fence) until the batch commits — the whole batch, reads
// and computation included. An advisory lock takes none: the batch's
// transaction gets its id at its first write, so it holds the log back
// only while it writes.
func (s *Store) LockCheckpoint(ctx context.Context, tx *sql.Tx, name string) (eventstore.Position, error) {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('eventdesk checkpoint ' || $1, 0))`, name); err != nil {
		return eventstore.Position{}, fmt.Errorf("checkpoint %s: lock: %w", name, err)
	}
	return scanCheckpoint(tx.QueryRowContext(ctx, `SELECT tx_id::text, position FROM checkpoints WHERE name = $1`, name), name)
}

func scanCheckpoint(row *sql.Row, name string) (eventstore.Position, error) {
	var tx string
	var p eventstore.Position
	err := row.Scan(&tx, &p.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	if p.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
		return eventstore.Position{}, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	return p, nil
}

// Checkpoint implements eventstore.Consumer.
func (s *Store) Checkpoint(ctx context.Context, name string) (eventstore.Position, error) {
	return scanCheckpoint(s.db.QueryRowContext(ctx, `SELECT tx_id::text, position FROM checkpoints WHERE name = $1`, name), name)
}

// SaveCheckpoint implements eventstore.Consumer: it stores consumer name's
// checkpoint inside tx, the transaction that holds the consumer's writes.
func (s *Store) SaveCheckpoint(ctx context.Context, tx *sql.Tx, name string, p eventstore.Position) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (name, tx_id, position, updated_at)
		VALUES ($1, $2::text::xid8, $3, now())
		ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()`,
		name, strconv.FormatUint(p.TxID, 10), p.Seq)
	if err != nil {
		return fmt.Errorf("save checkpoint %s at %s: %w", name, p, err)
	}
	return nil
}
