package main

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/app"
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

// newEngine wires the engine over db. reg may be nil (no metrics).
func newEngine(db *database, cfg config, log *slog.Logger, reg prometheus.Registerer) *engine {
	store := postgres.New(db.DB, log)
	runner := projections.NewRunner(db.DB.DB, store, store, log, cfg.PollInterval, allProjections()...)
	e := &engine{store: store, runner: runner,
		tickets: app.NewTickets(store, time.Now), tenants: app.NewTenants(db.DB.DB, store, time.Now)}
	e.files = app.NewFiles(filepath.Join(cfg.DataDir, "files"), int64(cfg.MaxUploadBytes), db.DB.DB, e.tickets)
	e.forms = app.NewForms(store, e.tickets, time.Now)
	e.rooms = app.NewVideoRooms(store, e.tickets, e.tenants, time.Now)
	e.api = api.New(api.Deps{DB: db.DB.DB, Log: store, Tickets: e.tickets, Tenants: e.tenants, Files: e.files,
		Forms: e.forms, Rooms: e.rooms,
		Queries: projections.NewTicketQueries(db.DB.DB), Waiter: runner, Logger: log, Registry: reg})
	return e
}

// handler is everything the engine serves over HTTP.
func (e *engine) handler() http.Handler { return e.api }
