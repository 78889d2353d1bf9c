package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// appendFails is a store whose appends fail after reaching storage.
type appendFails struct{ eventstore.Store }

func (appendFails) Append(context.Context, eventstore.StreamRef, eventstore.ExpectedVersion, []eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, errors.New("connection reset")
}

// TestAttachmentsIndexFollowsTheStream: a file is served only if its
// ticket's stream records it. An attach whose event fails leaves no index
// row, and an index row without its event (a crash between the two
// writes) is never served, by id or as a ticket's latest file.
func TestAttachmentsIndexFollowsTheStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	tickets := NewTickets(store, db.DB, clock)
	files := NewFiles(t.TempDir(), 1<<20, db.DB, tickets)
	id := create(t, tickets, acme).ID

	attached, _, err := files.Attach(ctx, acme, id, "LOG", "app.log", strings.NewReader("boot ok"), byAPI)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := files.Get(ctx, acme, attached.ID); err != nil || got.ID != attached.ID {
		t.Fatalf("Get(attached) = %+v, %v", got, err)
	}

	// A row left behind, newer than the real file.
	orphan := NewID()
	if _, err := db.Exec(`INSERT INTO attachments (tenant_id, attachment_id, ticket_id, kind, filename, content_type, size, sha256, created_at)
		VALUES ($1, $2, $3, 'LOG', 'ghost.log', 'text/plain', 5, $4, $5)`, acme, orphan, id, attached.SHA256, clock().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := files.Get(ctx, acme, orphan); !errors.Is(err, ErrFileNotFound) {
		t.Errorf("Get(orphan row) = %v, want ErrFileNotFound", err)
	}
	if got, err := files.Latest(ctx, acme, id, "LOG"); err != nil || got.ID != attached.ID {
		t.Errorf("Latest(LOG) = %s, %v; want the attached file %s, not the orphan", got.ID, err, attached.ID)
	}
	if _, err := files.Get(ctx, "globex", attached.ID); !errors.Is(err, ErrFileNotFound) {
		t.Errorf("Get from another tenant = %v, want ErrFileNotFound", err)
	}

	// An attach whose event fails takes its row back.
	broken := NewFiles(t.TempDir(), 1<<20, db.DB, NewTickets(appendFails{store}, db.DB, clock))
	if _, _, err := broken.Attach(ctx, acme, id, "LOG", "late.log", strings.NewReader("late"), byAPI); err == nil {
		t.Fatal("Attach with a failing append succeeded")
	}
	var rows int
	if err := db.Get(&rows, `SELECT count(*) FROM attachments WHERE tenant_id = $1 AND filename = 'late.log'`, acme); err != nil || rows != 0 {
		t.Errorf("index rows of the failed attach = %d, %v; want 0", rows, err)
	}
}
