package leadsquared

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit is a rate limit: at most Calls calls Per period.
type Limit struct {
	Calls int
	Per   time.Duration
}

// DefaultLimit is LeadSquared Service CRM's documented limit: 25 calls in
// 5 seconds.
var DefaultLimit = Limit{Calls: 25, Per: 5 * time.Second}

// Message is what LeadSquared answers when the limit is exceeded, e.g.
// "API calls exceeded the limit of 25 in 5 second(s)".
func (l Limit) Message() string {
	return fmt.Sprintf("API calls exceeded the limit of %d in %d second(s)", l.Calls, int((l.Per+time.Second-1)/time.Second))
}

func (l Limit) valid() bool { return l.Calls > 0 && l.Per > 0 }

// Decision is a Limiter's answer for one call.
type Decision struct {
	// Allowed says whether the call may proceed.
	Allowed bool
	// Limit is the limit the call was counted against.
	Limit Limit
	// Remaining is how many more calls would be allowed right now.
	Remaining int
	// RetryAfter is how long a refused caller should wait before the next
	// call can be allowed; zero when Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the caller's full allowance is back.
	ResetAfter time.Duration
}

// Limiter counts calls per key against a Limit.
//
// Both implementations are a GCRA (token bucket): a burst of Limit.Calls,
// refilled at one call every Limit.Per/Limit.Calls. A client that keeps to
// Calls calls in any window of Per is never refused, and sustained
// throughput never exceeds Calls per Per.
type Limiter interface {
	// Allow counts one call by key and reports whether it may proceed. It is
	// safe for concurrent use. It returns an error only when it could not
	// decide (e.g. Redis is unreachable); the Decision is then meaningless.
	Allow(ctx context.Context, key string) (Decision, error)
}

// MemoryLimiter is a Limiter held in this process: right for a single
// node, wrong for several (each would grant the full limit).
type MemoryLimiter struct {
	limit Limit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

var _ Limiter = (*MemoryLimiter)(nil)

// maxIdleBuckets is how many keys a MemoryLimiter holds before it drops
// the ones whose allowance is full again (forgetting them changes nothing).
const maxIdleBuckets = 10_000

// NewMemoryLimiter returns an in-process limiter; now is its clock (nil:
// time.Now). It panics on a limit that is not positive.
func NewMemoryLimiter(limit Limit, now func() time.Time) *MemoryLimiter {
	if !limit.valid() {
		panic(fmt.Sprintf("leadsquared: invalid limit %+v", limit))
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{limit: limit, now: now, buckets: map[string]*rate.Limiter{}}
}

// Allow implements Limiter; it never fails.
func (m *MemoryLimiter) Allow(_ context.Context, key string) (Decision, error) {
	interval := m.limit.Per / time.Duration(m.limit.Calls)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[key]
	if !ok {
		if len(m.buckets) >= maxIdleBuckets {
			m.sweep(now)
		}
		b = rate.NewLimiter(rate.Every(interval), m.limit.Calls)
		m.buckets[key] = b
	}
	d := Decision{Limit: m.limit, Allowed: b.AllowN(now, 1)}
	tokens := b.TokensAt(now)
	d.Remaining = max(int(tokens), 0)
	d.ResetAfter = time.Duration((float64(m.limit.Calls) - tokens) * float64(interval))
	if !d.Allowed {
		d.RetryAfter = time.Duration((1 - tokens) * float64(interval))
	}
	return d, nil
}

// sweep drops buckets whose allowance is full; m.mu is held.
func (m *MemoryLimiter) sweep(now time.Time) {
	for k, b := range m.buckets {
		if b.TokensAt(now) >= float64(m.limit.Calls) {
			delete(m.buckets, k)
		}
	}
}

// RedisLimiter is a Limiter whose counts live in Redis, so that the limit
// holds across every node sharing that Redis. It runs go-redis/redis_rate's
// GCRA script: one round trip per call, atomic on the server, timed by the
// server's clock.
type RedisLimiter struct {
	limit  Limit
	prefix string
	rl     *redis_rate.Limiter
}

var _ Limiter = (*RedisLimiter)(nil)

// NewRedisLimiter returns a limiter over rdb; prefix namespaces its keys
// (redis_rate adds "rate:" in front). It panics on a limit that is not
// positive.
func NewRedisLimiter(rdb *redis.Client, prefix string, limit Limit) *RedisLimiter {
	if !limit.valid() {
		panic(fmt.Sprintf("leadsquared: invalid limit %+v", limit))
	}
	return &RedisLimiter{limit: limit, prefix: prefix, rl: redis_rate.NewLimiter(rdb)}
}

// Allow implements Limiter.
func (l *RedisLimiter) Allow(ctx context.Context, key string) (Decision, error) {
	res, err := l.rl.Allow(ctx, l.prefix+key, redis_rate.Limit{Rate: l.limit.Calls, Burst: l.limit.Calls, Period: l.limit.Per})
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	d := Decision{Allowed: res.Allowed > 0, Limit: l.limit, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !d.Allowed {
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d, nil
}
