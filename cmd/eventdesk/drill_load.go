package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// keyedLoad is the write load of the kill and PostgreSQL drills: clients
// that create a ticket and comment on it, each request with an
// Idempotency-Key, retrying every request that got no answer or a 5xx
// with the same key until it is answered.
type keyedLoad struct {
	base, apiKey, prefix string

	mu        sync.Mutex
	tickets   map[string]string // create key -> acknowledged ticket id
	comments  map[string]string // ticket id -> acknowledged comment id
	failures  []string          // answers that break a promise
	statuses  map[string]int    // "503 database_unavailable" -> how many
	retries   atomic.Int64
	requests  atomic.Int64
	lastStart atomic.Int64 // unix nanos of the server's last (re)start

	// stillProcessing counts keyed retries answered 409 (the key "still
	// being processed") more than settle after the server came up.
	stillProcessing atomic.Int64
}

// settle is how long after a (re)start a key may still be settling.
const settle = 3 * time.Second

func newKeyedLoad(base, apiKey, prefix string) *keyedLoad {
	l := &keyedLoad{base: base, apiKey: apiKey, prefix: prefix, tickets: map[string]string{},
		comments: map[string]string{}, statuses: map[string]int{}}
	l.started()
	return l
}

// started records that the server has just come up.
func (l *keyedLoad) started() { l.lastStart.Store(time.Now().UnixNano()) }

// Run runs clients until stop is closed; each finishes the write it has
// begun (answered) before it returns.
func (l *keyedLoad) Run(ctx context.Context, clients int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("%s-%d-%d", l.prefix, c, i)
				m := l.post(ctx, "/v1/tickets", k, map[string]any{"title": k})
				if m == nil {
					return
				}
				id, _ := m["id"].(string)
				l.mu.Lock()
				l.tickets[k] = id
				l.mu.Unlock()
				h := l.post(ctx, "/v1/tickets/"+id+"/history", k+"-comment", map[string]any{"type": "comment", "value": map[string]any{"text": k}})
				if h == nil {
					return
				}
				cid, _ := h["id"].(string)
				l.mu.Lock()
				l.comments[id] = cid
				l.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// post sends one keyed write until it is answered below 500; nil when it
// was refused (a broken promise, recorded) or ctx ended.
func (l *keyedLoad) post(ctx context.Context, path, key string, body any) map[string]any {
	h := bearer(l.apiKey)
	h["Idempotency-Key"] = key
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			l.retries.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
		l.requests.Add(1)
		a := do(ctx, http.MethodPost, l.base+path, h, body)
		if a.Err != nil {
			continue // no answer: retry with the key
		}
		var m map[string]any
		_ = json.Unmarshal(a.Body, &m)
		code, _ := m["code"].(string)
		switch {
		case a.Status == http.StatusCreated || a.Status == http.StatusOK:
			return m
		case a.Status == http.StatusConflict:
			if time.Since(time.Unix(0, l.lastStart.Load())) > settle {
				l.stillProcessing.Add(1)
				l.fail(fmt.Sprintf("%s %s: 409 %s %s after the server was up %s", path, key, code, a.Body, settle))
			}
			continue
		case a.Status >= 500:
			l.mu.Lock()
			l.statuses[fmt.Sprintf("%d %s", a.Status, code)]++
			l.mu.Unlock()
			continue
		default:
			l.fail(fmt.Sprintf("%s %s: %d %s", path, key, a.Status, a.Body))
			return nil
		}
	}
	return nil
}

func (l *keyedLoad) fail(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 10 {
		l.failures = append(l.failures, s)
	}
}

// Statuses is the 5xx answers seen, e.g. "503 database_unavailable ×12".
func (l *keyedLoad) Statuses() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.statuses) == 0 {
		return "none"
	}
	var s []string
	for k, n := range l.statuses {
		s = append(s, fmt.Sprintf("%s ×%d", k, n))
	}
	return strings.Join(s, ", ")
}

// verifyOn opens n's database and checks the load's promises on it
// (Verify); the caller closes the database, which it goes on reading.
func (l *keyedLoad) verifyOn(ctx context.Context, n *node, tenant string, r *drillResult) (*sql.DB, error) {
	db, err := n.openDB()
	if err != nil {
		return nil, err
	}
	if err := l.Verify(ctx, db, tenant, r); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Verify checks the promises about what the load wrote: every
// acknowledged ticket and comment stored exactly once, nothing stored
// that was not acknowledged, no key left without its response.
func (l *keyedLoad) Verify(ctx context.Context, db *sql.DB, tenant string, r *drillResult) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.failures {
		r.failf("%s", f)
	}
	r.fig("writes acknowledged", "%d tickets, %d comments", len(l.tickets), len(l.comments))
	r.fig("requests, retries", "%d, %d", l.requests.Load(), l.retries.Load())
	r.check(len(l.tickets) >= 20, "only %d tickets acknowledged: the load did not run", len(l.tickets))
	rows, err := db.QueryContext(ctx, `SELECT data->>'title', stream_id, count(*) FROM events
		WHERE tenant_id = $1 AND event_type = 'ticket.created' AND data->>'title' LIKE $2 || '-%' GROUP BY 1, 2`, tenant, l.prefix)
	if err != nil {
		return err
	}
	stored := map[string]int{}
	for rows.Next() {
		var title, id string
		var n int
		if err := rows.Scan(&title, &id, &n); err != nil {
			return err
		}
		stored[title] += n
		if want, ok := l.tickets[title]; ok && want != id {
			r.failf("ticket %s stored as %s, acknowledged as %s", title, id, want)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	dup, lost, extra := 0, 0, 0
	for k := range l.tickets {
		switch stored[k] {
		case 1:
		case 0:
			lost++
		default:
			dup++
		}
	}
	for k := range stored {
		if _, ok := l.tickets[k]; !ok {
			extra++
		}
	}
	r.check(lost == 0, "%d acknowledged tickets are not stored", lost)
	r.check(dup == 0, "%d acknowledged tickets are stored more than once", dup)
	r.check(extra == 0, "%d tickets stored that were never acknowledged", extra)
	comments := map[string]int{}
	rows, err = db.QueryContext(ctx, `SELECT stream_id, count(*) FROM events WHERE tenant_id = $1 AND event_type = 'ticket.history_logged' GROUP BY 1`, tenant)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		comments[id] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	bad := 0
	for id := range l.comments {
		if comments[id] != 1 {
			bad++
		}
	}
	r.check(bad == 0, "%d acknowledged comments are not stored exactly once", bad)
	r.check(len(comments) == len(l.comments), "%d tickets have comments stored, %d comments acknowledged", len(comments), len(l.comments))
	var open int
	var keys string
	if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(string_agg(key, ', '), '') FROM idempotency_keys
		WHERE tenant_id = $1 AND status IS NULL`, tenant).Scan(&open, &keys); err != nil {
		return err
	}
	r.check(open == 0, "%d idempotency keys left without a stored response: %.200s", open, keys)
	r.fig("keys answered 409 after settling", "%d", l.stillProcessing.Load())
	return nil
}
