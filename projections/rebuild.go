package projections

import (
	"context"
	"fmt"
	"strings"
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
//
// The shadow tables are filled with only their primary keys and unique
// indexes (the projections' upserts need them); the other indexes (search,
// lists) are built once the bulk of the log is in, just before the swap:
// one sorted build costs a fraction of keeping them up to date row by row.
// Each shadow index is named after its live index and takes that name at
// the swap, so a rebuilt table's indexes are named as the migrations made
// them.
func (r *Runner) Rebuild(ctx context.Context, name string, progress func(Progress)) error {
	p := r.find(name)
	if p == nil {
		return fmt.Errorf("rebuild: no projection named %q", name)
	}
	shadow := Tables{}
	var indexes []shadowIndex
	for _, t := range p.Tables() {
		shadow[t] = t + shadowSuffix
		ix, err := r.createShadow(ctx, t, shadow[t])
		if err != nil {
			return fmt.Errorf("rebuild %s: create shadow of %s: %w", name, t, err)
		}
		indexes = append(indexes, ix...)
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
	for _, ix := range indexes {
		if ix.deferred {
			if _, err := r.db.ExecContext(ctx, ix.create); err != nil {
				return fmt.Errorf("rebuild %s: index %s: %w", name, ix.live, err)
			}
		}
	}
	for _, t := range p.Tables() {
		if _, err := r.db.ExecContext(ctx, `ANALYZE `+pq.QuoteIdentifier(shadow[t])); err != nil {
			return fmt.Errorf("rebuild %s: analyze %s: %w", name, shadow[t], err)
		}
	}
	if err := r.swap(ctx, p, shadow, indexes, q, &done); err != nil {
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
func (r *Runner) swap(ctx context.Context, p Projection, shadow Tables, indexes []shadowIndex, q eventstore.Query, done *int64) error {
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
	for _, ix := range indexes { // the live names are free now
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER INDEX %s RENAME TO %s`,
			pq.QuoteIdentifier(ix.shadow), pq.QuoteIdentifier(ix.live))); err != nil {
			return fmt.Errorf("swap: rename index %s: %w", ix.shadow, err)
		}
	}
	if err := r.consumer.SaveCheckpoint(ctx, tx, p.Name(), q.After); err != nil {
		return err
	}
	return tx.Commit()
}

// shadowIndex is an index of a live table as its shadow gets it.
type shadowIndex struct {
	live, shadow string // the live index's name; the shadow's until the swap
	create       string // the statement that creates it on the shadow
	deferred     bool   // created after the bulk load (not unique)
}

// createShadow (re)creates table shadow like table live, with its columns,
// defaults and checks, its primary key, unique constraints and unique
// indexes, and returns every index of live, the non-unique ones still to
// be created (deferred).
func (r *Runner) createShadow(ctx context.Context, live, shadow string) ([]shadowIndex, error) {
	if _, err := r.db.ExecContext(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS %s; CREATE TABLE %s (LIKE %s INCLUDING ALL EXCLUDING INDEXES)`,
		pq.QuoteIdentifier(shadow), pq.QuoteIdentifier(shadow), pq.QuoteIdentifier(live))); err != nil {
		return nil, err
	}
	// A constraint's index (primary key, unique, exclusion) is made by
	// adding the constraint; any other index by its own definition, whose
	// "USING …" part is kept.
	rows, err := r.db.QueryContext(ctx, `SELECT ic.relname, i.indisunique, coalesce(c.conname, ''),
			coalesce(pg_get_constraintdef(c.oid), ''), pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')
		WHERE i.indrelid = $1::regclass
		ORDER BY ic.relname`, pq.QuoteIdentifier(live))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []shadowIndex
	for rows.Next() {
		var name, con, conDef, def string
		var unique bool
		if err := rows.Scan(&name, &unique, &con, &conDef, &def); err != nil {
			return nil, err
		}
		ix := shadowIndex{live: name, shadow: shadowName(name), deferred: !unique}
		switch using := strings.Index(def, " USING "); {
		case con != "":
			ix.create = fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, pq.QuoteIdentifier(shadow), pq.QuoteIdentifier(ix.shadow), conDef)
		case using >= 0:
			kind := "INDEX"
			if unique {
				kind = "UNIQUE INDEX"
			}
			ix.create = fmt.Sprintf(`CREATE %s %s ON %s%s`, kind, pq.QuoteIdentifier(ix.shadow), pq.QuoteIdentifier(shadow), def[using:])
		default:
			return nil, fmt.Errorf("index %s: unexpected definition %q", name, def)
		}
		out = append(out, ix)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ix := range out {
		if !ix.deferred {
			if _, err := r.db.ExecContext(ctx, ix.create); err != nil {
				return nil, fmt.Errorf("index %s: %w", ix.live, err)
			}
		}
	}
	return out, nil
}

// shadowName is the name of live index name's shadow copy: name with the
// shadow suffix, shortened to fit PostgreSQL's 63-byte names.
func shadowName(name string) string {
	const maxName = 63
	if len(name)+len(shadowSuffix) > maxName {
		name = name[:maxName-len(shadowSuffix)]
	}
	return name + shadowSuffix
}
