package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/migrations"
	"github.com/eventdesk/eventdesk/realtime/console"
)

func serveCmd(a *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve HTTP: health, readiness and metrics, on EVENTDESK_HTTP_ADDR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), a.Cfg, a.Log)
		},
	}
}

// serve runs the engine until ctx ends, then drains HTTP (ending open
// follow streams at once), stops the background work and closes the
// store, the database and the embedded cluster, in that order, within
// cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("EVENTDESK_DATA_DIR: %w", err)
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	rdb, err := openRedis(ctx, cfg, log)
	if err != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, db.Close(sctx))
	}
	reg, metrics := newRegistry(db.DB.DB)
	e := newEngine(db, cfg, log, reg, rdb)
	reg.MustRegister(feedMetrics(e.hub)...)
	store := e.store
	e.api.Handle("GET /healthz", web.Healthz())
	e.api.Handle("GET /readyz", web.Readyz(readiness(db, log)))
	e.api.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	e.api.Handle("GET "+console.Prefix, console.Handler())
	e.api.Handle("GET /console", console.Redirect())
	srv := newHTTPServer(cfg, e.handler(), log)
	// Shutdown waits for requests to finish, and a follow stream never
	// does by itself: closing the hub ends every one at once.
	srv.RegisterOnShutdown(e.hub.Close)
	// Shutdown does not see websockets either: every socket gets 1001.
	srv.RegisterOnShutdown(e.stream.Close)

	// Everything from here on is undone by shutdown.
	bgctx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var bg errgroup.Group
	shutdown := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		herr := srv.Shutdown(sctx)
		e.stream.Close() // also when serving failed; Shutdown's hooks do not wait
		serr := e.stream.Wait(sctx)
		stopBG()
		werr := bg.Wait()
		var rerr error
		if rdb != nil {
			rerr = rdb.Close()
		}
		return errors.Join(herr, serr, werr, store.Close(), rerr, db.Close(sctx))
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return errors.Join(fmt.Errorf("EVENTDESK_HTTP_ADDR: %w", err), shutdown())
	}
	bg.Go(func() error {
		// Wake-ups from other processes' appends; a hint only, so a failure
		// is logged and polling carries on.
		if err := store.Listen(bgctx, db.URL); err != nil {
			log.Warn("listen for new events failed; relying on polling", "err", err)
		}
		return nil
	})
	bg.Go(func() error { metrics.refresh(bgctx, store, e.runner, log); return nil })
	bg.Go(func() error { return e.runner.Run(bgctx) })
	bg.Go(func() error { return e.linker.Run(bgctx) })
	bg.Go(func() error { return e.sender.Run(bgctx) })
	bg.Go(func() error { return e.hub.Run(bgctx) })
	bg.Go(func() error { return e.stream.Run(bgctx) })
	// Idempotency keys older than EVENTDESK_IDEMPOTENCY_TTL go.
	bg.Go(func() error { _ = e.keys.Sweep(bgctx, idempotencySweepEvery); return nil })

	redisUse := "none (single node: in-process rate limits)"
	if cfg.RedisURL != "" {
		redisUse = redact(cfg.RedisURL) + " (LeadSquared rate limits, realtime presence)"
	}
	database := redact(db.URL)
	if db.embedded != nil {
		database = "embedded " + database
	}
	log.Info("serving", "addr", ln.Addr().String(), "database", database, "redis", redisUse,
		"event_feed", "in-process fan-out: one follower of the log per node", "migrations_applied", db.Applied)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return errors.Join(fmt.Errorf("http: %w", err), shutdown())
	case <-ctx.Done():
	}
	log.Info("shutting down", "cause", context.Cause(ctx).Error(), "timeout", cfg.ShutdownTimeout.String())
	if err := shutdown(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// idempotencySweepEvery is how often expired idempotency keys are deleted.
const idempotencySweepEvery = 10 * time.Minute

// schemaEvery is how long a look at the migration status stays fresh.
// Looking takes goose's advisory lock, which every node's probes share, so
// readiness does not look on every probe.
const schemaEvery = time.Minute

// readiness reports the database unreachable or its schema behind. The
// reasons it returns are shown to probes, so the underlying errors are
// logged instead.
func readiness(db *database, log *slog.Logger) func(context.Context) error {
	var (
		mu      sync.Mutex
		checked time.Time // of the last successful look; zero: never
		pending int
	)
	return func(ctx context.Context) error {
		if err := db.PingContext(ctx); err != nil {
			log.WarnContext(ctx, "not ready: database unreachable", "err", err)
			return errors.New("database unreachable")
		}
		mu.Lock()
		defer mu.Unlock()
		if time.Since(checked) > schemaEvery {
			n, err := migrations.Pending(ctx, db.DB.DB)
			switch {
			case err == nil:
				checked, pending = time.Now(), n
			case checked.IsZero():
				log.WarnContext(ctx, "not ready: migration status unknown", "err", err)
				return errors.New("migration status unknown")
			default: // keep the last answer; the lock may just be busy
				log.WarnContext(ctx, "migration status unknown; using the last one", "err", err)
			}
		}
		if pending > 0 {
			return fmt.Errorf("%d migration(s) pending; run eventdesk migrate", pending)
		}
		return nil
	}
}

// newHTTPServer is the engine's HTTP server: a request's headers must
// arrive within 10 s and the whole request, body included, within
// cfg.HTTPReadTimeout, so that a body sent a byte at a time (or never)
// cannot hold a connection; an idle keep-alive connection is closed after
// cfg.HTTPIdleTimeout. A follow stream is not cut: net/http clears the
// read deadline once the body is read, and there is no WriteTimeout.
func newHTTPServer(cfg config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, cfg.HTTPReadTimeout),
		ReadTimeout:       cfg.HTTPReadTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
