package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/projections"
)

var (
	agent = domain.Actor{ID: "agent-1", Kind: domain.ActorAgent}
	noon  = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
)

type fixture struct {
	db     *sqlx.DB
	store  *postgres.Store
	runner *projections.Runner
	q      *projections.TicketQueries
	n      int64

	mu   sync.Mutex
	last eventstore.Position // of the latest append
}

func newFixture(t *testing.T) *fixture {
	db := pgtest.DB(t)
	s := postgres.New(db, nil)
	t.Cleanup(func() { s.Close() })
	return &fixture{db: db, store: s, q: projections.NewTicketQueries(db.DB),
		runner: projections.NewRunner(db.DB, s, s, nil, 20*time.Millisecond, projections.Tickets{})}
}

// start runs the projections until the returned stop is called; stop waits
// for the runner to finish.
func (f *fixture) start(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.runner.Run(ctx)
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func (f *fixture) append(t *testing.T, tenant, id string, exp int64, evs ...domain.Event) {
	t.Helper()
	data := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		b, err := ticket.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		data[i] = eventstore.EventData{ID: uuid.NewString(), Type: e.EventType(), SchemaVersion: ticket.Codec().Version(e.EventType()), Data: b}
	}
	res, err := f.store.Append(context.Background(), eventstore.StreamRef{TenantID: tenant, Type: ticket.StreamType, ID: id},
		eventstore.Exact(exp), data)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	if f.last.Less(res.Last()) {
		f.last = res.Last()
	}
	f.mu.Unlock()
}

