package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/listener"
	"github.com/eventdesk/eventdesk/eventstore"
)

var listenerKind = kind[*listener.Listener]{encode: listener.Encode, decode: listener.Decode, rehydrate: listener.Rehydrate}

// Listeners runs the commands on webhook listeners (seed 004) and resolves
// a listener URL's secret to its tenant and listener.
//
// A listener's secret is long (256 random bits) and only its sha256 is
// kept, in listener_secrets, one row per listener: creating a listener
// stores its first secret after its creation event; a rotation replaces
// the row in one statement before it records ListenerRotated, so the old
// URL stops working at once even if the event is then lost (a retry
// rotates again); deleting removes the row after ListenerDeleted. A
// delivery resolves its secret with one lookup of the table's primary key
// and then checks the listener itself (deleted or disabled: not found), so
// a row that outlives its listener opens nothing.
type Listeners struct {
	// PublicURL is the absolute base of listener URLs (EVENTDESK_PUBLIC_URL,
	// e.g. "https://desk.example.com"); cmd sets it. Empty means
	// DefaultPublicURL.
	PublicURL string
	store     eventstore.Store
	db        *sql.DB
	listeners *repository[*listener.Listener]
	now       func() time.Time
}

// NewListeners returns the listener service; db holds the secrets.
func NewListeners(store eventstore.Store, db *sql.DB, now func() time.Time) *Listeners {
	if now == nil {
		now = time.Now
	}
	return &Listeners{store: store, db: db, listeners: newRepository(listenerKind, store), now: now}
}

// DefaultPublicURL is the base of listener URLs when none is configured.
const DefaultPublicURL = "http://localhost:8080"

// ListenerPath is the path of a listener's URL before its secret.
const ListenerPath = "/hooks/listener/"

// URL returns the absolute URL of a listener whose secret is secret.
func (s *Listeners) URL(secret string) string {
	base := s.PublicURL
	if base == "" {
		base = DefaultPublicURL
	}
	return strings.TrimRight(base, "/") + ListenerPath + secret
}

func listenerStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: listener.StreamType, ID: id}
}

var listenerIndex = indexed{
	stream: func(tenant string) eventstore.StreamRef {
		return eventstore.StreamRef{TenantID: tenant, Type: listener.IndexStreamType, ID: listener.IndexStreamID}
	},
	entry: func(id string) domain.Event { return listener.ListenerIndexed{ID: id} },
	id: func(e domain.Event) (string, bool) {
		x, ok := e.(listener.ListenerIndexed)
		return x.ID, ok
	},
	codec: listener.IndexCodec(),
}

// ListenerResult is the outcome of a listener command. Secret is set only
// by Create and Rotate: the secret of the listener's URL, shown once.
type ListenerResult struct {
	Listener listener.Snapshot
	Secret   string
	Position eventstore.Position
}

// Create creates a listener of tenant with settings and gives it a fresh
// secret. Its id derives from m.Idempotency when set; a retry of a create
// whose first attempt stored the listener gives it a new secret (the
// first attempt's answer, and so its secret, never reached the client).
func (s *Listeners) Create(ctx context.Context, tenant string, settings listener.Settings, m Meta) (ListenerResult, error) {
	id := m.derivedID("listener")
	l, err := listener.New(listener.CreateListener{By: m.By, Source: m.Source, ID: id, Settings: settings}, s.now())
	if err != nil {
		return ListenerResult{}, err
	}
	o, err := createIndexed(ctx, s.listeners, listenerIndex, listenerStream(tenant, id), l, "", m)
	if errors.Is(err, eventstore.ErrVersionConflict) {
		return ListenerResult{}, listener.ErrAlreadyExists
	}
	if err != nil {
		return ListenerResult{}, err
	}
	sec, err := s.replaceSecret(ctx, tenant, id)
	if err != nil {
		return ListenerResult{}, err
	}
	return ListenerResult{Listener: o.agg.Snapshot(), Secret: sec, Position: o.pos}, nil
}

// replaceSecret gives listener id a new secret, replacing its old one in
// one statement, and returns it.
func (s *Listeners) replaceSecret(ctx context.Context, tenant, id string) (string, error) {
	sec := "whl_" + secret()
	_, err := s.db.ExecContext(ctx, `INSERT INTO listener_secrets (secret_hash, tenant_id, listener_id, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (listener_id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, created_at = EXCLUDED.created_at`,
		digest(sec), tenant, id, s.now())
	if err != nil {
		return "", fmt.Errorf("listener %s: store secret: %w", id, err)
	}
	return sec, nil
}

