package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// OpenOptions tune Open.
type OpenOptions struct {
	// MaxConns caps the pool; zero means 20.
	MaxConns int
	// IdleInTransactionTimeout ends sessions that sit idle inside a
	// transaction for longer: such a transaction would hold back delivery
	// of every later event. Zero means 30s.
	IdleInTransactionTimeout time.Duration
	// StatementTimeout, if set, caps every statement.
	StatementTimeout time.Duration
}

// Open connects to the database at dsn (a postgres:// URL) with the session
// settings the store relies on and checks that it answers.
func Open(ctx context.Context, dsn string, opt OpenOptions) (*sqlx.DB, error) {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 20
	}
	if opt.IdleInTransactionTimeout <= 0 {
		opt.IdleInTransactionTimeout = 30 * time.Second
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("database url %q: want postgres://user@host:port/dbname", redact(dsn))
	}
	q := u.Query()
	// lib/pq passes unknown parameters to the server as session settings.
	q.Set("idle_in_transaction_session_timeout", fmt.Sprint(opt.IdleInTransactionTimeout.Milliseconds()))
	// The log's reads are large index scans the planner prices high enough
	// to JIT-compile, which costs more than it saves on every batch.
	q.Set("jit", "off")
	if opt.StatementTimeout > 0 {
		q.Set("statement_timeout", fmt.Sprint(opt.StatementTimeout.Milliseconds()))
	}
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(opt.MaxConns)
	db.SetMaxIdleConns(opt.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	return db, nil
}

// EnsureDatabase creates the database named in dsn if it does not exist,
// connecting through the server's "postgres" maintenance database.
func EnsureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("database url: %w", err)
	}
	name := u.Path
	if len(name) > 0 && name[0] == '/' {
		name = name[1:]
	}
	if name == "" {
		return errors.New("database url names no database")
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := Open(ctx, admin.String(), OpenOptions{MaxConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops the database named name on the server of dsn,
// disconnecting its sessions.
func DropDatabase(ctx context.Context, dsn, name string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return err
	}
	u.Path = "/postgres"
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`)
	return err
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}
