package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/eventstore/feed"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/projections"
	"github.com/eventdesk/eventdesk/realtime"
)

// engine is Eventdesk wired over one database: the store, the projection
// runner, the event feed's hub, the application services and every HTTP
// surface. serve and bench build it the same way, and so does the test
// harness (api/apitest), through app.NewServices and api.New.
type engine struct {
	store  *postgres.Store
	runner *projections.Runner
	// linker links every ticket to its customer; serve runs it.
	linker *app.TicketLinker
	// sender sends the outbox's e-mails and SMS; serve runs it.
	sender *app.OutboxSender
	// hub is the node's one follower of the log, fanned out in memory to
	// follow streams; serve runs it and closes it on shutdown.
	hub *feed.Hub
	*app.Services
	keys *web.Idempotency
	api  *api.Router
	// stream is the realtime gateway (GET /v1/stream) over hub; serve
	// runs its presence and closes it on shutdown.
	stream *realtime.Gateway
}

// newEngine wires the engine over db. reg may be nil (no metrics); rdb
// is nil on a single node (limits stay in-process).
func newEngine(db *database, cfg config, log *slog.Logger, reg prometheus.Registerer, rdb *redis.Client) *engine {
	store := postgres.New(db.DB, log, postgres.WithGroupCommit(cfg.GroupCommit))
	runner := projections.NewRunner(db.DB.DB, store, store, log, cfg.PollInterval, allProjections()...)
	hub := feed.New(store, feed.Options{Poll: cfg.PollInterval, Logger: log})
	e := &engine{store: store, runner: runner, hub: hub, Services: app.NewServices(store, db.DB.DB,
		app.Config{FilesDir: filepath.Join(cfg.DataDir, "files"), MaxUploadBytes: int64(cfg.MaxUploadBytes), SMS: cfg.SMS})}
	e.linker = app.NewTicketLinker(e.Services, store, log, cfg.PollInterval)
	e.sender = newOutboxSender(e.Services, db.DB.DB, store, cfg, log)
	var limiter leadsquared.Limiter
	if rdb != nil {
		limiter = leadsquared.NewRedisLimiter(rdb, "eventdesk:", leadsquared.DefaultLimit, log)
	}
	e.Services.Listeners.PublicURL = cfg.PublicURL
	e.keys = &web.Idempotency{DB: db.DB.DB, Log: log, TTL: cfg.IdempotencyTTL}
	e.api = api.New(api.Deps{Services: e.Services, Keys: e.keys, Log: store, Feed: hub, Queries: projections.NewTicketQueries(db.DB.DB),
		Contacts: projections.NewContactQueries(db.DB.DB), DealQueries: projections.NewDealQueries(db.DB.DB),
		Waiter: runner, Limiter: limiter, Logger: log, Registry: reg, TrustedProxies: cfg.TrustedProxies})
	var presence realtime.PresenceStore
	if rdb != nil {
		presence = realtime.NewRedisPresence(rdb, "eventdesk:")
	}
	e.stream = realtime.New(streamAccess{e.Services}, store, hub, realtime.Options{AllowedOrigins: cfg.AllowedOrigins,
		QueueBytes: cfg.StreamQueueBytes, Presence: presence, Participants: streamAccess{e.Services}, Fail: e.api.Fail, Logger: log})
	if reg != nil {
		reg.MustRegister(e.stream.Metrics().Collectors()...)
	}
	e.api.Handle("GET /v1/stream", e.stream)
	return e
}

// openRedis connects to EVENTDESK_REDIS_URL; nil when it is unset. The
// client's timeouts are the limiter's (leadsquared.TuneRedisOptions). A
// Redis that does not answer now is logged, not fatal: nothing but the
// shared rate limit depends on it, and that falls back to a per-node limit
// until Redis answers (a node restarted during a Redis outage must serve).
func openRedis(ctx context.Context, cfg config, log *slog.Logger) (*redis.Client, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("EVENTDESK_REDIS_URL: %w", err)
	}
	leadsquared.TuneRedisOptions(opt)
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		log.Warn("redis does not answer; rate limits are per node until it does", "redis", redact(cfg.RedisURL), "err", err)
	}
	return rdb, nil
}

// handler is everything the engine serves over HTTP.
func (e *engine) handler() http.Handler { return e.api }
