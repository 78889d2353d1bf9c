package eventstore

import (
	"cmp"
	"context"
	"sync"
	"time"
)

// Notifier tells followers that new events may be readable. It is a hint
// only: followers poll as well, so a lost wake-up costs latency, never an
// event.
type Notifier interface {
	// Notify returns a channel that receives (coalesced) wake-ups until stop
	// is called. Safe for concurrent use.
	Notify() (wake <-chan struct{}, stop func())
}

// Broadcaster is a Notifier that fans one signal out to every listener.
// The zero value is ready to use.
type Broadcaster struct {
	mu        sync.Mutex
	listeners map[chan struct{}]struct{}
}

// Notify implements Notifier.
func (b *Broadcaster) Notify() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	if b.listeners == nil {
		b.listeners = make(map[chan struct{}]struct{})
	}
	b.listeners[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.listeners, ch)
		b.mu.Unlock()
	}
}

// Signal wakes every listener without blocking; a listener that has not yet
// consumed its previous wake-up keeps just one.
func (b *Broadcaster) Signal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.listeners {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Reader reads the global log; every Store is one.
type Reader interface {
	// ReadAll is Store.ReadAll.
	ReadAll(ctx context.Context, q Query) ([]Event, error)
}

// FollowOptions tune Follow.
type FollowOptions struct {
	// Notifier, if set, wakes the follower early.
	Notifier Notifier
	// Poll is the longest wait between two reads when idle; zero means
	// 500ms. It bounds latency when a wake-up is lost.
	Poll time.Duration
	// OnError, if set, is told of read errors, which are then retried after
	// Poll; without it Follow returns the first read error.
	OnError func(error)
	// Linger, if positive, is how long a live follower lets events gather
	// after a batch of several: under load it applies fewer, larger
	// batches (a consumer's per-batch work, its commit among it, is paid
	// less often, and several changes to one row become one write), at the
	// cost of up to Linger of extra delay. After a batch of one event it
	// does not linger: a quiet log is followed event by event, at once.
	Linger time.Duration
	// ReadAhead, if set, lets a follower that is catching up (its last
	// read filled q.Limit) read the next batch while fn handles this one,
	// so that the read's work, in the database and in the client, runs
	// beside fn's. The batch read ahead is passed to ReadAhead on the
	// reading goroutine, before fn sees it, for work of its own that needs
	// nothing fn does (decoding it, say); ReadAhead may thus run while fn
	// handles the batch before, and it may see a batch that fn never gets
	// (when fn fails or ctx ends). Follow waits for it before returning.
	// The read is the same read Follow would make after fn returns: the
	// fence keeps it from returning an event that a transaction still in
	// flight could precede, fn's own included, so it neither skips nor
	// repeats events.
	ReadAhead func([]Event)
	// Budget, if positive, is how long fn should take with one batch.
	// After a batch fn took longer with, the next read's limit shrinks in
	// proportion (budget/took, down to MinBudgetBatch events); after a
	// full batch handled in under three quarters of it, the limit grows
	// by a quarter, up to q.Limit. A consumer's batch is a
	// write transaction, and every write transaction in flight holds back
	// every reader of the log (the fence): the budget bounds how long one
	// batch holds back live pushes, at the cost of more, smaller batches
	// when a batch's work grows. It applies to a follower that is live:
	// a batch whose first event is older than BudgetLag sets the limit
	// back to q.Limit, so that a follower far behind (a new projection, a
	// node back after a while) catches up at full speed.
	Budget time.Duration
	// BudgetLag is how old (by its RecordedAt) the first event of a batch
	// may be for Budget to apply; zero means DefaultBudgetLag.
	BudgetLag time.Duration
}

// MinBudgetBatch is the smallest limit FollowOptions.Budget shrinks a
// follower's reads to.
const MinBudgetBatch = 100

// Header is a Reader that also tells the log's head (Store.Head). Follow
// uses it, when the reader has it, to keep a filtered follower from
// reading the same unmatched events again on every wake-up.
type Header interface {
	Head(ctx context.Context, tenantID string) (Position, error)
}

// Follow reads the log selected by q from q.After onwards, first catching
// up in batches and then following live, and hands each non-empty batch to
// fn in Position order. It returns when ctx is done (with ctx.Err()) or
// when fn fails (with fn's error). Because ReadAll never returns an event
// that an in-flight transaction could still precede, Follow neither skips
// nor repeats events.
//
// A follower whose query filters by stream type or event type (a
// projection of one kind of stream) may match nothing for long stretches
// of the log. If s is also a Header, Follow reads the head (of q's tenant,
// or of the log) before each read — except right after a full batch,
// while it catches up — and a read that ends short of its limit moves
// the follower past that head, matched or not: every event up
// to it was readable before the read began, and none can appear before it
// later (the fence), so the read has seen them all. Without this a
// follower would scan everything since its last match on every wake-up.
func Follow(ctx context.Context, s Reader, q Query, opt FollowOptions, fn func(context.Context, []Event) error) error {
	poll := opt.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	if q.Limit <= 0 {
		q.Limit = 500
	}
	heads, _ := s.(Header)
	if q.StreamID != "" || (q.StreamType == "" && len(q.Types) == 0) {
		heads = nil // an index serves the read: nothing unmatched is scanned
	}
	var wake <-chan struct{}
	if opt.Notifier != nil {
		w, stop := opt.Notifier.Notify()
		defer stop()
		wake = w
	}
	timer := time.NewTimer(poll)
	defer timer.Stop()
	maxLimit := q.Limit
	full := false // the last read filled its limit: catching up, no head needed
	var ahead *readAhead
	defer func() {
		if ahead != nil { // fn failed or ctx ended: the batch is not wanted
			ahead.cancel()
			ahead.wait()
		}
	}()
	for {
		var head Position
		haveHead := false
		var evs []Event
		var err error
		if ahead != nil { // the read after a full batch, made while fn handled it
			evs, err = ahead.wait()
			ahead = nil
		} else {
			if heads != nil && !full {
				h, err := heads.Head(ctx, q.TenantID)
				head, haveHead = h, err == nil
			}
			evs, err = s.ReadAll(ctx, q)
		}
		full = false
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && opt.OnError == nil:
			return err
		case err != nil:
			opt.OnError(err)
		default:
			if len(evs) > 0 {
				if len(evs) >= q.Limit && opt.ReadAhead != nil {
					next := q
					next.After = evs[len(evs)-1].Position
					ahead = startReadAhead(ctx, s, next, opt.ReadAhead)
				}
				began := time.Now()
				if err := fn(ctx, evs); err != nil {
					return err
				}
				// At least the limit: a batch read ahead was read at the
				// limit before a budget lowered it.
				wasFull := len(evs) >= q.Limit
				if opt.Budget > 0 {
					q.Limit = budgetLimit(q.Limit, maxLimit, wasFull, time.Since(began), opt.Budget,
						time.Since(evs[0].RecordedAt), cmp.Or(opt.BudgetLag, DefaultBudgetLag))
				}
				q.After = evs[len(evs)-1].Position
				if wasFull {
					full = true
					continue // more to catch up on
				}
			}
			if haveHead && q.After.Less(head) {
				q.After = head // seen up to it: the read ended short
			}
			if len(evs) > 1 && opt.Linger > 0 {
				timer.Reset(opt.Linger)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
				continue
			}
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-timer.C:
		}
	}
}

