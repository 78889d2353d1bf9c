package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Progress is reported while a rebuild runs.
type Progress struct {
	Done, Total int64
	Elapsed     time.Duration
}

// shadowSuffix marks the tables a rebuild fills.
const shadowSuffix = "__rebuild"

// Rebuild replays the whole log into shadow copies of projection name's
// tables while the live tables keep serving (and the live projection keeps
// applying new events), then, in one transaction that holds the live
// checkpoint's lock, applies the last events, swaps the shadow tables in
// and moves the checkpoint. Readers see either the old or the new tables.
// progress, if set, is called after every batch.
func (r *Runner) Rebuild(ctx context.Context, name string, progress func(Progress)) error {
	p := r.find(name)
	if p == nil {
		return fmt.Errorf("rebuild: no projection named %q", name)
	}
	shadow := Tables{}
	for _, t := range p.Tables() {
		shadow[t] = t + shadowSuffix
		_, err := r.db.ExecContext(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS %s; CREATE TABLE %s (LIKE %s INCLUDING ALL)`,
			pq.QuoteIdentifier(shadow[t]), pq.QuoteIdentifier(shadow[t]), pq.QuoteIdentifier(t)))
		if err != nil {
			return fmt.Errorf("rebuild %s: create shadow of %s: %w", name, t, err)
		}
	}
	q := p.Query()
	q.Limit = 2000
	total, err := r.log.Count(ctx, q, 1<<62)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	start := time.Now()
	var done int64
	report := func() {
		if progress != nil {
			progress(Progress{Done: done, Total: max(total, done), Elapsed: time.Since(start)})
		}
	}
	report()
	// Catch up outside the swap transaction, one transaction per batch.
	for {
		evs, err := r.log.ReadAll(ctx, q)
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		if len(evs) == 0 {
			break
		}
		if err := r.applyTx(ctx, p, shadow, evs); err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		q.After = evs[len(evs)-1].Position
		done += int64(len(evs))
		report()
	}
	if err := r.swap(ctx, p, shadow, q, &done); err != nil {
		return fmt.Errorf("rebuild %s: swap: %w", name, err)
	}
	report()
	return nil
}

func (r *Runner) find(name string) Projection {
	for _, p := range r.projs {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

func (r *Runner) applyTx(ctx context.Context, p Projection, t Tables, evs []eventstore.Event) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := apply(ctx, tx, p, t, evs); err != nil {
		return err
	}
	return tx.Commit()
}

// swap finishes the rebuild atomically: with the live checkpoint locked no
// live batch can commit, so the shadow tables catch up with the log and
// replace the live ones in the same transaction.
func (r *Runner) swap(ctx context.Context, p Projection, shadow Tables, q eventstore.Query, done *int64) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := r.consumer.LockCheckpoint(ctx, tx, p.Name()); err != nil {
		return err
	}
	for {
		evs, err := r.log.ReadAll(ctx, q)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		if err := apply(ctx, tx, p, shadow, evs); err != nil {
			return err
		}
		q.After = evs[len(evs)-1].Position
		*done += int64(len(evs))
	}
	for _, t := range p.Tables() {
		old := t + "__old"
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s RENAME TO %s; ALTER TABLE %s RENAME TO %s; DROP TABLE %s`,
			pq.QuoteIdentifier(t), pq.QuoteIdentifier(old), pq.QuoteIdentifier(shadow[t]), pq.QuoteIdentifier(t), pq.QuoteIdentifier(old)))
		if err != nil {
			return fmt.Errorf("swap %s: %w", t, err)
		}
	}
	if err := r.consumer.SaveCheckpoint(ctx, tx, p.Name(), q.After); err != nil {
		return err
	}
	return tx.Commit()
}
