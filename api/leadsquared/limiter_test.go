package leadsquared_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/eventstore/pubsub/redistest"
)

// TestLimiters runs one contract suite against both Limiter
// implementations.
func TestLimiters(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		testLimiter(t, func(t *testing.T, l leadsquared.Limit) leadsquared.Limiter {
			return leadsquared.NewMemoryLimiter(l, nil)
		})
	})
	t.Run("redis", func(t *testing.T) {
		rdb := redistest.Client(t)
		testLimiter(t, func(t *testing.T, l leadsquared.Limit) leadsquared.Limiter {
			rl := leadsquared.NewRedisLimiter(rdb, uniquePrefix(t), l, nil)
			// The contract is Redis's count: a loaded machine must not
			// make a slow answer count as an outage here (see
			// TestRedisLimiter_Outage for that).
			rl.Timeout = 10 * time.Second
			return rl
		})
	})
}

func testLimiter(t *testing.T, newLimiter func(*testing.T, leadsquared.Limit) leadsquared.Limiter) {
	ctx := context.Background()
	// An hour-long period makes refills (one per 12 minutes) irrelevant to
	// a test's timing.
	slow := leadsquared.Limit{Calls: 5, Per: time.Hour}
	interval := slow.Per / time.Duration(slow.Calls)

	t.Run("BurstThenRefuse", func(t *testing.T) {
		l := newLimiter(t, slow)
		for i := range 5 {
			d, err := l.Allow(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed || d.Remaining != 4-i || d.Limit != slow || d.RetryAfter != 0 {
				t.Fatalf("call %d: got %+v, want allowed with %d remaining", i+1, d, 4-i)
			}
			if want := time.Duration(i+1) * interval; d.ResetAfter < want-time.Second || d.ResetAfter > want {
				t.Errorf("call %d: ResetAfter = %v, want about %v", i+1, d.ResetAfter, want)
			}
		}
		d, err := l.Allow(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("6th call: got %+v, want refused with 0 remaining", d)
		}
		if d.RetryAfter < interval-time.Second || d.RetryAfter > interval {
			t.Errorf("RetryAfter = %v, want about %v", d.RetryAfter, interval)
		}
		if d.ResetAfter < slow.Per-time.Second || d.ResetAfter > slow.Per {
			t.Errorf("ResetAfter = %v, want about %v", d.ResetAfter, slow.Per)
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		l := newLimiter(t, slow)
		for range 6 {
			if _, err := l.Allow(ctx, "a"); err != nil {
				t.Fatal(err)
			}
		}
		if d, err := l.Allow(ctx, "b"); err != nil || !d.Allowed || d.Remaining != 4 {
			t.Fatalf("other key: got %+v, %v; want allowed with 4 remaining", d, err)
		}
	})

	t.Run("ConcurrentCallsAdmitExactlyTheLimit", func(t *testing.T) {
		l := newLimiter(t, leadsquared.Limit{Calls: 10, Per: time.Hour})
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				d, err := l.Allow(ctx, "hot")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if got := allowed.Load(); got != 10 {
			t.Fatalf("%d of 50 concurrent calls allowed, want 10", got)
		}
	})

	t.Run("Refills", func(t *testing.T) {
		l := newLimiter(t, leadsquared.Limit{Calls: 2, Per: 200 * time.Millisecond})
		for range 3 {
			if _, err := l.Allow(ctx, "k"); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(150 * time.Millisecond) // > one interval of 100 ms
		if d, err := l.Allow(ctx, "k"); err != nil || !d.Allowed {
			t.Fatalf("after a refill interval: got %+v, %v; want allowed", d, err)
		}
	})
}

// TestRedisLimiter_DefaultLimit checks the documented limit itself in
// Redis: whatever the timing, no more than 25 calls plus one per elapsed
// 200 ms are admitted.
func TestRedisLimiter_DefaultLimit(t *testing.T) {
	t.Parallel()
	l := leadsquared.NewRedisLimiter(redistest.Client(t), uniquePrefix(t), leadsquared.DefaultLimit, nil)
	l.Timeout = 10 * time.Second
	start := time.Now()
	admitted := 0
	for range 40 {
		d, err := l.Allow(context.Background(), "key")
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			admitted++
		}
	}
	elapsed := time.Since(start)
	if most := 25 + int(elapsed/(200*time.Millisecond)) + 1; admitted < 25 || admitted > most {
		t.Fatalf("admitted %d of 40 in %v, want 25..%d", admitted, elapsed, most)
	}
}

func TestNewLimiter_RejectsInvalidLimits(t *testing.T) {
	t.Parallel()
	for _, l := range []leadsquared.Limit{{}, {Calls: 1}, {Per: time.Second}, {Calls: -1, Per: time.Second}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewMemoryLimiter(%+v) did not panic", l)
				}
			}()
			leadsquared.NewMemoryLimiter(l, nil)
		}()
	}
}
