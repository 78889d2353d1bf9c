// Package projections builds Eventdesk's read models from the event log and
// answers queries on them. Each projection is named and versioned (its name,
// e.g. "tickets.v1", is the persisted checkpoint: renaming it replays
// everything); the Runner applies events to its tables in the same
// transaction as its checkpoint, in batches while catching up and as they
// come when live (a live batch kept to a time budget, since its
// transaction holds back every live reader of the log); Rebuild replays the whole log into shadow tables while the
// live ones keep serving, then swaps them in atomically.
//
// The projections: tickets.v1 (ticket list, history and the vendor
// surfaces' queries), contacts.v1 (customer list searchable by every
// identity, customer timelines across merges), deals.v1 (deal list and
// pipeline boards with exact sums per currency) and outbox.v1 (the e-mail
// and SMS messages and their delivery states).
package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Projection turns events into rows of its own tables.
type Projection interface {
	// Name is the projection's persisted name, e.g. "tickets.v1".
	Name() string
	// Tables lists the tables the projection owns. They are created by
	// migrations; Rebuild makes shadow copies of them.
	Tables() []string
	// Query selects the events the projection needs (stream type, types).
	Query() eventstore.Query
	// Apply applies a batch of events, in log order, inside tx, writing to
	// the physical tables named by t. It must be deterministic (no clock,
	// no randomness) so that a rebuild gives the same rows, and it must not
	// commit or roll back tx.
	Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) error
}

// Preparer is a Projection that can do the part of a batch's work that
// needs no database (decoding events, evolving new rows, encoding them)
// before the batch's transaction begins. While a projection catches up,
// the runner reads the next batch and prepares it while the current one
// is written: on two cores the client's share of a catch-up then runs
// beside the server's instead of between its statements.
type Preparer interface {
	Projection
	// Prepare does the database-free part of applying evs to the tables
	// named by t and returns the rest, which the runner calls inside the
	// batch's transaction as it would call Apply (Apply itself is Prepare
	// then the rest). Prepare must depend on evs and t alone: it may run
	// while the batch before is still being applied, and for a batch that
	// is then never applied. The rest is called at most once.
	Prepare(t Tables, evs []eventstore.Event) (rest func(ctx context.Context, tx *sql.Tx) error, err error)
}

// Tables maps a projection's table names to the physical tables to write:
// the live tables normally, their shadows during a rebuild.
type Tables map[string]string

// Of returns the physical name of table, or table itself.
func (t Tables) Of(table string) string {
	if p, ok := t[table]; ok {
		return p
	}
	return table
}

func live(p Projection) Tables {
	t := Tables{}
	for _, n := range p.Tables() {
		t[n] = n
	}
	return t
}

// Log is what the runner reads from the event store.
type Log interface {
	ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error)
	Head(ctx context.Context, tenantID string) (eventstore.Position, error)
	Count(ctx context.Context, q eventstore.Query, limit int64) (int64, error)
}

// liveLinger is how long a live projection lets events gather after a
// batch of several (eventstore.FollowOptions.Linger). Under load a ticket
// often changes several times within it (created, then assigned,
// commented), and its read-model row is then written once per batch, not
// once per change; a min_position read waits for it at most this much
// longer. A quiet log is still applied event by event, at once.
const liveLinger = 50 * time.Millisecond

// batchBudget is how long a live projection's batch should take
// (eventstore.FollowOptions.Budget): its transaction holds back every live
// reader of the log (websocket pushes, the NDJSON follow stream) from its
// first write to its commit, so a batch that takes longer makes the next
// ones smaller. Under write load on the 2-core bench machine a tickets.v1
// batch of 300–400 comments held the log for 60–100 ms (p99 about
// 150 ms), and commit → push p99 was 98–155 ms; with this budget, 79 ms
// at the median of six runs. A smaller one (25 ms) measured no better for
// pushes and cost about a tenth of the contact creates (more, smaller
// contacts.v1 batches). A projection more than
// eventstore.DefaultBudgetLag behind catches up in whole batches.
const batchBudget = 50 * time.Millisecond

// Runner runs projections against the log and keeps their status.
type Runner struct {
	db       *sql.DB
	log      Log
	consumer eventstore.Consumer
	logger   *slog.Logger
	poll     time.Duration
	projs    []Projection

	mu      sync.Mutex
	applied map[string]eventstore.Position
	lastAt  map[string]time.Time
	waiters []chan struct{}
}

// NewRunner returns a runner for projs. poll bounds how long a live
// projection waits when no wake-up arrives.
func NewRunner(db *sql.DB, log Log, consumer eventstore.Consumer, logger *slog.Logger, poll time.Duration, projs ...Projection) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{db: db, log: log, consumer: consumer, logger: logger, poll: poll, projs: projs,
		applied: map[string]eventstore.Position{}, lastAt: map[string]time.Time{}}
}

// Projections returns the runner's projections.
func (r *Runner) Projections() []Projection { return r.projs }

// Run runs every projection until ctx is done. Failures are logged and
// retried; Run returns nil once ctx is done.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, p := range r.projs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx, p)
		}()
	}
	wg.Wait()
	return nil
}

