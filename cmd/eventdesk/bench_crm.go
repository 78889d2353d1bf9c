package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/catalog"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/identity"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
	"github.com/eventdesk/eventdesk/projections"
)

// crmBench measures the CRM beside tickets, in one run on one scratch
// database: native contact creates (each with its duplicate check) against
// native ticket creates over HTTP; identity lookups with o.customers
// customers in the tenant; the contacts.v1 projection catching up on
// them; and a merge then un-merge of a contact with o.mergeTickets
// tickets.
func crmBench(ctx context.Context, c *cli, o benchOptions, say func(string)) ([]storebench.Figure, error) {
	db, drop, err := scratch(ctx, c, "crm")
	if err != nil {
		return nil, err
	}
	defer drop()
	b, err := startBenchServer(ctx, c, db, "bench-crm")
	if err != nil {
		return nil, err
	}
	defer b.close()
	e, tenant := b.e, b.tenant
	client := b.client(o.clients)
	defer client.close()
	created := func(ctx context.Context, w int, path string, body []byte) error {
		status, rb, err := client.post(ctx, w, path, body)
		if err != nil {
			return err
		}
		if status != http.StatusCreated {
			return fmt.Errorf("POST %s: %d %s", path, status, rb)
		}
		return nil
	}

	// Side by side: ticket creates, then contact creates, same clients.
	say(fmt.Sprintf("HTTP: create ticket vs create contact, %d clients", o.clients))
	if err := storebench.Settle(ctx, db.DB.DB); err != nil {
		return nil, err
	}
	ticketBody := []byte(`{"title":"Printer on fire","description":"Smoke","priority":"high"}`)
	tickets, err := storebench.Measure(ctx, "http_ticket_create", o.clients, o.duration, func(ctx context.Context, w, _ int) error {
		return created(ctx, w, "/v1/tickets", ticketBody)
	})
	if err != nil {
		return nil, err
	}
	tickets.Unit = "requests/s"
	if err := storebench.Settle(ctx, db.DB.DB); err != nil {
		return nil, err
	}
	var seq atomic.Int64
	contacts, err := storebench.Measure(ctx, "http_contact_create", o.clients, o.duration, func(ctx context.Context, w, _ int) error {
		n := seq.Add(1)
		body := fmt.Appendf(nil, `{"name":"Customer %d","emails":[{"type":"Work","value":"c%d@example.com"}],"phones":[{"value":"+1 202 555 %04d"}]}`,
			n, n, n%10000)
		if n >= 10000 { // phones repeat after 10,000: keep them unique
			body = fmt.Appendf(nil, `{"name":"Customer %d","emails":[{"type":"Work","value":"c%d@example.com"}],"phones":[{"value":"+1 202 %03d %04d"}]}`,
				n, n, 200+n/10000, n%10000)
		}
		return created(ctx, w, "/v1/contacts", body)
	})
	if err != nil {
		return nil, err
	}
	contacts.Unit = "requests/s"
	contacts.Extra = map[string]float64{"ticket_create_rps": tickets.Rate, "ratio": contacts.Rate / tickets.Rate}
	figs := []storebench.Figure{tickets, contacts}

	// Identity lookups among o.customers customers, loaded with the runner
	// stopped so that the catch-up below is measured from the start.
	b.stopRunner()
	say(fmt.Sprintf("loading %d customers (a customer stream keyed by its code and an e-mail identity stream each)", o.customers))
	head, err := loadCustomers(ctx, e.store, tenant.ID, o.customers)
	if err != nil {
		return nil, err
	}
	if err := storebench.Settle(ctx, db.DB.DB); err != nil {
		return nil, err
	}
	// A lookup's latency at one client (what the size of the tenant costs
	// it), then the throughput at o.clients (where queueing for the two
	// cores dominates the latency).
	lookup := func(ctx context.Context, _, _ int) error {
		k := rand.IntN(o.customers)
		c, _, ok, err := e.Customers.Find(ctx, tenant.ID, []customer.Identity{{Kind: customer.ByEmail, Value: bulkEmail(k)}})
		if err == nil && (!ok || c.Profile.Name != bulkName(k)) {
			err = fmt.Errorf("lookup of %s found %q, %t", bulkEmail(k), c.Profile.Name, ok)
		}
		return err
	}
	for _, clients := range []int{1, o.clients} {
		say(fmt.Sprintf("identity lookups, %d clients", clients))
		name := "identity_lookup"
		if clients > 1 {
			name = fmt.Sprintf("identity_lookup_%d_clients", clients)
		}
		f, err := storebench.Measure(ctx, name, clients, o.duration, lookup)
		if err != nil {
			return nil, err
		}
		f.Unit = "lookups/s"
		f.Extra = map[string]float64{"customers": float64(o.customers), "clients": float64(clients)}
		figs = append(figs, f)
	}

	say("contacts.v1 catch-up")
	catch, err := b.catchUp(ctx, "contacts_v1_catch_up", projections.ContactsName, customer.StreamType, head, 15*time.Minute)
	if err != nil {
		return nil, err
	}
	figs = append(figs, catch)

	say(fmt.Sprintf("merge and un-merge of a contact with %d tickets", o.mergeTickets))
	merge, unmerge, err := mergeBench(ctx, e.Services, tenant.ID, o.mergeTickets)
	if err != nil {
		return nil, err
	}
	return append(figs, merge, unmerge), nil
}

func bulkEmail(k int) string { return fmt.Sprintf("bulk%d@example.com", k) }
func bulkName(k int) string  { return fmt.Sprintf("Bulk %d", k) }

