package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventdesk/eventdesk/api/leadsquared"
)

// redisProc is a private redis-server of the drill, on its own port: the
// machine's Redis is shared and is never touched.
type redisProc struct {
	port   string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

func (p *redisProc) start() error {
	p.cmd = exec.Command("redis-server", "--port", p.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", p.dir)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start a private redis-server: %w", err)
	}
	exited := make(chan struct{})
	p.exited = exited
	cmd := p.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + p.port})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("private redis-server on port %s does not answer", p.port)
		}
	}
	return nil
}

func (p *redisProc) signal(s syscall.Signal) { _ = p.cmd.Process.Signal(s) }

func (p *redisProc) kill() {
	if p.cmd == nil {
		return
	}
	p.signal(syscall.SIGCONT)
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// lsqBurst sends calls LeadSquared calls as fast as one client can and
// reports how many were admitted (not 429), the slowest, and any answer
// that is neither admitted nor refused by the limit.
func lsqBurst(ctx context.Context, n *node, t tenantCreated, calls int) (admitted int, worst time.Duration, bad string) {
	h := map[string]string{leadsquared.HeaderAccessKey: t.LSQAccessKey, leadsquared.HeaderSecretKey: t.LSQSecretKey}
	// An unknown ticket: a cheap 404 once admitted.
	path := fmt.Sprintf("%s/api/tenants/%d/ticket/00000000-0000-4000-8000-000000000000/portal/activity", n.Base(), t.CompanyID)
	for range calls {
		a := do(ctx, http.MethodPost, path, h, leadsquared.SampleActivity)
		worst = max(worst, a.Took)
		switch {
		case a.Err != nil:
			bad = a.Err.Error()
		case a.Status == http.StatusTooManyRequests:
		case a.Status == http.StatusNotFound:
			admitted++
		default:
			bad = fmt.Sprintf("%d %.200s", a.Status, a.Body)
		}
	}
	return admitted, worst, bad
}

// redisDrill runs a server whose LeadSquared rate limit lives in a
// private redis-server, then pauses Redis (SIGSTOP: a hung server), resumes
// it, kills it, restarts the server while it is down, and starts Redis
// again. Each LeadSquared call must take at most the limiter's timeout
// (plus slack) whatever Redis does, the limit must hold per node while
// Redis is away (some calls refused, not all admitted), native commands
// must not wait on Redis, and limits must be shared in Redis again once
// it answers.
func redisDrill(ctx context.Context, d *drillEnv, r *drillResult) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	rp := &redisProc{port: port, dir: filepath.Join(d.dir, "redis")}
	if err := os.MkdirAll(rp.dir, 0o750); err != nil {
		return err
	}
	if err := rp.start(); err != nil {
		return err
	}
	defer func() { rp.kill() }()
	n, t, err := d.startNode(ctx, "drill_redis", "EVENTDESK_REDIS_URL=redis://127.0.0.1:"+port+"/0")
	defer n.Kill()
	if err != nil {
		return err
	}
	limit := leadsquared.DefaultLimit
	bound := leadsquared.RedisTimeout + 500*time.Millisecond // the timeout, and slack for a loaded machine
	calls := 2 * limit.Calls
	// most is the most a per-node limit may admit of calls sent over
	// elapsed: the burst and the refills.
	most := func(elapsed time.Duration) int {
		return limit.Calls + int(elapsed/(limit.Per/time.Duration(limit.Calls))) + 1
	}
	command := func(what string) {
		a := do(ctx, http.MethodPost, n.Base()+"/v1/tickets", bearer(t.APIKey), map[string]any{"title": "while Redis is " + what})
		r.check(a.Status == http.StatusCreated, "a native command while Redis is %s: %d %s", what, a.Status, a.Body)
		r.check(a.Took <= time.Second, "a native command while Redis is %s took %s", what, a.Took)
		r.fig("  native create while Redis is "+what, "%d in %s", a.Status, ms(a.Took))
	}
	phase := func(what string) {
		start := time.Now()
		admitted, worst, bad := lsqBurst(ctx, n, t, calls)
		elapsed := time.Since(start)
		r.fig("LeadSquared, Redis "+what, "%d of %d calls admitted in %s, slowest %s", admitted, calls, ms(elapsed), ms(worst))
		r.check(bad == "", "LeadSquared with Redis %s: %s", what, bad)
		r.check(worst <= bound, "LeadSquared with Redis %s: slowest call %s, want at most %s", what, worst, bound)
		r.check(admitted >= 1 && admitted <= most(elapsed), "LeadSquared with Redis %s: %d of %d calls admitted in %s, want 1 to %d (the limit, per node)",
			what, admitted, calls, elapsed, most(elapsed))
	}

	phase("healthy")
	rp.signal(syscall.SIGSTOP)
	phase("paused (SIGSTOP)")
	command("paused")
	rp.signal(syscall.SIGCONT)
	time.Sleep(leadsquared.RedisCooldown + 200*time.Millisecond)
	phase("resumed")
	rp.kill()
	phase("down")
	n.Kill()
	restart := time.Now()
	if err := n.Start(ctx); err != nil {
		r.failf("serve does not start while Redis is down: %v", err)
		return nil
	}
	r.fig("serve restarted while Redis is down", "ready in %s", ms(time.Since(restart)))
	// A fresh process's first LeadSquared call verifies the keys' hash
	// (slow by design, then cached): not Redis's delay, so not measured.
	lsqBurst(ctx, n, t, 1)
	command("down")
	phase("down, after a restart")

	// Redis back: the limit is shared again, i.e. counted in Redis.
	if err := rp.start(); err != nil {
		return err
	}
	back := time.Now()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer rdb.Close()
	key := "rate:eventdesk:leadsquared:" + t.LSQAccessKey
	shared := false
	for time.Since(back) < 3*leadsquared.RedisCooldown && !shared {
		lsqBurst(ctx, n, t, 1)
		shared = rdb.Exists(ctx, key).Val() == 1
		time.Sleep(100 * time.Millisecond)
	}
	r.check(shared, "Redis answers again but the limit is not counted there after %s", 3*leadsquared.RedisCooldown)
	r.fig("limit counted in Redis again", "%s after Redis answers (cooldown %s)", ms(time.Since(back)), leadsquared.RedisCooldown)
	r.fig("documented bound per call", "RedisTimeout %s (checked with %s slack); per-node limit %s", leadsquared.RedisTimeout,
		bound-leadsquared.RedisTimeout, strconv.Itoa(limit.Calls)+" per "+limit.Per.String())
	r.check(n.Alive(), "the server did not stay up")
	return nil
}
