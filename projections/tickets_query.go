package projections

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// TicketQueries answers queries on the tickets.v1 read models.
type TicketQueries struct {
	db *sql.DB
}

// NewTicketQueries returns the query side of the tickets projection.
func NewTicketQueries(db *sql.DB) *TicketQueries { return &TicketQueries{db: db} }

// TicketFilter selects tickets of one tenant. Empty fields do not filter;
// several values of one field match any of them.
type TicketFilter struct {
	TenantID    string
	Status      []string
	Priority    []string
	Category    []string
	Assignee    []string // assignee id or e-mail
	Tag         []string // tickets having any of the tags
	Source      []string
	CreatedFrom time.Time
	CreatedTo   time.Time
	UpdatedFrom time.Time
	UpdatedTo   time.Time
	// Q is a full-text query over title, description and public comments
	// (web-search syntax: words, "phrases", -exclusions, OR).
	Q string
	// Limit caps the page (1..200, default 50); Cursor continues a list.
	Limit  int
	Cursor string
}

// ErrBadCursor: the cursor was not produced by List.
var ErrBadCursor = &domain.Error{Kind: domain.Invalid, Code: "invalid_cursor", Field: "cursor", Msg: "cursor is not one this API returned"}

// TicketPage is one page of tickets, newest first. NextCursor is empty on
// the last page.
type TicketPage struct {
	Tickets    []ticket.Snapshot
	NextCursor string
}

// List returns a page of tickets matching f, ordered by number, newest
// first: the order never changes as tickets are updated, so cursors are
// stable.
func (q *TicketQueries) List(ctx context.Context, f TicketFilter) (TicketPage, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 200)
	where := []string{"tenant_id = $1"}
	args := []any{f.TenantID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	for col, vals := range map[string][]string{"status": f.Status, "priority": f.Priority, "category": f.Category,
		"assignee": f.Assignee, "source": f.Source} {
		if len(vals) > 0 {
			add(col+" = ANY(?)", pq.Array(vals))
		}
	}
	if len(f.Tag) > 0 {
		add("tags && ?", pq.Array(f.Tag))
	}
	for cond, t := range map[string]time.Time{"created_at >= ?": f.CreatedFrom, "created_at < ?": f.CreatedTo,
		"updated_at >= ?": f.UpdatedFrom, "updated_at < ?": f.UpdatedTo} {
		if !t.IsZero() {
			add(cond, t)
		}
	}
	if strings.TrimSpace(f.Q) != "" {
		add("search @@ websearch_to_tsquery('english', ?)", f.Q)
	}
	if f.Cursor != "" {
		n, err := decodeCursor(f.Cursor)
		if err != nil {
			return TicketPage{}, err
		}
		add("number < ?", n)
	}
	args = append(args, f.Limit+1)
	rows, err := q.db.QueryContext(ctx, `SELECT doc FROM ticket_list WHERE `+strings.Join(where, " AND ")+
		` ORDER BY number DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return TicketPage{}, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	var page TicketPage
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return TicketPage{}, err
		}
		var s ticket.Snapshot
		if err := json.Unmarshal(doc, &s); err != nil {
			return TicketPage{}, err
		}
		s.Key = ticket.Key(s.Number)
		page.Tickets = append(page.Tickets, s)
	}
	if err := rows.Err(); err != nil {
		return TicketPage{}, err
	}
	if len(page.Tickets) > f.Limit {
		page.Tickets = page.Tickets[:f.Limit]
		page.NextCursor = encodeCursor(page.Tickets[f.Limit-1].Number)
	}
	return page, nil
}

func encodeCursor(n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n:" + strconv.FormatInt(n, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "n:") {
		return 0, ErrBadCursor
	}
	n, err := strconv.ParseInt(string(b[2:]), 10, 64)
	if err != nil {
		return 0, ErrBadCursor
	}
	return n, nil
}

// TimelineEntry is one row of a ticket's timeline.
type TimelineEntry struct {
	TicketID   string          `json:"ticket_id"`
	Version    int64           `json:"version"`
	EntryID    string          `json:"id"`
	Kind       string          `json:"kind"`
	Type       string          `json:"type"`
	Visibility string          `json:"visibility"`
	Value      json.RawMessage `json:"value"`
	CreatedBy  domain.Actor    `json:"created_by"`
	Source     string          `json:"source"`
	CreatedAt  time.Time       `json:"created_at"`
}

// TimelineFilter selects part of a ticket's timeline.
type TimelineFilter struct {
	TenantID, TicketID string
	// Kinds keeps only these kinds (history, activity); empty: both.
	Kinds []string
	// IncludeInternal includes internal comments.
	IncludeInternal bool
	// AfterVersion continues a page; Limit caps it (default 100, max 500).
	AfterVersion int64
	Limit        int
}

// Timeline returns a ticket's timeline, oldest first.
func (q *TicketQueries) Timeline(ctx context.Context, f TimelineFilter) ([]TimelineEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 500)
	query := `SELECT ticket_id, version, entry_id, kind, type, visibility, value, created_by, source, created_at
		FROM ticket_timeline WHERE tenant_id = $1 AND ticket_id = $2 AND version > $3`
	args := []any{f.TenantID, f.TicketID, f.AfterVersion}
	if len(f.Kinds) > 0 {
		args = append(args, pq.Array(f.Kinds))
		query += fmt.Sprintf(" AND kind = ANY($%d)", len(args))
	}
	if !f.IncludeInternal {
		query += " AND visibility <> 'internal'"
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(" ORDER BY version LIMIT $%d", len(args))
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	out := []TimelineEntry{}
	for rows.Next() {
		var e TimelineEntry
		var by []byte
		if err := rows.Scan(&e.TicketID, &e.Version, &e.EntryID, &e.Kind, &e.Type, &e.Visibility, &e.Value, &by, &e.Source, &e.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(by, &e.CreatedBy); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// TicketVersion returns the version the read model holds for a ticket, 0
// when it holds none: callers wait on it for read-your-writes.
func (q *TicketQueries) TicketVersion(ctx context.Context, tenantID, ticketID string) (int64, error) {
	var v int64
	err := q.db.QueryRowContext(ctx, `SELECT version FROM ticket_list WHERE tenant_id = $1 AND ticket_id = $2`, tenantID, ticketID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
