package app

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/catalog"
	"github.com/eventdesk/eventdesk/domain/form"
	"github.com/eventdesk/eventdesk/domain/tenant"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/projections"
)

// v2Marker is what the test's version 2 of ticket.created changed: its
// upcaster prefixes the title, so each consumer shows whether it read the
// stored data through the upcaster.
const v2Marker = "[v1] "

// ticketCodecV2 is the ticket codec as it would be after ticket.created
// moved to schema version 2, built for this test only: the package's own
// codec stays at version 1.
var ticketCodecV2 = ticket.Codec().With(domain.EventKindOf[ticket.TicketCreated](
	domain.UpcastMembers(func(m map[string]json.RawMessage) error {
		var title string
		if err := json.Unmarshal(m["title"], &title); err != nil {
			return err
		}
		m["title"], _ = json.Marshal(v2Marker + title) // a string always marshals
		return nil
	})))

// TestVersionedEvent_EveryConsumer stores ticket.created at version 1,
// changes the type to version 2 and reads the stored event back through
// every consumer: the repository (aggregate), the tickets projection and
// the catalog's Upcast (the event feed).
func TestVersionedEvent_EveryConsumer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })

	// Stored today: version 1.
	const title = "Parcel arrived damaged"
	res, err := NewTickets(store, db.DB, clock).Create(ctx, acme, ticket.CreateTicket{Title: title}, byAPI)
	if err != nil {
		t.Fatalf("Create() = %v", err)
	}
	id, stream := res.Ticket.ID, ticketStream(acme, res.Ticket.ID)
	stored, err := readStream(ctx, store, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].Type != "ticket.created" || stored[0].SchemaVersion != 1 {
		t.Fatalf("stored %d events, first %s v%d; want ticket.created at schema version 1", len(stored), stored[0].Type, stored[0].SchemaVersion)
	}
	want := v2Marker + title

	t.Run("aggregate", func(t *testing.T) {
		repo := newRepository(kind[*ticket.Ticket]{encode: ticket.Encode, decode: ticketCodecV2.Decode, rehydrate: ticket.Rehydrate}, store)
		tk, _, err := repo.load(ctx, stream)
		if err != nil {
			t.Fatalf("load() = %v", err)
		}
		if got := tk.Snapshot().Title; got != want {
			t.Errorf("loaded title %q, want %q", got, want)
		}
		// The code of today still reads it as it was stored.
		tk, _, err = newRepository(ticketKind, store).load(ctx, stream)
		if err != nil || tk.Snapshot().Title != title {
			t.Errorf("load() with today's codec = %+v, %v; want title %q", tk, err, title)
		}
	})

	t.Run("projection", func(t *testing.T) {
		runner := projections.NewRunner(db.DB, store, store, nil, 20*time.Millisecond, projections.Tickets{Codec: ticketCodecV2})
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); runner.Run(rctx) }()
		defer func() { cancel(); <-done }()
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		if err := runner.WaitFor(wctx, projections.TicketsName, res.Position); err != nil {
			t.Fatalf("projection did not reach %v: %v", res.Position, err)
		}
		page, err := projections.NewTicketQueries(db.DB).List(ctx, projections.TicketFilter{TenantID: acme})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tickets) != 1 || page.Tickets[0].ID != id || page.Tickets[0].Title != want {
			t.Errorf("projected %+v, want ticket %s titled %q", page.Tickets, id, want)
		}
	})

	t.Run("feed", func(t *testing.T) {
		e := stored[0]
		v, data, err := catalog.New(ticketCodecV2).Upcast(e.Type, e.SchemaVersion, e.Data)
		if err != nil || v != 2 {
			t.Fatalf("Upcast() = %d, %s, %v; want version 2", v, data, err)
		}
		var shown struct{ Title string }
		if err := json.Unmarshal(data, &shown); err != nil || shown.Title != want {
			t.Errorf("feed shows title %q (%v), want %q", shown.Title, err, want)
		}
		// The catalog of today shows it as stored.
		if v, data, err := catalog.Upcast(e.Type, e.SchemaVersion, e.Data); err != nil || v != 1 || string(data) != string(e.Data) {
			t.Errorf("catalog.Upcast() = %d, %s, %v; want 1 and the stored data", v, data, err)
		}
	})
}

// TestVersionedEvent_TooNew: data stored by a newer release, at a version
// this code does not know, is a clear error, not a silent misreading.
func TestVersionedEvent_TooNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })

	tk, err := ticket.New(ticket.CreateTicket{By: staff, Source: domain.SourceAPI, ID: uuid.NewString(), TenantID: acme, Number: 1,
		Title: "From the future"}, ticket.DefaultConfig(), clock())
	if err != nil {
		t.Fatal(err)
	}
	evs, err := encode(tk.Pending(), byAPI, ticket.Encode)
	if err != nil {
		t.Fatal(err)
	}
	evs[0].SchemaVersion = 2
	stream := ticketStream(acme, tk.ID())
	if _, err := store.Append(ctx, stream, eventstore.NoStream, evs); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newRepository(ticketKind, store).load(ctx, stream); !errors.Is(err, domain.ErrUnknownSchemaVersion) {
		t.Errorf("load() = %v, want ErrUnknownSchemaVersion", err)
	}
	if _, _, err := catalog.Upcast("ticket.created", 2, evs[0].Data); !errors.Is(err, domain.ErrUnknownSchemaVersion) {
		t.Errorf("catalog.Upcast() = %v, want ErrUnknownSchemaVersion", err)
	}
}

