package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// These tests run the repository's cache against real PostgreSQL. Each
// "node" is a Tickets service over a store of its own on one shared
// database, so each has its own cache and none sees the others' writes
// except through the database — the situation of several engine processes.

const acme = "acme"

var (
	staff      = domain.Actor{ID: "u-1", Name: "Ana Agent", Kind: domain.ActorAgent}
	byAPI      = Meta{By: staff, Source: domain.SourceAPI}
	clock      = func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }
	anyVersion = (*int64)(nil) // no If-Match
)

// nodes returns n Tickets services, each over its own store on one fresh
// database.
func nodes(t *testing.T, n int) []*Tickets {
	t.Helper()
	db := pgtest.DB(t)
	out := make([]*Tickets, n)
	for i := range out {
		store := postgres.New(db, nil)
		t.Cleanup(func() { store.Close() })
		out[i] = NewTickets(store, db.DB, clock)
	}
	return out
}

// create opens a ticket in tenant through s and returns its snapshot.
func create(t *testing.T, s *Tickets, tenant string, tags ...string) ticket.Snapshot {
	t.Helper()
	res, err := s.Create(context.Background(), tenant, ticket.CreateTicket{Title: "Parcel arrived damaged", Tags: tags}, byAPI)
	if err != nil {
		t.Fatalf("Create() = %v", err)
	}
	return res.Ticket
}

// execute runs decide on ticket id in acme through s.
func execute(s *Tickets, id string, ifVersion *int64, decide func(*ticket.Ticket, ticket.Config, time.Time) error) (Result, error) {
	m := byAPI
	m.IfVersion = ifVersion
	return s.execute(context.Background(), acme, id, m, decide)
}

func mustExecute(t *testing.T, s *Tickets, id string, decide func(*ticket.Ticket, ticket.Config, time.Time) error) Result {
	t.Helper()
	res, err := execute(s, id, anyVersion, decide)
	if err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	return res
}

// Commands, as the API issues them.
func tag(tags ...string) func(*ticket.Ticket, ticket.Config, time.Time) error {
	return func(tk *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return tk.Tag(ticket.Tag{By: staff, Source: domain.SourceAPI, Tags: tags}, at)
	}
}

func untag(tags ...string) func(*ticket.Ticket, ticket.Config, time.Time) error {
	return func(tk *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return tk.Untag(ticket.Untag{By: staff, Source: domain.SourceAPI, Tags: tags}, at)
	}
}

func status(key string) func(*ticket.Ticket, ticket.Config, time.Time) error {
	return func(tk *ticket.Ticket, cfg ticket.Config, at time.Time) error {
		return tk.ChangeStatus(ticket.ChangeStatus{By: staff, Source: domain.SourceAPI, Status: key}, cfg, at)
	}
}

func reopen(tk *ticket.Ticket, cfg ticket.Config, at time.Time) error {
	return tk.Reopen(ticket.Reopen{By: staff, Source: domain.SourceAPI}, cfg, at)
}

func priority(p ticket.Priority) func(*ticket.Ticket, ticket.Config, time.Time) error {
	return func(tk *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return tk.ChangePriority(ticket.ChangePriority{By: staff, Source: domain.SourceAPI, Priority: p}, at)
	}
}

func logHistory(entryID string) func(*ticket.Ticket, ticket.Config, time.Time) error {
	return func(tk *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return tk.LogHistory(ticket.LogHistory{By: staff, Source: domain.SourceAPI, EntryID: entryID,
			Type: ticket.HistoryComment, Value: json.RawMessage(`{"text":"hello"}`)}, at)
	}
}

// cachedVersion returns the version of s's cached copy of ticket id, or -1
// when s has none. Tests check it to be sure they exercise a stale copy.
func cachedVersion(s *Tickets, id string) int64 {
	h, ok := s.tickets.cache.Peek(ticketStream(acme, id))
	if !ok {
		return -1
	}
	return h.version()
}

func requireCached(t *testing.T, s *Tickets, id string, want int64) {
	t.Helper()
	if got := cachedVersion(s, id); got != want {
		t.Fatalf("cached version = %d, want %d (the test needs a stale cache)", got, want)
	}
}

// load reads ticket id in acme through s.
func load(t *testing.T, s *Tickets, id string) ticket.Snapshot {
	t.Helper()
	tk, _, err := s.Load(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("Load(%s) = %v", id, err)
	}
	return tk.Snapshot()
}

// storedTypes returns the types of ticket id's stored events, checking that
// their versions run 1, 2, 3, ... without gaps.
func storedTypes(t *testing.T, s *Tickets, id string) []string {
	t.Helper()
	evs, err := s.Events(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("Events() = %v", err)
	}
	types := make([]string, len(evs))
	for i, e := range evs {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d, want %d", i, e.Version, i+1)
		}
		types[i] = e.Type
	}
	return types
}

