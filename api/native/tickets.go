package native

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/projections"
)

// MaxWait bounds how long a read waits for projections to catch up with
// a min_position (or with the ticket it reads).
const MaxWait = 2 * time.Second

type createTicketRequest struct {
	ID          string                     `json:"id"`
	Title       string                     `json:"title"`
	Description string                     `json:"description"`
	Category    string                     `json:"category"`
	SubCategory string                     `json:"sub_category"`
	Priority    string                     `json:"priority"`
	Status      string                     `json:"status"`
	Source      string                     `json:"source"`
	Channel     string                     `json:"channel"`
	Tags        []string                   `json:"tags"`
	Custom      map[string]json.RawMessage `json:"custom"`
	CreatedBy   *domain.Actor              `json:"created_by"`
	Assignee    *domain.Actor              `json:"assignee"`
	Subscribers []string                   `json:"subscribers"`
	Attachments []ticket.Attachment        `json:"attachments"`
	References  ticket.References          `json:"references"`
	UserAgent   string                     `json:"user_agent"`
}

// writeTicket answers a ticket with its version as ETag and the position
// of the write (or of its last event) as Eventdesk-Position.
func writeTicket(w http.ResponseWriter, status int, s ticket.Snapshot, pos eventstore.Position) {
	writeVersioned(w, status, s.Version, pos, s)
}

