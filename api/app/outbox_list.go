package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/outbox"
)

// OutboxFilter selects messages of one tenant.
type OutboxFilter struct {
	TenantID string
	// Status, if set, is one of pending, failed, sent, dead.
	Status string
	// Limit caps the page (1..200, default 50); Cursor continues a list.
	Limit  int
	Cursor string
}

// OutboxPage is one page of messages, newest first. NextCursor is empty on
// the last page.
type OutboxPage struct {
	Messages   []outbox.Snapshot
	NextCursor string
}

// ErrBadOutboxCursor: the cursor was not produced by List.
var ErrBadOutboxCursor = &domain.Error{Kind: domain.Invalid, Code: "invalid_cursor", Field: "cursor", Msg: "cursor is not one this API returned"}

// ErrBadOutboxStatus: the status filter is not a message status.
var ErrBadOutboxStatus = &domain.Error{Kind: domain.Invalid, Code: "invalid_status", Field: "status",
	Msg: "status must be one of pending, failed, sent, dead"}

// List returns a page of f's messages, newest first (by request time,
// then id): the order never changes, so cursors are stable. It reads the
// outbox.v1 read model (projections.Outbox), which trails the log by a
// moment.
func (o *Outbox) List(ctx context.Context, f OutboxFilter) (OutboxPage, error) {
	switch outbox.Status(f.Status) {
	case "", outbox.Pending, outbox.Failed, outbox.Sent, outbox.Dead:
	default:
		return OutboxPage{}, ErrBadOutboxStatus
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 200)
	q := `SELECT doc FROM outbox_messages WHERE tenant_id = $1 AND ($2 = '' OR status = $2)`
	args := []any{f.TenantID, f.Status}
	if f.Cursor != "" {
		at, id, err := decodeOutboxCursor(f.Cursor)
		if err != nil {
			return OutboxPage{}, err
		}
		q += ` AND (created_at, id) < ($3, $4)`
		args = append(args, at, id)
	}
	q += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT %d`, f.Limit+1)
	rows, err := o.db.QueryContext(ctx, q, args...)
	if err != nil {
		return OutboxPage{}, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	page := OutboxPage{Messages: []outbox.Snapshot{}}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return OutboxPage{}, fmt.Errorf("list outbox: %w", err)
		}
		var s outbox.Snapshot
		if err := json.Unmarshal(doc, &s); err != nil {
			return OutboxPage{}, fmt.Errorf("list outbox: %w", err)
		}
		page.Messages = append(page.Messages, s)
	}
	if err := rows.Err(); err != nil {
		return OutboxPage{}, fmt.Errorf("list outbox: %w", err)
	}
	if len(page.Messages) > f.Limit {
		page.Messages = page.Messages[:f.Limit]
		last := page.Messages[f.Limit-1]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(last.CreatedAt.UTC().Format(time.RFC3339Nano) + " " + last.ID))
	}
	return page, nil
}

func decodeOutboxCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", ErrBadOutboxCursor
	}
	ts, id, ok := strings.Cut(string(b), " ")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || !domain.ValidUUID(id) {
		return time.Time{}, "", ErrBadOutboxCursor
	}
	return at, id, nil
}