func TestStaleCache_Success(t *testing.T) {
	t.Parallel()
	n := nodes(t, 3)
	a, b, c := n[0], n[1], n[2]
	id := create(t, a, acme).ID
	requireCached(t, a, id, 1)

	mustExecute(t, b, id, tag("vip"))
	requireCached(t, a, id, 1)
	res := mustExecute(t, a, id, priority(ticket.PriorityHigh))

	for name, got := range map[string]ticket.Snapshot{"result": res.Ticket, "fresh load": load(t, c, id), "load on A": load(t, a, id)} {
		if got.Version != 3 || got.Priority != ticket.PriorityHigh || !cmp.Equal(got.Tags, []string{"vip"}) {
			t.Errorf("%s: version %d, priority %q, tags %q; want 3, %q, [vip]", name, got.Version, got.Priority, got.Tags, ticket.PriorityHigh)
		}
	}
	if len(res.Events) != 1 || res.Position.IsZero() {
		t.Errorf("result: %d events at %v, want 1 at a non-zero position", len(res.Events), res.Position)
	}
	want := []string{"ticket.created", "ticket.tagged", "ticket.priority_changed"}
	if diff := cmp.Diff(want, storedTypes(t, c, id)); diff != "" {
		t.Errorf("stored events (-want +got):\n%s", diff)
	}
	// A's cache caught up: its next command lands at version 4 at once.
	requireCached(t, a, id, 3)
	if res := mustExecute(t, a, id, tag("late")); res.Ticket.Version != 4 {
		t.Errorf("next command: version %d, want 4", res.Ticket.Version)
	}
}

func TestStaleCache_DomainError(t *testing.T) {
	t.Parallel()
	t.Run("stale copy refuses, fresh state accepts", func(t *testing.T) {
		n := nodes(t, 2)
		a, b := n[0], n[1]
		id := create(t, a, acme).ID
		mustExecute(t, a, id, status("closed"))
		mustExecute(t, b, id, reopen)
		requireCached(t, a, id, 2) // A still thinks it closed

		res, err := execute(a, id, anyVersion, status("closed"))
		if err != nil {
			t.Fatalf("closing the reopened ticket: got %v, want success", err)
		}
		if res.Ticket.Version != 4 || res.Ticket.Status != "closed" || len(res.Events) != 1 {
			t.Errorf("result: version %d, status %q, %d events; want 4, closed, 1", res.Ticket.Version, res.Ticket.Status, len(res.Events))
		}
		want := []string{"ticket.created", "ticket.status_changed", "ticket.reopened", "ticket.status_changed"}
		if diff := cmp.Diff(want, storedTypes(t, b, id)); diff != "" {
			t.Errorf("stored events (-want +got):\n%s", diff)
		}
	})
	t.Run("stale copy accepts, fresh state refuses", func(t *testing.T) {
		n := nodes(t, 2)
		a, b := n[0], n[1]
		id := create(t, a, acme).ID
		mustExecute(t, b, id, status("closed"))
		requireCached(t, a, id, 1) // A still thinks it open

		tests := []struct {
			name    string
			decide  func(*ticket.Ticket, ticket.Config, time.Time) error
			wantErr error
		}{
			{"tag", tag("vip"), ticket.ErrClosed},
			{"close", status("closed"), ticket.ErrAlreadyClosed},
		}
		for _, tt := range tests {
			_, err := execute(a, id, anyVersion, tt.decide)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.wantErr)
			}
		}
		if got := load(t, b, id); got.Version != 2 || len(got.Tags) != 0 {
			t.Errorf("after refused commands: version %d, tags %q; want 2, none", got.Version, got.Tags)
		}
	})
}

func TestStaleCache_NoOp(t *testing.T) {
	t.Parallel()
	t.Run("stale copy has nothing to do, fresh state has", func(t *testing.T) {
		n := nodes(t, 2)
		a, b := n[0], n[1]
		id := create(t, a, acme).ID
		mustExecute(t, a, id, tag("x"))
		mustExecute(t, b, id, untag("x"))
		requireCached(t, a, id, 2) // A still thinks it tagged

		res := mustExecute(t, a, id, tag("x"))
		if len(res.Events) == 0 || res.Position.IsZero() {
			t.Fatalf("re-tagging: %d events at %v, want an event at a non-zero position", len(res.Events), res.Position)
		}
		if got := load(t, b, id); got.Version != 4 || !cmp.Equal(got.Tags, []string{"x"}) {
			t.Errorf("fresh load: version %d, tags %q; want 4, [x]", got.Version, got.Tags)
		}
	})
	t.Run("stale copy has something to do, fresh state has not", func(t *testing.T) {
		n := nodes(t, 2)
		a, b := n[0], n[1]
		id := create(t, a, acme).ID
		mustExecute(t, b, id, tag("x"))
		requireCached(t, a, id, 1) // A still thinks it untagged

		res := mustExecute(t, a, id, tag("x"))
		if len(res.Events) != 0 || !res.Position.IsZero() {
			t.Errorf("tagging a tagged ticket: %d events at %v, want none at the zero position", len(res.Events), res.Position)
		}
		if res.Ticket.Version != 2 || !cmp.Equal(res.Ticket.Tags, []string{"x"}) {
			t.Errorf("result: version %d, tags %q; want 2, [x]", res.Ticket.Version, res.Ticket.Tags)
		}
		if got := load(t, b, id); got.Version != 2 {
			t.Errorf("fresh load: version %d, want 2 (nothing appended)", got.Version)
		}
	})
}