// writeVersioned answers v, which is at version, with the version as ETag
// and, unless zero, pos as Eventdesk-Position.
func writeVersioned(w http.ResponseWriter, status int, version int64, pos eventstore.Position, v any) {
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(version, 10)))
	if !pos.IsZero() {
		w.Header().Set("Eventdesk-Position", pos.String())
	}
	web.WriteJSON(w, status, "application/json", v)
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	var req createTicketRequest
	m, err := s.request(r, &req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var c fieldCheck
	c.required("title", req.Title)
	c.oneOf("priority", req.Priority, names(ticket.Priorities()))
	c.oneOf("source", req.Source, names(domain.Sources()))
	if req.ID != "" && !domain.ValidUUID(req.ID) {
		c.add("id", "invalid", "id must be a lower-case UUID")
	}
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Source != "" {
		m.Source = domain.Source(req.Source)
	}
	res, err := s.Tickets.Create(r.Context(), tenantOf(r).ID, ticket.CreateTicket{
		ID: req.ID, Title: req.Title, Description: req.Description, Category: req.Category, SubCategory: req.SubCategory,
		Priority: ticket.Priority(req.Priority), Status: req.Status, Channel: req.Channel, Tags: req.Tags, Custom: req.Custom,
		CreatedBy: req.CreatedBy, Assignee: req.Assignee, Subscribers: req.Subscribers, Attachments: req.Attachments,
		References: req.References, UserAgent: req.UserAgent,
	}, m)
	if errors.Is(err, eventstore.ErrVersionConflict) {
		err = web.NewProblem(http.StatusConflict, "ticket_exists", "a ticket with this id already exists")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/tickets/"+res.Ticket.ID)
	writeTicket(w, http.StatusCreated, res.Ticket, res.Position)
}

// decode reads the request's JSON body into dst; see decodeJSON.
func (s *Server) decode(r *http.Request, dst any, present *map[string]bool) error {
	if err := web.CheckMediaType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := web.ReadBody(r, web.MaxBodyBytes)
	if err != nil {
		return err
	}
	p, err := web.DecodeJSON(body, dst)
	if present != nil {
		*present = p
	}
	return err
}

// request decodes a write's JSON body into dst and says who makes it.
func (s *Server) request(r *http.Request, dst any) (app.Meta, error) {
	if err := s.decode(r, dst, nil); err != nil {
		return app.Meta{}, err
	}
	return meta(r)
}

// decodeOptional is decode for bodies that may be empty.
func (s *Server) decodeOptional(r *http.Request, dst any) error {
	body, err := web.ReadBody(r, web.MaxBodyBytes)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return s.decode(r, dst, nil)
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	t, pos, err := s.Tickets.Load(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeTicket(w, http.StatusOK, t.Snapshot(), pos)
}

type patchTicketRequest struct {
	Title       *string                    `json:"title"`
	Description *string                    `json:"description"`
	Status      string                     `json:"status"`
	Priority    string                     `json:"priority"`
	Category    *string                    `json:"category"`
	SubCategory *string                    `json:"sub_category"`
	Assignee    *domain.Actor              `json:"assignee"`
	AddTags     []string                   `json:"add_tags"`
	RemoveTags  []string                   `json:"remove_tags"`
	Custom      map[string]json.RawMessage `json:"custom"`
	References  *ticket.References         `json:"references"`
}

// conditionalMeta is meta with the If-Match version, for writes that may
// be pinned to a version.
func conditionalMeta(r *http.Request) (app.Meta, error) {
	m, err := meta(r)
	if err != nil {
		return app.Meta{}, err
	}
	m.IfVersion, err = ifMatch(r)
	return m, err
}

// command reads a pinnable write: its JSON body into dst (strictly; with
// optional, an empty body is an empty object), then check's findings, then
// who makes it and the If-Match version. It answers the first problem
// itself and says whether the handler may go on. present, if not nil,
// receives the body's top-level members.
func (s *Server) command(w http.ResponseWriter, r *http.Request, dst any, optional bool, present *map[string]bool,
	check func(c *fieldCheck)) (app.Meta, bool) {
	var err error
	if optional {
		err = s.decodeOptional(r, dst)
	} else {
		err = s.decode(r, dst, present)
	}
	if err == nil && check != nil {
		var c fieldCheck
		check(&c)
		err = c.err()
	}
	var m app.Meta
	if err == nil {
		m, err = conditionalMeta(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return app.Meta{}, false
	}
	return m, true
}

// ifMatch parses If-Match: a ticket version, quoted or not.
func ifMatch(r *http.Request) (*int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return nil, web.NewProblem(http.StatusBadRequest, "invalid_if_match", "If-Match must be a ticket version, e.g. \"3\"")
	}
	return &v, nil
}

// patchTicket applies every change in the body in one decision: all of
// them land in one atomic append, or none does.
func (s *Server) patchTicket(w http.ResponseWriter, r *http.Request) {
	var req patchTicketRequest
	var present map[string]bool
	m, ok := s.command(w, r, &req, false, &present, func(c *fieldCheck) {
		c.oneOf("priority", req.Priority, names(ticket.Priorities()))
		for name, v := range map[string]string{"status": req.Status, "priority": req.Priority} {
			if present[name] && v == "" {
				c.add(name, "required", "%s must not be empty or null; leave it out to keep it", name)
			}
		}
	})
	if !ok {
		return
	}
	res, err := s.Tickets.Patch(r.Context(), tenantOf(r).ID, r.PathValue("id"), app.PatchTicket{
		Title: req.Title, Description: req.Description, Status: req.Status, Priority: ticket.Priority(req.Priority),
		Category: req.Category, SubCategory: req.SubCategory, Assignee: req.Assignee,
		Unassign: present["assignee"] && req.Assignee == nil, AddTags: req.AddTags, RemoveTags: req.RemoveTags,
		Custom: req.Custom, References: req.References,
	}, m)
	s.answerTicket(w, r, res, err)
}

// answerTicket answers a ticket command's result (or its error).
func (s *Server) answerTicket(w http.ResponseWriter, r *http.Request, res app.Result, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeTicket(w, http.StatusOK, res.Ticket, res.Position)
}

type reopenRequest struct {
	Status string `json:"status"`
}

func (s *Server) reopenTicket(w http.ResponseWriter, r *http.Request) {
	var req reopenRequest
	m, ok := s.command(w, r, &req, true, nil, nil)
	if !ok {
		return
	}
	res, err := s.Tickets.Reopen(r.Context(), tenantOf(r).ID, r.PathValue("id"), req.Status, m)
	s.answerTicket(w, r, res, err)
}

type feedbackRequest struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

func (s *Server) submitFeedback(w http.ResponseWriter, r *http.Request) {
	var req feedbackRequest
	m, ok := s.command(w, r, &req, false, nil, nil)
	if !ok {
		return
	}
	res, err := s.Tickets.SubmitFeedback(r.Context(), tenantOf(r).ID, r.PathValue("id"), req.Rating, req.Comment, m)
	s.answerTicket(w, r, res, err)
}

type historyRequest struct {
	Type       string          `json:"type"`
	Value      json.RawMessage `json:"value"`
	Visibility string          `json:"visibility"`
}

// HistoryEntry is a ticket history entry as the native API shows it.
type HistoryEntry struct {
	ID       string `json:"id"`
	TicketID string `json:"ticket_id"`
	// Version is the entry's place in the ticket's stream; pass the last
	// one as after_version for the next page.
	Version    int64           `json:"version"`
	Type       string          `json:"type"`
	Value      json.RawMessage `json:"value"`
	Visibility string          `json:"visibility"`
	CreatedBy  domain.Actor    `json:"created_by"`
	Source     string          `json:"source"`
	CreatedAt  time.Time       `json:"created_at"`
}

func (s *Server) logHistory(w http.ResponseWriter, r *http.Request) {
	var req historyRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		c.required("type", req.Type)
		c.oneOf("type", req.Type, names(ticket.HistoryTypes()))
		c.oneOf("visibility", req.Visibility, []string{string(ticket.Public), string(ticket.Internal)})
		if len(req.Value) == 0 || string(req.Value) == "null" {
			c.add("value", "required", "value is required (a JSON object)")
		} else if v := strings.TrimSpace(string(req.Value)); !strings.HasPrefix(v, "{") {
			c.add("value", "wrong_type", "value must be an object")
		}
	})
	if !ok {
		return
	}
	res, err := s.Tickets.LogHistory(r.Context(), tenantOf(r).ID, r.PathValue("id"), app.HistoryInput{
		Type: ticket.HistoryType(req.Type), Value: req.Value, Visibility: ticket.Visibility(req.Visibility)}, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := res.Entry
	w.Header().Set("Eventdesk-Position", res.Position.String())
	web.WriteJSON(w, http.StatusCreated, "application/json", HistoryEntry{ID: h.EntryID, TicketID: res.Ticket.ID, Version: res.Ticket.Version,
		Type: string(h.Type), Value: h.Value, Visibility: string(h.Visibility), CreatedBy: h.By,
		Source: string(h.Source), CreatedAt: h.At})
}

// waitForTicket waits (at most MaxWait) until the tickets projection has
// applied everything up to pos, so reads of a ticket's read models show
// every write that committed before the read began.
func (s *Server) waitForTicket(ctx context.Context, pos eventstore.Position) bool {
	return s.waitFor(ctx, projections.TicketsName, pos)
}

// waitFor waits (at most MaxWait) until projection name has applied
// everything up to pos.
func (s *Server) waitFor(ctx context.Context, name string, pos eventstore.Position) bool {
	ctx, cancel := context.WithTimeout(ctx, MaxWait)
	defer cancel()
	return s.Waiter.WaitFor(ctx, name, pos) == nil
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r).ID
	t, pos, err := s.Tickets.Load(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	var c fieldCheck
	f := projections.TimelineFilter{TenantID: tenant, TicketID: t.ID(), Kinds: []string{projections.KindHistory},
		IncludeInternal: c.flag(q, "include_internal")}
	if v := q.Get("after_version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			c.add("after_version", "invalid", "after_version must be a non-negative integer")
		}
		f.AfterVersion = n
	}
	f.Limit = parseLimit(&c, q.Get("limit"), 100, 500)
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.waitForTicket(r.Context(), pos) {
		w.Header().Set("Eventdesk-Stale", "true")
	}
	entries, err := s.Queries.Timeline(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]HistoryEntry, len(entries))
	for i, e := range entries {
		out[i] = HistoryEntry{ID: e.EntryID, TicketID: e.TicketID, Version: e.Version, Type: e.Type, Value: e.Value,
			Visibility: e.Visibility, CreatedBy: e.CreatedBy, Source: e.Source, CreatedAt: e.CreatedAt}
	}
	var next any // null on the last page
	if len(out) == f.Limit {
		next = out[len(out)-1].Version
	}
	web.WriteJSON(w, http.StatusOK, "application/json", map[string]any{"history": out, "next_after_version": next})
}

