package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
)

// linkerEnv is the services over a fresh database, a tenant whose phone
// region is VN, and a linker over them.
type linkerEnv struct {
	t      *testing.T
	db     *sql.DB
	s      *Services
	store  *postgres.Store
	tenant string
	linker *TicketLinker
}

func newLinkerEnv(t *testing.T) *linkerEnv {
	t.Helper()
	db := pgtest.DB(t)
	store := postgres.New(db, nil)
	t.Cleanup(func() { store.Close() })
	s := NewServices(store, db.DB, Config{FilesDir: t.TempDir()})
	ctx := context.Background()
	tn, _, err := s.Tenants.Create(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CRM.SetConfig(ctx, tn.ID, crmconfig.SetConfig{Region: "VN"}, linkerAPI); err != nil {
		t.Fatal(err)
	}
	return &linkerEnv{t: t, db: db.DB, s: s, store: store, tenant: tn.ID, linker: NewTicketLinker(s, store, slog.New(slog.NewTextHandler(testWriter{t}, nil)), 20*time.Millisecond)}
}

// testWriter writes the linker's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

var linkerAPI = Meta{By: domain.Actor{Kind: domain.ActorIntegration, ID: "key"}, Source: domain.SourceAPI}

// ticket creates a ticket with refs and creator (nil: the API key).
func (e *linkerEnv) ticket(title string, refs ticket.References, createdBy *domain.Actor) ticket.Snapshot {
	e.t.Helper()
	res, err := e.s.Tickets.Create(context.Background(), e.tenant, ticket.CreateTicket{Title: title, References: refs, CreatedBy: createdBy}, linkerAPI)
	if err != nil {
		e.t.Fatalf("create ticket %q: %v", title, err)
	}
	return res.Ticket
}

// created returns every event of the tenant the linker handles
// (ticket.created, ticket.references_linked) in log order, as the consumer
// delivers them.
func (e *linkerEnv) created() []eventstore.Event {
	return e.events(ticket.StreamType, linkerTypes...)
}

// apply runs the linker's handler over every ticket.created so far.
func (e *linkerEnv) apply() {
	e.t.Helper()
	if err := e.linker.Apply(context.Background(), e.created()); err != nil {
		e.t.Fatalf("Apply() = %v", err)
	}
}

// events returns the tenant's events of stream type and event type in log
// order, read from the table itself: ReadAll holds back events while any
// transaction of the server (another test's) is in flight.
func (e *linkerEnv) events(streamType string, eventTypes ...string) []eventstore.Event {
	e.t.Helper()
	types, _ := json.Marshal(eventTypes)
	rows, err := e.db.QueryContext(context.Background(), `SELECT event_id::text, stream_id, version, event_type, schema_version, data, metadata
		FROM events WHERE tenant_id = $1 AND stream_type = $2 AND event_type IN (SELECT jsonb_array_elements_text($3::jsonb))
		ORDER BY position`, e.tenant, streamType, string(types))
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []eventstore.Event
	for rows.Next() {
		ev := eventstore.Event{TenantID: e.tenant, StreamType: streamType}
		var md []byte
		if err := rows.Scan(&ev.ID, &ev.StreamID, &ev.Version, &ev.Type, &ev.SchemaVersion, &ev.Data, &md); err != nil {
			e.t.Fatal(err)
		}
		if err := json.Unmarshal(md, &ev.Metadata); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// customerOf returns the ticket's customer link as the ticket holds it.
func (e *linkerEnv) customerOf(id string) *ticket.CustomerRef {
	e.t.Helper()
	tk, _, err := e.s.Tickets.Load(context.Background(), e.tenant, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return tk.Snapshot().Customer
}

// items returns the ticket ids linked on customer id's own stream.
func (e *linkerEnv) ticketsOf(id string) []string {
	e.t.Helper()
	var out []string
	for _, ev := range e.events(customer.StreamType, "customer.ticket_linked") {
		if ev.StreamID != id {
			continue
		}
		var tl customer.TicketLinked
		if err := json.Unmarshal(ev.Data, &tl); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, tl.TicketID)
	}
	return out
}

func (e *linkerEnv) customer(ref string) customer.Snapshot {
	e.t.Helper()
	c, _, err := e.s.Customers.Get(context.Background(), e.tenant, ref)
	if err != nil {
		e.t.Fatalf("Get(%s) = %v", ref, err)
	}
	return c
}

// TestTicketLinker_LeadFromEmail: a LeadSquared-style ticket
// (RelatedCustomerId, LeadId, e-mail, phone, name) that no customer
// matches creates a lead from them (LeadId its contact id) and links both
// sides; a second ticket with the same e-mail, written in
// another case, links to that lead.
func TestTicketLinker_LeadFromEmail(t *testing.T) {
	e := newLinkerEnv(t)
	t1 := e.ticket("Refund", ticket.References{CustomerID: "lsq-cust-9", LeadID: "lsq-lead-1", ContactEmail: "Minh.Tran@Example.com", ContactPhone: "0905 000 001", ContactName: "Minh Tran"}, nil)
	e.apply()
	leads := e.events(customer.StreamType, "customer.created")
	if len(leads) != 1 {
		t.Fatalf("%d customers created, want 1 (stats %+v)", len(leads), e.linker.Stats())
	}
	lead := e.customer(leads[0].StreamID)
	if lead.Kind != customer.Lead || lead.Profile.Name != "Minh Tran" || lead.Profile.ContactID != "lsq-lead-1" ||
		len(lead.Profile.Emails) != 1 || lead.Profile.Emails[0].Value != "minh.tran@example.com" ||
		len(lead.Profile.Phones) != 1 || lead.Profile.Phones[0].Normalized != "+84905000001" {
		t.Fatalf("lead = %+v, want lead Minh Tran with contact id lsq-lead-1, minh.tran@example.com and +84905000001", lead)
	}
	if got := e.customerOf(t1.ID); got == nil || got.ID != lead.ID || got.Code != lead.Code {
		t.Fatalf("ticket 1 customer = %+v, want %s %s", got, lead.ID, lead.Code)
	}

	t2 := e.ticket("Refund again", ticket.References{ContactEmail: "MINH.TRAN@example.COM"}, nil)
	e.apply()
	if n := len(e.events(customer.StreamType, "customer.created")); n != 1 {
		t.Fatalf("%d customers after the second ticket, want 1", n)
	}
	if got := e.customerOf(t2.ID); got == nil || got.ID != lead.ID {
		t.Fatalf("ticket 2 customer = %+v, want %s", got, lead.ID)
	}
	if got := e.ticketsOf(lead.ID); len(got) != 2 || got[0] != t1.ID || got[1] != t2.ID {
		t.Fatalf("lead's tickets = %v, want [%s %s]", got, t1.ID, t2.ID)
	}
	// The second run over the whole log (both tickets) changed nothing.
	if n := len(e.events(ticket.StreamType, "ticket.customer_linked")); n != 2 {
		t.Fatalf("%d ticket.customer_linked, want 2", n)
	}
	if st := e.linker.Stats(); st.Created != 1 || st.Linked != 3 {
		t.Fatalf("stats = %+v, want 1 created, 3 linked (ticket 1 twice)", st)
	}
	// The link names the identity it was found by and the linker as actor.
	evs := e.events(ticket.StreamType, "ticket.customer_linked")
	var cl ticket.CustomerLinked
	if err := json.Unmarshal(evs[1].Data, &cl); err != nil {
		t.Fatal(err)
	}
	if cl.Via == nil || *cl.Via != (ticket.CustomerIdentity{Kind: "email", Value: "minh.tran@example.com"}) || cl.By != linkerActor {
		t.Fatalf("second link = %+v, want via email minh.tran@example.com by the linker", cl)
	}
	if evs[1].Metadata.CausationID == "" {
		t.Fatalf("link metadata %+v names no cause", evs[1].Metadata)
	}
}

// TestTicketLinker_ExistingContactByPhone: a support-message ticket whose
// phone (written in E.164) is an existing contact's (written locally)
// links to that contact and creates nothing; the user uuid does not get
// in the way.
func TestTicketLinker_ExistingContactByPhone(t *testing.T) {
	e := newLinkerEnv(t)
	ctx := context.Background()
	res, err := e.s.Customers.Create(ctx, e.tenant, customer.Contact, customer.Profile{Name: "Lan", Phones: []customer.Phone{{Value: "0905 000 001"}}}, linkerAPI)
	if err != nil {
		t.Fatal(err)
	}
	contact := res.Customer
	user := &domain.Actor{Kind: domain.ActorUser, ID: "7f6d3c52-9c1a-4b8e-9f10-2b8c6f0e4d21"}
	tk := e.ticket("App crashes", ticket.References{UserID: user.ID, ContactPhone: "+84 905 000 001"}, user)
	e.apply()
	if got := e.customerOf(tk.ID); got == nil || got.ID != contact.ID || got.Code != contact.Code {
		t.Fatalf("ticket customer = %+v, want %s %s", got, contact.ID, contact.Code)
	}
	if n := len(e.events(customer.StreamType, "customer.created")); n != 1 {
		t.Fatalf("%d customers, want the one contact", n)
	}
	if st := e.linker.Stats(); st.Created != 0 || st.Linked != 1 {
		t.Fatalf("stats = %+v, want nothing created, 1 linked", st)
	}
}

// TestTicketLinker_ExplicitCode: a customer code in References.CustomerID
// names the customer outright, ahead of the e-mail, which another
// customer holds.
func TestTicketLinker_ExplicitCode(t *testing.T) {
	e := newLinkerEnv(t)
	ctx := context.Background()
	a, err := e.s.Customers.Create(ctx, e.tenant, customer.Contact, customer.Profile{Name: "A", Emails: []customer.Email{{Value: "a@example.com"}}}, linkerAPI)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.s.Customers.Create(ctx, e.tenant, customer.Contact, customer.Profile{Name: "B"}, linkerAPI)
	if err != nil {
		t.Fatal(err)
	}
	tk := e.ticket("Invoice", ticket.References{CustomerID: " pid-2 ", ContactEmail: "a@example.com"}, nil)
	e.apply()
	if b.Customer.Code != "PID-2" {
		t.Fatalf("second contact's code = %s, want PID-2", b.Customer.Code)
	}
	if got := e.customerOf(tk.ID); got == nil || got.ID != b.Customer.ID {
		t.Fatalf("ticket customer = %+v, want %s (not %s)", got, b.Customer.ID, a.Customer.ID)
	}
}

// TestTicketLinker_LongReferences: references as long as a ticket allows
// (256 characters) but longer than a customer's fields still make a lead:
// the name is cut to a customer's, a contact id too long to be one is
// left out of the profile (it still is looked up).
func TestTicketLinker_LongReferences(t *testing.T) {
	e := newLinkerEnv(t)
	long := strings.Repeat("n", ticket.MaxReferenceLength)
	tk := e.ticket("Long", ticket.References{ContactName: long, LeadID: strings.Repeat("7", ticket.MaxReferenceLength), ContactEmail: "long@example.com"}, nil)
	e.apply()
	got := e.customerOf(tk.ID)
	if got == nil {
		t.Fatalf("ticket has no customer (stats %+v)", e.linker.Stats())
	}
	lead := e.customer(got.ID)
	if lead.Profile.Name != long[:customer.MaxNameLength] || lead.Profile.ContactID != "" {
		t.Fatalf("lead name %d characters, contact id %q; want %d characters and none", len(lead.Profile.Name), lead.Profile.ContactID, customer.MaxNameLength)
	}
}

// TestTicketLinker_NoIdentity: a ticket that carries no identity (the API
// key created it, no references) links nothing.
func TestTicketLinker_NoIdentity(t *testing.T) {
	e := newLinkerEnv(t)
	tk := e.ticket("Printer on fire", ticket.References{ContactName: "Someone"}, nil)
	e.apply()
	if got := e.customerOf(tk.ID); got != nil {
		t.Fatalf("ticket customer = %+v, want none", got)
	}
	if n := len(e.events(customer.StreamType, "customer.created")); n != 0 {
		t.Fatalf("%d customers created, want 0", n)
	}
	if st := e.linker.Stats(); st != (LinkerStats{Unidentified: 1}) {
		t.Fatalf("stats = %+v, want 1 unidentified", st)
	}
}

// TestTicketLinker_ReferencesAddedLater: a ticket created without any
// identity is linked once references naming one are added to it; more
// references afterwards change nothing.
func TestTicketLinker_ReferencesAddedLater(t *testing.T) {
	e := newLinkerEnv(t)
	ctx := context.Background()
	tk := e.ticket("Call me", ticket.References{}, nil)
	e.apply()
	if got := e.customerOf(tk.ID); got != nil {
		t.Fatalf("ticket customer before any reference = %+v, want none", got)
	}
	if _, err := e.s.Tickets.Patch(ctx, e.tenant, tk.ID, PatchTicket{References: &ticket.References{ContactPhone: "0905000001", ContactName: "Thu"}}, linkerAPI); err != nil {
		t.Fatal(err)
	}
	e.apply()
	got := e.customerOf(tk.ID)
	if got == nil {
		t.Fatalf("ticket has no customer after its phone was added (stats %+v)", e.linker.Stats())
	}
	lead := e.customer(got.ID)
	if lead.Profile.Name != "Thu" || len(lead.Profile.Phones) != 1 || lead.Profile.Phones[0].Normalized != "+84905000001" {
		t.Fatalf("lead = %+v, want Thu with +84905000001", lead.Profile)
	}
	if _, err := e.s.Tickets.Patch(ctx, e.tenant, tk.ID, PatchTicket{References: &ticket.References{ContactEmail: "thu@example.com"}}, linkerAPI); err != nil {
		t.Fatal(err)
	}
	e.apply()
	if n := len(e.events(ticket.StreamType, "ticket.customer_linked")); n != 1 {
		t.Fatalf("%d ticket.customer_linked, want 1", n)
	}
	if n := len(e.events(customer.StreamType, "customer.created")); n != 1 {
		t.Fatalf("%d customers, want 1", n)
	}
}

// errCrash is what a simulated crash panics with.
var errCrash = fmt.Errorf("simulated crash")

// TestTicketLinker_ExactlyOnceAcrossCrashes: the handler dies at every
// point of a ticket's linking in turn (before and after each of its three
// appends: the lead, the customer's link, the ticket's link), as a crash
// between the appends and the checkpoint would leave it, and the batch is
// delivered again; and a batch that fully landed is delivered twice.
// Every time: exactly one lead, one customer.ticket_linked and one
// ticket.customer_linked per ticket.
func TestTicketLinker_ExactlyOnceAcrossCrashes(t *testing.T) {
	e := newLinkerEnv(t)
	const points = 6 // decided and appended, for each of three appends
	var tickets []string
	for k := 1; k <= points+1; k++ {
		tk := e.ticket(fmt.Sprintf("Crash %d", k), ticket.References{ContactEmail: fmt.Sprintf("crash%d@example.com", k)}, nil)
		tickets = append(tickets, tk.ID)
		evs := e.created()
		batch := evs[len(evs)-1:]
		n := 0
		ctx := WithCrashPoints(context.Background(), func(Step) {
			if n++; n == k {
				panic(errCrash)
			}
		})
		crashed := func() (crashed bool) {
			defer func() {
				if r := recover(); r != nil {
					if r != errCrash {
						panic(r)
					}
					crashed = true
				}
			}()
			if err := e.linker.Apply(ctx, batch); err != nil {
				t.Fatalf("ticket %d: Apply() = %v", k, err)
			}
			return false
		}()
		if crashed != (k <= points) {
			t.Fatalf("ticket %d: crashed = %v, want %v (the run has %d crash points)", k, crashed, k <= points, points)
		}
		// Redelivery, twice: after the crash, and once more as if the
		// checkpoint had not been saved after the good run either.
		for range 2 {
			if err := e.linker.Apply(context.Background(), batch); err != nil {
				t.Fatalf("ticket %d: redelivered Apply() = %v", k, err)
			}
		}
	}
	leads := e.events(customer.StreamType, "customer.created")
	customerLinks := e.events(customer.StreamType, "customer.ticket_linked")
	ticketLinks := e.events(ticket.StreamType, "ticket.customer_linked")
	if len(leads) != len(tickets) || len(customerLinks) != len(tickets) || len(ticketLinks) != len(tickets) {
		t.Fatalf("%d leads, %d customer.ticket_linked, %d ticket.customer_linked; want %d of each",
			len(leads), len(customerLinks), len(ticketLinks), len(tickets))
	}
	for i, id := range tickets {
		got := e.customerOf(id)
		if got == nil {
			t.Fatalf("ticket %d has no customer", i+1)
		}
		if c := e.ticketsOf(got.ID); len(c) != 1 || c[0] != id {
			t.Fatalf("ticket %d: its customer's tickets = %v, want [%s]", i+1, c, id)
		}
	}
	if st := e.linker.Stats(); st.Failed != 0 || st.Unidentified != 0 {
		t.Fatalf("stats = %+v, want nothing failed or unidentified", st)
	}
}

// TestTicketLinker_ConcurrentTickets: ten tickets with one new e-mail,
// created at once, while two linkers run (two nodes sharing the consumer)
// → exactly one lead, ten links on each side.
func TestTicketLinker_ConcurrentTickets(t *testing.T) {
	e := newLinkerEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	other := NewTicketLinker(e.s, e.store, nil, 20*time.Millisecond)
	var run sync.WaitGroup
	for _, l := range []*TicketLinker{e.linker, other} {
		run.Go(func() {
			if err := l.Run(ctx); err != nil {
				t.Errorf("Run() = %v", err)
			}
		})
	}
	defer func() { cancel(); run.Wait() }()

	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			res, err := e.s.Tickets.Create(context.Background(), e.tenant, ticket.CreateTicket{Title: fmt.Sprintf("Same %d", i),
				References: ticket.References{ContactEmail: fmt.Sprintf("Same@Example.com%s", []string{"", " "}[i%2])}}, linkerAPI)
			if err != nil {
				t.Errorf("create ticket %d: %v", i, err)
				return
			}
			ids[i] = res.Ticket.ID
		})
	}
	wg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for e.linker.Stats().Linked+other.Stats().Linked < int64(len(ids)) {
		if time.Now().After(deadline) {
			t.Fatalf("linked %d + %d of %d tickets in 20s", e.linker.Stats().Linked, other.Stats().Linked, len(ids))
		}
		time.Sleep(10 * time.Millisecond)
	}
	leads := e.events(customer.StreamType, "customer.created")
	if len(leads) != 1 {
		t.Fatalf("%d leads, want 1", len(leads))
	}
	if got := e.ticketsOf(leads[0].StreamID); len(got) != len(ids) {
		t.Fatalf("the lead has %d tickets, want %d", len(got), len(ids))
	}
	if n := len(e.events(ticket.StreamType, "ticket.customer_linked")); n != len(ids) {
		t.Fatalf("%d ticket.customer_linked, want %d", n, len(ids))
	}
	if n := len(e.events(customer.StreamType, "customer.duplicate_submitted")); n != 0 {
		t.Fatalf("%d duplicate submissions, want none", n)
	}
	for i, id := range ids {
		if got := e.customerOf(id); got == nil || got.ID != leads[0].StreamID {
			t.Fatalf("ticket %d customer = %+v, want %s", i, got, leads[0].StreamID)
		}
	}
}

