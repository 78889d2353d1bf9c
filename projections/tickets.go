package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// TicketsName is the tickets projection's persisted name.
const TicketsName = "tickets.v1"

// Tickets projects ticket streams into ticket_list (one row per ticket, with
// the ticket's snapshot, filter columns and a full-text search vector) and
// ticket_timeline (one row per ticket event: history entries, activities
// and every other change).
type Tickets struct{}

var _ Projection = Tickets{}

// Name implements Projection.
func (Tickets) Name() string { return TicketsName }

// Tables implements Projection.
func (Tickets) Tables() []string { return []string{"ticket_list", "ticket_timeline"} }

// Query implements Projection.
func (Tickets) Query() eventstore.Query {
	return eventstore.Query{StreamType: ticket.StreamType, Limit: 1000}
}

type ticketRow struct {
	TenantID    string          `json:"tenant_id"`
	TicketID    string          `json:"ticket_id"`
	Number      int64           `json:"number"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Status      string          `json:"status"`
	StatusKind  string          `json:"status_kind"`
	Priority    string          `json:"priority"`
	Category    string          `json:"category"`
	SubCategory string          `json:"sub_category"`
	Source      string          `json:"source"`
	Channel     string          `json:"channel"`
	Assignee    string          `json:"assignee"`
	Tags        []string        `json:"tags"`
	Comments    string          `json:"comments"`
	Doc         json.RawMessage `json:"doc"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Version     int64           `json:"version"`
}

type timelineRow struct {
	TenantID   string          `json:"tenant_id"`
	TicketID   string          `json:"ticket_id"`
	Version    int64           `json:"version"`
	EntryID    string          `json:"entry_id"`
	Kind       string          `json:"kind"`
	Type       string          `json:"type"`
	Visibility string          `json:"visibility"`
	Value      json.RawMessage `json:"value"`
	CreatedBy  domain.Actor    `json:"created_by"`
	Source     string          `json:"source"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Timeline entry kinds.
const (
	KindHistory  = "history"
	KindActivity = "activity"
	KindChange   = "change"
)

type ticketState struct {
	snap     ticket.Snapshot
	comments []string
	fresh    []domain.Event // this batch's events, in order
}

// Apply implements Projection. A batch is applied with one read of the
// tickets it touches, one evolution per ticket and one write per table,
// which is what makes catching up fast.
func (Tickets) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) error {
	states, err := loadTickets(ctx, tx, t, evs)
	if err != nil {
		return err
	}
	var order []*ticketState
	var timeline []timelineRow
	for _, e := range evs {
		de, err := ticket.Decode(e.Type, e.Data)
		if err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
		key := e.TenantID + "/" + e.StreamID
		st := states[key]
		if st == nil {
			st = &ticketState{}
			states[key] = st
		}
		if e.Version <= st.snap.Version+int64(len(st.fresh)) {
			continue // already applied (a replayed batch)
		}
		if len(st.fresh) == 0 {
			order = append(order, st)
		}
		st.fresh = append(st.fresh, de)
		row := timelineEntry(e, de)
		if row.Kind == KindHistory && row.Type == string(ticket.HistoryComment) && row.Visibility == string(ticket.Public) {
			st.comments = append(st.comments, strings.Join(texts(row.Value), " "))
		}
		timeline = append(timeline, row)
	}
	rows := make([]ticketRow, 0, len(order))
	for _, st := range order {
		s := ticket.Evolve(st.snap, st.fresh...)
		doc, err := json.Marshal(s)
		if err != nil {
			return err
		}
		assignee := ""
		if s.Assignee != nil {
			assignee = s.Assignee.ID
			if assignee == "" {
				assignee = s.Assignee.Email
			}
		}
		rows = append(rows, ticketRow{
			TenantID: s.TenantID, TicketID: s.ID, Number: s.Number, Title: s.Title, Description: s.Description,
			Status: s.Status, StatusKind: string(s.StatusKind), Priority: string(s.Priority),
			Category: s.Category, SubCategory: s.SubCategory, Source: string(s.Source), Channel: s.Channel,
			Assignee: assignee, Tags: s.Tags, Comments: strings.Join(st.comments, "\n"), Doc: doc,
			CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Version: s.Version,
		})
	}
	if err := upsertTickets(ctx, tx, t, rows); err != nil {
		return err
	}
	return insertTimeline(ctx, tx, t, timeline)
}

func loadTickets(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) (map[string]*ticketState, error) {
	var tenants, ids []string
	seen := map[string]bool{}
	for _, e := range evs {
		if k := e.TenantID + "/" + e.StreamID; !seen[k] {
			seen[k] = true
			tenants, ids = append(tenants, e.TenantID), append(ids, e.StreamID)
		}
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT l.doc, l.comments FROM %s l
		JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, ticket_id) USING (tenant_id, ticket_id)`,
		pq.QuoteIdentifier(t.Of("ticket_list"))), pq.Array(tenants), pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("load tickets: %w", err)
	}
	defer rows.Close()
	out := map[string]*ticketState{}
	for rows.Next() {
		var doc []byte
		var comments string
		if err := rows.Scan(&doc, &comments); err != nil {
			return nil, err
		}
		st := &ticketState{}
		if err := json.Unmarshal(doc, &st.snap); err != nil {
			return nil, fmt.Errorf("ticket snapshot: %w", err)
		}
		if comments != "" {
			st.comments = []string{comments}
		}
		out[st.snap.TenantID+"/"+st.snap.ID] = st
	}
	return out, rows.Err()
}

