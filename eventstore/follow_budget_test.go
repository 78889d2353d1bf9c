package eventstore

import (
	"testing"
	"time"
)

// TestBudgetLimit: a live batch over budget shrinks the next read in
// proportion, down to MinBudgetBatch (or the query's limit, if smaller);
// a full batch well within it grows the read by a quarter, up to the
// query's limit; a batch older than the lag (catching up) reads whole
// batches again.
func TestBudgetLimit(t *testing.T) {
	const budget = 20 * time.Millisecond
	fresh, old := 100*time.Millisecond, DefaultBudgetLag+time.Second
	for _, c := range []struct {
		name            string
		limit, maxLimit int
		full            bool
		took, age       time.Duration
		want            int
	}{
		{"over budget: in proportion", 1000, 1000, true, 40 * time.Millisecond, fresh, 500},
		{"far over budget: the floor", 1000, 1000, true, time.Second, fresh, MinBudgetBatch},
		{"a query limit under the floor", 50, 50, true, time.Second, fresh, 50},
		{"full and fast: a quarter more", 100, 1000, true, 5 * time.Millisecond, fresh, 126},
		{"grows to the query's limit, no further", 900, 1000, true, 5 * time.Millisecond, fresh, 1000},
		{"short and fast: unchanged", 100, 1000, false, 5 * time.Millisecond, fresh, 100},
		{"full, within budget but not well within: unchanged", 100, 1000, true, 18 * time.Millisecond, fresh, 100},
		{"catching up: whole batches, however slow", 100, 1000, true, time.Second, old, 1000},
	} {
		if got := budgetLimit(c.limit, c.maxLimit, c.full, c.took, budget, c.age, DefaultBudgetLag); got != c.want {
			t.Errorf("%s: budgetLimit(%d, %d, %v, %v, %v, %v) = %d, want %d", c.name, c.limit, c.maxLimit, c.full,
				c.took, budget, c.age, got, c.want)
		}
	}
}