// create opens a ticket and returns it (already appended).
func (f *fixture) create(t *testing.T, tenant, title string, mut func(*ticket.CreateTicket)) *ticket.Ticket {
	t.Helper()
	f.n++
	c := ticket.CreateTicket{By: agent, Source: domain.SourceAPI, ID: uuid.NewString(), TenantID: tenant, Number: f.n,
		Title: title, Description: "about " + title}
	if mut != nil {
		mut(&c)
	}
	tk, err := ticket.New(c, ticket.DefaultConfig(), noon.Add(time.Duration(f.n)*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f.append(t, tenant, tk.ID(), 0, tk.Pending()...)
	return ticket.Rehydrate(tk.Pending(), 1)
}

// catchUp waits until the projection has applied every append so far.
// (Not the store's Head: while any transaction in the cluster is open, the
// head a reader can see lags behind what was appended.)
func (f *fixture) catchUp(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	head := f.last
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.runner.WaitFor(ctx, projections.TicketsName, head); err != nil {
		t.Fatalf("projection did not reach %v: %v", head, err)
	}
}

func TestTicketsProjection(t *testing.T) {
	f := newFixture(t)
	f.start(t)

	printer := f.create(t, "t1", "Printer on fire", func(c *ticket.CreateTicket) {
		c.Priority, c.Tags = ticket.PriorityUrgent, []string{"hardware"}
	})
	f.create(t, "t1", "Refund for order 42", func(c *ticket.CreateTicket) { c.Source = domain.SourceSalesChannel })
	f.create(t, "t2", "Printer of another tenant", nil)
	// Work the printer ticket: assign, comment publicly and internally, resolve.
	if err := printer.Assign(ticket.Assign{By: agent, Source: domain.SourceAPI, Assignee: domain.Actor{ID: "ana", Kind: domain.ActorAgent}}, noon); err != nil {
		t.Fatal(err)
	}
	if err := printer.LogHistory(ticket.LogHistory{By: agent, Source: domain.SourceAPI, EntryID: uuid.NewString(),
		Type: ticket.HistoryComment, Value: json.RawMessage(`{"text": "the toner cartridge melted"}`)}, noon); err != nil {
		t.Fatal(err)
	}
	if err := printer.LogHistory(ticket.LogHistory{By: agent, Source: domain.SourceAPI, EntryID: uuid.NewString(),
		Type: ticket.HistoryComment, Visibility: ticket.Internal, Value: json.RawMessage(`{"text": "secret sauce"}`)}, noon); err != nil {
		t.Fatal(err)
	}
	if err := printer.AddActivity(ticket.AddActivity{By: agent, Source: domain.SourcePortal, ActivityID: uuid.NewString(),
		Text: "called the customer", Direction: ticket.Outbound}, noon); err != nil {
		t.Fatal(err)
	}
	if err := printer.ChangeStatus(ticket.ChangeStatus{By: agent, Source: domain.SourceAPI, Status: "resolved"}, ticket.DefaultConfig(), noon); err != nil {
		t.Fatal(err)
	}
	f.append(t, "t1", printer.ID(), printer.Version(), printer.Pending()...)
	f.catchUp(t)

	list := func(flt projections.TicketFilter) []string {
		t.Helper()
		flt.TenantID = "t1"
		page, err := f.q.List(context.Background(), flt)
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, s := range page.Tickets {
			titles = append(titles, s.Title)
		}
		return titles
	}
	tests := []struct {
		name string
		f    projections.TicketFilter
		want []string
	}{
		{"all, newest first", projections.TicketFilter{}, []string{"Refund for order 42", "Printer on fire"}},
		{"status", projections.TicketFilter{Status: []string{"resolved"}}, []string{"Printer on fire"}},
		{"priority", projections.TicketFilter{Priority: []string{"urgent"}}, []string{"Printer on fire"}},
		{"assignee", projections.TicketFilter{Assignee: []string{"ana"}}, []string{"Printer on fire"}},
		{"tag", projections.TicketFilter{Tag: []string{"hardware"}}, []string{"Printer on fire"}},
		{"source", projections.TicketFilter{Source: []string{"sales_channel"}}, []string{"Refund for order 42"}},
		{"search title", projections.TicketFilter{Q: "printer"}, []string{"Printer on fire"}},
		{"search public comment, stemmed", projections.TicketFilter{Q: "cartridges melting"}, []string{"Printer on fire"}},
		{"internal comments are not searchable", projections.TicketFilter{Q: "sauce"}, nil},
		{"created range", projections.TicketFilter{CreatedFrom: noon.Add(90 * time.Second)}, []string{"Refund for order 42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(tt.f)); diff != "" {
				t.Errorf("titles (-want +got):\n%s", diff)
			}
		})
	}

	tl, err := f.q.Timeline(context.Background(), projections.TimelineFilter{TenantID: "t1", TicketID: printer.ID(), Kinds: []string{projections.KindHistory}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl) != 1 || tl[0].Type != "comment" || tl[0].CreatedBy != agent {
		t.Errorf("public history = %+v, want the one public comment by %v", tl, agent)
	}
	all, err := f.q.Timeline(context.Background(), projections.TimelineFilter{TenantID: "t1", TicketID: printer.ID(), IncludeInternal: true})
	if err != nil {
		t.Fatal(err)
	}
	// The timeline is the conversation; the created, assigned and resolved
	// changes stay in the ticket's own stream.
	var kinds []string
	for _, e := range all {
		kinds = append(kinds, fmt.Sprintf("v%d %s %s %s", e.Version, e.Kind, e.Type, e.Visibility))
	}
	want := []string{"v3 history comment public", "v4 history comment internal", "v5 activity OUTBOUND public"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("full timeline (-want +got):\n%s", diff)
	}
	page, err := f.q.List(context.Background(), projections.TicketFilter{TenantID: "t1", Status: []string{"resolved"}})
	if err != nil || len(page.Tickets) != 1 {
		t.Fatalf("List resolved = %v, %v", page, err)
	}
	if diff := cmp.Diff(printer.Snapshot(), page.Tickets[0]); diff != "" {
		t.Errorf("read model differs from the aggregate (-aggregate +read model):\n%s", diff)
	}
}

func TestTicketsCursor(t *testing.T) {
	f := newFixture(t)
	for i := range 7 {
		f.create(t, "t1", fmt.Sprintf("ticket %d", i), nil)
	}
	f.start(t)
	f.catchUp(t)
	var got []int64
	cursor := ""
	for range 10 {
		page, err := f.q.List(context.Background(), projections.TicketFilter{TenantID: "t1", Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Tickets {
			got = append(got, s.Number)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if diff := cmp.Diff([]int64{7, 6, 5, 4, 3, 2, 1}, got); diff != "" {
		t.Errorf("paged numbers (-want +got):\n%s", diff)
	}
	if _, err := f.q.List(context.Background(), projections.TicketFilter{TenantID: "t1", Cursor: "garbage!"}); err == nil {
		t.Error("List with a forged cursor succeeded, want ErrBadCursor")
	}
}

// dump returns a table's rows as JSON text, in a stable order.
func dump(t *testing.T, db *sqlx.DB, table, order string) []string {
	t.Helper()
	var rows []string
	if err := db.Select(&rows, `SELECT to_jsonb(x)::text FROM `+table+` x ORDER BY `+order); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRebuildIdentical rebuilds tickets.v1 while the live projection runs
// and new events keep arriving, and compares the result with the live
// tables built event by event.
func TestRebuildIdentical(t *testing.T) {
	f := newFixture(t)
	stop := f.start(t)
	var tickets []*ticket.Ticket
	for i := range 40 {
		tickets = append(tickets, f.create(t, fmt.Sprintf("t%d", i%3), fmt.Sprintf("ticket %d", i), nil))
	}
	work := func(tk *ticket.Ticket, i int) {
		if err := tk.LogHistory(ticket.LogHistory{By: agent, Source: domain.SourceAPI, EntryID: uuid.NewString(),
			Type: ticket.HistoryComment, Value: json.RawMessage(fmt.Sprintf(`{"text": "comment %d", "n": {"b": "x", "a": "y"}}`, i))}, noon); err != nil {
			t.Fatal(err)
		}
		if err := tk.Tag(ticket.Tag{By: agent, Source: domain.SourceAPI, Tags: []string{fmt.Sprintf("tag%d", i%4)}}, noon); err != nil {
			t.Fatal(err)
		}
		f.append(t, tk.Snapshot().TenantID, tk.ID(), tk.Version(), tk.Pending()...)
	}
	for i, tk := range tickets {
		work(tk, i)
	}
	// First: the live tables, built as events came, against a rebuild.
	f.catchUp(t)
	liveList := dump(t, f.db, "ticket_list", "tenant_id, ticket_id")
	liveTimeline := dump(t, f.db, "ticket_timeline", "tenant_id, ticket_id, version")
	if err := f.runner.Rebuild(context.Background(), projections.TicketsName, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(liveList, dump(t, f.db, "ticket_list", "tenant_id, ticket_id")); diff != "" {
		t.Errorf("rebuilt ticket_list differs from the live one:\n%s", diff)
	}
	if diff := cmp.Diff(liveTimeline, dump(t, f.db, "ticket_timeline", "tenant_id, ticket_id, version")); diff != "" {
		t.Errorf("rebuilt ticket_timeline differs from the live one:\n%s", diff)
	}
	// Keep writing while the rebuild runs.
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for i := range 20 {
			f.create(t, "t0", fmt.Sprintf("late %d", i), nil)
		}
	}()
	var reports int
	if err := f.runner.Rebuild(context.Background(), projections.TicketsName, func(projections.Progress) { reports++ }); err != nil {
		t.Fatal(err)
	}
	<-writing
	f.catchUp(t)
	rebuilt := dump(t, f.db, "ticket_list", "tenant_id, ticket_id")
	timeline := dump(t, f.db, "ticket_timeline", "tenant_id, ticket_id, version")
	if len(rebuilt) != 60 || reports == 0 {
		t.Fatalf("rebuilt %d tickets with %d progress reports, want 60 and some", len(rebuilt), reports)
	}
	// Now the reference: replay everything into fresh tables, one event per
	// batch, and compare.
	stop()
	if _, err := f.db.Exec(`TRUNCATE ticket_list, ticket_timeline; DELETE FROM checkpoints`); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	f.catchUp(t)
	if diff := cmp.Diff(dump(t, f.db, "ticket_list", "tenant_id, ticket_id"), rebuilt); diff != "" {
		t.Errorf("rebuilt ticket_list differs from a fresh replay:\n%s", diff)
	}
	if diff := cmp.Diff(dump(t, f.db, "ticket_timeline", "tenant_id, ticket_id, version"), timeline); diff != "" {
		t.Errorf("rebuilt ticket_timeline differs from a fresh replay:\n%s", diff)
	}
}
