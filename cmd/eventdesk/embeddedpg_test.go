package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/migrations"
)

// unreachableDefault is a config whose database does not answer but counts
// as the default, which is what lets the embedded cluster stand in.
func unreachableDefault(t *testing.T) config {
	t.Helper()
	cfg, err := loadConfig(env(map[string]string{
		"EVENTDESK_DATABASE_URL": "postgres://postgres@127.0.0.1:1/eventdesk?sslmode=disable",
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultDatabase = true
	// t.TempDir is private to us; as root the server runs as "postgres",
	// which must reach its directory.
	tmp := t.TempDir()
	for d := tmp; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg.EmbeddedDir = filepath.Join(tmp, "pg")
	return cfg
}

func TestOpenDatabase_NoServerBinaries(t *testing.T) {
	cfg := unreachableDefault(t)
	cfg.PGBinDirs = []string{t.TempDir()}
	_, err := openDatabase(context.Background(), cfg, slog.New(slog.DiscardHandler))
	want := "PostgreSQL is not reachable at postgres://postgres@127.0.0.1:1/eventdesk?sslmode=disable and its server binaries (initdb, pg_ctl) are not installed: set EVENTDESK_DATABASE_URL to a reachable server or install PostgreSQL"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestOpenDatabase_EmbeddedNever(t *testing.T) {
	cfg := unreachableDefault(t)
	cfg.EmbeddedPG = embeddedNever
	_, err := openDatabase(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "check EVENTDESK_DATABASE_URL") {
		t.Fatalf("got %v, want the unreachable server reported", err)
	}
	if _, err := os.Stat(cfg.EmbeddedDir); !os.IsNotExist(err) {
		t.Errorf("stat %s: %v, want no embedded cluster created", cfg.EmbeddedDir, err)
	}
}

// TestOpenDatabase_EmbeddedFallback starts a real private cluster. Where
// the server binaries are missing, the test above covers the other branch.
func TestOpenDatabase_EmbeddedFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster (skipped by -short only)")
	}
	cfg := unreachableDefault(t)
	if _, err := findPGBin(cfg.PGBinDirs, ""); err != nil {
		t.Fatalf("this machine should have PostgreSQL's server binaries (initdb, pg_ctl) in %v: %v", cfg.PGBinDirs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)

	for round := range 2 { // the second round reuses the initialised cluster
		db, err := openDatabase(ctx, cfg, log)
		if err != nil {
			t.Fatalf("round %d: openDatabase() = %v, want the embedded cluster", round, err)
		}
		if db.embedded == nil || !strings.Contains(db.URL, "host="+strings.ReplaceAll(cfg.EmbeddedDir, "/", "%2F")) {
			db.Close(ctx)
			t.Fatalf("round %d: URL %s, want the embedded cluster's socket in %s", round, db.URL, cfg.EmbeddedDir)
		}
		var name string
		if err := db.GetContext(ctx, &name, `SELECT current_database()`); err != nil || name != "eventdesk" {
			t.Errorf("round %d: current_database() = %q, %v; want eventdesk", round, name, err)
		}
		if n, err := migrations.Pending(ctx, db.DB.DB); err != nil || n != 0 {
			t.Errorf("round %d: %d migrations pending, %v; want 0", round, n, err)
		}
		if fresh := round == 0; (db.Applied > 0) != fresh {
			t.Errorf("round %d: applied %d migrations, want some only on a fresh cluster", round, db.Applied)
		}
		if _, err := os.Stat(filepath.Join(cfg.EmbeddedDir, ".s.PGSQL.5432")); err != nil {
			t.Errorf("round %d: no socket in %s: %v", round, cfg.EmbeddedDir, err)
		}
		if err := db.Close(ctx); err != nil {
			t.Fatalf("round %d: Close() = %v", round, err)
		}
		if db.embedded.running(ctx) {
			t.Fatalf("round %d: embedded cluster still running after Close", round)
		}
	}
}