func parseLimit(c *fieldCheck, v string, def, maxLimit int) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		c.add("limit", "invalid", "limit must be an integer from 1 to %d", maxLimit)
		return def
	}
	return n
}

type activityRequest struct {
	Text      string `json:"text"`
	Direction string `json:"direction"`
}

// Activity is a portal activity as the native API shows it.
type Activity struct {
	ID        string       `json:"id"`
	TicketID  string       `json:"ticket_id"`
	Text      string       `json:"text"`
	Direction string       `json:"direction"`
	CreatedBy domain.Actor `json:"created_by"`
	Source    string       `json:"source"`
	CreatedAt time.Time    `json:"created_at"`
}

func (s *Server) addActivity(w http.ResponseWriter, r *http.Request) {
	var req activityRequest
	m, ok := s.command(w, r, &req, false, nil, func(c *fieldCheck) {
		c.required("text", req.Text)
		c.required("direction", req.Direction)
		c.oneOf("direction", req.Direction, []string{string(ticket.Inbound), string(ticket.Outbound)})
	})
	if !ok {
		return
	}
	res, err := s.Tickets.AddActivity(r.Context(), tenantOf(r).ID, r.PathValue("id"), req.Text, ticket.Direction(req.Direction), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := res.Activity
	w.Header().Set("Eventdesk-Position", res.Position.String())
	web.WriteJSON(w, http.StatusCreated, "application/json", Activity{ID: a.ActivityID, TicketID: res.Ticket.ID,
		Text: a.Text, Direction: string(a.Direction), CreatedBy: a.By, Source: string(a.Source), CreatedAt: a.At})
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := projections.TicketFilter{TenantID: tenantOf(r).ID, Q: q.Get("q"), Cursor: q.Get("cursor")}
	var c fieldCheck
	f.Status, f.Priority, f.Category = multi(q, "status"), multi(q, "priority"), multi(q, "category")
	f.Assignee, f.Tag, f.Source = multi(q, "assignee"), multi(q, "tag"), multi(q, "source")
	for _, p := range f.Priority {
		c.oneOf("priority", p, names(ticket.Priorities()))
	}
	for _, src := range f.Source {
		c.oneOf("source", src, names(domain.Sources()))
	}
	for name, dst := range map[string]*time.Time{"created_from": &f.CreatedFrom, "created_to": &f.CreatedTo,
		"updated_from": &f.UpdatedFrom, "updated_to": &f.UpdatedTo} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				c.add(name, "invalid", "%s must be an RFC 3339 time, e.g. 2026-11-22T12:00:00Z", name)
			}
			*dst = t
		}
	}
	f.Limit = parseLimit(&c, q.Get("limit"), 50, 200)
	minPos := parseMinPosition(&c, q.Get("min_position"))
	if err := c.err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if !minPos.IsZero() && !s.waitForTicket(r.Context(), minPos) {
		w.Header().Set("Eventdesk-Stale", "true")
	}
	page, err := s.Queries.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tickets := page.Tickets
	if tickets == nil {
		tickets = []ticket.Snapshot{}
	}
	body := map[string]any{"tickets": tickets, "next_cursor": nil}
	if page.NextCursor != "" {
		body["next_cursor"] = page.NextCursor
	}
	web.WriteJSON(w, http.StatusOK, "application/json", body)
}