// DefaultBudgetLag is FollowOptions.BudgetLag's default: a follower more
// than 2 s behind is catching up.
const DefaultBudgetLag = 2 * time.Second

// budgetLimit is the limit of the read after a batch that filled the
// current limit or not (full), that fn handled in took, and whose first
// event was recorded age ago (FollowOptions.Budget and BudgetLag).
func budgetLimit(limit, maxLimit int, full bool, took, budget, age, lag time.Duration) int {
	switch {
	case age > lag: // catching up: as fast as whole batches go
		return maxLimit
	case took > budget:
		return max(int(float64(limit)*float64(budget)/float64(took)), min(MinBudgetBatch, maxLimit))
	case full && took < budget*3/4:
		return min(limit+limit/4+1, maxLimit)
	}
	return limit
}

// readAhead is a read of the log under way beside a follower's handler.
type readAhead struct {
	cancel context.CancelFunc
	done   chan struct{}
	evs    []Event
	err    error
}

func startReadAhead(ctx context.Context, s Reader, q Query, also func([]Event)) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	r := &readAhead{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.evs, r.err = s.ReadAll(ctx, q)
		if r.err == nil && len(r.evs) > 0 {
			also(r.evs)
		}
	}()
	return r
}

// wait waits for the read and returns what it read.
func (r *readAhead) wait() ([]Event, error) {
	<-r.done
	r.cancel()
	return r.evs, r.err
}
