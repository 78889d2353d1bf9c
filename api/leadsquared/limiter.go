package leadsquared

import (
	"context"
	"fmt"
	"log/slog"
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
	// decide; the Decision is then meaningless. (MemoryLimiter and
	// RedisLimiter always decide.)
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
//
// Redis trouble never costs a call more than Timeout, and never lifts
// the limit: a call Redis does not answer within Timeout (down,
// paused, partitioned) is decided by a per-node MemoryLimiter of the same
// limit instead, and the circuit opens: for Cooldown every call is
// decided per node at once, without trying Redis; then one call at a time
// probes Redis (the others still decided per node) until one succeeds and
// the circuit closes. A Redis slower than Timeout counts as down: the
// price of a bound on the delay. While degraded, each node grants the full limit on
// its own, so N nodes admit at most N times the limit, never an unlimited
// number. Allow therefore never fails.
type RedisLimiter struct {
	// Timeout bounds one round trip to Redis (RedisTimeout by default);
	// Cooldown is how long the circuit stays open (RedisCooldown). Set
	// them, if at all, before the first call.
	Timeout, Cooldown time.Duration

	limit  Limit
	prefix string
	rl     *redis_rate.Limiter
	local  *MemoryLimiter
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	openTill time.Time // the circuit is open (Redis skipped) until then
	probing  bool      // a call is trying Redis while the circuit is half open
	degraded bool      // the last decision was made per node
}

var _ Limiter = (*RedisLimiter)(nil)

// RedisTimeout bounds one rate-limit round trip to Redis by default: the
// most Redis trouble adds to a call. A healthy Redis answers in well
// under a millisecond; the margin is for a loaded node.
const RedisTimeout = 250 * time.Millisecond

// RedisCooldown is how long the circuit stays open after Redis failed,
// before one call probes it again.
const RedisCooldown = 2 * time.Second

// NewRedisLimiter returns a limiter over rdb; prefix namespaces its keys
// (redis_rate adds "rate:" in front); log (nil: discarded) hears when
// limiting falls back to the node and when it is shared again. It panics
// on a limit that is not positive. rdb should be configured with
// TuneRedisOptions, so that a paused Redis cannot hold a call past
// RedisTimeout.
func NewRedisLimiter(rdb *redis.Client, prefix string, limit Limit, log *slog.Logger) *RedisLimiter {
	if !limit.valid() {
		panic(fmt.Sprintf("leadsquared: invalid limit %+v", limit))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RedisLimiter{Timeout: RedisTimeout, Cooldown: RedisCooldown, limit: limit, prefix: prefix, rl: redis_rate.NewLimiter(rdb),
		local: NewMemoryLimiter(limit, nil), log: log, now: time.Now}
}

// TuneRedisOptions sets the client options the limiter's promise relies
// on: context deadlines bound every read and write (go-redis otherwise
// waits out its own 3 s read timeout, and retries), dials are short, and
// a failed command is not retried (the limiter falls back instead). The
// limiter's own Timeout is the tighter bound when it is the shorter.
func TuneRedisOptions(opt *redis.Options) {
	opt.ContextTimeoutEnabled = true
	opt.DialTimeout = RedisTimeout
	opt.ReadTimeout = RedisTimeout
	opt.WriteTimeout = RedisTimeout
	opt.PoolTimeout = RedisTimeout
	opt.MaxRetries = -1
	// go-redis retries a refused dial 5 times, 100 ms apart, by default:
	// the 1.7 s first calls took with Redis down.
	opt.DialerRetries = 1
	opt.DialerRetryTimeout = time.Millisecond
}

// Allow implements Limiter; it never fails (see RedisLimiter).
func (l *RedisLimiter) Allow(ctx context.Context, key string) (Decision, error) {
	if !l.tryRedis() {
		return l.local.Allow(ctx, key)
	}
	rctx, cancel := context.WithTimeout(ctx, l.Timeout)
	res, err := l.rl.Allow(rctx, l.prefix+key, redis_rate.Limit{Rate: l.limit.Calls, Burst: l.limit.Calls, Period: l.limit.Per})
	cancel()
	if err != nil {
		if ctx.Err() == nil { // Redis's fault, not a caller that has gone
			l.failed(fmt.Errorf("rate limit %s: %w", key, err))
		} else {
			l.settled(false)
		}
		return l.local.Allow(ctx, key)
	}
	l.settled(true)
	d := Decision{Allowed: res.Allowed > 0, Limit: l.limit, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !d.Allowed {
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d, nil
}

// Degraded reports whether the last decision was made per node (Redis
// unreachable or the circuit open).
func (l *RedisLimiter) Degraded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.degraded
}

// tryRedis says whether this call may ask Redis: always with the circuit
// closed; with it open, none until the cooldown has passed, then one at a
// time.
func (l *RedisLimiter) tryRedis() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.openTill.IsZero() {
		return true
	}
	if l.probing || l.now().Before(l.openTill) {
		l.degraded = true
		return false
	}
	l.probing = true
	return true
}

// failed opens the circuit for RedisCooldown after err.
func (l *RedisLimiter) failed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.degraded {
		l.log.Warn("leadsquared: redis rate limiter unreachable; limiting per node", "err", err, "cooldown", l.Cooldown.String())
	}
	l.openTill, l.probing, l.degraded = l.now().Add(l.Cooldown), false, true
}

// settled ends a probe; ok closes the circuit.
func (l *RedisLimiter) settled(ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.probing = false
	if ok {
		if l.degraded {
			l.log.Info("leadsquared: redis rate limiter answers again; limiting across nodes")
		}
		l.openTill, l.degraded = time.Time{}, false
	}
}
