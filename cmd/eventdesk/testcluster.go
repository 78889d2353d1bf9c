package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func testclusterCmd(a *cli) *cobra.Command {
	c := &cobra.Command{
		Use:   "testcluster [--] command [args...]",
		Short: "Run a command against a brand-new private PostgreSQL cluster, removed afterwards",
		Long: `testcluster initialises a PostgreSQL cluster in a new temporary directory, the
way the embedded default does under ./var/pg, and starts it on a unix socket
in that directory (no TCP port). It runs the command with
EVENTDESK_TEST_DATABASE_URL set to the cluster's "postgres" database and
EVENTDESK_DATABASE_URL to its "eventdesk" database, then stops the cluster
and removes the directory, whatever the command's outcome. SIGINT, SIGTERM
and SIGHUP are passed on to the command's process group; a third signal
kills it. It fails when the command fails.

  eventdesk testcluster -- go test -race -count=1 ./...`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInTestCluster(cmd.Context(), a.Cfg.PGBinDirs, a.Log, args, cmd.InOrStdin(), a.Stdout, a.Stderr)
		},
	}
	c.Flags().SetInterspersed(false) // the command's own flags are not ours
	return c
}

// testCluster is a brand-new cluster in a temporary directory of its own,
// started through the embedded default's code path.
type testCluster struct {
	pg *embeddedPG
}

// startTestCluster initialises and starts a cluster in a new directory
// under os.TempDir(). On error nothing is left behind.
func startTestCluster(ctx context.Context, binDirs []string, log *slog.Logger) (*testCluster, error) {
	bin, err := findPGBin(binDirs, "")
	if err != nil {
		return nil, fmt.Errorf("test cluster: %w in %s", err, strings.Join(binDirs, ":"))
	}
	dir, err := os.MkdirTemp("", "eventdesk-pg-")
	if err != nil {
		return nil, fmt.Errorf("test cluster: %w", err)
	}
	pg, err := newEmbeddedPG(dir, bin, log)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if pg.cred != nil {
		// As root the server runs as "postgres", which must reach dir.
		if err := traversableByOthers(filepath.Dir(dir)); err != nil {
			return nil, errors.Join(fmt.Errorf("test cluster: the server runs as the postgres user: %w; set TMPDIR to a directory it can reach", err), os.RemoveAll(dir))
		}
	}
	tc := &testCluster{pg: pg}
	if err := pg.Start(ctx); err != nil {
		return nil, errors.Join(err, tc.Close(context.WithoutCancel(ctx)))
	}
	return tc, nil
}

// traversableByOthers reports which of dir and its ancestors another user
// could not pass through.
func traversableByOthers(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by other users (mode %v)", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// Dir returns the cluster's directory: data, server log and socket.
func (tc *testCluster) Dir() string { return tc.pg.dir }

// Env returns the variables that point tests and the engine at the cluster.
func (tc *testCluster) Env() []string {
	return []string{
		"EVENTDESK_TEST_DATABASE_URL=" + tc.pg.URL("postgres"),
		"EVENTDESK_DATABASE_URL=" + tc.pg.URL("eventdesk"),
	}
}

// Close stops the server and removes the cluster's directory. A start cut
// short (by a signal) may have left a server that Start never recorded;
// any server on this fresh directory is ours, so it is stopped too.
func (tc *testCluster) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var err error
	if _, serr := os.Stat(filepath.Join(tc.pg.dataDir(), "postmaster.pid")); serr == nil && tc.pg.running(ctx) {
		tc.pg.started = true
		err = tc.pg.Stop(ctx)
	}
	if err != nil {
		// Removing the data under a live server would only hide it.
		return fmt.Errorf("test cluster %s left in place: %w", tc.pg.dir, err)
	}
	if err := os.RemoveAll(tc.pg.dir); err != nil {
		return fmt.Errorf("test cluster: %w", err)
	}
	return nil
}

// runInTestCluster starts a brand-new cluster, runs argv with Env added to
// its environment, then closes the cluster, whatever happens. The command
// runs in a process group of its own, to which SIGINT, SIGTERM and SIGHUP
// are forwarded (and, once, SIGTERM if ctx ends first); the third signal
// kills the group. Meanwhile those signals do not stop this process, so
// the cluster is always removed. The result is the command's error (an
// *exec.ExitError when it fails) joined with any error of the cluster.
func runInTestCluster(ctx context.Context, binDirs []string, log *slog.Logger, argv []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)

	began := time.Now()
	tc, err := startTestCluster(ctx, binDirs, log)
	if err != nil {
		return err
	}
	log.Info("test cluster ready", "dir", tc.Dir(), "url", tc.pg.URL("postgres"), "startup_ms", time.Since(began).Milliseconds())
	defer func() {
		err = errors.Join(err, tc.Close(context.WithoutCancel(ctx)))
		log.Info("test cluster removed", "dir", tc.Dir(), "total_ms", time.Since(began).Milliseconds())
	}()
	select {
	case sig := <-sigc: // arrived while the cluster started
		return fmt.Errorf("test cluster: %v before %s started", sig, argv[0])
	default:
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = append(cmd.Environ(), tc.Env()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("test cluster: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	group := -cmd.Process.Pid
	ctxDone := ctx.Done()
	signals := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
			}
			return nil
		case sig := <-sigc:
			signals++
			if signals >= 3 {
				log.Warn("third signal; killing the command", "signal", sig.String())
				_ = syscall.Kill(group, syscall.SIGKILL)
				continue
			}
			log.Warn("passing the signal on to the command", "signal", sig.String())
			_ = syscall.Kill(group, sig.(syscall.Signal))
		case <-ctxDone:
			ctxDone = nil
			if signals == 0 { // not already stopping because of a signal
				_ = syscall.Kill(group, syscall.SIGTERM)
			}
		}
	}
}
