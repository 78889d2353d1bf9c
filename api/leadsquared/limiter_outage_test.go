package leadsquared_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/eventstore/pubsub/redistest"
)

// TestRedisLimiter_Outage runs the limiter against a private redis-server
// that is paused (SIGSTOP: a hung Redis), resumed, then killed. Redis
// trouble must cost a call at most about RedisTimeout, and the limit must
// still hold per node: never every call admitted.
func TestRedisLimiter_Outage(t *testing.T) {
	t.Parallel()
	srv := redistest.Private(t)
	opt := &redis.Options{Addr: srv.Addr}
	leadsquared.TuneRedisOptions(opt)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	limit := leadsquared.Limit{Calls: 5, Per: time.Hour}
	l := leadsquared.NewRedisLimiter(rdb, uniquePrefix(t), limit, nil)
	ctx := context.Background()

	// slowest is the most any call may take: the timeout, plus room for a
	// loaded machine under -race.
	const slowest = leadsquared.RedisTimeout + 400*time.Millisecond
	calls := func(key string, n int) (admitted int, total, worst time.Duration) {
		for range n {
			start := time.Now()
			d, err := l.Allow(ctx, key)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("Allow: %v, want a decision whatever Redis does", err)
			}
			if d.Allowed {
				admitted++
			}
			total += took
			worst = max(worst, took)
		}
		return admitted, total, worst
	}

	if n, _, _ := calls("shared", 3); n != 3 || l.Degraded() {
		t.Fatalf("healthy Redis: %d of 3 admitted (degraded %v), want 3 through Redis", n, l.Degraded())
	}

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	n, total, worst := calls("paused", 20)
	if worst > slowest {
		t.Errorf("paused Redis: slowest call took %v, want at most %v", worst, slowest)
	}
	if total > 2*slowest {
		t.Errorf("paused Redis: 20 calls took %v in all, want at most %v (the circuit should skip Redis after the first)", total, 2*slowest)
	}
	if n != limit.Calls {
		t.Errorf("paused Redis: %d of 20 calls admitted, want the per-node limit of %d", n, limit.Calls)
	}
	if !l.Degraded() {
		t.Errorf("paused Redis: Degraded() = false, want true")
	}

	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(leadsquared.RedisCooldown + 100*time.Millisecond)
	if n, _, _ := calls("shared", 3); n != 2 || l.Degraded() {
		t.Errorf("resumed Redis: %d of 3 admitted (degraded %v), want 2 (Redis's count of 5 resumed) and not degraded", n, l.Degraded())
	}

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	n, total, worst = calls("down", 20)
	if worst > slowest || total > 2*slowest {
		t.Errorf("Redis down: slowest call %v, all %v; want at most %v and %v", worst, total, slowest, 2*slowest)
	}
	if n != limit.Calls {
		t.Errorf("Redis down: %d of 20 calls admitted, want the per-node limit of %d", n, limit.Calls)
	}
}
