package native

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Event is a stored event as the native API shows it.
type Event struct {
	ID            string              `json:"id"`
	Position      eventstore.Position `json:"position"`
	StreamType    string              `json:"stream_type"`
	StreamID      string              `json:"stream_id"`
	Version       int64               `json:"version"`
	Type          string              `json:"type"`
	SchemaVersion int                 `json:"schema_version"`
	RecordedAt    time.Time           `json:"recorded_at"`
	Metadata      eventstore.Metadata `json:"metadata"`
	Data          json.RawMessage     `json:"data"`
}

func eventView(e eventstore.Event) Event {
	return Event{ID: e.ID, Position: e.Position, StreamType: e.StreamType, StreamID: e.StreamID, Version: e.Version,
		Type: e.Type, SchemaVersion: e.SchemaVersion, RecordedAt: e.RecordedAt, Metadata: e.Metadata, Data: e.Data}
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
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = eventView(e)
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"events": out})
}

// MaxFeedPage bounds one JSON page of the event feed.
const MaxFeedPage = 1000

// feed answers the tenant's gap-free event log after a position. As JSON
// it is one page with next_after to resume from; with Accept:
// application/x-ndjson it streams one event per line, and with follow=true
// keeps streaming new events as they commit until the client hangs up.
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
	follow := q.Get("follow") == "true"
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
	if !ndjson {
		query.Limit = limit
		evs, err := s.Log.ReadAll(r.Context(), query)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := make([]Event, len(evs))
		for i, e := range evs {
			out[i] = eventView(e)
		}
		next := after
		if len(evs) > 0 {
			next = evs[len(evs)-1].Position
		}
		web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"events": out, "next_after": next})
		return
	}
	s.streamFeed(w, r, query, limit, follow)
}

func (s *Server) streamFeed(w http.ResponseWriter, r *http.Request, q eventstore.Query, limit int, follow bool) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	wake, stop := s.Log.Notify()
	defer stop()
	sent := 0
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
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
		for _, e := range evs {
			if enc.Encode(eventView(e)) != nil {
				return
			}
		}
		sent += len(evs)
		if len(evs) > 0 {
			q.After = evs[len(evs)-1].Position
			_ = rc.Flush()
		}
		if limit > 0 && sent >= limit {
			return
		}
		if len(evs) == q.Limit {
			continue
		}
		if !follow {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-wake:
		case <-heartbeat.C:
			// A blank line keeps proxies from closing an idle stream;
			// NDJSON readers skip it.
			if _, err := w.Write([]byte("\n")); err != nil {
				return
			}
			_ = rc.Flush()
		case <-time.After(time.Second):
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
