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
// ticket_timeline (the ticket's conversation: one row per history entry and
// per activity). A ticket's other changes are not copied: its own stream is
// their audit trail (GET /v1/tickets/{id}/events), and a row per change
// cost the live projection about a seventh of the machine under write load.
//
// Events are decoded through their stored schema version, so a ticket
// event whose shape changed (a new version and its upcaster in package
// ticket) projects as it does today without a replay or a new Name.
type Tickets struct {
	// Codec decodes the ticket events; nil means ticket.Codec(). Tests set
	// a variant with more schema versions.
	Codec *domain.Codec
}

var _ Projection = Tickets{}

// Name implements Projection.
func (Tickets) Name() string { return TicketsName }

// Tables implements Projection.
func (Tickets) Tables() []string { return []string{"ticket_list", "ticket_timeline"} }

// Query implements Projection.
func (Tickets) Query() eventstore.Query {
	return eventstore.Query{StreamType: ticket.StreamType, Limit: 1000}
}

// ticketColumns is a batch of ticket_list rows, column by column, the way
// upsertTickets sends them.
type ticketColumns struct {
	tenant, id, title, desc, status, kind, prio, cat, sub, source, channel, asg textArray
	tags, comments, doc, created, updated                                       textArray
	number, version                                                             []int64
}

// add appends the row of ticket s, whose public comments are comments.
func (c *ticketColumns) add(s ticket.Snapshot, comments string) error {
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
	c.tenant, c.id = append(c.tenant, s.TenantID), append(c.id, s.ID)
	c.number, c.version = append(c.number, s.Number), append(c.version, s.Version)
	c.title, c.desc = append(c.title, s.Title), append(c.desc, s.Description)
	c.status, c.kind, c.prio = append(c.status, s.Status), append(c.kind, string(s.StatusKind)), append(c.prio, string(s.Priority))
	c.cat, c.sub, c.asg = append(c.cat, s.Category), append(c.sub, s.SubCategory), append(c.asg, assignee)
	c.source, c.channel = append(c.source, string(s.Source)), append(c.channel, s.Channel)
	c.tags, c.comments, c.doc = append(c.tags, textArray(s.Tags).literal()), append(c.comments, comments), append(c.doc, string(doc))
	c.created, c.updated = append(c.created, timestamp(s.CreatedAt)), append(c.updated, timestamp(s.UpdatedAt))
	return nil
}

// timelineRow is one ticket_timeline row.
type timelineRow struct {
	TenantID, TicketID string
	Version            int64
	EntryID, Kind      string
	Type, Visibility   string
	Value              json.RawMessage
	CreatedBy          domain.Actor
	Source             string
	CreatedAt          time.Time
}

// Timeline entry kinds.
const (
	KindHistory  = "history"
	KindActivity = "activity"
)

type ticketState struct {
	snap     ticket.Snapshot
	comments []string
	fresh    []domain.Event // this batch's events, in order
}

