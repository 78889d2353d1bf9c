package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// embeddedPG is a private PostgreSQL cluster under dir: data in dir/data,
// the server's log in dir/postgres.log and its unix socket in dir itself.
// It listens on no TCP port, so it never clashes with a system server.
type embeddedPG struct {
	dir  string // absolute
	bin  string // directory with initdb and pg_ctl
	log  *slog.Logger
	cred *syscall.Credential // whom to run the server as; nil: ourselves
	// started is true when we started the server, so we stop it too; a
	// server some other process started is left running.
	started bool
}

// installedPGBinDirs returns the server directories of Debian-style
// installs (/usr/lib/postgresql/<major>/bin), newest major first.
func installedPGBinDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return n
	}
	sort.SliceStable(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	return dirs
}

// errNoPGBinaries means neither initdb nor pg_ctl could be found.
var errNoPGBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found")

// findPGBin returns the first of dirs holding both initdb and pg_ctl. A
// cluster already initialised under dataDir wants the binaries of its own
// major version, so their directory goes first when it is among dirs.
func findPGBin(dirs []string, dataDir string) (string, error) {
	if v, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION")); err == nil {
		want := string(bytes.TrimSpace(v))
		for _, d := range dirs {
			if filepath.Base(filepath.Dir(d)) == want {
				dirs = append([]string{d}, dirs...)
				break
			}
		}
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", errNoPGBinaries
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// maxSocketPath is the longest unix socket path Linux accepts (sun_path
// holds 108 bytes including the terminating NUL).
const maxSocketPath = 107

// newEmbeddedPG prepares, without starting anything, a cluster under dir
// using the binaries in bin. PostgreSQL refuses to run as root, so as root
// the server runs as the "postgres" OS user, which then owns dir.
func newEmbeddedPG(dir, bin string, log *slog.Logger) (*embeddedPG, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("embedded postgres: %s is not an absolute path", dir)
	}
	if strings.ContainsAny(dir, `'"\ `) {
		return nil, fmt.Errorf("embedded postgres: directory %q must not contain quotes, backslashes or spaces", dir)
	}
	if n := len(dir) + len("/.s.PGSQL.5432"); n > maxSocketPath {
		return nil, fmt.Errorf("embedded postgres: socket path under %s is %d bytes, over the limit of %d; run from a shorter directory", dir, n, maxSocketPath)
	}
	pg := &embeddedPG{dir: dir, bin: bin, log: log}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("embedded postgres: running as root, and PostgreSQL will not; no \"postgres\" OS user to run it as: %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return pg, nil
}

func (pg *embeddedPG) dataDir() string { return filepath.Join(pg.dir, "data") }

// URL returns the URL of database name in the cluster, through its socket.
func (pg *embeddedPG) URL(name string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/" + name,
		RawQuery: url.Values{"host": {pg.dir}, "sslmode": {"disable"}}.Encode(),
	}
	return u.String()
}

// Start initialises the cluster if it has no data yet and starts the
// server, waiting until it accepts connections. A server already running
// on dir (another process's) is used as it is.
func (pg *embeddedPG) Start(ctx context.Context) error {
	if err := os.MkdirAll(pg.dir, 0o700); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if pg.cred != nil {
		// The server writes its socket, lock file and log here.
		if err := os.Chown(pg.dir, int(pg.cred.Uid), int(pg.cred.Gid)); err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(pg.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		pg.log.Info("initialising embedded postgres", "dir", pg.dataDir())
		if _, err := pg.run(ctx, "initdb", "-D", pg.dataDir(), "-A", "trust", "-U", "postgres",
			"-E", "UTF8", "--no-locale", "--no-instructions"); err != nil {
			return err
		}
	}
	if pg.running(ctx) {
		pg.log.Info("embedded postgres already running; using it", "dir", pg.dir)
		return nil
	}
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s'", pg.dir)
	if _, err := pg.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", pg.dataDir(),
		"-l", filepath.Join(pg.dir, "postgres.log"), "-o", opts); err != nil {
		return fmt.Errorf("%w (server log: %s)", err, filepath.Join(pg.dir, "postgres.log"))
	}
	pg.started = true
	pg.log.Info("embedded postgres started", "dir", pg.dir, "bin", pg.bin)
	return nil
}

// running reports whether a server runs on the cluster's data directory.
func (pg *embeddedPG) running(ctx context.Context) bool {
	_, err := pg.run(ctx, "pg_ctl", "status", "-D", pg.dataDir())
	return err == nil
}

// Stop stops the server if Start started it, with a fast shutdown that
// rolls back open transactions.
func (pg *embeddedPG) Stop(ctx context.Context) error {
	if !pg.started {
		return nil
	}
	if _, err := pg.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", pg.dataDir()); err != nil {
		return err
	}
	pg.started = false
	pg.log.Info("embedded postgres stopped", "dir", pg.dir)
	return nil
}

// run runs one of the server programs as the cluster's owner. It runs in
// its own process group: a Ctrl-C meant for us must not reach the server,
// which we stop ourselves after draining.
func (pg *embeddedPG) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, prog), args...)
	cmd.Dir = pg.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: pg.cred}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("embedded postgres: %s %s: %w: %s", prog, args[0], err, lastLines(out, 5))
	}
	return out, nil
}

// lastLines returns up to n trailing lines of out on one line.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
