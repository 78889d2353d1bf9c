package native_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/api/apitest"
)

// follower reads a follow stream (GET /v1/events?follow=true) and keeps
// the position of each event it receives.
type follower struct {
	mu     sync.Mutex
	got    []string // positions
	tenant map[string]bool
	end    error // how the stream ended: io.EOF when cleanly
	done   chan struct{}
}

func (e *env) follow(tn *apitest.Tenant, query string) *follower {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.HTTP.URL+"/v1/events?follow=true&"+query, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+tn.Creds.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-ndjson" {
		e.t.Fatalf("follow: %d %s, want 200 application/x-ndjson", res.StatusCode, res.Header.Get("Content-Type"))
	}
	f := &follower{tenant: map[string]bool{}, done: make(chan struct{})}
	e.t.Cleanup(func() { res.Body.Close() })
	go func() {
		defer close(f.done)
		rd := bufio.NewReader(res.Body)
		for {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				f.mu.Lock()
				f.end = err
				f.mu.Unlock()
				return
			}
			if strings.TrimSpace(string(line)) == "" {
				continue // a heartbeat
			}
			var ev struct {
				Position string `json:"position"`
				StreamID string `json:"stream_id"`
			}
			if err := json.Unmarshal(line, &ev); err != nil {
				e.t.Errorf("follow: line %q: %v", line, err)
			}
			f.mu.Lock()
			f.got = append(f.got, ev.Position)
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *follower) positions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// pagePositions returns the positions of tn's feed after after, page by
// page.
func (e *env) pagePositions(tn *apitest.Tenant, after string) []string {
	e.t.Helper()
	var out []string
	for {
		page := e.do(tn, "GET", "/v1/events?limit=1000&after="+after, nil).want(e.t, http.StatusOK).json(e.t)
		evs := page["events"].([]any)
		for _, ev := range evs {
			out = append(out, ev.(map[string]any)["position"].(string))
		}
		if len(evs) == 0 {
			return out
		}
		after = page["next_after"].(string)
	}
}

// TestFollow: follow streams of two tenants, opened before and while both
// tenants write concurrently, each from its own position, receive exactly
// their tenant's feed after that position, in order, once; closing the
// node's feed (as shutdown does) ends every stream cleanly.
func TestFollow(t *testing.T) {
	e := newEnv(t)
	first := header(t, e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "before"}).want(t, http.StatusCreated),
		"Eventdesk-Position")
	e.events(e.a, "", first)
	type stream struct {
		name  string
		tn    *apitest.Tenant
		after string
		f     *follower
	}
	var streams []*stream
	open := func(name string, tn *apitest.Tenant, after string) {
		streams = append(streams, &stream{name, tn, after, e.follow(tn, "after="+after)})
	}
	open("a from start", e.a, "0")
	open("a from first ticket", e.a, first)
	open("b from start", e.b, "0")

	var wg sync.WaitGroup
	var mid sync.Once
	midPos := make(chan string, 1)
	for _, tn := range []*apitest.Tenant{e.a, e.b, e.a} {
		wg.Go(func() {
			for i := range 8 {
				res := e.Native(tn, "POST", "/v1/tickets", map[string]any{"title": fmt.Sprint("ticket ", i)})
				if res.Status != http.StatusCreated {
					t.Errorf("create: %d %s", res.Status, res.Body)
					return
				}
				if tn == e.a && i == 4 {
					mid.Do(func() { midPos <- res.Header.Get("Eventdesk-Position") })
				}
			}
		})
	}
	open("a from the middle", e.a, <-midPos)
	wg.Wait()
	last := header(t, e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "after"}).want(t, http.StatusCreated),
		"Eventdesk-Position")
	e.events(e.a, "", last)

	for _, s := range streams {
		want := e.pagePositions(s.tn, s.after)
		deadline := time.Now().Add(30 * time.Second)
		for len(s.f.positions()) < len(want) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // anything extra would show now
		if diff := cmp.Diff(want, s.f.positions()); diff != "" {
			t.Errorf("%s (after %s): follow stream differs from the pages (-pages +stream):\n%s", s.name, s.after, diff)
		}
	}

	e.Feed.Close() // what shutdown does
	for _, s := range streams {
		select {
		case <-s.f.done:
		case <-time.After(time.Second):
			t.Fatalf("%s: still open 1s after the feed closed", s.name)
		}
		if !errors.Is(s.f.end, io.EOF) {
			t.Errorf("%s: stream ended with %v, want a clean end (EOF)", s.name, s.f.end)
		}
	}
	// New follow streams are refused while shutting down; pages still work.
	e.do(e.a, "GET", "/v1/events?follow=true", nil, "Accept", "application/x-ndjson").
		problem(t, http.StatusServiceUnavailable, "unavailable")
	e.do(e.a, "GET", "/v1/events", nil).want(t, http.StatusOK)
}

// TestFollow_Limit: a follow stream with a limit ends after that many
// events, live ones included.
func TestFollow_Limit(t *testing.T) {
	e := newEnv(t)
	f := e.follow(e.a, "after=0&limit=3")
	for i := range 3 {
		e.createTicket(e.a, map[string]any{"title": fmt.Sprint("ticket ", i)})
	}
	select {
	case <-f.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("stream still open with %d events, want it to end after 3", len(f.positions()))
	}
	if n := len(f.positions()); n != 3 || !errors.Is(f.end, io.EOF) {
		t.Errorf("stream sent %d events and ended with %v; want 3 and EOF", n, f.end)
	}
}