// Apply implements Projection. A batch is applied with one read of the
// tickets it touches, one evolution per ticket and one write per table,
// which is what makes catching up fast.
func (p Tickets) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) error {
	codec := p.Codec
	if codec == nil {
		codec = ticket.Codec()
	}
	states, err := loadTickets(ctx, tx, t, evs)
	if err != nil {
		return err
	}
	var order []*ticketState
	var timeline []timelineRow
	for _, e := range evs {
		de, err := codec.Decode(e.Type, e.SchemaVersion, e.Data)
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
		row, ok := timelineEntry(e, de)
		if !ok {
			continue
		}
		if row.Kind == KindHistory && row.Type == string(ticket.HistoryComment) && row.Visibility == string(ticket.Public) {
			st.comments = append(st.comments, strings.Join(texts(row.Value), " "))
		}
		timeline = append(timeline, row)
	}
	var list ticketColumns
	for _, st := range order {
		if err := list.add(ticket.Evolve(st.snap, st.fresh...), strings.Join(st.comments, "\n")); err != nil {
			return err
		}
	}
	tl, err := timelineColumnsOf(timeline)
	if err != nil {
		return err
	}
	return writeTickets(ctx, tx, t, list, tl)
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

// timelineColumns is a batch of ticket_timeline rows, column by column,
// the way writeTickets sends them.
type timelineColumns struct {
	tenant, id, entry, kind, typ, vis, value, by, source, at textArray
	version                                                  []int64
}

func timelineColumnsOf(rows []timelineRow) (timelineColumns, error) {
	n := len(rows)
	text := func() textArray { return make(textArray, n) }
	c := timelineColumns{tenant: text(), id: text(), entry: text(), kind: text(), typ: text(), vis: text(), value: text(),
		by: text(), source: text(), at: text(), version: make([]int64, n)}
	for i, r := range rows {
		b, err := json.Marshal(r.CreatedBy)
		if err != nil {
			return c, err
		}
		c.tenant[i], c.id[i], c.version[i], c.entry[i], c.kind[i], c.typ[i] = r.TenantID, r.TicketID, r.Version, r.EntryID, r.Kind, r.Type
		c.vis[i], c.value[i], c.by[i], c.source[i], c.at[i] = r.Visibility, string(r.Value), string(b), r.Source, timestamp(r.CreatedAt)
	}
	return c, nil
}

// writeTickets upserts a batch's ticket_list rows and inserts its
// timeline rows in one statement. It is the batch's first write, so the
// batch's transaction takes its id here: everything else (reading the
// tickets, evolving them, encoding the rows) is done before, and the
// transaction holds back the log's readers (the fence) only for this
// statement and its commit.
func writeTickets(ctx context.Context, tx *sql.Tx, t Tables, c ticketColumns, tl timelineColumns) error {
	if len(c.id) == 0 && len(tl.id) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`WITH list AS (
	INSERT INTO %[1]s AS l (tenant_id, ticket_id, number, title, description, status,
		status_kind, priority, category, sub_category, source, channel, assignee, tags, comments, doc, created_at, updated_at, version)
	SELECT tenant_id, ticket_id, number, title, description, status, status_kind, priority, category, sub_category, source,
		channel, assignee, tags::text[], comments, doc, created_at, updated_at, version
	FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
		$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::jsonb[], $17::timestamptz[],
		$18::timestamptz[], $19::bigint[])
		AS r(tenant_id, ticket_id, number, title, description, status, status_kind, priority, category, sub_category, source,
		channel, assignee, tags, comments, doc, created_at, updated_at, version)
	ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
		status = EXCLUDED.status, status_kind = EXCLUDED.status_kind, priority = EXCLUDED.priority,
		category = EXCLUDED.category, sub_category = EXCLUDED.sub_category, channel = EXCLUDED.channel,
		assignee = EXCLUDED.assignee, tags = EXCLUDED.tags, comments = EXCLUDED.comments, doc = EXCLUDED.doc,
		updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
	WHERE l.version < EXCLUDED.version
	RETURNING 1
), timeline AS (
	INSERT INTO %[2]s (tenant_id, ticket_id, version, entry_id, kind, type, visibility, value, created_by, source, created_at)
	SELECT * FROM unnest($20::text[], $21::text[], $22::bigint[], $23::text[], $24::text[], $25::text[], $26::text[],
		$27::jsonb[], $28::jsonb[], $29::text[], $30::timestamptz[])
	ON CONFLICT DO NOTHING
	RETURNING 1
)
SELECT 1`, pq.QuoteIdentifier(t.Of("ticket_list")), pq.QuoteIdentifier(t.Of("ticket_timeline"))),
		c.tenant, c.id, pq.Array(c.number), c.title, c.desc, c.status, c.kind, c.prio, c.cat, c.sub, c.source, c.channel,
		c.asg, c.tags, c.comments, c.doc, c.created, c.updated, pq.Array(c.version),
		tl.tenant, tl.id, pq.Array(tl.version), tl.entry, tl.kind, tl.typ, tl.vis, tl.value, tl.by, tl.source, tl.at)
	if err != nil {
		return fmt.Errorf("write tickets and timeline: %w", err)
	}
	return nil
}

// timelineEntry describes a history or activity event as a timeline row;
// ok is false for every other event.
func timelineEntry(e eventstore.Event, de domain.Event) (row timelineRow, ok bool) {
	row = timelineRow{TenantID: e.TenantID, TicketID: e.StreamID, Version: e.Version, Visibility: string(ticket.Public),
		CreatedAt: e.RecordedAt}
	switch ev := de.(type) {
	case ticket.HistoryLogged:
		row.Kind, row.EntryID, row.Type, row.Value = KindHistory, ev.EntryID, string(ev.Type), ev.Value
		if ev.Visibility != "" {
			row.Visibility = string(ev.Visibility)
		}
	case ticket.ActivityAdded:
		v, _ := json.Marshal(map[string]string{"text": ev.Text, "direction": string(ev.Direction)}) // strings always marshal
		row.Kind, row.EntryID, row.Type, row.Value = KindActivity, ev.ActivityID, string(ev.Direction), v
	default:
		return row, false
	}
	if a, audited := de.(domain.Audited); audited {
		ch := a.Audit()
		row.CreatedBy, row.Source, row.CreatedAt = ch.By, string(ch.Source), ch.At
	}
	return row, true
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
