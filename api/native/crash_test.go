package native_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// crashSteps are every step of a keyed write, in order: the key claimed,
// the command decided (a new ticket holds its number), the append
// committed, the response recorded, the response stored.
var crashSteps = []app.Step{web.StepClaimed, app.StepDecided, app.StepAppended, web.StepAnswered, web.StepStored}

// crasher is a fault-injection hook: armed with a step, it "kills the
// process" there once — the request ends at that instant with no answer
// and no clean-up (http.ErrAbortHandler), as kill -9 would leave it.
type crasher struct {
	armed atomic.Value // app.Step
	hits  atomic.Int64
}

func (c *crasher) at(s app.Step) {
	if a, _ := c.armed.Load().(app.Step); a == s && c.armed.CompareAndSwap(a, app.Step("")) {
		c.hits.Add(1)
		panic(http.ErrAbortHandler)
	}
}

// oneShot never retries by itself: net/http's Transport silently resends
// a request that carries an Idempotency-Key when a reused connection
// breaks, which would hide the crash from the test.
var oneShot = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// send posts body to path as tenant tn with key; err is the transport
// error of a request cut off by a crash.
func send(e *apitest.Env, tn *apitest.Tenant, path, key string, body any, auth ...string) (int, map[string]any, http.Header, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.HTTP.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tn.Creds.APIKey)
	for i := 0; i+1 < len(auth); i += 2 {
		req.Header.Set(auth[i], auth[i+1])
	}
	req.Header.Set("Idempotency-Key", key)
	res, err := oneShot.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m, res.Header, nil
}

