package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/outbox"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/projections"
)

// TestOutboxProjection applies a message's events, a redelivered batch and
// a stale event, and checks the row follows the stream exactly once.
func TestOutboxProjection(t *testing.T) {
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	id := uuid.NewString()
	ch := domain.Change{By: agent, Source: domain.SourceAPI, At: noon}
	evs := []domain.Event{
		outbox.MessageRequested{Change: ch, ID: id, Channel: outbox.SMS, To: "+14155550100", Body: "Hi"},
		outbox.AttemptFailed{Change: ch, Attempt: 1, Error: "503", NextAttemptAt: noon.Add(time.Second)},
	}
	data := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		b, err := outbox.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		data[i] = eventstore.EventData{ID: uuid.NewString(), Type: e.EventType(), SchemaVersion: 1, Data: b}
	}
	stream := eventstore.StreamRef{TenantID: "t1", Type: outbox.StreamType, ID: id}
	if _, err := store.Append(ctx, stream, eventstore.Exact(0), data); err != nil {
		t.Fatal(err)
	}
	stored, err := store.ReadStream(ctx, stream, 1, 10)
	if err != nil || len(stored) != 2 {
		t.Fatalf("ReadStream() = %d events, %v; want 2", len(stored), err)
	}
	apply := func(batch ...eventstore.Event) {
		t.Helper()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := (projections.Outbox{}).Apply(ctx, tx, projections.Tables{}, batch); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	row := func() (status string, next *time.Time, s outbox.Snapshot) {
		t.Helper()
		var doc []byte
		if err := db.QueryRowContext(ctx, `SELECT status, next_attempt_at, doc FROM outbox_messages WHERE tenant_id = 't1' AND id = $1`, id).
			Scan(&status, &next, &doc); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(doc, &s); err != nil {
			t.Fatal(err)
		}
		return status, next, s
	}
	apply(stored...)
	apply(stored...) // redelivered
	apply(stored[0]) // stale
	status, next, s := row()
	if status != "failed" || next == nil || !next.Equal(noon.Add(time.Second)) || s.Attempts != 1 || s.Version != 2 || s.To != "+14155550100" {
		t.Fatalf("row = %s, next %v, %+v; want failed at version 2 with its next attempt due at noon+1s", status, next, s)
	}
}