// TestTicketLinker_UnmergeRelinksTickets: a ticket linked to a survivor
// through a merged customer's e-mail moves back with it when it is
// un-merged, on both sides, in the un-merge's own append.
func TestTicketLinker_UnmergeRelinksTickets(t *testing.T) {
	e := newLinkerEnv(t)
	ctx := context.Background()
	mk := func(name, email string) customer.Snapshot {
		res, err := e.s.Customers.Create(ctx, e.tenant, customer.Contact, customer.Profile{Name: name, Emails: []customer.Email{{Value: email}}}, linkerAPI)
		if err != nil {
			t.Fatal(err)
		}
		return res.Customer
	}
	survivor, merged := mk("Survivor", "s@example.com"), mk("Merged", "m@example.com")
	if _, err := e.s.Customers.Merge(ctx, e.tenant, survivor.ID, []string{merged.ID}, nil, false, linkerAPI); err != nil {
		t.Fatal(err)
	}
	tk := e.ticket("After the merge", ticket.References{ContactEmail: "m@example.com"}, nil)
	e.apply()
	if got := e.customerOf(tk.ID); got == nil || got.ID != survivor.ID {
		t.Fatalf("ticket customer after the merge = %+v, want the survivor %s", got, survivor.ID)
	}
	if _, err := e.s.Customers.Unmerge(ctx, e.tenant, survivor.ID, merged.ID, linkerAPI); err != nil {
		t.Fatal(err)
	}
	if got := e.customerOf(tk.ID); got == nil || got.ID != merged.ID || got.Code != merged.Code {
		t.Fatalf("ticket customer after the un-merge = %+v, want %s %s", got, merged.ID, merged.Code)
	}
	// Delivered again, the linker leaves the ticket where the un-merge put it.
	e.apply()
	if got := e.customerOf(tk.ID); got == nil || got.ID != merged.ID {
		t.Fatalf("ticket customer after a redelivery = %+v, want %s", got, merged.ID)
	}
}
