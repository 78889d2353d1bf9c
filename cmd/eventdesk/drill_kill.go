package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// killDrill: 16 clients (32 in the long run) write with Idempotency-Keys
// while serve is killed with SIGKILL at random instants, 5 times (12),
// and restarted at once; see keyedLoad for what clients do and check.
// Then the feed must hold every event of the tenant once and every read
// model must equal its rebuild from the log.
func killDrill(ctx context.Context, d *drillEnv, r *drillResult) error {
	clients, kills := 32, 12
	if d.short {
		clients, kills = 16, 5
	}
	n, t, err := d.startNode(ctx, "drill_kill")
	defer n.Kill()
	if err != nil {
		return err
	}
	load := newKeyedLoad(n.Base(), t.APIKey, "kill")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); load.Run(ctx, clients, stop) }()
	began := time.Now()
	var downs []time.Duration
	for range kills {
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		down := time.Now()
		n.Kill()
		if err := n.Start(ctx); err != nil {
			close(stop)
			<-done
			return fmt.Errorf("restart after kill -9: %w", err)
		}
		load.started()
		downs = append(downs, time.Since(down))
	}
	time.Sleep(time.Second)
	close(stop)
	<-done
	elapsed := time.Since(began)
	r.fig("clients, kills", "%d clients, %d × SIGKILL at random instants", clients, kills)
	r.fig("kill to ready again", "median %s, worst %s", ms(pct(downs, 0.5)), ms(pct(downs, 1)))
	r.fig("load", "%s, %.0f acknowledged writes/s", elapsed.Round(100*time.Millisecond),
		float64(len(load.tickets)+len(load.comments))/elapsed.Seconds())
	r.fig("5xx seen while retrying", "%s", load.Statuses())

	db, err := load.verifyOn(ctx, n, t.ID, r)
	if err != nil {
		return err
	}
	defer db.Close()
	took, err := caughtUp(ctx, db, 30*time.Second)
	if err != nil {
		r.failf("%v", err)
		return nil
	}
	r.fig("projections caught up", "%s after the load", ms(took))
	if err := checkFeed(ctx, n, db, t, r); err != nil {
		return err
	}
	return checkRebuild(ctx, n, db, r)
}

// checkFeed reads the tenant's whole feed (GET /v1/events as NDJSON): every
// stored event once, none twice.
func checkFeed(ctx context.Context, n *node, db *sql.DB, t tenantCreated, r *drillResult) error {
	stored, err := count(ctx, db, `SELECT count(*) FROM events WHERE tenant_id = $1`, t.ID)
	if err != nil {
		return err
	}
	// The feed shows an event once no older transaction can still commit
	// behind it; a read right after the load may see a little less.
	start := time.Now()
	var seen map[string]int
	var lines int
	for {
		seen, lines = readFeed(ctx, n, t, r)
		if seen == nil || lines >= stored || time.Since(start) > 10*time.Second {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.check(len(seen) == lines, "the feed repeats %d event(s)", lines-len(seen))
	r.check(lines == stored, "the feed holds %d events, the log %d (after %s)", lines, stored, time.Since(start).Round(time.Millisecond))
	r.fig("feed", "%d events, each once (log: %d), complete after %s", lines, stored, ms(time.Since(start)))
	return nil
}

// readFeed reads the whole feed once: each event id with how often it
// came, and how many lines there were; nil when it could not be read.
func readFeed(ctx context.Context, n *node, t tenantCreated, r *drillResult) (map[string]int, int) {
	h := bearer(t.APIKey)
	h["Accept"] = "application/x-ndjson"
	a := do(ctx, http.MethodGet, n.Base()+"/v1/events", h, nil)
	if a.Err != nil || a.Status != http.StatusOK {
		r.failf("GET /v1/events: %d %v %s", a.Status, a.Err, a.Body)
		return nil, 0
	}
	seen := map[string]int{}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(a.Body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var it struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || it.ID == "" {
			r.failf("feed line %d is not an event: %.100s", lines+1, sc.Text())
			continue
		}
		seen[it.ID]++
		lines++
	}
	return seen, lines
}

// checkRebuild stops the node, takes a digest of every read model, rebuilds
// each projection from the log with `projections rebuild` and compares.
func checkRebuild(ctx context.Context, n *node, db *sql.DB, r *drillResult) error {
	n.Stop()
	before, err := readModelDigests(ctx, db)
	if err != nil {
		return err
	}
	start := time.Now()
	for _, p := range allProjections() {
		if _, err := n.cliRun(ctx, "projections", "rebuild", p.Name()); err != nil {
			return err
		}
	}
	after, err := readModelDigests(ctx, db)
	if err != nil {
		return err
	}
	same := 0
	for table, digest := range before {
		if after[table] != digest {
			r.failf("read model %s differs from its rebuild", table)
		} else {
			same++
		}
	}
	r.fig("read models equal a rebuild", "%d of %d tables (rebuild %s)", same, len(before), ms(time.Since(start)))
	return nil
}

// readModelDigests is an order-independent digest of each projection table.
func readModelDigests(ctx context.Context, db *sql.DB) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range allProjections() {
		for _, table := range p.Tables() {
			var digest sql.NullString
			// table names come from the code, never from input
			q := fmt.Sprintf(`SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)) || ':' || count(*) FROM %s t`, table)
			if err := db.QueryRowContext(ctx, q).Scan(&digest); err != nil {
				return nil, fmt.Errorf("digest %s: %w", table, err)
			}
			out[table] = digest.String
		}
	}
	return out, nil
}