func (r *Runner) run(ctx context.Context, p Projection) {
	q := p.Query()
	if q.Limit == 0 {
		q.Limit = 500
	}
	t := live(p)
	// Every projection reads its next batch while it writes this one when
	// catching up; a Preparer also prepares that batch meanwhile.
	var ready preparedBatches
	opt := eventstore.ConsumeOptions{Query: q, Poll: r.poll, Linger: liveLinger, OnError: func(err error) {
		r.logger.Error("projection failed; retrying", "projection", p.Name(), "err", err)
	}, ReadAhead: func([]eventstore.Event) {}, Budget: batchBudget}
	if pp, ok := p.(Preparer); ok {
		opt.ReadAhead = func(evs []eventstore.Event) {
			rest, err := pp.Prepare(t, evs)
			ready.put(evs, rest, err)
		}
	}
	err := r.consumer.Consume(ctx, p.Name(), opt, func(ctx context.Context, tx *sql.Tx, evs []eventstore.Event) error {
		if err := applyPrepared(ctx, tx, p, t, evs, ready.take(evs)); err != nil {
			return fmt.Errorf("%s: %w", p.Name(), err)
		}
		// The batch commits right after this returns; report it only then.
		// A batch that fails to commit is reported a moment early, which
		// only shortens a min_position wait that Wait double-checks.
		r.advanced(p.Name(), evs[len(evs)-1])
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		r.logger.Error("projection stopped", "projection", p.Name(), "err", err)
	}
}

func (r *Runner) advanced(name string, e eventstore.Event) {
	r.mu.Lock()
	r.applied[name] = e.Position
	r.lastAt[name] = e.RecordedAt
	ws := r.waiters
	r.waiters = nil
	r.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// WaitFor waits until projection name has committed an event at or after
// pos, or ctx is done. It checks the stored checkpoint, so it is exact even
// when another process runs the projection.
func (r *Runner) WaitFor(ctx context.Context, name string, pos eventstore.Position) error {
	for {
		r.mu.Lock()
		w := make(chan struct{})
		r.waiters = append(r.waiters, w)
		r.mu.Unlock()
		cp, err := r.consumer.Checkpoint(ctx, name)
		if err != nil {
			return err
		}
		if !cp.Less(pos) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Status is a projection's progress.
type Status struct {
	Name     string              `json:"name"`
	Position eventstore.Position `json:"position"`
	Head     eventstore.Position `json:"head"`
	// Lag counts the events the projection has yet to apply (capped at
	// LagCap).
	Lag int64 `json:"lag"`
}

// LagCap bounds the lag count so that measuring it stays cheap.
const LagCap = 1_000_000

// Status reports every projection's checkpoint, the log's head and the
// number of events in between.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	head, err := r.log.Head(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, p := range r.projs {
		cp, err := r.consumer.Checkpoint(ctx, p.Name())
		if err != nil {
			return nil, err
		}
		lag, err := r.lag(ctx, p, cp)
		if err != nil {
			return nil, err
		}
		out = append(out, Status{Name: p.Name(), Position: cp, Head: head, Lag: lag})
	}
	return out, nil
}

func (r *Runner) lag(ctx context.Context, p Projection, after eventstore.Position) (int64, error) {
	q := p.Query()
	q.After = after
	n, err := r.log.Count(ctx, q, LagCap)
	if err != nil {
		return 0, fmt.Errorf("lag of %s: %w", p.Name(), err)
	}
	return n, nil
}

// apply runs p.Apply on a batch. While a projection catches up its tables
// grow faster than their statistics, and a planner that believes them
// empty scans them whole for every batch: the batch is planned without
// sequential scans.
//
// The batch commits without waiting for its WAL to reach the disk
// (synchronous_commit off): a read model is derived from the log, and a
// crash loses such a commit whole — the rows with the checkpoint — so the
// batch is applied again, still exactly once. Waiting for the flush would
// only keep the batch's transaction id open longer, and with it the fence
// that holds back every live reader of the log (websocket pushes).
func apply(ctx context.Context, tx *sql.Tx, p Projection, t Tables, evs []eventstore.Event) error {
	return applyPrepared(ctx, tx, p, t, evs, nil)
}

// applyPrepared is apply for a batch that may have been prepared ahead
// (pre nil: it was not).
func applyPrepared(ctx context.Context, tx *sql.Tx, p Projection, t Tables, evs []eventstore.Event, pre *preparedBatch) error {
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL synchronous_commit = off`); err != nil {
		return err
	}
	if pre == nil {
		return p.Apply(ctx, tx, t, evs)
	}
	if pre.err != nil {
		return pre.err
	}
	return pre.rest(ctx, tx)
}

// preparedBatch is a batch a Preparer prepared ahead of its transaction.
type preparedBatch struct {
	first, last eventstore.Position
	n           int
	rest        func(context.Context, *sql.Tx) error
	err         error
}

// preparedBatches holds the batches prepared ahead of a projection's
// handler: the one it is about to apply and the one read ahead of it.
type preparedBatches struct {
	mu    sync.Mutex
	ready []*preparedBatch
}

func (b *preparedBatches) put(evs []eventstore.Event, rest func(context.Context, *sql.Tx) error, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ready) >= 2 { // left over from a batch that failed: drop the oldest
		b.ready = b.ready[1:]
	}
	b.ready = append(b.ready, &preparedBatch{first: evs[0].Position, last: evs[len(evs)-1].Position, n: len(evs), rest: rest, err: err})
}

// take returns the batch prepared for evs, once, or nil.
func (b *preparedBatches) take(evs []eventstore.Event) *preparedBatch {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, pb := range b.ready {
		if pb.n == len(evs) && pb.first == evs[0].Position && pb.last == evs[len(evs)-1].Position {
			b.ready = append(b.ready[:i:i], b.ready[i+1:]...)
			return pb
		}
	}
	return nil
}