// countMarked counts tenant tn's committed events of type typ whose data
// contains marker, straight from the events table (the feed would hold
// back events behind other tests' open transactions).
func countMarked(t *testing.T, e *apitest.Env, tn *apitest.Tenant, typ, marker string) int {
	t.Helper()
	var n int
	if err := e.DB.QueryRowContext(context.Background(), `SELECT count(*) FROM events
		WHERE tenant_id = $1 AND event_type = $2 AND strpos(data::text, $3) > 0`, tn.ID, typ, marker).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIdempotencyCrashAtEachStep kills a keyed write at each of its steps,
// then retries it with the same key and body: the retry must answer the
// write's outcome (never a 409), the write must exist exactly once, and a
// further retry must replay the same answer.
func TestIdempotencyCrashAtEachStep(t *testing.T) {
	t.Parallel()
	c := &crasher{}
	e := apitest.New(t, apitest.WithCrashAt(c.at))
	existing := e.Native(&e.A, "POST", "/v1/tickets", map[string]any{"title": "Existing"}).Want(t, http.StatusCreated).JSON(t)["id"].(string)
	contact := e.Native(&e.A, "POST", "/v1/contacts", map[string]any{"name": "Existing"}).Want(t, http.StatusCreated).JSON(t)["id"].(string)

	writes := []struct {
		name, path, event, idField string
		body                       func(marker string) any
		// index, if set, is a second stream's event the write appends
		// atomically with the first: it must exist exactly as often.
		index string
		// status is the success status (0: 201); auth, extra headers.
		status int
		auth   []string
	}{
		{"leadsquared create", "/api/tenants/" + e.A.ID + "/ticket", ticket.TicketCreated{}.EventType(), "TicketId",
			func(m string) any {
				return map[string]any{"LeadId": "45b5fded-e696-45a6-9fbb-c6af6178229e",
					"Fields": []any{map[string]any{"SchemaName": "Title", "Value": m}}}
			}, "", http.StatusOK, []string{"X-LSQ-ACCESS-KEY", e.A.Creds.LSQAccessKey, "X-LSQ-SECRET-KEY", e.A.Creds.LSQSecretKey}},
		{"create form", "/v1/forms", form.FormCreated{}.EventType(), "slug",
			func(m string) any {
				return map[string]any{"slug": m, "title": m, "inputs": []any{map[string]any{"type": "text", "key": "message"}}}
			}, form.FormIndexed{}.EventType(), 0, nil},
		{"create ticket", "/v1/tickets", ticket.TicketCreated{}.EventType(), "id",
			func(m string) any { return map[string]any{"title": m, "priority": "high"} }, "", 0, nil},
		{"log history", "/v1/tickets/" + existing + "/history", ticket.HistoryLogged{}.EventType(), "id",
			func(m string) any { return map[string]any{"type": "comment", "value": map[string]any{"text": m}} }, "", 0, nil},
		{"add activity", "/v1/tickets/" + existing + "/activities", ticket.ActivityAdded{}.EventType(), "id",
			func(m string) any { return map[string]any{"text": m, "direction": "INBOUND"} }, "", 0, nil},
		// A contact and its identity reservations land in one atomic append.
		{"create contact", "/v1/contacts", customer.CustomerCreated{}.EventType(), "id",
			func(m string) any {
				return map[string]any{"name": m, "emails": []any{map[string]any{"value": m + "@example.com"}}}
			}, "", 0, nil},
		{"contact note", "/v1/contacts/" + contact + "/notes", customer.NoteAdded{}.EventType(), "id",
			func(m string) any { return map[string]any{"body": m} }, "", 0, nil},
	}
	for _, w := range writes {
		for _, step := range crashSteps {
			t.Run(fmt.Sprintf("%s/%s", w.name, step), func(t *testing.T) {
				marker := strings.ReplaceAll(fmt.Sprintf("crash-%s-at-%s", w.name, step), " ", "-")
				key := "k-" + marker
				landed := step != web.StepClaimed && step != app.StepDecided

				c.armed.Store(step)
				before := c.hits.Load()
				want201 := cmp.Or(w.status, http.StatusCreated)
				if status, _, _, err := send(e, &e.A, w.path, key, w.body(marker), w.auth...); err == nil {
					t.Fatalf("crash at %s: the request was answered %d; want it cut off", step, status)
				}
				if c.hits.Load() != before+1 {
					t.Fatalf("the crash hook was not reached at %s", step)
				}
				want := map[bool]int{true: 1, false: 0}[landed]
				if got := countMarked(t, e, &e.A, w.event, marker); got != want {
					t.Fatalf("after the crash: %d %s events, want %d", got, w.event, want)
				}
				if w.index != "" {
					if got := countMarked(t, e, &e.A, w.index, marker); got != want {
						t.Fatalf("after the crash: %d %s events, want %d (written with %s, atomically)", got, w.index, want, w.event)
					}
				}

				status, first, hdr, err := send(e, &e.A, w.path, key, w.body(marker), w.auth...)
				if err != nil || status != want201 {
					t.Fatalf("retry = %d %v (%v), want %d", status, first, err, want201)
				}
				for _, typ := range []string{w.event, w.index} {
					if got := countMarked(t, e, &e.A, typ, marker); typ != "" && got != 1 {
						t.Fatalf("after the retry: %d %s events, want exactly 1", got, typ)
					}
				}
				wantReplayed := step == web.StepStored
				if got := hdr.Get("Idempotent-Replayed") == "true"; got != wantReplayed {
					t.Errorf("retry Idempotent-Replayed = %v, want %v (the response was stored: %v)", got, wantReplayed, wantReplayed)
				}

				status, again, hdr, err := send(e, &e.A, w.path, key, w.body(marker), w.auth...)
				if err != nil || status != want201 || hdr.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("second retry = %d replayed=%q (%v), want a 201 replay", status, hdr.Get("Idempotent-Replayed"), err)
				}
				if first[w.idField] != again[w.idField] || first[w.idField] == nil {
					t.Errorf("second retry answers %s %v, the first retry %v", w.idField, again[w.idField], first[w.idField])
				}
			})
		}
	}
}

// TestIdempotencyConcurrentRetries sends one keyed create from 12
// goroutines at once: every answer is a 201 for the same ticket, and the
// tenant has exactly one such ticket.
func TestIdempotencyConcurrentRetries(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	const n = 12
	body := map[string]any{"title": "Racing retries", "priority": "low"}
	ids := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			status, m, _, err := send(e, &e.A, "/v1/tickets", "same-key", body)
			if err != nil || status != http.StatusCreated {
				t.Errorf("request %d = %d %v (%v), want 201", i, status, m, err)
				return
			}
			ids[i] = m["id"]
		})
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("answers name tickets %v, want one ticket", ids)
		}
	}
	if got := countMarked(t, e, &e.A, ticket.TicketCreated{}.EventType(), "Racing retries"); got != 1 {
		t.Fatalf("%d tickets created, want 1", got)
	}
	// The same key in another tenant is another request.
	if status, _, _, err := send(e, &e.B, "/v1/tickets", "same-key", body); err != nil || status != http.StatusCreated {
		t.Fatalf("tenant B = %d (%v), want 201", status, err)
	}
	if got := countMarked(t, e, &e.B, ticket.TicketCreated{}.EventType(), "Racing retries"); got != 1 {
		t.Fatalf("tenant B has %d such tickets, want 1", got)
	}
}