func TestStaleCache_IfMatch(t *testing.T) {
	t.Parallel()
	n := nodes(t, 2)
	a, b := n[0], n[1]
	// setup returns a ticket at version 2 of which A caches version 1.
	setup := func(t *testing.T) string {
		id := create(t, a, acme).ID
		mustExecute(t, b, id, tag("vip"))
		requireCached(t, a, id, 1)
		return id
	}
	t.Run("current version", func(t *testing.T) {
		id := setup(t)
		v := int64(2)
		res, err := execute(a, id, &v, priority(ticket.PriorityUrgent))
		if err != nil {
			t.Fatalf("If-Match 2 on version 2: got %v, want success", err)
		}
		if res.Ticket.Version != 3 || !cmp.Equal(res.Ticket.Tags, []string{"vip"}) {
			t.Errorf("result: version %d, tags %q; want 3, [vip]", res.Ticket.Version, res.Ticket.Tags)
		}
	})
	t.Run("version of the stale copy", func(t *testing.T) {
		id := setup(t)
		v := int64(1)
		_, err := execute(a, id, &v, priority(ticket.PriorityUrgent))
		if k := domain.KindOf(err); k != domain.PreconditionFailed {
			t.Fatalf("If-Match 1 on version 2: got %v (kind %s), want kind %s", err, k, domain.PreconditionFailed)
		}
		if got := load(t, b, id); got.Version != 2 || got.Priority == ticket.PriorityUrgent {
			t.Errorf("after the refused command: version %d, priority %q; want 2, unchanged", got.Version, got.Priority)
		}
	})
}