// recorder is a store that remembers what its appends were given: the store
// reads a missing schema version back as 1, so only the appended
// EventData shows whether the app layer set it.
type recorder struct {
	eventstore.Store
	mu       sync.Mutex
	appended []eventstore.EventData
}

func (r *recorder) Append(ctx context.Context, stream eventstore.StreamRef, exp eventstore.ExpectedVersion, evs []eventstore.EventData) (eventstore.AppendResult, error) {
	r.mu.Lock()
	r.appended = append(r.appended, evs...)
	r.mu.Unlock()
	return r.Store.Append(ctx, stream, exp, evs)
}

func (r *recorder) AppendStreams(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	r.mu.Lock()
	for _, a := range appends {
		r.appended = append(r.appended, a.Events...)
	}
	r.mu.Unlock()
	return r.Store.AppendStreams(ctx, appends)
}

// TestEncode_SetsSchemaVersion: every event the app layer encodes carries
// its type's current schema version, not the store's default.
func TestEncode_SetsSchemaVersion(t *testing.T) {
	evs := []domain.Event{form.FormIndexed{Slug: "contact-us"}, ticket.TicketTagged{Tags: []string{"a"}}}
	for i, enc := range []func(domain.Event) ([]byte, error){form.IndexCodec().Encode, ticket.Encode} {
		data, err := encode(evs[i:i+1], byAPI, enc)
		if err != nil {
			t.Fatalf("encode(%T) = %v", evs[i], err)
		}
		if want, _ := catalog.Version(evs[i].EventType()); want < 1 || data[0].SchemaVersion != want {
			t.Errorf("encode(%T) schema version %d, want %d", evs[i], data[0].SchemaVersion, want)
		}
	}
	if _, err := encode([]domain.Event{unlistedEvent{}}, byAPI, func(domain.Event) ([]byte, error) { return []byte(`{}`), nil }); err == nil {
		t.Error("encode(event type not in the catalog) succeeded, want an error")
	}
}

// unlistedEvent is an event type no codec of the catalog knows.
type unlistedEvent struct{}

func (unlistedEvent) EventType() string { return "test.unlisted" }

// TestAppends_StoreSchemaVersion checks that every kind of append the app
// layer makes stores the schema version of its events, and that what it
// stored decodes through the codecs.
func TestAppends_StoreSchemaVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.DB(t)
	pg := postgres.New(db, nil)
	t.Cleanup(func() { pg.Close() })
	store := &recorder{Store: pg}
	now := clock

	tn, _, err := NewTenants(db.DB, store, now).Create(ctx, "Acme")
	if err != nil {
		t.Fatalf("Tenants.Create() = %v", err)
	}
	tickets := NewTickets(store, db.DB, now)
	forms := NewForms(store, tickets, now)
	if _, _, err := forms.Create(ctx, tn.ID, "contact-us", form.Definition{Title: "Contact us",
		Inputs: []form.Input{{Type: form.Text, Key: "message"}}}, byAPI); err != nil {
		t.Fatalf("Forms.Create() = %v", err)
	}
	created, err := tickets.Create(ctx, tn.ID, ticket.CreateTicket{Title: "Hello"}, byAPI)
	if err != nil {
		t.Fatalf("Tickets.Create() = %v", err)
	}

	tests := []struct {
		stream eventstore.StreamRef
		decode func(string, int, []byte) (domain.Event, error)
	}{
		{eventstore.StreamRef{TenantID: tn.ID, Type: tenant.StreamType, ID: tn.ID}, tenant.Decode},
		{formStream(tn.ID, "contact-us"), form.Decode},
		{formIndex(tn.ID), form.IndexCodec().Decode},
		{ticketStream(tn.ID, created.Ticket.ID), ticket.Decode},
	}
	for _, tt := range tests {
		t.Run(tt.stream.Type, func(t *testing.T) {
			evs, err := readStream(ctx, store, tt.stream)
			if err != nil || len(evs) == 0 {
				t.Fatalf("read %s = %d events, %v; want some", tt.stream, len(evs), err)
			}
			for _, e := range evs {
				if want, ok := catalog.Version(e.Type); !ok || e.SchemaVersion != want {
					t.Errorf("%s stored at schema version %d, want %d (known: %t)", e.Type, e.SchemaVersion, want, ok)
				}
				if _, err := tt.decode(e.Type, e.SchemaVersion, e.Data); err != nil {
					t.Errorf("decode %s: %v", e.Type, err)
				}
			}
		})
	}
	store.mu.Lock()
	for _, e := range store.appended {
		if want, ok := catalog.Version(e.Type); !ok || e.SchemaVersion != want {
			t.Errorf("appended %s at schema version %d, want %d (known: %t)", e.Type, e.SchemaVersion, want, ok)
		}
	}
	if len(store.appended) == 0 || store.appended[0].Type != "tenant.created" {
		t.Errorf("recorded appends %d, want tenant.created first", len(store.appended))
	}
	store.mu.Unlock()
	// List reads the form index through its codec.
	list, err := forms.List(ctx, tn.ID)
	if err != nil || len(list) != 1 || list[0].Slug != "contact-us" {
		t.Errorf("Forms.List() = %+v, %v; want the contact-us form", list, err)
	}
}
