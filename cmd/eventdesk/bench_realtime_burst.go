package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
)

// burstTicketsPerAppend is how many tickets' comments one append of the
// burst carries.
const burstTicketsPerAppend = 50

// burstWrites are HTTP comments made beside a fan-out burst.
type burstWrites struct {
	client  *benchClient
	clients int
	ids     []string // tickets no socket watches
	rate    float64  // comments/s in all
}

// start starts the comments (none for a nil w); stop ends them and
// returns how many were made. A burst shorter than one comment's round
// trip still has one made beside it (counted, not timed): stop waits up
// to 10 s for the first.
func (w *burstWrites) start(ctx context.Context) (stop func() (int64, error)) {
	if w == nil {
		return func() (int64, error) { return 0, nil }
	}
	written := make([]atomic.Int64, len(w.ids))
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- postComments(ctx, w.client, w.clients, w.ids, w.rate, time.Now().Add(time.Hour), written)
	}()
	return func() (int64, error) {
		for wait := time.Now().Add(10 * time.Second); sumWritten(written) == 0 && time.Now().Before(wait); {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		err := <-done
		return sumWritten(written), err
	}
}

// fanOutBurst measures the gateway's fan-out capacity, which the HTTP
// figure cannot show: there every delivery waits for its comment to be
// written through the API, so deliveries/s is the write rate times the
// sockets a ticket (≈ 1,000 comments/s × 10 on this machine). Here the
// same sockets (ro.sockets over the tickets of ids, topics[i] naming
// ids[i]) watch while ro.burst comments a ticket are appended straight to
// the store, 50 tickets an append. A transaction that took its id first
// holds them all behind the log's fence until it commits, so they reach
// the node's follower at once, however long the appends took: the figure
// is the gateway's, deliveries over the time from the first arrival to
// the last, exactly once checked as for the HTTP figure. Projections keep
// running.
//
// With bg, HTTP clients comment on other tickets, which no socket
// watches, paced to bg.rate, from just before the burst is released until
// its last delivery: the gateway's fan-out while the API, the store and
// the projections work beside it (realtime_fan_out_burst_under_writes).
func fanOutBurst(ctx context.Context, db *database, b *benchServer, ro realtimeOptions, url string, ids, topics []string,
	bg *burstWrites, say func(string)) (storebench.Figure, error) {
	name, beside := "realtime_fan_out_burst", ""
	if bg != nil {
		name, beside = "realtime_fan_out_burst_under_writes", fmt.Sprintf(", HTTP comments on %d other tickets paced to %.0f/s", len(bg.ids), bg.rate)
	}
	say(fmt.Sprintf("realtime: fan-out burst: %d comments on each of %d tickets to %d sockets%s", ro.burst, len(ids), ro.sockets, beside))
	// Decide every comment first, so the appends run back to back.
	by := domain.Actor{Kind: domain.ActorAgent, ID: "bench"}
	at := time.Now().UTC()
	var parts []eventstore.StreamAppend
	for _, id := range ids {
		tk, _, err := b.e.Tickets.Load(ctx, b.tenant.ID, id)
		if err != nil {
			return storebench.Figure{}, err
		}
		for i := range ro.burst {
			if err := tk.LogHistory(ticket.LogHistory{By: by, Source: domain.SourceAPI, EntryID: uuid.NewString(),
				Type: ticket.HistoryComment, Value: json.RawMessage(fmt.Sprintf(`{"text":"burst %d"}`, i))}, at); err != nil {
				return storebench.Figure{}, err
			}
		}
		data, err := pendingTicketEvents(tk)
		if err != nil {
			return storebench.Figure{}, err
		}
		parts = append(parts, eventstore.StreamAppend{Stream: eventstore.StreamRef{TenantID: b.tenant.ID, Type: ticket.StreamType, ID: id},
			Expected: eventstore.Exact(tk.Version()), Events: data})
	}
	p, _, err := startSockets(ctx, socketsSpec{URL: url, Key: b.creds.APIKey, Sockets: ro.sockets, Topics: topics, Watch: ro.watch,
		Type: ticket.HistoryLogged{}.EventType()})
	if err != nil {
		return storebench.Figure{}, err
	}
	hold, err := db.BeginTx(ctx, nil)
	if err == nil {
		defer hold.Rollback() //nolint:errcheck // committed below
		_, err = hold.ExecContext(ctx, `SELECT pg_current_xact_id()`)
	}
	if err != nil {
		p.kill()
		return storebench.Figure{}, fmt.Errorf("burst: hold the log: %w", err)
	}
	start := time.Now()
	for len(parts) > 0 {
		k := min(burstTicketsPerAppend, len(parts))
		if _, err := b.e.store.AppendStreams(ctx, parts[:k]); err != nil {
			p.kill()
			return storebench.Figure{}, fmt.Errorf("burst append: %w", err)
		}
		parts = parts[k:]
	}
	appendSecs := time.Since(start).Seconds()
	stopBeside := bg.start(ctx)
	cpu0 := processCPU()
	released := time.Now()
	if err := hold.Commit(); err != nil { // the burst becomes readable at once
		p.kill()
		_, _ = stopBeside()
		return storebench.Figure{}, fmt.Errorf("burst: release the log: %w", err)
	}
	expect := make(map[string]int, len(topics))
	for _, t := range topics {
		expect[t] = ro.burst
	}
	res, err := p.finish(socketsGo{Expect: expect, Timeout: 2 * time.Minute})
	besideSecs := time.Since(released).Seconds()
	wroteBeside, berr := stopBeside()
	if err == nil && berr != nil {
		err = fmt.Errorf("burst: comments beside it: %w", berr)
	}
	if err != nil {
		return storebench.Figure{}, err
	}
	return deliveredFigure(name, "deliveries/s", res, ro.sockets, processCPU()-cpu0, p.cpu, map[string]float64{
		"sockets": float64(ro.sockets), "tickets": float64(len(ids)), "watch": float64(max(ro.watch, 1)),
		"comments": float64(ro.burst * len(ids)), "append_s": appendSecs,
		"writes_beside": float64(wroteBeside), "writes_beside_per_s": float64(wroteBeside) / besideSecs})
}
