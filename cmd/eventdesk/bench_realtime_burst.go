package main

import (
	"context"
	"encoding/json"
	"fmt"
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
func fanOutBurst(ctx context.Context, db *database, b *benchServer, ro realtimeOptions, url string, ids, topics []string, say func(string)) (storebench.Figure, error) {
	say(fmt.Sprintf("realtime: fan-out burst: %d comments on each of %d tickets to %d sockets", ro.burst, len(ids), ro.sockets))
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
	cpu0 := processCPU()
	if err := hold.Commit(); err != nil { // the burst becomes readable at once
		p.kill()
		return storebench.Figure{}, fmt.Errorf("burst: release the log: %w", err)
	}
	expect := make(map[string]int, len(topics))
	for _, t := range topics {
		expect[t] = ro.burst
	}
	res, err := p.finish(socketsGo{Expect: expect, Timeout: 2 * time.Minute})
	if err != nil {
		return storebench.Figure{}, err
	}
	f := storebench.Figure{Name: "realtime_fan_out_burst", Ops: res.Deliveries, Seconds: res.Seconds,
		Rate: float64(res.Deliveries) / res.Seconds, Unit: "deliveries/s", P50ms: res.P50ms, P99ms: res.P99ms,
		Extra: map[string]float64{"sockets": float64(ro.sockets), "tickets": float64(len(ids)), "watch": float64(max(ro.watch, 1)), "comments": float64(ro.burst * len(ids)),
			"append_s": appendSecs, "missing": float64(res.Missing), "duplicates": float64(res.Duplicates),
			"extra": float64(res.Extra), "server_cpu_s": processCPU() - cpu0, "generator_cpu_s": p.cpu}}
	if err := exactlyOnce(res, ro.sockets); err != nil {
		return f, fmt.Errorf("realtime_fan_out_burst: %w", err)
	}
	return f, nil
}
