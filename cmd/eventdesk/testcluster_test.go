package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// TestTestClusterChild is the command the tests below run inside a test
// cluster (`testcluster-child MODE` after its flags); run directly it skips. It
// reports what it finds on stdout, then ends as MODE says: "exit" with
// status 7, "signal" by sending SIGTERM to testcluster and waiting for it
// to be passed back.
func TestTestClusterChild(t *testing.T) {
	if flag.Arg(0) != "testcluster-child" {
		t.Skip("the command run inside TestRunInTestCluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	db, err := openDatabase(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("openDatabase(%s): %v", cfg.DatabaseURL, err)
	}
	defer db.Close(ctx)
	var dataDir string
	var names []string
	if err := db.GetContext(ctx, &dataDir, `SHOW data_directory`); err != nil {
		t.Fatal(err)
	}
	if err := db.SelectContext(ctx, &names, `SELECT datname FROM pg_database ORDER BY datname`); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("data_directory=%s\ndatabases=%s\ntest_url=%s\n", dataDir, strings.Join(names, ","), pgtest.ServerURL())
	switch flag.Arg(1) {
	case "exit":
		os.Exit(7)
	case "signal":
		if err := syscall.Kill(os.Getppid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		t.Fatal("SIGTERM was not passed on within a minute")
	}
}

// TestRunInTestCluster runs TestTestClusterChild in a brand-new cluster:
// the child must find a working, fresh cluster through the variables it
// is given, its failure must come back, and the cluster's directory must
// be gone afterwards, also when testcluster itself receives a signal.
func TestRunInTestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster (skipped by -short only)")
	}
	cfg, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode       string
		wantStatus string // of the child, as exec reports it
	}{
		{"exit", "exit status 7"},
		{"signal", "signal: terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			argv := []string{os.Args[0], "-test.run=^TestTestClusterChild$", "-test.count=1", "testcluster-child", tt.mode}
			err := runInTestCluster(ctx, cfg.PGBinDirs, slog.New(slog.DiscardHandler), argv, nil, &stdout, &stderr)

			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.String() != tt.wantStatus {
				t.Fatalf("got %v, want the child's %q\nstdout:\n%s\nstderr:\n%s", err, tt.wantStatus, &stdout, &stderr)
			}
			got := map[string]string{}
			for _, line := range strings.Split(stdout.String(), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					got[k] = v
				}
			}
			dir := filepath.Dir(got["data_directory"])
			if !strings.HasPrefix(filepath.Base(dir), "eventdesk-pg-") {
				t.Fatalf("data_directory = %q, want one under a new eventdesk-pg-* directory\nstdout:\n%s", got["data_directory"], &stdout)
			}
			// A brand-new cluster: only initdb's databases and the one the
			// engine created through EVENTDESK_DATABASE_URL.
			if want := "eventdesk,postgres,template0,template1"; got["databases"] != want {
				t.Errorf("databases = %s, want %s", got["databases"], want)
			}
			if want := "host=" + strings.ReplaceAll(dir, "/", "%2F"); !strings.Contains(got["test_url"], want) {
				t.Errorf("EVENTDESK_TEST_DATABASE_URL = %s, want the cluster's socket (%s)", got["test_url"], want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stat %s: %v, want the cluster removed", dir, err)
			}
		})
	}
}
