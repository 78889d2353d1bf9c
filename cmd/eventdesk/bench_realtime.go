package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
)

// realtimeOptions sizes the realtime figure group.
type realtimeOptions struct {
	sockets      int    // idle sockets, and subscribed sockets under write load
	tickets      int    // tickets the subscribed sockets spread over
	stormClients int    // clients of the resume storm
	stormBehind  int    // events each storm client is behind
	burst        int    // comments a ticket in the fan-out burst
	idleOnly     bool   // only the idle socket memory
	memProfile   string // a heap profile with the idle sockets open, if set
	// pacedShare, if positive, adds the commit → delivery figure with the
	// comments paced to this share of the rate the saturated run reached.
	pacedShare float64
	watch      int // tickets each subscribed socket watches (0 means 1)
}

// benchSocketsProcess is the command that runs the load generator (this
// program's bench-sockets); tests replace it.
var benchSocketsProcess = func(ctx context.Context) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, exe, "bench-sockets"), nil
}

// statsFlush is how long the resume storm waits for PostgreSQL's
// backends to publish their statistics (an idle backend flushes them
// within 10 s).
var statsFlush = 11 * time.Second

// socketsProc is a running load generator.
type socketsProc struct {
	cpu float64 // seconds of CPU the process used, once finished
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startSockets starts a generator with spec and waits until it reports
// its sockets open.
func startSockets(ctx context.Context, spec socketsSpec) (*socketsProc, socketsReady, error) {
	cmd, err := benchSocketsProcess(ctx)
	if err != nil {
		return nil, socketsReady{}, err
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, socketsReady{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, socketsReady{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, socketsReady{}, err
	}
	p := &socketsProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	var ready socketsReady
	if err := p.send(spec); err == nil {
		err = readJSONLine(p.out, &ready)
	}
	if err == nil && ready.Error != "" {
		err = errors.New(ready.Error)
	}
	if err != nil {
		p.kill()
		return nil, ready, fmt.Errorf("bench-sockets: %w", err)
	}
	return p, ready, nil
}

func (p *socketsProc) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = p.in.Write(append(b, '\n'))
	return err
}

// finish sends g, reads the result and waits for the process to end.
func (p *socketsProc) finish(g socketsGo) (socketsResult, error) {
	var res socketsResult
	err := p.send(g)
	if err == nil {
		err = readJSONLine(p.out, &res)
	}
	if err == nil && res.Error != "" {
		err = errors.New(res.Error)
	}
	_ = p.in.Close()
	if werr := p.cmd.Wait(); err == nil && werr != nil {
		err = werr
	}
	if ps := p.cmd.ProcessState; ps != nil {
		p.cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if err != nil {
		return res, fmt.Errorf("bench-sockets: %w", err)
	}
	return res, nil
}

func (p *socketsProc) kill() {
	_ = p.in.Close()
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// processCPU is the CPU time this process has used, in seconds (its
// PostgreSQL server's not included).
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// serverMemory is the bench process's heap and goroutine stacks in use,
// and its resident set, after a garbage collection.
func serverMemory() (heap, stack, rss uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			rss = pages * uint64(os.Getpagesize())
		}
	}
	return ms.HeapInuse, ms.StackInuse, rss
}

// writeHeapProfile writes the heap profile of the last GC to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// realtimeBench measures the gateway (GET /v1/stream) of a server in this
// process against a load generator in another: the memory of idle
// sockets; commit → delivery latency and deliveries/s of sockets
// subscribed to tickets while comments are written over HTTP with the
// projections running, as fast as the writers go and paced to a share of
// that rate; the fan-out of a burst, alone and beside paced HTTP writes;
// and a resume storm.
func realtimeBench(ctx context.Context, c *cli, o benchOptions, say func(string)) ([]storebench.Figure, error) {
	ro := o.realtime
	fds := raiseFDLimit()
	db, drop, err := scratch(ctx, c, "realtime")
	if err != nil {
		return nil, err
	}
	defer drop()
	b, err := startBenchServer(ctx, c, db, "bench-realtime")
	if err != nil {
		return nil, err
	}
	defer b.close()
	e := b.e
	hctx, stopHub := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); _ = e.hub.Run(hctx) }()
	go func() { defer bg.Done(); _ = e.stream.Run(hctx) }()
	defer func() { e.stream.Close(); e.hub.Close(); stopHub(); bg.Wait() }()
	url := "ws://" + b.addr + "/v1/stream"
	key := b.creds.APIKey
	var figs []storebench.Figure
	// keep adds a measured figure (one that failed its check included).
	keep := func(f storebench.Figure, err error) error {
		if f.Name != "" {
			figs = append(figs, f)
		}
		return err
	}

	// 1. Idle sockets.
	say(fmt.Sprintf("realtime: %d idle sockets (descriptor limit %d)", ro.sockets, fds))
	if ro.memProfile != "" {
		// Every allocation from here on is in the profile, not one per
		// 512 KB: the sockets' objects are a few KB each.
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	heap0, stack0, rss0 := serverMemory()
	goroutines0 := runtime.NumGoroutine()
	p, ready, err := startSockets(ctx, socketsSpec{URL: url, Key: key, Sockets: ro.sockets})
	if err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // the server's side of the last sockets settles
	heap1, stack1, rss1 := serverMemory()
	goroutines := runtime.NumGoroutine()
	if ro.memProfile != "" {
		if err := writeHeapProfile(ro.memProfile); err != nil {
			p.kill()
			return nil, err
		}
	}
	if _, err := p.finish(socketsGo{}); err != nil {
		return nil, err
	}
	n := float64(ro.sockets)
	kb := func(before, after uint64) float64 { return (float64(after) - float64(before)) / n / 1000 }
	perHeap, perRSS := kb(heap0+stack0, heap1+stack1), kb(rss0, rss1)
	figs = append(figs, storebench.Figure{Name: "realtime_idle_socket_memory", Ops: int64(ro.sockets), Seconds: ready.DialSeconds,
		Rate: perHeap, Unit: "KB/socket", Extra: map[string]float64{"heap_stack_kb_per_socket": perHeap,
			"heap_kb_per_socket": kb(heap0, heap1), "stack_kb_per_socket": kb(stack0, stack1), "rss_kb_per_socket": perRSS,
			"goroutines_per_socket": float64(goroutines-goroutines0) / n, "connects_per_s": n / ready.DialSeconds}})
	if ro.idleOnly {
		return figs, nil
	}

	// 2. Subscribed sockets under write load.
	client := b.client(o.clients)
	defer client.close()
	say(fmt.Sprintf("realtime: creating %d tickets", ro.tickets))
	ids, err := createTickets(ctx, client, o.clients, ro.tickets)
	if err != nil {
		return nil, err
	}
	topics := make([]string, len(ids))
	for i, id := range ids {
		topics[i] = "ticket:" + id
	}
	sat, err := deliveryUnderWrites(ctx, client, ro, o, url, key, ids, topics, 0, say)
	if err := keep(sat, err); err != nil {
		return figs, err
	}
	pacedRate := ro.pacedShare * sat.Extra["writes_per_s"] // 0: no paced figures
	if pacedRate > 0 {
		if err := keep(deliveryUnderWrites(ctx, client, ro, o, url, key, ids, topics, pacedRate, say)); err != nil {
			return figs, err
		}
	}

	// 2b. The same sockets, fed as fast as the store takes appends; then
	// again while HTTP comments on other tickets keep the API, the store
	// and the projections busy.
	if err := keep(fanOutBurst(ctx, db, b, ro, url, ids, topics, nil, say)); err != nil {
		return figs, err
	}
	if pacedRate > 0 {
		say(fmt.Sprintf("realtime: creating %d unwatched tickets", o.clients))
		others, err := createTickets(ctx, client, o.clients, o.clients)
		if err != nil {
			return figs, err
		}
		bg := &burstWrites{client: client, clients: o.clients, ids: others, rate: pacedRate}
		if err := keep(fanOutBurst(ctx, db, b, ro, url, ids, topics, bg, say)); err != nil {
			return figs, err
		}
	}

	// 3. Resume storm.
	return figs, keep(resumeStorm(ctx, b, ro, url, say))
}

// deliveryUnderWrites measures commit → delivery on ro.sockets sockets
// subscribed over the tickets of ids (topics[i] naming ids[i]) while
// o.clients HTTP clients comment on those tickets for o.duration: as fast
// as they go (rate 0: the machine saturated), or paced to rate comments/s
// in all (each client posts at its slots of a fixed schedule, at once
// when it is behind). It checks every socket received every comment on
// its ticket exactly once.
func deliveryUnderWrites(ctx context.Context, client *benchClient, ro realtimeOptions, o benchOptions, url, key string,
	ids, topics []string, rate float64, say func(string)) (storebench.Figure, error) {
	name, pace := "realtime_commit_to_delivery", "as fast as they go"
	if rate > 0 {
		name, pace = "realtime_commit_to_delivery_paced", fmt.Sprintf("paced to %.0f/s", rate)
	}
	say(fmt.Sprintf("realtime: %d sockets subscribed over %d tickets (%d each), HTTP comments from %d clients %s for %s",
		ro.sockets, ro.tickets, max(ro.watch, 1), o.clients, pace, o.duration))
	p, _, err := startSockets(ctx, socketsSpec{URL: url, Key: key, Sockets: ro.sockets, Topics: topics, Watch: ro.watch,
		Type: ticket.HistoryLogged{}.EventType()})
	if err != nil {
		return storebench.Figure{}, err
	}
	cpu0 := processCPU()
	written := make([]atomic.Int64, len(ids))
	start := time.Now()
	if err := postComments(ctx, client, o.clients, ids, rate, start.Add(o.duration), written); err != nil {
		p.kill()
		return storebench.Figure{}, err
	}
	writeSecs := time.Since(start).Seconds()
	expect := make(map[string]int, len(ids))
	for i := range written {
		expect[topics[i]] = int(written[i].Load())
	}
	res, err := p.finish(socketsGo{Expect: expect, Timeout: time.Minute})
	if err != nil {
		return storebench.Figure{}, err
	}
	writes := float64(sumWritten(written))
	return deliveredFigure(name, "deliveries/s", res, ro.sockets, processCPU()-cpu0, p.cpu, map[string]float64{
		"sockets": float64(ro.sockets), "tickets": float64(ro.tickets), "watch": float64(max(ro.watch, 1)),
		"writes": writes, "writes_per_s": writes / writeSecs, "paced_per_s": rate})
}

// deliveredFigure is figure name of what the generator's sockets received
// (res, sockets of them) and the CPU seconds the server and the generator
// spent on it, with extra; its error says if a delivery did not arrive
// exactly once.
func deliveredFigure(name, unit string, res socketsResult, sockets int, serverCPU, generatorCPU float64,
	extra map[string]float64) (storebench.Figure, error) {
	extra["missing"], extra["duplicates"], extra["extra"] = float64(res.Missing), float64(res.Duplicates), float64(res.Extra)
	extra["server_cpu_s"], extra["generator_cpu_s"] = serverCPU, generatorCPU
	f := storebench.Figure{Name: name, Ops: res.Deliveries, Seconds: res.Seconds, Rate: float64(res.Deliveries) / res.Seconds,
		Unit: unit, P50ms: res.P50ms, P99ms: res.P99ms, Extra: extra}
	if err := exactlyOnce(res, sockets); err != nil {
		return f, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// createTickets creates n tickets through the API from clients workers
// and returns their ids.
func createTickets(ctx context.Context, client *benchClient, clients, n int) ([]string, error) {
	ids := make([]string, n)
	var next atomic.Int64
	err := workers(ctx, clients, func(ctx context.Context, w int) error {
		for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
			status, rb, err := client.post(ctx, w, "/v1/tickets", []byte(`{"title":"Realtime bench","description":"watched"}`))
			if err != nil {
				return err
			}
			if status != http.StatusCreated {
				return fmt.Errorf("POST /v1/tickets: %d %s", status, rb)
			}
			var created struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(rb, &created); err != nil {
				return err
			}
			ids[i] = created.ID
		}
		return nil
	})
	return ids, err
}

// postComments has clients workers comment on the tickets of ids until
// end or until ctx ends (which is no failure): as fast as they go (rate
// 0), or paced to rate comments/s in all, each client posting at its
// slots of a fixed schedule (at once when it is behind). written[i]
// counts the comments on ids[i].
func postComments(ctx context.Context, client *benchClient, clients int, ids []string, rate float64, end time.Time,
	written []atomic.Int64) error {
	comment := []byte(`{"type":"comment","value":{"text":"delivered?"}}`)
	start := time.Now()
	err := workers(ctx, clients, func(ctx context.Context, w int) error {
		for i := w; time.Now().Before(end) && ctx.Err() == nil; i += clients {
			if rate > 0 { // slot i of the schedule
				if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
					select {
					case <-ctx.Done():
						return nil
					case <-time.After(wait):
					}
				}
			}
			t := (i * 7919) % len(ids)
			status, rb, err := client.post(ctx, w, "/v1/tickets/"+ids[t]+"/history", comment)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return err
			}
			if status != http.StatusCreated {
				return fmt.Errorf("POST history: %d %s", status, rb)
			}
			written[t].Add(1)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// sumWritten is the comments counted in written.
func sumWritten(written []atomic.Int64) int64 {
	var n int64
	for i := range written {
		n += written[i].Load()
	}
	return n
}

// exactlyOnce checks every socket received every expected event once.
func exactlyOnce(res socketsResult, sockets int) error {
	if res.Missing != 0 || res.Duplicates != 0 || res.Extra != 0 || res.Complete != sockets {
		return fmt.Errorf("not every delivery arrived exactly once: %d of %d sockets complete, %d missing, %d duplicates, %d extra; %d errors (%s)",
			res.Complete, sockets, res.Missing, res.Duplicates, res.Extra, res.Errors, res.FirstError)
	}
	return nil
}

// workers runs f from n goroutines and returns their first error.
func workers(ctx context.Context, n int, f func(ctx context.Context, w int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[w] = f(ctx, w) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pgCounters are pg_stat_database's transactions and tuples read of the
// current database.
func pgCounters(ctx context.Context, b *benchServer) (xacts, tuples int64, err error) {
	if _, err = b.e.store.DB().ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return 0, 0, err
	}
	err = b.e.store.DB().QueryRowContext(ctx, `SELECT xact_commit + xact_rollback, tup_returned + tup_fetched
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&xacts, &tuples)
	return xacts, tuples, err
}

// resumeStorm loads tickets with ro.stormBehind comments each, then has
// ro.stormClients clients connect at once, each subscribing to one of
// them after its creation, and times until every client has received
// all of its comments. The projections are stopped; PostgreSQL's
// counters over the storm, less their idle rate, are the queries it took.
func resumeStorm(ctx context.Context, b *benchServer, ro realtimeOptions, url string, say func(string)) (storebench.Figure, error) {
	nt := max(1, ro.stormClients/20)
	say(fmt.Sprintf("realtime: resume storm: loading %d tickets of %d comments", nt, ro.stormBehind))
	b.stopRunner()
	topics := make([]string, nt)
	after := make(map[string]string, nt)
	var mu sync.Mutex
	var next atomic.Int64
	by := domain.Actor{Kind: domain.ActorAgent, ID: "bench"}
	if err := workers(ctx, 4, func(ctx context.Context, _ int) error {
		for k := int(next.Add(1)) - 1; k < nt; k = int(next.Add(1)) - 1 {
			id := uuid.NewString()
			at := time.Now().UTC()
			tk, err := ticket.New(ticket.CreateTicket{By: by, Source: domain.SourceAPI, ID: id, TenantID: b.tenant.ID,
				Number: 2_000_000 + int64(k), Title: fmt.Sprintf("Storm ticket %d", k), Description: "resumed"}, ticket.DefaultConfig(), at)
			if err != nil {
				return err
			}
			for i := range ro.stormBehind {
				if err := tk.LogHistory(ticket.LogHistory{By: by, Source: domain.SourceAPI, EntryID: uuid.NewString(),
					Type: ticket.HistoryComment, Value: json.RawMessage(fmt.Sprintf(`{"text":"missed %d"}`, i))}, at); err != nil {
					return err
				}
			}
			data, err := pendingTicketEvents(tk)
			if err != nil {
				return err
			}
			// At most 1,000 events an append: the creation first.
			var creation eventstore.Position
			expected := eventstore.NoStream
			for len(data) > 0 {
				chunk := data[:min(len(data), 1000)]
				data = data[len(chunk):]
				res, err := b.e.store.Append(ctx, eventstore.StreamRef{TenantID: b.tenant.ID, Type: ticket.StreamType, ID: id},
					expected, chunk)
				if err != nil {
					return err
				}
				if creation.IsZero() {
					creation = res.Positions[0]
				}
				expected = eventstore.Exact(res.LastVersion)
			}
			mu.Lock()
			topics[k] = "ticket:" + id
			after[topics[k]] = creation.String() // the creation: every comment is after it
			mu.Unlock()
		}
		return nil
	}); err != nil {
		return storebench.Figure{}, err
	}
	p, _, err := startSockets(ctx, socketsSpec{URL: url, Key: b.creds.APIKey, Sockets: ro.stormClients, Topics: topics, After: after})
	if err != nil {
		return storebench.Figure{}, err
	}
	// Idle rate first (the hub's follower polls), then the storm.
	say(fmt.Sprintf("realtime: resume storm: waiting %s twice for PostgreSQL's statistics", statsFlush))
	time.Sleep(statsFlush)
	x0, t0, err := pgCounters(ctx, b)
	if err != nil {
		p.kill()
		return storebench.Figure{}, err
	}
	at0 := time.Now()
	time.Sleep(statsFlush)
	x1, t1, err := pgCounters(ctx, b)
	if err != nil {
		p.kill()
		return storebench.Figure{}, err
	}
	at1 := time.Now()
	say(fmt.Sprintf("realtime: resume storm: %d clients reconnect at once, each %d events behind", ro.stormClients, ro.stormBehind))
	expect := make(map[string]int, nt)
	for _, t := range topics {
		expect[t] = ro.stormBehind
	}
	cpu0 := processCPU()
	res, err := p.finish(socketsGo{Expect: expect, Timeout: 2 * time.Minute})
	if err != nil {
		return storebench.Figure{}, err
	}
	serverCPU := processCPU() - cpu0
	time.Sleep(statsFlush)
	x2, t2, err := pgCounters(ctx, b)
	if err != nil {
		return storebench.Figure{}, err
	}
	idle := time.Since(at1).Seconds() / at1.Sub(at0).Seconds()
	xacts := float64(x2-x1) - float64(x1-x0)*idle
	tuples := float64(t2-t1) - float64(t1-t0)*idle
	return deliveredFigure("realtime_resume_storm", "events/s", res, ro.stormClients, serverCPU, p.cpu, map[string]float64{
		"clients": float64(ro.stormClients), "behind": float64(ro.stormBehind), "caught_up_s": res.Seconds,
		"pg_xacts": max(0, xacts), "pg_tuples_read": max(0, tuples), "resubscribes": float64(res.Resubs)})
}
