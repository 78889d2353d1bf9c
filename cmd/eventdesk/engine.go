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
	"github.com/eventdesk/eventdesk/api/fynd"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/api/support"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/projections"
)

// engine is Eventdesk wired over one database: the store, the projection
// runner, the application services and every HTTP surface. serve and bench
// build it the same way.
type engine struct {
	store   *postgres.Store
	runner  *projections.Runner
	tickets *app.Tickets
	tenants *app.Tenants
	files   *app.Files
	forms   *app.Forms
	rooms   *app.VideoRooms
	api     *api.Server
}

// newEngine wires the engine over db. reg may be nil (no metrics); rdb
// is nil on a single node (limits and fan-out stay in-process).
func newEngine(db *database, cfg config, log *slog.Logger, reg prometheus.Registerer, rdb *redis.Client) *engine {
	store := postgres.New(db.DB, log, postgres.WithGroupCommit(cfg.GroupCommit))
	runner := projections.NewRunner(db.DB.DB, store, store, log, cfg.PollInterval, allProjections()...)
	queries := projections.NewTicketQueries(db.DB.DB)
	e := &engine{store: store, runner: runner,
		tickets: app.NewTickets(store, db.DB.DB, time.Now), tenants: app.NewTenants(db.DB.DB, store, time.Now)}
	e.files = app.NewFiles(filepath.Join(cfg.DataDir, "files"), int64(cfg.MaxUploadBytes), db.DB.DB, e.tickets)
	e.forms = app.NewForms(store, e.tickets, time.Now)
	e.rooms = app.NewVideoRooms(store, e.tickets, e.tenants, time.Now)
	e.api = api.New(api.Deps{DB: db.DB.DB, Log: store, Tickets: e.tickets, Tenants: e.tenants, Files: e.files,
		Forms: e.forms, Rooms: e.rooms,
		Queries: queries, Waiter: runner, Logger: log, Registry: reg})
	var limiter leadsquared.Limiter = leadsquared.NewMemoryLimiter(leadsquared.DefaultLimit, nil)
	if rdb != nil {
		limiter = leadsquared.NewRedisLimiter(rdb, "eventdesk:", leadsquared.DefaultLimit)
	}
	leadsquared.New(leadsquared.Deps{Tickets: e.tickets, Tenants: e.tenants, Limiter: limiter, Logger: log}).Register(e.api)
	fynd.New(fynd.Deps{Tickets: e.tickets, Tenants: e.tenants, Forms: e.forms, Rooms: e.rooms, Logger: log}).Register(e.api)
	support.New(support.Deps{Tickets: e.tickets, Tenants: e.tenants, Files: e.files, Queries: queries,
		Waiter: runner, Logger: log}).Register(e.api)
	return e
}

// openRedis connects to EVENTDESK_REDIS_URL; nil when it is unset.
func openRedis(ctx context.Context, cfg config) (*redis.Client, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("EVENTDESK_REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis at %s does not answer (unset EVENTDESK_REDIS_URL for a single node): %w", redact(cfg.RedisURL), err)
	}
	return rdb, nil
}

// handler is everything the engine serves over HTTP.
func (e *engine) handler() http.Handler { return e.api }
