package native

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
)

// items returns evs as clients see them (feed.ItemOf: data at the
// current schema version).
func items(evs []eventstore.Event) ([]feed.Item, error) {
	out := make([]feed.Item, len(evs))
	for i, e := range evs {
		it, err := feed.ItemOf(e)
		if err != nil {
			return nil, err
		}
		out[i] = it
	}
	return out, nil
}

// ticketEvents answers a ticket's own stream: its audit trail, with who
// did what, through which source, and when.
func (s *Server) ticketEvents(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r).ID
	id, err := s.Tickets.Resolve(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Tickets.Events(r.Context(), tenant, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(evs) == 0 {
		s.fail(w, r, web.NewProblem(http.StatusNotFound, "ticket_not_found", "ticket not found"))
		return
	}
	out, err := items(evs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"events": out})
}

// MaxFeedPage bounds one JSON page of the event feed.
const MaxFeedPage = 1000

// heartbeatEvery is how long a follow stream may stay silent: a blank
// line then keeps proxies from closing it (NDJSON readers skip it).
const heartbeatEvery = 15 * time.Second

// feed answers the tenant's gap-free event log after a position. As JSON
// it is one page with next_after to resume from; with Accept:
// application/x-ndjson it streams one event per line, and with follow=true
// keeps streaming new events as they commit until the client hangs up or
// the server shuts down (the client then resumes after the last position
// it received).
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var c fieldCheck
	after, err := eventstore.ParsePosition(q.Get("after"))
	if err != nil {
		c.add("after", "invalid", "after must be a position such as 1234-567 (or 0 for the start)")
	}
	ndjson := strings.Contains(r.Header.Get("Accept"), "application/x-ndjson")
	limit := parseLimit(&c, q.Get("limit"), 100, MaxFeedPage)
	if ndjson && q.Get("limit") == "" {
		limit = 0 // stream everything
	}
	follow := c.flag(q, "follow")
	if follow && !ndjson {
		c.add("follow", "invalid", "follow=true needs Accept: application/x-ndjson")
	}
	query := eventstore.Query{TenantID: tenantOf(r).ID, After: after, StreamType: q.Get("stream_type")}
	for _, t := range q["type"] {
		query.Types = append(query.Types, strings.Split(t, ",")...)
	}
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case follow:
		s.followFeed(w, r, query, limit)
	case ndjson:
		s.streamFeed(w, r, query, limit)
	default:
		query.Limit = limit
		evs, err := s.Log.ReadAll(r.Context(), query)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := items(evs)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next := after
		if len(evs) > 0 {
			next = evs[len(evs)-1].Position
		}
		web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"events": out, "next_after": next})
	}
}

// ndjsonStream writes a feed's events, one JSON line each.
type ndjsonStream struct {
	s   *Server
	r   *http.Request
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *json.Encoder
}

func (s *Server) startNDJSON(w http.ResponseWriter, r *http.Request) *ndjsonStream {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &ndjsonStream{s: s, r: r, w: w, rc: http.NewResponseController(w), enc: enc}
}

// write sends evs and flushes; false means the stream must end (the
// client has gone, or an event cannot be shown, which is logged).
func (n *ndjsonStream) write(evs []eventstore.Event) bool {
	for _, e := range evs {
		it, err := feed.ItemOf(e)
		if err != nil {
			n.s.Logger.ErrorContext(n.r.Context(), "event feed", "err", err)
			return false
		}
		if n.enc.Encode(it) != nil {
			return false
		}
	}
	return n.rc.Flush() == nil
}

// streamFeed streams the log from q.After until it has sent limit events
// (0: no limit) or reached the end of what is committed.
func (s *Server) streamFeed(w http.ResponseWriter, r *http.Request, q eventstore.Query, limit int) {
	out := s.startNDJSON(w, r)
	sent := 0
	for {
		q.Limit = 500
		if limit > 0 {
			q.Limit = min(500, limit-sent)
		}
		evs, err := s.Log.ReadAll(r.Context(), q)
		if err != nil {
			if r.Context().Err() == nil {
				s.Logger.ErrorContext(r.Context(), "event feed", "err", err)
			}
			return
		}
		if len(evs) > 0 && !out.write(evs) {
			return
		}
		sent += len(evs)
		if len(evs) < q.Limit || (limit > 0 && sent >= limit) {
			return
		}
		q.After = evs[len(evs)-1].Position
	}
}

// followFeed streams the log from q.After on, then live, through the
// node's one follower (Feed): until limit events are sent (0: no limit),
// the client hangs up, or the server shuts down, which ends the
// subscription and thus the stream at once.
func (s *Server) followFeed(w http.ResponseWriter, r *http.Request, q eventstore.Query, limit int) {
	unavailable := web.NewProblem(http.StatusServiceUnavailable, "unavailable",
		"the live feed is not available on this server now; retry, resuming after the last position you received")
	if s.Feed == nil {
		s.fail(w, r, unavailable)
		return
	}
	sub, err := s.Feed.Subscribe(feed.Filter{TenantID: q.TenantID, StreamType: q.StreamType, Types: q.Types}, q.After)
	if errors.Is(err, feed.ErrClosed) {
		err = unavailable // shutting down
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer sub.Close()
	out := s.startNDJSON(w, r)
	_ = out.rc.Flush() // the client sees the stream open before the first event
	sent := 0
	for {
		ctx, cancel := context.WithTimeout(r.Context(), heartbeatEvery)
		evs, err := sub.Next(ctx)
		cancel()
		switch {
		case err == nil:
		case r.Context().Err() != nil, errors.Is(err, feed.ErrClosed):
			return // the client has gone, or the server shuts down
		case errors.Is(err, context.DeadlineExceeded):
			if _, err := w.Write([]byte("\n")); err != nil || out.rc.Flush() != nil {
				return
			}
			continue
		default:
			s.Logger.ErrorContext(r.Context(), "event feed", "err", err)
			return
		}
		if limit > 0 {
			evs = evs[:min(len(evs), limit-sent)]
		}
		if !out.write(evs) {
			return
		}
		if sent += len(evs); limit > 0 && sent >= limit {
			return
		}
	}
}

// configView is the tenant configuration with the version to send back
// in If-Match.
type configView struct {
	Categories any   `json:"categories"`
	Statuses   any   `json:"statuses"`
	Priorities any   `json:"priorities"`
	Version    int64 `json:"version"`
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	cfg, v, err := s.Tickets.Config(r.Context(), tenantOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(v, 10)))
	web.WriteJSON(w, http.StatusOK, "application/json", configView{cfg.Categories, cfg.Statuses, cfg.Priorities, v})
}