func TestStaleCache_Concurrent(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 16, 10
	n := nodes(t, 3)
	id := create(t, n[0], acme).ID
	load(t, n[1], id) // both nodes start with a cached copy

	// Execute gives up after maxCommandAttempts lost races with a version
	// conflict (the API's 409 "modified concurrently; retry"), and 16
	// writers on one stream make that happen. A worker then retries the
	// same entry, as a client would: a conflict must have stored nothing,
	// so the entry still lands exactly once (a duplicate would fail with
	// ticket.ErrDuplicateID).
	ids := make([][]string, workers)
	errs := make(chan error, workers*perWorker)
	var gaveUp atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		s := n[w%2]
		ids[w] = make([]string, perWorker)
		for i := range ids[w] {
			ids[w][i] = uuid.NewString()
		}
		wg.Go(func() {
			for _, entry := range ids[w] {
				for try := 1; ; try++ {
					_, err := execute(s, id, anyVersion, logHistory(entry))
					if errors.Is(err, eventstore.ErrVersionConflict) && try < 100 {
						gaveUp.Add(1)
						continue
					}
					if err != nil {
						errs <- fmt.Errorf("worker %d, entry %s, try %d: %w", w, entry, try, err)
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Re-deciding is what makes most lost races succeed: without it about
	// every other command gives up here, with it a handful.
	if g := gaveUp.Load(); g > workers*perWorker/4 {
		t.Errorf("%d give-ups after %d lost races in %d commands, want at most %d", g, maxCommandAttempts, workers*perWorker, workers*perWorker/4)
	} else {
		t.Logf("%d give-ups after %d lost races in %d commands, each retried", g, maxCommandAttempts, workers*perWorker)
	}

	got := load(t, n[2], id)
	if want := int64(1 + workers*perWorker); got.Version != want || got.HistoryCount != workers*perWorker {
		t.Errorf("fresh load: version %d, %d history entries; want %d, %d", got.Version, got.HistoryCount, want, workers*perWorker)
	}
	evs, err := n[2].Events(context.Background(), acme, id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, e := range evs {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d, want %d", i, e.Version, i+1)
		}
		d, err := ticket.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			t.Fatalf("decode event %d: %v", e.Version, err)
		}
		if h, ok := d.(ticket.HistoryLogged); ok {
			seen[h.EntryID]++
		}
	}
	for w := range ids {
		for _, entry := range ids[w] {
			if seen[entry] != 1 {
				t.Errorf("entry %s of worker %d stored %d times, want 1", entry, w, seen[entry])
			}
			delete(seen, entry)
		}
	}
	if len(seen) != 0 {
		t.Errorf("unexpected entries stored: %v", seen)
	}
}

// refCase is a ticket reference in a tenant and the id it names; empty
// for ticket.ErrNotFound.
type refCase struct{ tenant, ref, want string }

func TestResolve_AcrossNodes(t *testing.T) {
	t.Parallel()
	const globex = "globex"
	ctx := context.Background()
	n := nodes(t, 2)
	a, b := n[0], n[1]
	first := create(t, a, acme)
	second := create(t, a, acme)
	other := create(t, b, globex)
	if first.Number != 1 || second.Number != 2 || other.Number != 1 {
		t.Fatalf("numbers %d, %d, %d; want 1, 2 in acme and 1 in globex", first.Number, second.Number, other.Number)
	}

	tests := []refCase{
		{acme, "2", second.ID},
		{acme, "#2", second.ID},
		{acme, second.Key, second.ID}, // "#002"
		{acme, "1", first.ID},
		{acme, "#001", first.ID},
		{acme, "3", ""},
		{acme, "#999", ""},
		{acme, "0", ""},
		{acme, "two", ""},
		{globex, "1", other.ID},
		{globex, "2", ""},
		{"initech", "1", ""},
	}
	// check asks find of every case: the id, or ticket.ErrNotFound.
	check := func(name string, find func(ctx context.Context, tenant, ref string) (string, error), cases []refCase) {
		t.Helper()
		for _, tt := range cases {
			got, err := find(ctx, tt.tenant, tt.ref)
			switch {
			case tt.want == "" && !errors.Is(err, ticket.ErrNotFound):
				t.Errorf("%s(%s, %q) = %q, %v; want ticket.ErrNotFound", name, tt.tenant, tt.ref, got, err)
			case tt.want != "" && (err != nil || got != tt.want):
				t.Errorf("%s(%s, %q) = %q, %v; want %q", name, tt.tenant, tt.ref, got, err, tt.want)
			}
		}
	}
	check("Resolve", b.Resolve, tests)

	// Loading by number on the other node finds the ticket; its id in
	// another tenant finds nothing.
	if got := load(t, b, "#2"); got.ID != second.ID || got.Number != 2 {
		t.Errorf("Load(#2) on B = %s #%d, want %s #2", got.ID, got.Number, second.ID)
	}
	if _, _, err := b.Load(ctx, globex, first.ID); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("Load(globex, acme's ticket) = %v, want ticket.ErrNotFound", err)
	}
	if _, err := b.execute(ctx, globex, "2", byAPI, tag("x")); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("Execute(globex, #2) = %v, want ticket.ErrNotFound", err)
	}

	// Locate answers as Load does, without rebuilding the ticket.
	check("Locate", b.Locate, append(tests, refCase{globex, first.ID, ""}, refCase{acme, uuid.NewString(), ""}))
}

// TestRepositoryCacheBound fills a repository's cache past its event budget:
// the count of cached events stays within it and matches what is cached.
func TestRepositoryCacheBound(t *testing.T) {
	r := newRepository(ticketKind, nil)
	ev := make([]domain.Event, 1500)
	for i := range 200 {
		stream := eventstore.StreamRef{TenantID: "t", Type: "ticket", ID: fmt.Sprint(i)}
		r.remember(stream, history{events: ev[:1000+i%500]})
		r.remember(stream, history{events: ev[:1000+i%500+1]}) // replaced, not added twice
	}
	r.remember(eventstore.StreamRef{TenantID: "t", Type: "ticket", ID: "huge"}, history{events: make([]domain.Event, maxCachedHistory+1)})
	var held int64
	for _, k := range r.cache.Keys() {
		h, _ := r.cache.Peek(k)
		held += h.version()
	}
	if got := r.events.Load(); got != held || held > cachedEvents || held == 0 {
		t.Errorf("cache counts %d events and holds %d; want equal, positive and at most %d", got, held, cachedEvents)
	}
	if _, ok := r.cache.Peek(eventstore.StreamRef{TenantID: "t", Type: "ticket", ID: "huge"}); ok {
		t.Errorf("a history over %d events was cached", maxCachedHistory)
	}
}

// TestNewIDOrdered: ids the engine chooses are canonical UUIDs of version
// 7, each greater than the one before, so their indexes grow at one edge.
func TestNewIDOrdered(t *testing.T) {
	prev := ""
	for range 10_000 {
		id := NewID()
		if !domain.ValidUUID(id) || id[14] != '7' || id <= prev {
			t.Fatalf("NewID() = %q after %q; want a lower-case version-7 UUID greater than the last", id, prev)
		}
		prev = id
	}
}
