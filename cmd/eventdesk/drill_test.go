package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// TestServe_KillDrill is the crash drill of keyed writes, black box: 8
// clients create tickets and comment on them, each request with an
// Idempotency-Key, while `serve` is killed with SIGKILL three times and
// started again. A client retries every request that got no answer (or a
// 5xx) with the same key until it is answered. Then: every acknowledged
// ticket and comment is stored exactly once, nothing unacknowledged is
// stored, no retry was ever answered 409, and no key is left without its
// response.
func TestServe_KillDrill(t *testing.T) {
	if servedByChild(t) {
		return
	}
	vars := serveVars(t)
	addr, dsn := vars["EVENTDESK_HTTP_ADDR"], vars["EVENTDESK_DATABASE_URL"]
	srv := startServe(t, "TestServe_KillDrill", vars)
	key := createTenant(t, vars)
	base := "http://" + addr

	// One connection per request: net/http's Transport would resend a
	// keyed request on a broken kept-alive connection by itself.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	var conflicts, retries atomic.Int64
	post := func(path, idem string, body any) map[string]any {
		b, _ := json.Marshal(body)
		for attempt := 0; ; attempt++ {
			if attempt > 600 {
				t.Errorf("%s %s: no answer after %d attempts", path, idem, attempt)
				return nil
			}
			req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", idem)
			res, err := client.Do(req)
			if err == nil {
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode == http.StatusCreated:
					var m map[string]any
					if err := json.Unmarshal(raw, &m); err != nil {
						t.Errorf("%s: %s is not JSON", path, raw)
					}
					return m
				case res.StatusCode == http.StatusConflict:
					conflicts.Add(1)
				case res.StatusCode < 500:
					t.Errorf("%s %s: %d %s", path, idem, res.StatusCode, raw)
					return nil
				}
			}
			retries.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
	}

	stop := make(chan struct{})
	var mu sync.Mutex
	created := map[string]string{} // create key -> ticket id
	commented := map[string]string{}
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("drill-%d-%d", c, i)
				m := post("/v1/tickets", k, map[string]any{"title": k})
				if m == nil {
					return
				}
				id, _ := m["id"].(string)
				ck := k + "-comment"
				h := post("/v1/tickets/"+id+"/history", ck, map[string]any{"type": "comment", "value": map[string]any{"text": ck}})
				if h == nil {
					return
				}
				mu.Lock()
				created[k], commented[ck] = id, h["id"].(string)
				mu.Unlock()
			}
		})
	}
	for range 3 {
		time.Sleep(800 * time.Millisecond)
		if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-srv.exited
		srv = startServe(t, "TestServe_KillDrill", vars)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	_ = srv.cmd.Process.Signal(syscall.SIGTERM)
	<-srv.exited

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if len(created) < 20 {
		t.Fatalf("only %d tickets acknowledged; the drill did not run", len(created))
	}
	for k, id := range created {
		if n := count(`SELECT count(*) FROM events WHERE event_type = 'ticket.created' AND data->>'title' = $1`, k); n != 1 {
			t.Errorf("ticket %s (%s): stored %d times, want once", k, id, n)
		}
	}
	if n := count(`SELECT count(*) FROM events WHERE event_type = 'ticket.created'`); n != len(created) {
		t.Errorf("%d tickets stored, %d acknowledged", n, len(created))
	}
	if n := count(`SELECT count(*) FROM events WHERE event_type = 'ticket.history_logged'`); n != len(commented) {
		t.Errorf("%d comments stored, %d acknowledged", n, len(commented))
	}
	if n := conflicts.Load(); n != 0 {
		t.Errorf("%d retries were answered 409", n)
	}
	if n := count(`SELECT count(*) FROM idempotency_keys WHERE status IS NULL`); n != 0 {
		t.Errorf("%d keys have no stored response", n)
	}
	t.Logf("3 kills: %d tickets and %d comments acknowledged, %d retries", len(created), len(commented), retries.Load())
}
