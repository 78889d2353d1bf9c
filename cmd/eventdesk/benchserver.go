package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
)

// benchServer is what every HTTP figure group of bench runs against: the
// engine over a scratch database, its projection runner, the API served
// on a loopback port, and one tenant.
type benchServer struct {
	e       *engine
	addr    string
	tenant  app.Tenant
	creds   app.Credentials
	srv     *http.Server
	stopRun func()
}

// startBenchServer wires the engine over db (polling every 50 ms, as a
// busy node), starts its runner and serves it; close stops everything.
func startBenchServer(ctx context.Context, c *cli, db *database, tenantName string) (*benchServer, error) {
	cfg := c.Cfg
	cfg.PollInterval = 50 * time.Millisecond
	b := &benchServer{e: newEngine(db, cfg, c.Log, nil, nil)}
	b.startRunner(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.close()
		return nil, err
	}
	b.addr = ln.Addr().String()
	b.srv = &http.Server{Handler: b.e.handler(), ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln) //nolint:errcheck // ends with close
	if b.tenant, b.creds, err = b.e.Tenants.Create(ctx, tenantName); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// client returns a load generator of workers clients for the tenant's
// native API.
func (b *benchServer) client(workers int) *benchClient {
	return newBenchClient(b.addr, workers, map[string]string{
		"Authorization": "Bearer " + b.creds.APIKey, "Content-Type": "application/json"})
}

// startRunner runs the projections until stopRunner.
func (b *benchServer) startRunner(ctx context.Context) {
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); b.e.runner.Run(rctx) }()
	b.stopRun = func() { cancel(); <-done }
}

// stopRunner stops the projections (if running) and waits for them.
func (b *benchServer) stopRunner() {
	if b.stopRun != nil {
		b.stopRun()
		b.stopRun = nil
	}
}

func (b *benchServer) close() {
	if b.srv != nil {
		b.srv.Close()
	}
	b.stopRunner()
	b.e.store.Close()
}

// catchUp times projection name, stopped by the caller while the log
// grew, catching up from its checkpoint to head (a position of an event it
// reads): the figure counts the events of streamType it had to apply.
func (b *benchServer) catchUp(ctx context.Context, figure, name, streamType string, head eventstore.Position, timeout time.Duration) (storebench.Figure, error) {
	before, err := b.e.store.Checkpoint(ctx, name)
	if err != nil {
		return storebench.Figure{}, err
	}
	pending, err := b.e.store.Count(ctx, eventstore.Query{StreamType: streamType, After: before}, 1<<62)
	if err != nil {
		return storebench.Figure{}, err
	}
	start := time.Now()
	b.startRunner(ctx)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	err = b.e.runner.WaitFor(wctx, name, head)
	cancel()
	if err != nil {
		return storebench.Figure{}, fmt.Errorf("%s catch-up: %w", name, err)
	}
	secs := time.Since(start).Seconds()
	return storebench.Figure{Name: figure, Ops: pending, Seconds: secs, Rate: float64(pending) / secs, Unit: "events/s"}, nil
}