// Get returns a listener of tenant and the position of its last event; an
// unknown, deleted or other tenant's listener is listener.ErrNotFound.
func (s *Listeners) Get(ctx context.Context, tenant, id string) (listener.Snapshot, eventstore.Position, error) {
	if !domain.ValidUUID(id) {
		return listener.Snapshot{}, eventstore.Position{}, listener.ErrNotFound
	}
	l, pos, err := s.listeners.load(ctx, listenerStream(tenant, id))
	if err != nil {
		return listener.Snapshot{}, eventstore.Position{}, err
	}
	if !l.Exists() {
		return listener.Snapshot{}, eventstore.Position{}, listener.ErrNotFound
	}
	return l.Snapshot(), pos, nil
}

// List returns the listeners of tenant that are not deleted, oldest first.
func (s *Listeners) List(ctx context.Context, tenant string) ([]listener.Snapshot, error) {
	ids, err := listenerIndex.list(ctx, s.store, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]listener.Snapshot, 0, len(ids))
	for _, id := range ids {
		l, _, err := s.Get(ctx, tenant, id)
		if errors.Is(err, listener.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// Update replaces the settings of a listener with what edit makes of them
// (with m.IfVersion, at that version).
func (s *Listeners) Update(ctx context.Context, tenant, id string, edit func(listener.Settings) listener.Settings, m Meta) (ListenerResult, error) {
	if !domain.ValidUUID(id) {
		return ListenerResult{}, listener.ErrNotFound
	}
	o, err := s.listeners.run(ctx, listenerStream(tenant, id), s.now, m, func(l *listener.Listener, at time.Time) error {
		if !l.Exists() {
			return listener.ErrNotFound
		}
		return l.Update(edit(l.Snapshot().Settings), m.By, m.Source, at)
	})
	if err != nil {
		return ListenerResult{}, err
	}
	return ListenerResult{Listener: o.agg.Snapshot(), Position: o.pos}, nil
}

// Rotate gives a listener a new secret: its old URL stops working at once.
func (s *Listeners) Rotate(ctx context.Context, tenant, id string, m Meta) (ListenerResult, error) {
	if _, _, err := s.Get(ctx, tenant, id); err != nil {
		return ListenerResult{}, err
	}
	sec, err := s.replaceSecret(ctx, tenant, id)
	if err != nil {
		return ListenerResult{}, err
	}
	o, err := s.listeners.run(ctx, listenerStream(tenant, id), s.now, m, func(l *listener.Listener, at time.Time) error {
		return l.Rotate(m.By, m.Source, at)
	})
	if err != nil {
		return ListenerResult{}, err
	}
	return ListenerResult{Listener: o.agg.Snapshot(), Secret: sec, Position: o.pos}, nil
}

// Delete deletes a listener; its URL stops working at once.
func (s *Listeners) Delete(ctx context.Context, tenant, id string, m Meta) (ListenerResult, error) {
	if !domain.ValidUUID(id) {
		return ListenerResult{}, listener.ErrNotFound
	}
	o, err := s.listeners.run(ctx, listenerStream(tenant, id), s.now, m, func(l *listener.Listener, at time.Time) error {
		return l.Delete(m.By, m.Source, at)
	})
	if err != nil {
		return ListenerResult{}, err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM listener_secrets WHERE tenant_id = $1 AND listener_id = $2`, tenant, id); err != nil {
		return ListenerResult{}, fmt.Errorf("listener %s: drop secret: %w", id, err)
	}
	return ListenerResult{Listener: o.agg.Snapshot(), Position: o.pos}, nil
}

// Resolve returns the tenant and the listener whose URL carries secret. An
// unknown secret (never issued, rotated away, or of a deleted listener)
// and a disabled listener are listener.ErrNotFound.
func (s *Listeners) Resolve(ctx context.Context, secret string) (string, listener.Snapshot, error) {
	if !strings.HasPrefix(secret, "whl_") || len(secret) > 200 {
		return "", listener.Snapshot{}, listener.ErrNotFound
	}
	var tenant, id string
	err := s.db.QueryRowContext(ctx, `SELECT tenant_id, listener_id FROM listener_secrets WHERE secret_hash = $1`, digest(secret)).Scan(&tenant, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", listener.Snapshot{}, listener.ErrNotFound
	}
	if err != nil {
		return "", listener.Snapshot{}, fmt.Errorf("resolve listener: %w", err)
	}
	l, _, err := s.Get(ctx, tenant, id)
	if err != nil {
		return "", listener.Snapshot{}, err
	}
	if !l.Settings.Enabled {
		return "", listener.Snapshot{}, listener.ErrNotFound
	}
	return tenant, l, nil
}