// loadCustomers appends n contacts straight to the store, as app.Customers
// would: each one's stream and the reservations of its e-mail address and
// code, 100 customers per atomic append, from 8 writers. It returns the
// position of the last customer event appended. As in a real tenant, the
// customers arrive over time — each created a millisecond after the one
// before — and their ids are what Customers.Create gives a create without
// an Idempotency-Key (app.NewID, time-ordered UUIDv7): the read model's
// indexes on id and creation time grow at one end, as they do in
// production. (An earlier loader gave every customer one instant and a
// random UUIDv4, which scattered those inserts over the whole index.)
func loadCustomers(ctx context.Context, store *postgres.Store, tenant string, n int) (eventstore.Position, error) {
	const per = 100
	start := time.Now().UTC().Add(-time.Duration(n) * time.Millisecond)
	change := func(k int) domain.Change {
		return domain.Change{By: domain.Actor{Kind: domain.ActorSystem, ID: "bench"}, Source: domain.SourceAPI,
			At: start.Add(time.Duration(k) * time.Millisecond)}
	}
	event := func(e domain.Event, enc func(domain.Event) ([]byte, error)) (eventstore.EventData, error) {
		b, err := enc(e)
		v, _ := catalog.Version(e.EventType())
		return eventstore.EventData{ID: app.NewID(), Type: e.EventType(), SchemaVersion: v, Data: b}, err
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		last eventstore.Position
		errs []error
	)
	for range 8 {
		wg.Go(func() {
			for {
				from := int(next.Add(per)) - per
				if from >= n {
					return
				}
				var parts []eventstore.StreamAppend
				for k := from; k < min(from+per, n); k++ {
					id := app.NewID()
					code := fmt.Sprintf("PID-%d", 1_000_000_000+k)
					created, err := event(customer.CustomerCreated{Change: change(k), ID: id, Kind: customer.Contact, Code: code,
						Profile: customer.Profile{Name: bulkName(k), Emails: []customer.Email{{Type: "Work", Value: bulkEmail(k)}},
							Permit: domain.Permit{Kind: domain.PermitEverybody}}}, customer.Encode)
					created.Key = code // as Customers.Create claims it
					claim, err2 := event(identity.Claimed{Customer: id}, identity.Codec().Encode)
					if err := errors.Join(err, err2); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					parts = append(parts,
						eventstore.StreamAppend{Stream: eventstore.StreamRef{TenantID: tenant, Type: customer.StreamType, ID: id},
							Expected: eventstore.NoStream, Events: []eventstore.EventData{created}},
						eventstore.StreamAppend{Stream: eventstore.StreamRef{TenantID: tenant, Type: identity.StreamType,
							ID: identity.StreamID(string(customer.ByEmail), bulkEmail(k))}, Expected: eventstore.NoStream, Events: []eventstore.EventData{claim}})
				}
				res, err := store.AppendStreams(ctx, parts)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				// The last customer event: contacts.v1 never sees the
				// identity streams' positions, so it never reaches them.
				for i, r := range res {
					if parts[i].Stream.Type == customer.StreamType && last.Less(r.Last()) {
						last = r.Last()
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return last, errors.Join(errs...)
}

// mergeBench creates two contacts, links tickets real tickets to the
// second through its e-mail address, and times merging it into the first
// and un-merging it again.
func mergeBench(ctx context.Context, s *app.Services, tenant string, tickets int) (merge, unmerge storebench.Figure, err error) {
	m := app.Meta{By: domain.Actor{Kind: domain.ActorSystem, ID: "bench"}, Source: domain.SourceAPI}
	mk := func(name, email string) (customer.Snapshot, error) {
		r, err := s.Customers.Create(ctx, tenant, customer.Contact, customer.Profile{Name: name, Emails: []customer.Email{{Value: email}}}, m)
		return r.Customer, err
	}
	keep, err := mk("Survivor", "survivor@example.com")
	if err != nil {
		return merge, unmerge, err
	}
	gone, err := mk("Merged", "merged@example.com")
	if err != nil {
		return merge, unmerge, err
	}
	via := customer.Identity{Kind: customer.ByEmail, Value: "merged@example.com"}
	ids := make([]string, tickets)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range 8 {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < tickets; k = int(next.Add(1)) - 1 {
				r, err := s.Tickets.Create(ctx, tenant, ticket.CreateTicket{Title: fmt.Sprintf("Ticket %d", k)}, m)
				if err == nil {
					ids[k] = r.Ticket.ID
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return merge, unmerge, err
	}
	for k, id := range ids {
		if _, err := s.Customers.LinkTicket(ctx, tenant, gone.ID, id, int64(k+1), "Ticket", &via, m); err != nil {
			return merge, unmerge, err
		}
	}
	start := time.Now()
	if _, err := s.Customers.Merge(ctx, tenant, keep.ID, []string{gone.ID}, nil, false, m); err != nil {
		return merge, unmerge, err
	}
	merge = storebench.Figure{Name: "merge_contact_with_tickets", Ops: int64(tickets), Seconds: time.Since(start).Seconds(), Unit: "tickets"}
	start = time.Now()
	res, err := s.Customers.Unmerge(ctx, tenant, keep.ID, gone.ID, m)
	if err != nil {
		return merge, unmerge, err
	}
	unmerge = storebench.Figure{Name: "unmerge_contact_with_tickets", Ops: int64(tickets), Seconds: time.Since(start).Seconds(), Unit: "tickets"}
	merge.Rate, unmerge.Rate = float64(tickets)/merge.Seconds, float64(tickets)/unmerge.Seconds
	if n := countTickets(res.Customer.Items); n != tickets {
		return merge, unmerge, fmt.Errorf("the restored contact has %d tickets, want %d", n, tickets)
	}
	return merge, unmerge, nil
}

func countTickets(items []customer.Item) int {
	return len(slices.DeleteFunc(slices.Clone(items), func(it customer.Item) bool { return it.Kind != "ticket" }))
}
