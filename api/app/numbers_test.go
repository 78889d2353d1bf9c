package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// TestNumbers_ConcurrentCreates: bursts of concurrent creates in one
// tenant, on one node, get distinct numbers with no gap between them,
// including the creates served from spares that an earlier burst left; a
// create that comes alone afterwards takes the next number; another
// tenant counts on its own.
func TestNumbers_ConcurrentCreates(t *testing.T) {
	t.Parallel()
	const bursts, perBurst = 3, 24
	s := nodes(t, 1)[0]
	var got []int64
	for range bursts {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for range perBurst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := create(t, s, acme).Number
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("numbers of %d concurrent creates = %v; want 1..%d, each once", len(got), got, len(got))
		}
	}
	if n := create(t, s, acme).Number; n != bursts*perBurst+1 {
		t.Errorf("a create after the bursts got #%d, want #%d", n, bursts*perBurst+1)
	}
	if n := create(t, s, "globex").Number; n != 1 {
		t.Errorf("another tenant's first create got #%d, want #1", n)
	}
}

// TestNumbers_Order: on one node, numbers are handed out in increasing
// order, whether from spares or fetched, so a create that returns before
// another starts always has the lower number.
func TestNumbers_Order(t *testing.T) {
	t.Parallel()
	s := nodes(t, 1)[0]
	ctx := context.Background()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	seqs := make([][]int64, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				n, err := s.numbers.next(ctx, acme)
				if err != nil {
					t.Errorf("next() = %v", err)
					return
				}
				seqs[w] = append(seqs[w], n)
			}
		}()
	}
	wg.Wait()
	for w, seq := range seqs {
		if !slices.IsSorted(seq) {
			t.Errorf("worker %d got numbers out of order: %v", w, seq)
		}
	}
}

// TestFinding7_RefusedCreateTakesNoNumber: a create the store would refuse
// (a NUL in its title, which PostgreSQL's jsonb cannot hold) is refused
// before a number is taken, and without naming the store's internals: the
// creates around it get #1 and #2.
func TestFinding7_RefusedCreateTakesNoNumber(t *testing.T) {
	t.Parallel()
	s := nodes(t, 1)[0]
	if n := create(t, s, acme).Number; n != 1 {
		t.Fatalf("first create got #%d, want #1", n)
	}
	_, err := s.Create(context.Background(), acme, ticket.CreateTicket{Title: "a\x00b"}, byAPI)
	var inv *eventstore.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("create with a NUL in its title: %v, want an *eventstore.InvalidError", err)
	}
	if n := create(t, s, acme).Number; n != 2 {
		t.Errorf("create after the refused one got #%d, want #2", n)
	}
}
