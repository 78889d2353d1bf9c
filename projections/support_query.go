package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/eventdesk/eventdesk/domain/ticket"
)

// The expressions the support-message API filters on. Each has an index in
// migrations/sql/00004_support_search.sql with exactly this text.
const (
	exprSupportUser         = `lower(doc->'references'->>'user_id')`
	exprSupportDevice       = `lower(doc->'references'->>'device_id')`
	exprSupportEmail        = `lower(doc->'references'->>'contact_email')`
	exprSupportPhone        = `(doc->'references'->>'contact_phone')`
	exprSupportClientTicket = `lower(doc->'references'->>'client_ticket_id')`
	// A ticket's support ticket id is its support_ticket_id reference when
	// one was linked, else its readable number.
	exprSupportTicket = `coalesce(nullif(doc->'references'->>'support_ticket_id', ''), number::text)`
)

// Page sizes of SearchSupport.
const (
	DefaultSupportPage = 20
	MaxSupportPage     = 100
)

// SupportFilter selects tickets of one tenant by the references the
// support-message API searches on. Empty fields do not filter; the others
// must all match (AND).
type SupportFilter struct {
	TenantID string
	// UserID, DeviceID, Email and ClientTicketID match their reference
	// without regard to case.
	UserID         string
	DeviceID       string
	Email          string
	ClientTicketID string
	// Phone matches the contact phone exactly (after trimming).
	Phone string
	// SupportTicketID matches the support_ticket_id reference or, on a
	// ticket without one, the ticket's number ("345").
	SupportTicketID string
	// Offset skips that many matches; Limit caps the page (1..MaxSupportPage,
	// default DefaultSupportPage).
	Offset int64
	Limit  int
}

// SupportPage is one page of matching tickets, newest first; More says
// whether another page follows.
type SupportPage struct {
	Tickets []ticket.Snapshot
	More    bool
}

// SearchSupport returns a page of the tickets matching f, ordered by
// number, newest first.
func (q *TicketQueries) SearchSupport(ctx context.Context, f SupportFilter) (SupportPage, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultSupportPage
	}
	f.Limit = min(f.Limit, MaxSupportPage)
	f.Offset = max(f.Offset, 0)
	where := []string{"tenant_id = $1"}
	args := []any{f.TenantID}
	for _, c := range []struct{ expr, v string }{
		{exprSupportUser, strings.ToLower(strings.TrimSpace(f.UserID))},
		{exprSupportDevice, strings.ToLower(strings.TrimSpace(f.DeviceID))},
		{exprSupportEmail, strings.ToLower(strings.TrimSpace(f.Email))},
		{exprSupportClientTicket, strings.ToLower(strings.TrimSpace(f.ClientTicketID))},
		{exprSupportPhone, strings.TrimSpace(f.Phone)},
		{exprSupportTicket, strings.TrimSpace(f.SupportTicketID)},
	} {
		if c.v != "" {
			args = append(args, c.v)
			where = append(where, c.expr+" = $"+strconv.Itoa(len(args)))
		}
	}
	args = append(args, f.Limit+1, f.Offset)
	rows, err := q.db.QueryContext(ctx, `SELECT doc FROM ticket_list WHERE `+strings.Join(where, " AND ")+
		` ORDER BY number DESC LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return SupportPage{}, fmt.Errorf("search support tickets: %w", err)
	}
	defer rows.Close()
	page := SupportPage{Tickets: []ticket.Snapshot{}}
	for rows.Next() {
		s, err := scanSnapshot(rows)
		if err != nil {
			return SupportPage{}, err
		}
		page.Tickets = append(page.Tickets, s)
	}
	if err := rows.Err(); err != nil {
		return SupportPage{}, fmt.Errorf("search support tickets: %w", err)
	}
	if len(page.Tickets) > f.Limit {
		page.Tickets, page.More = page.Tickets[:f.Limit], true
	}
	return page, nil
}

// TicketByClientID returns the tenant's ticket whose client_ticket_id
// reference is id (without regard to case), or ticket.ErrNotFound. Like
// every read model it lags the log: wait for the write's position first.
func (q *TicketQueries) TicketByClientID(ctx context.Context, tenantID, id string) (ticket.Snapshot, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return ticket.Snapshot{}, ticket.ErrNotFound
	}
	// Two tickets could carry one client id only if a client linked it
	// twice; the oldest is the one the support API created.
	row := q.db.QueryRowContext(ctx, `SELECT doc FROM ticket_list WHERE tenant_id = $1 AND `+exprSupportClientTicket+
		` = $2 ORDER BY number LIMIT 1`, tenantID, id)
	s, err := scanSnapshot(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ticket.Snapshot{}, ticket.ErrNotFound
	}
	return s, err
}

func scanSnapshot(row interface{ Scan(...any) error }) (ticket.Snapshot, error) {
	var doc []byte
	if err := row.Scan(&doc); err != nil {
		return ticket.Snapshot{}, err
	}
	var s ticket.Snapshot
	if err := json.Unmarshal(doc, &s); err != nil {
		return ticket.Snapshot{}, fmt.Errorf("ticket snapshot: %w", err)
	}
	s.Key = ticket.Key(s.Number)
	return s, nil
}