func upsertTickets(ctx context.Context, tx *sql.Tx, t Tables, rows []ticketRow) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s AS l (tenant_id, ticket_id, number, title, description, status,
		status_kind, priority, category, sub_category, source, channel, assignee, tags, comments, doc, created_at, updated_at, version)
	SELECT tenant_id, ticket_id, number, title, description, status, status_kind, priority, category, sub_category, source,
		channel, assignee, coalesce(tags, '{}'), comments, doc, created_at, updated_at, version
	FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, ticket_id text, number bigint, title text, description text,
		status text, status_kind text, priority text, category text, sub_category text, source text, channel text,
		assignee text, tags text[], comments text, doc jsonb, created_at timestamptz, updated_at timestamptz, version bigint)
	ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
		status = EXCLUDED.status, status_kind = EXCLUDED.status_kind, priority = EXCLUDED.priority,
		category = EXCLUDED.category, sub_category = EXCLUDED.sub_category, channel = EXCLUDED.channel,
		assignee = EXCLUDED.assignee, tags = EXCLUDED.tags, comments = EXCLUDED.comments, doc = EXCLUDED.doc,
		updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
	WHERE l.version < EXCLUDED.version`, pq.QuoteIdentifier(t.Of("ticket_list"))), string(b))
	if err != nil {
		return fmt.Errorf("upsert tickets: %w", err)
	}
	return nil
}

func insertTimeline(ctx context.Context, tx *sql.Tx, t Tables, rows []timelineRow) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (tenant_id, ticket_id, version, entry_id, kind, type, visibility,
		value, created_by, source, created_at)
	SELECT tenant_id, ticket_id, version, entry_id, kind, type, visibility, value, created_by, source, created_at
	FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, ticket_id text, version bigint, entry_id text, kind text,
		type text, visibility text, value jsonb, created_by jsonb, source text, created_at timestamptz)
	ON CONFLICT DO NOTHING`, pq.QuoteIdentifier(t.Of("ticket_timeline"))), string(b))
	if err != nil {
		return fmt.Errorf("insert timeline: %w", err)
	}
	return nil
}

// timelineEntry describes one ticket event as a timeline row.
func timelineEntry(e eventstore.Event, de domain.Event) timelineRow {
	row := timelineRow{TenantID: e.TenantID, TicketID: e.StreamID, Version: e.Version, EntryID: e.ID,
		Kind: KindChange, Type: e.Type, Visibility: string(ticket.Public), Value: e.Data, CreatedAt: e.RecordedAt}
	if a, ok := de.(domain.Audited); ok {
		ch := a.Audit()
		row.CreatedBy, row.Source, row.CreatedAt = ch.By, string(ch.Source), ch.At
	}
	switch ev := de.(type) {
	case ticket.HistoryLogged:
		row.Kind, row.EntryID, row.Type, row.Visibility, row.Value = KindHistory, ev.EntryID, string(ev.Type), string(ev.Visibility), ev.Value
	case ticket.ActivityAdded:
		v, _ := json.Marshal(map[string]string{"text": ev.Text, "direction": string(ev.Direction)})
		row.Kind, row.EntryID, row.Type, row.Value = KindActivity, ev.ActivityID, string(ev.Direction), v
	}
	if row.Visibility == "" {
		row.Visibility = string(ticket.Public)
	}
	return row
}

// texts returns the string leaves of a JSON value, for full-text search.
func texts(raw json.RawMessage) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) { // deterministic: rebuilds must match
				walk(v[k])
			}
		}
	}
	walk(v)
	return out
}
