package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	_ "github.com/lib/pq" // the drills read the scratch databases directly
	"github.com/spf13/cobra"
)

func drillCmd(a *cli) *cobra.Command {
	var o drillOptions
	c := &cobra.Command{
		Use:   "drill",
		Short: "Run the crash and outage drills against real server processes on scratch databases",
		Long: `drill starts a brand-new private PostgreSQL cluster (as testcluster does) and,
for each drill, real "eventdesk serve" processes of this binary on a scratch
database of that cluster; it drives load over HTTP, breaks things, prints
what it measured and fails when a promise breaks:

  kill   kill -9 of serve under keyed load, restarted; every acknowledged
         write exactly once, the feed once, read models equal a rebuild
  pg     the private cluster stopped and its connections cut under load:
         503 with Retry-After on every surface, quickly; /readyz follows;
         nothing acknowledged lost, nothing stranded
  redis  a private redis-server paused (SIGSTOP) and killed: LeadSquared
         calls stay fast and limited per node; commands never wait on it
  disk   the data directory full (a 1 MiB tmpfs) and read-only during
         uploads: 503 in each surface's shape, nothing half-written,
         nothing listed that cannot be downloaded

The machine's own PostgreSQL and Redis are never touched. --short runs
each drill briefly (for CI).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDrills(cmd.Context(), a, o)
		},
	}
	c.Flags().BoolVar(&o.Short, "short", false, "a brief version of each drill (CI)")
	c.Flags().StringSliceVar(&o.Only, "only", nil, "run only these drills (kill, pg, redis, disk)")
	c.Flags().StringVar(&o.Binary, "binary", "", "the eventdesk binary the servers run (default: this one; tests set it)")
	_ = c.Flags().MarkHidden("binary")
	return c
}

// drillOptions are the drill command's flags.
type drillOptions struct {
	Short  bool
	Only   []string
	Binary string
}

// drill is one drill: it fills r with figures and broken promises.
type drill struct {
	name string
	run  func(ctx context.Context, d *drillEnv, r *drillResult) error
}

var drills = []drill{
	{"kill", killDrill},
	{"pg", postgresDrill},
	{"redis", redisDrill},
	{"disk", diskDrill},
}

// drillResult is what one drill measured and which promises broke.
type drillResult struct {
	figures  [][2]string
	failures []string
}

func (r *drillResult) fig(name, format string, args ...any) {
	r.figures = append(r.figures, [2]string{name, fmt.Sprintf(format, args...)})
}

func (r *drillResult) failf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// check records a broken promise when ok is false.
func (r *drillResult) check(ok bool, format string, args ...any) {
	if !ok {
		r.failf(format, args...)
	}
}

// drillEnv is what every drill shares: this binary, the private cluster
// and a scratch directory removed at the end.
type drillEnv struct {
	cli   *cli
	exe   string
	dir   string
	tc    *testCluster
	short bool
}

func runDrills(ctx context.Context, a *cli, o drillOptions) error {
	for _, name := range o.Only {
		if !slices.ContainsFunc(drills, func(d drill) bool { return d.name == name }) {
			return fmt.Errorf("drill: unknown drill %q (want kill, pg, redis or disk)", name)
		}
	}
	exe, err := os.Executable()
	if o.Binary != "" {
		exe, err = filepath.Abs(o.Binary)
	}
	if err != nil {
		return fmt.Errorf("drill: %w", err)
	}
	dir, err := os.MkdirTemp("", "eventdesk-drill-")
	if err != nil {
		return fmt.Errorf("drill: %w", err)
	}
	var broken []string
	defer func() {
		if len(broken) == 0 {
			_ = os.RemoveAll(dir)
		} else {
			fmt.Fprintf(a.Stdout, "server logs kept in %s\n", dir)
		}
	}()
	began := time.Now()
	tc, err := startTestCluster(ctx, a.Cfg.PGBinDirs, a.Log)
	if err != nil {
		return err
	}
	defer func() { _ = tc.Close(context.WithoutCancel(ctx)) }()
	d := &drillEnv{cli: a, exe: exe, dir: dir, tc: tc, short: o.Short}
	fmt.Fprintf(a.Stdout, "drills on a private PostgreSQL cluster in %s (started in %s)\n", tc.Dir(), time.Since(began).Round(time.Millisecond))
	for _, dr := range drills {
		if len(o.Only) > 0 && !slices.Contains(o.Only, dr.name) {
			continue
		}
		start := time.Now()
		r := &drillResult{}
		if err := dr.run(ctx, d, r); err != nil {
			r.failf("could not run: %v", err)
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		verdict := "PASS"
		if len(r.failures) > 0 {
			verdict = "FAIL"
		}
		fmt.Fprintf(a.Stdout, "\n== drill %s: %s in %s\n", dr.name, verdict, time.Since(start).Round(100*time.Millisecond))
		tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
		for _, f := range r.figures {
			fmt.Fprintf(tw, "  %s\t%s\n", f[0], f[1])
		}
		_ = tw.Flush()
		for _, f := range r.failures {
			fmt.Fprintf(a.Stdout, "  BROKEN: %s\n", f)
			broken = append(broken, dr.name+": "+f)
		}
	}
	fmt.Fprintf(a.Stdout, "\nall drills: %s\n", time.Since(began).Round(100*time.Millisecond))
	if len(broken) > 0 {
		return fmt.Errorf("drill: %d promise(s) broken:\n%s", len(broken), strings.Join(broken, "\n"))
	}
	return nil
}

// node is one `eventdesk serve` process of a drill, restartable.
type node struct {
	d      *drillEnv
	env    []string
	addr   string
	logs   string // path of the log file, appended across restarts
	cmd    *exec.Cmd
	exited chan struct{}
	// Starts is how many times the process was started.
	Starts int
}

// newNode prepares a server on the scratch database db of the cluster,
// with its own port and data directory; extra are more EVENTDESK_*
// settings ("NAME=value").
func (d *drillEnv) newNode(db string, extra ...string) (*node, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(d.dir, db, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EVENTDESK_") {
			env = append(env, kv)
		}
	}
	env = append(env, "EVENTDESK_DATABASE_URL="+d.tc.pg.URL(db), "EVENTDESK_HTTP_ADDR="+addr,
		"EVENTDESK_DATA_DIR="+data, "EVENTDESK_EMBEDDED_PG=never", "EVENTDESK_LOG_LEVEL=warn",
		"EVENTDESK_POLL_INTERVAL=100ms", "EVENTDESK_SHUTDOWN_TIMEOUT=5s")
	env = append(env, extra...)
	return &node{d: d, env: env, addr: addr, logs: filepath.Join(d.dir, db, "serve.log")}, nil
}

// Base is the node's URL.
func (n *node) Base() string { return "http://" + n.addr }

// DataDir is the node's EVENTDESK_DATA_DIR.
func (n *node) DataDir() string { return filepath.Join(filepath.Dir(n.logs), "data") }

// Start starts the process and waits until /readyz answers 200.
func (n *node) Start(ctx context.Context) error {
	f, err := os.OpenFile(n.logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	n.cmd = exec.Command(n.d.exe, "serve")
	n.cmd.Env = n.env
	n.cmd.Stdout, n.cmd.Stderr = f, f
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a Ctrl-C is ours to handle
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.Starts++
	exited := make(chan struct{})
	n.exited = exited
	cmd := n.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := c.Get(n.Base() + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("serve exited at start; log: %s", tail(n.logs))
		case <-ctx.Done():
			n.Kill()
			return context.Cause(ctx)
		default:
		}
		if time.Now().After(deadline) {
			n.Kill()
			return fmt.Errorf("serve not ready after 60s; log: %s", tail(n.logs))
		}
	}
}

// Alive reports whether the process runs.
func (n *node) Alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return n.cmd != nil
	}
}

// Kill ends the process with SIGKILL and waits for it.
func (n *node) Kill() {
	if n == nil || n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// Stop ends the process with SIGTERM (SIGKILL after 10 s) and waits.
func (n *node) Stop() {
	if !n.Alive() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		n.Kill()
	}
}

// tail is the end of a log file, for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	return lastLines(b, 5)
}

// cliRun runs a subcommand of this binary with the node's settings and
// returns its standard output.
func (n *node) cliRun(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, n.d.exe, args...)
	cmd.Env = n.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("eventdesk %s: %w: %s", strings.Join(args, " "), err, lastLines(stderr.Bytes(), 3))
	}
	return out, nil
}

// startNode starts a node on the scratch database db (see newNode) and
// creates a tenant on it; the caller kills the node (n.Kill) when done,
// also after an error (a nil node is fine).
func (d *drillEnv) startNode(ctx context.Context, db string, extra ...string) (*node, tenantCreated, error) {
	n, err := d.newNode(db, extra...)
	if err != nil {
		return nil, tenantCreated{}, err
	}
	if err := n.Start(ctx); err != nil {
		return n, tenantCreated{}, err
	}
	t, err := n.createTenant(ctx)
	return n, t, err
}

// createTicket creates a ticket through the native API and returns its id.
func (n *node) createTicket(ctx context.Context, t tenantCreated, title string) (string, error) {
	a := do(ctx, http.MethodPost, n.Base()+"/v1/tickets", bearer(t.APIKey), map[string]any{"title": title})
	var tk struct{ ID string }
	if a.Status != http.StatusCreated || json.Unmarshal(a.Body, &tk) != nil {
		return "", fmt.Errorf("create a ticket: %d %s", a.Status, a.Body)
	}
	return tk.ID, nil
}

// createTenant creates a tenant through the CLI.
func (n *node) createTenant(ctx context.Context) (tenantCreated, error) {
	var t tenantCreated
	out, err := n.cliRun(ctx, "tenant", "create", "--name", "Drill")
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(out, &t); err != nil || t.APIKey == "" {
		return t, fmt.Errorf("tenant create printed %q: %v", out, err)
	}
	return t, nil
}

// openDB opens the node's database, for the drills' own checks.
func (n *node) openDB() (*sql.DB, error) {
	for _, kv := range n.env {
		if v, ok := strings.CutPrefix(kv, "EVENTDESK_DATABASE_URL="); ok {
			return sql.Open("postgres", v)
		}
	}
	return nil, errors.New("no database")
}

// answer is one HTTP exchange as a drill sees it.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
	Took   time.Duration
	Err    error // no answer at all
}

// drillClient opens a connection per request: net/http's Transport would
// otherwise resend a request on a broken kept-alive connection by itself,
// hiding what the drill must see.
var drillClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 15 * time.Second}

// do sends one request; body may be nil, a []byte or anything for JSON.
func do(ctx context.Context, method, url string, headers map[string]string, body any) answer {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return send(req)
}

// send sends req with drillClient and reads the whole answer.
func send(req *http.Request) answer {
	start := time.Now()
	res, err := drillClient.Do(req)
	if err != nil {
		return answer{Err: err, Took: time.Since(start)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return answer{Status: res.StatusCode, Header: res.Header, Body: raw, Took: time.Since(start), Err: err}
}

// bearer is the native API's authorization header.
func bearer(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }

// count runs a query returning one integer.
func count(ctx context.Context, db *sql.DB, q string, args ...any) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// projectionLag is how many of the tenant log's events projection name
// has not processed yet.
func projectionLag(ctx context.Context, db *sql.DB, name string) (int, error) {
	return count(ctx, db, `SELECT count(*) FROM events e WHERE (e.tx_id, e.position) >
		(SELECT tx_id, position FROM checkpoints WHERE name = $1)`, name)
}

// caughtUp waits until every projection has processed the whole log and
// returns how long that took.
func caughtUp(ctx context.Context, db *sql.DB, within time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		behind := 0
		for _, p := range allProjections() {
			n, err := projectionLag(ctx, db, p.Name())
			if err != nil {
				n = 1 // no checkpoint yet, or the database is away
			}
			behind += n
		}
		if behind == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > within {
			return time.Since(start), fmt.Errorf("projections still %d event(s) behind after %s", behind, within)
		}
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pct is the p-th percentile of ds (sorted in place).
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }
