package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jmoiron/sqlx"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/migrations"
)

// database is an open, migrated database and, when the configured server
// was unreachable, the embedded cluster that stands in for it.
type database struct {
	*sqlx.DB
	// URL is the URL actually in use, for connections of their own
	// (LISTEN). It differs from the configured one under the embedded
	// cluster.
	URL string
	// Applied is how many migrations were pending when it opened; all are
	// applied now.
	Applied  int
	embedded *embeddedPG
}

// Close closes the pool, then stops the embedded cluster if this process
// started it.
func (d *database) Close(ctx context.Context) error {
	err := d.DB.Close()
	if d.embedded != nil {
		err = errors.Join(err, d.embedded.Stop(ctx))
	}
	return err
}

// openDatabase creates the configured database if it is missing, applies
// pending migrations and returns it open. If the server does not answer at
// the default URL and PostgreSQL's server binaries are installed, it starts
// a private cluster under cfg.EmbeddedDir and uses that instead.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger) (*database, error) {
	dsn := cfg.DatabaseURL
	err := postgres.EnsureDatabase(ctx, dsn)
	var pg *embeddedPG
	if err != nil && unreachable(err) && ctx.Err() == nil {
		if !cfg.DefaultDatabase || cfg.EmbeddedPG == embeddedNever {
			return nil, fmt.Errorf("PostgreSQL is not reachable at %s (check EVENTDESK_DATABASE_URL): %w", redact(dsn), err)
		}
		bin, ferr := findPGBin(cfg.PGBinDirs, filepath.Join(cfg.EmbeddedDir, "data"))
		if ferr != nil {
			return nil, fmt.Errorf("PostgreSQL is not reachable at %s and its server binaries (initdb, pg_ctl) are not installed: set EVENTDESK_DATABASE_URL to a reachable server or install PostgreSQL", redact(dsn))
		}
		log.Warn("postgresql unreachable; starting the embedded cluster", "database", redact(dsn), "dir", cfg.EmbeddedDir, "err", err)
		if pg, err = newEmbeddedPG(cfg.EmbeddedDir, bin, log); err != nil {
			return nil, err
		}
		if err := pg.Start(ctx); err != nil {
			return nil, err
		}
		dsn = pg.URL(dbName(cfg.DatabaseURL))
		err = postgres.EnsureDatabase(ctx, dsn)
	}
	fail := func(err error) (*database, error) {
		if pg != nil {
			err = errors.Join(err, pg.Stop(context.WithoutCancel(ctx)))
		}
		return nil, err
	}
	if err != nil {
		return fail(err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.OpenOptions{MaxConns: cfg.DBMaxConns, IdleInTransactionTimeout: cfg.IdleInTxTimeout})
	if err != nil {
		return fail(err)
	}
	d := &database{DB: db, URL: dsn, embedded: pg}
	before, err := migrations.Pending(ctx, db.DB)
	if err == nil {
		err = migrations.Up(ctx, db.DB)
	}
	if err != nil {
		db.Close()
		return fail(err)
	}
	d.Applied = before
	return d, nil
}

// unreachable tells a server that does not answer from one that answered
// with an error (bad password, missing role), which no stand-in can fix.
func unreachable(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist) ||
		errors.Is(err, context.DeadlineExceeded)
}

func dbName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "eventdesk"
	}
	return strings.Trim(u.Path, "/")
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}
