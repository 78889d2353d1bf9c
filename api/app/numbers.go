package app

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lib/pq"
)

// numbers allocates each tenant's readable numbers of one kind (ticket
// numbers; the n of customer codes PID-n, CID-n, LID-n) from a sequence of
// its own. A sequence hands out numbers without locks, so concurrent
// creates in one tenant never queue behind each other (a counter stream or
// row would serialise them on every commit). The cost is the usual one of
// sequences: a create that fails after taking a number leaves a gap.
//
// Creates that arrive while a tenant's numbers are being fetched wait for
// the next fetch, which takes one number for each of them in one round
// trip. Under load a fetch also takes as many numbers again as the creates
// that asked since the previous fetch began, and keeps them as spares:
// the next creates take a spare at once instead of waiting a round trip,
// and a fetch for more starts while spares remain. A create alone, with no
// other create since the last fetch, takes exactly one number, so a
// tenant whose creates come one at a time never holds spares.
//
// On one node, numbers are handed out in increasing order and without
// gaps: a spare is always lower than any number fetched after it. A
// number a create took and then did not use (it lost a race, or turned out
// a duplicate) is given back and handed out next, so it is no gap, but it
// may come after a higher one. Spares
// held when a node stops are gaps, and while several nodes create tickets
// in one tenant each hands out its own spares, so numbers from different
// nodes may interleave out of creation order by at most a few.
type numbers struct {
	db      *sql.DB
	prefix  string    // of the sequences' names, e.g. "ticket_number_"
	nextval *sql.Stmt // numbersSQL, prepared; nil: run unprepared
	tenants sync.Map  // tenant -> *tenantNumbers
}

// numbersSQL takes $2 numbers from sequence $1.
const numbersSQL = `SELECT nextval($1::regclass) FROM generate_series(1, $2::int)`

// fetchTimeout bounds one fetch; it serves many callers, so it follows
// none of their contexts.
const fetchTimeout = 10 * time.Second

// newNumbers allocates from the sequences named prefix + a digest of the
// tenant id. The prefix is persisted: a new one starts numbering over.
func newNumbers(db *sql.DB, prefix string) *numbers {
	n := &numbers{db: db, prefix: prefix}
	n.nextval, _ = db.Prepare(numbersSQL)
	return n
}

// maxSpares bounds the numbers a tenant keeps ahead of demand, and so the
// gap a stopping node leaves and how far two nodes' numbers interleave.
const maxSpares = 16

// tenantNumbers is one tenant's spare numbers and queue of creates waiting
// for a number.
type tenantNumbers struct {
	sequence string // quoted name
	mu       sync.Mutex
	created  bool
	fetching bool
	waiting  []chan numberResult
	spares   []int64 // fetched, not yet handed out; increasing
	asked    int     // numbers asked for since the current fetch began
}

type numberResult struct {
	n   int64
	err error
}

func sequenceName(prefix, tenant string) string {
	h := sha256.Sum256([]byte(tenant))
	return prefix + hex.EncodeToString(h[:16])
}

// next returns the tenant's next number, creating its sequence on
// first use.
func (n *numbers) next(ctx context.Context, tenant string) (int64, error) {
	v, _ := n.tenants.LoadOrStore(tenant, &tenantNumbers{sequence: pq.QuoteIdentifier(sequenceName(n.prefix, tenant))})
	t := v.(*tenantNumbers)
	t.mu.Lock()
	t.asked++
	if len(t.spares) > 0 {
		num := t.spares[0]
		t.spares = t.spares[1:]
		if len(t.spares) < t.asked && !t.fetching {
			// Running low under load: fetch more before they run out.
			t.fetching = true
			go n.fetch(t)
		}
		t.mu.Unlock()
		return num, nil
	}
	ch := make(chan numberResult, 1)
	t.waiting = append(t.waiting, ch)
	if !t.fetching {
		t.fetching = true
		go n.fetch(t)
	}
	t.mu.Unlock()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err() // its number, if fetched, is a gap
	}
}

// giveBack returns num, taken from tenant's numbers by a create that then
// wrote nothing, to be handed out again: the next create takes it (the
// lowest spare goes first), so a create that lost a race or turned out a
// duplicate leaves no gap. Only a number certainly unwritten may come
// back: a create whose append failed in a way that may have landed keeps
// its number, a gap.
func (n *numbers) giveBack(tenant string, num int64) {
	v, ok := n.tenants.Load(tenant)
	if !ok {
		return
	}
	t := v.(*tenantNumbers)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.waiting) > 0 {
		t.waiting[0] <- numberResult{n: num}
		t.waiting = t.waiting[1:]
		return
	}
	i, _ := slices.BinarySearch(t.spares, num)
	t.spares = slices.Insert(t.spares, i, num)
}

// fetch serves t's waiting creates, a round trip per group, until none
// is left, and tops up t's spares while creates keep coming.
func (n *numbers) fetch(t *tenantNumbers) {
	var fresh []int64 // the last round trip's numbers beyond its group
	for {
		t.mu.Lock()
		t.spares = append(t.spares, fresh...)
		// Spares first, the lowest to the earliest waiter.
		for len(t.waiting) > 0 && len(t.spares) > 0 {
			t.waiting[0] <- numberResult{n: t.spares[0]}
			t.waiting, t.spares = t.waiting[1:], t.spares[1:]
		}
		group := t.waiting
		t.waiting = nil
		// Spares for the creates expected during the next round trip: as
		// many as asked during the last one, when more than one did.
		demand := t.asked
		t.asked = 0
		extra := 0
		if demand > 1 && len(t.spares) < demand {
			extra = max(0, min(2*demand, maxSpares-len(t.spares))) // given-back numbers may exceed maxSpares
		}
		if len(group) == 0 && extra == 0 {
			t.fetching = false
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		got, err := n.take(ctx, t, len(group)+extra)
		cancel()
		for i, ch := range group {
			if err != nil {
				ch <- numberResult{err: err}
			} else {
				ch <- numberResult{n: got[i]}
			}
		}
		fresh = nil
		if err == nil {
			fresh = got[len(group):]
		}
	}
}

// take fetches k numbers from t's sequence, in increasing order.
func (n *numbers) take(ctx context.Context, t *tenantNumbers, k int) ([]int64, error) {
	if !t.created {
		if _, err := n.db.ExecContext(ctx, `CREATE SEQUENCE IF NOT EXISTS `+t.sequence); err != nil {
			var pqErr *pq.Error
			// Two nodes raced past IF NOT EXISTS; the sequence exists.
			if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
				return nil, fmt.Errorf("number sequence %s: %w", t.sequence, err)
			}
		}
		t.created = true // only fetch, which runs alone per tenant, touches it
	}
	var rows *sql.Rows
	var err error
	if n.nextval != nil {
		rows, err = n.nextval.QueryContext(ctx, t.sequence, k)
	} else {
		rows, err = n.db.QueryContext(ctx, numbersSQL, t.sequence, k)
	}
	if err != nil {
		return nil, fmt.Errorf("next numbers of %s: %w", t.sequence, err)
	}
	defer rows.Close()
	got := make([]int64, 0, k)
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("next numbers of %s: %w", t.sequence, err)
	}
	if len(got) != k {
		return nil, fmt.Errorf("next numbers of %s: got %d of %d", t.sequence, len(got), k)
	}
	slices.Sort(got)
	return got, nil
}
