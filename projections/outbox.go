package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/domain/outbox"
	"github.com/eventdesk/eventdesk/eventstore"
)

// OutboxName is the outbox projection's persisted name.
const OutboxName = "outbox.v1"

// Outbox projects outbox message streams into outbox_messages: one row per
// message with its snapshot (outbox.Evolve), its status and, for a failed
// one, when its next attempt is due (the sender's scheduler reads that).
// Rows are guarded by the stream version, so a redelivered event changes
// nothing. The application layer reads the table (app.Outbox.List, the
// sender's scheduler): the rows are its own messages' snapshots.
type Outbox struct{}

var _ Projection = Outbox{}

// Name implements Projection.
func (Outbox) Name() string { return OutboxName }

// Tables implements Projection.
func (Outbox) Tables() []string { return []string{"outbox_messages"} }

// Query implements Projection.
func (Outbox) Query() eventstore.Query {
	return eventstore.Query{StreamType: outbox.StreamType, Limit: 500}
}

// Apply implements Projection.
func (Outbox) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) error {
	table := t.Of("outbox_messages")
	for _, e := range evs {
		if e.StreamType != outbox.StreamType {
			continue
		}
		de, err := outbox.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return fmt.Errorf("decode %s: %w", e.ID, err)
		}
		var s outbox.Snapshot
		var doc []byte
		err = tx.QueryRowContext(ctx, `SELECT doc FROM `+table+` WHERE tenant_id = $1 AND id = $2`, e.TenantID, e.StreamID).Scan(&doc)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(doc, &s); err != nil {
				return fmt.Errorf("outbox row %s: %w", e.StreamID, err)
			}
		}
		if s.Version >= e.Version {
			continue // applied already
		}
		s.Version = e.Version - 1
		s = outbox.Evolve(s, de)
		if doc, err = json.Marshal(s); err != nil {
			return err
		}
		var next *time.Time
		if !s.NextAttemptAt.IsZero() {
			next = &s.NextAttemptAt
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO `+table+` (tenant_id, id, channel, status, next_attempt_at, created_at, version, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (tenant_id, id) DO UPDATE SET channel = $3, status = $4, next_attempt_at = $5, created_at = $6, version = $7, doc = $8`,
			e.TenantID, e.StreamID, string(s.Channel), string(s.Status), next, s.CreatedAt, s.Version, doc)
		if err != nil {
			return fmt.Errorf("outbox row %s: %w", e.StreamID, err)
		}
	}
	return nil
}
