package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// TicketLinkerName is the linker's durable consumer name. It is persisted
// (its checkpoint): renaming it runs the linker over every ticket again,
// which links nothing twice (see TicketLinker) but costs the reads.
const TicketLinkerName = "ticket-customer.v1"

// linkerActor is who the linker's events name.
var linkerActor = domain.Actor{Kind: domain.ActorSystem, ID: "ticket-customer"}

// TicketLinker is the process manager that gives every ticket its
// customer. It consumes ticket.created and ticket.references_linked from
// the log (the latter only matters for a ticket that has no customer yet:
// references added later may name one) and, for each ticket:
//
//  1. lists the identities the ticket carries, in priority order (below),
//     normalised as the CRM normalises them (Customers.Identify);
//  2. finds the live customer holding the first of them (Customers.Find),
//     or, when none does, creates a lead from them (Customers.Create,
//     which answers an existing customer instead if one claimed an
//     identity meanwhile);
//  3. records the link on both sides: customer.ticket_linked on the
//     customer (Customers.LinkTicket) and ticket.customer_linked on the
//     ticket.
//
// Exactly once: each step is an idempotent command whose ids derive from
// the id of the event handled and the step's name, and the checkpoint is
// written in the consumer's own transaction after the batch. A crash
// anywhere redelivers the batch; the steps that landed are recognised by
// the store and answer what they did, the others run.
//
// Priority of identities: References.CustomerID when it is a customer
// code (PID-n, CID-n, LID-n: an explicit reference to our customer),
// otherwise as an outside contact id (LeadSquared's RelatedCustomerId);
// References.LeadID (LeadSquared's LeadId) and References.UserID (the
// support-message user uuid) as contact ids; References.ContactEmail,
// References.ContactPhone; then, when the creator is a user (Fynd's
// created_by, the support-message user), CreatedBy.Email and CreatedBy.ID
// as a contact id. A new lead gets the e-mails, the phones and one contact
// id (a customer has one: LeadId, else the user's id, else the creator's,
// else RelatedCustomerId); its name is ContactName, else the
// creator's name, else the e-mail's local part, else the phone, else
// "Unknown".
//
// A ticket that carries no identity at all (a native ticket created with
// the API key and no references, say) is linked to nothing: creating a
// nameless lead per such ticket would only be noise. It is logged at debug
// level and counted as Unidentified. A ticket whose identities the CRM
// refuses (a domain error that no retry can cure) is logged, counted as
// Failed and skipped, so that one bad ticket cannot stop the linker.
//
// The ticket side is linked only while the ticket has no customer: a
// ticket linked already (by an un-merge that gave it back to its customer,
// say) keeps its link.
type TicketLinker struct {
	tickets   *Tickets
	customers *Customers
	consumer  eventstore.Consumer
	log       *slog.Logger
	poll      time.Duration

	linked, created, unidentified, failed atomic.Int64
}

// LinkerStats counts what a TicketLinker did since it was built.
type LinkerStats struct {
	// Linked counts tickets handled to the end (both sides linked, or
	// found linked by an earlier run).
	Linked int64
	// Created counts leads created for tickets no customer matched.
	Created int64
	// Unidentified counts tickets that carried no identity.
	Unidentified int64
	// Failed counts tickets skipped because the CRM refused them.
	Failed int64
}

// NewTicketLinker returns the linker over s. consumer holds its
// checkpoint; poll bounds the wait between reads when idle (zero: the
// consumer's default); log may be nil.
func NewTicketLinker(s *Services, consumer eventstore.Consumer, log *slog.Logger, poll time.Duration) *TicketLinker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &TicketLinker{tickets: s.Tickets, customers: s.Customers, consumer: consumer, log: log, poll: poll}
}

// Stats returns what the linker did so far.
func (l *TicketLinker) Stats() LinkerStats {
	return LinkerStats{Linked: l.linked.Load(), Created: l.created.Load(), Unidentified: l.unidentified.Load(), Failed: l.failed.Load()}
}

// Run links tickets until ctx is done; it then returns nil. Failures are
// logged and the batch is delivered again.
func (l *TicketLinker) Run(ctx context.Context) error {
	opt := eventstore.ConsumeOptions{
		Query: eventstore.Query{StreamType: ticket.StreamType, Types: linkerTypes, Limit: 100},
		Poll:  l.poll,
		OnError: func(err error) {
			l.log.Error("ticket linker failed; retrying", "consumer", TicketLinkerName, "err", err)
		},
	}
	err := l.consumer.Consume(ctx, TicketLinkerName, opt, func(ctx context.Context, _ *sql.Tx, evs []eventstore.Event) error {
		return l.Apply(ctx, evs)
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("ticket linker: %w", err)
	}
	return nil
}

// linkerTypes are the events the linker handles.
var linkerTypes = []string{ticket.TicketCreated{}.EventType(), ticket.ReferencesLinked{}.EventType()}

// Apply links the tickets of a batch of ticket.created and
// ticket.references_linked events, in order (other events are ignored). It returns the first error that a retry may
// cure, leaving the rest of the batch for the redelivery; running it again
// over events it handled does nothing more.
func (l *TicketLinker) Apply(ctx context.Context, evs []eventstore.Event) error {
	for _, e := range evs {
		if e.StreamType != ticket.StreamType || !slices.Contains(linkerTypes, e.Type) {
			continue
		}
		err := l.link(ctx, e)
		switch {
		case err == nil:
		case domain.KindOf(err) != domain.Internal:
			// The CRM refused the ticket's data: no retry would change that.
			l.failed.Add(1)
			l.log.WarnContext(ctx, "ticket not linked to a customer", "tenant", e.TenantID, "ticket_id", e.StreamID, "event_id", e.ID, "err", err)
		default:
			return fmt.Errorf("link ticket %s: %w", e.StreamID, err)
		}
	}
	return nil
}

// link handles one ticket.created or ticket.references_linked event.
func (l *TicketLinker) link(ctx context.Context, e eventstore.Event) error {
	de, err := ticket.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return fmt.Errorf("decode %s: %w", e.ID, err)
	}
	tenant := e.TenantID
	var tc ticket.TicketCreated
	switch de := de.(type) {
	case ticket.TicketCreated:
		tc = de
	case ticket.ReferencesLinked:
		// References added later: link the ticket if it has no customer
		// yet, from what it carries now.
		t, _, err := l.tickets.tickets.load(ctx, ticketStream(tenant, e.StreamID))
		if err != nil {
			return err
		}
		s := t.Snapshot()
		if !t.Exists() || s.Customer != nil {
			return nil
		}
		tc = ticket.TicketCreated{Change: domain.Change{Source: s.Source}, ID: s.ID, Number: s.Number, Title: s.Title,
			Channel: s.Channel, CreatedBy: s.CreatedBy, References: s.References}
	default:
		return fmt.Errorf("decode %s: got %T", e.ID, de)
	}
	ids, err := l.customers.Identify(ctx, tenant, ticketIdentities(tc))
	if err != nil {
		return err
	}
	ids = uniqueIdentities(ids)
	if len(ids) == 0 {
		l.unidentified.Add(1)
		l.log.DebugContext(ctx, "ticket carries no customer identity; not linked", "tenant", tenant, "ticket_id", tc.ID)
		return nil
	}
	meta := func(step string) Meta {
		return Meta{By: linkerActor, Source: tc.Source, CorrelationID: e.Metadata.CorrelationID, CausationID: e.ID,
			Idempotency: "ticket-customer/" + e.ID + "/" + step}
	}
	c, via, found, err := l.customers.Find(ctx, tenant, ids)
	if err != nil {
		return err
	}
	if !found {
		p, first := leadProfile(tc, ids)
		if first == nil {
			// Only customer codes that name nobody: nothing to build a
			// lead from.
			l.unidentified.Add(1)
			l.log.DebugContext(ctx, "ticket names customer codes that do not exist; not linked", "tenant", tenant, "ticket_id", tc.ID)
			return nil
		}
		res, err := l.customers.Create(ctx, tenant, customer.Lead, p, meta("lead"))
		if errors.Is(err, ErrIdentityConflict) {
			// The identities were claimed by two customers since Find:
			// take the one the priority order names.
			c, via, found, err = l.customers.Find(ctx, tenant, ids)
			if err == nil && !found {
				err = fmt.Errorf("ticket %s: identities in conflict, yet none is held", tc.ID)
			}
		} else if err == nil {
			c, via = res.Customer, *first
			if res.Duplicate && len(res.Matched) > 0 {
				via = res.Matched[0]
			} else if !res.Duplicate {
				l.created.Add(1)
				l.log.InfoContext(ctx, "lead created for a ticket", "tenant", tenant, "ticket_id", tc.ID, "customer_id", c.ID, "code", c.Code)
			}
		}
		if err != nil {
			return err
		}
	}
	res, err := l.customers.LinkTicket(ctx, tenant, c.ID, tc.ID, tc.Number, tc.Title, &via, meta("customer"))
	if err != nil {
		return err
	}
	c = res.Customer // the live customer the ticket landed on
	ref := ticket.CustomerIdentity{Kind: string(via.Kind), Value: via.Value}
	_, err = l.tickets.execute(ctx, tenant, tc.ID, meta("ticket"), func(t *ticket.Ticket, _ ticket.Config, at time.Time) error {
		if t.Snapshot().Customer != nil {
			return nil
		}
		return t.LinkCustomer(ticket.LinkCustomer{By: linkerActor, Source: tc.Source, CustomerID: c.ID, Code: c.Code, Via: &ref}, at)
	})
	if err != nil {
		return err
	}
	l.linked.Add(1)
	l.log.DebugContext(ctx, "ticket linked to its customer", "tenant", tenant, "ticket_id", tc.ID, "customer_id", c.ID,
		"via_kind", string(via.Kind))
	return nil
}

// ticketIdentities lists the identities tc carries, in priority order (see
// TicketLinker), as written.
func ticketIdentities(tc ticket.TicketCreated) []customer.Identity {
	var out []customer.Identity
	add := func(k customer.IdentityKind, v string) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, customer.Identity{Kind: k, Value: v})
		}
	}
	r := tc.References
	if code, ok := customer.ParseCode(r.CustomerID); ok {
		add(customer.ByCode, code)
	} else {
		add(customer.ByContactID, r.CustomerID)
	}
	add(customer.ByContactID, r.LeadID)
	add(customer.ByContactID, r.UserID)
	add(customer.ByEmail, r.ContactEmail)
	add(customer.ByPhone, r.ContactPhone)
	if tc.CreatedBy.Kind == domain.ActorUser {
		add(customer.ByEmail, tc.CreatedBy.Email)
		add(customer.ByContactID, tc.CreatedBy.ID)
	}
	return out
}

// uniqueIdentities drops repeats, keeping the first of each.
func uniqueIdentities(ids []customer.Identity) []customer.Identity {
	out := ids[:0:0]
	for _, id := range ids {
		dup := false
		for _, x := range out {
			dup = dup || x == id
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}

// leadProfile is the profile of a lead made from tc and its normalised
// identities ids, and the first identity it holds (nil when it holds none:
// ids were only codes).
func leadProfile(tc ticket.TicketCreated, ids []customer.Identity) (customer.Profile, *customer.Identity) {
	var p customer.Profile
	var first *customer.Identity
	hold := func(id customer.Identity) {
		if first == nil {
			first = &id
		}
	}
	for _, id := range ids {
		switch id.Kind {
		case customer.ByEmail:
			p.Emails = append(p.Emails, customer.Email{Value: id.Value})
			hold(id)
		case customer.ByPhone:
			// Kept as written, matched by the form Identify gave it.
			written := strings.TrimSpace(tc.References.ContactPhone)
			if written == "" || utf8.RuneCountInString(written) > customer.MaxPhoneLength {
				written = id.Value
			}
			if utf8.RuneCountInString(written) <= customer.MaxPhoneLength {
				p.Phones = append(p.Phones, customer.Phone{Value: written, Normalized: id.Value})
				hold(id)
			}
		}
	}
	// One contact id: the one that names the person in the system the
	// ticket came from (LeadSquared's LeadId, the support-message user, the
	// storefront user) before LeadSquared's RelatedCustomerId.
	var cands []string
	cands = append(cands, tc.References.LeadID, tc.References.UserID)
	if tc.CreatedBy.Kind == domain.ActorUser {
		cands = append(cands, tc.CreatedBy.ID)
	}
	cands = append(cands, tc.References.CustomerID)
	for _, v := range cands {
		id := customer.Identity{Kind: customer.ByContactID, Value: strings.TrimSpace(v)}
		if id.Value != "" && utf8.RuneCountInString(id.Value) <= customer.MaxRefLength && slices.Contains(ids, id) {
			p.ContactID = id.Value
			hold(id)
			break
		}
	}
	p.Name = strings.TrimSpace(tc.References.ContactName)
	if p.Name == "" && tc.CreatedBy.Kind == domain.ActorUser {
		p.Name = strings.TrimSpace(tc.CreatedBy.Name)
	}
	switch {
	case p.Name != "":
	case len(p.Emails) > 0:
		p.Name, _, _ = strings.Cut(p.Emails[0].Value, "@")
	case len(p.Phones) > 0:
		p.Name = p.Phones[0].Value
	default:
		p.Name = "Unknown"
	}
	// A ticket's contact name may be longer than a customer's name.
	if r := []rune(p.Name); len(r) > customer.MaxNameLength {
		p.Name = strings.TrimSpace(string(r[:customer.MaxNameLength]))
	}
	p.Channel = tc.Channel
	return p, first
}

// relinkTickets is Customers.relink: it adds to an un-merge's batch the
// ticket side of every ticket the un-merge moves to the restored customer
// (ticket.customer_linked naming it), at whatever version each ticket is
// (eventstore.Any: the link is bookkeeping that no concurrent ticket
// command contradicts). The events' ids come from the batch, so a retried
// un-merge appends the very same ones.
func relinkTickets(tickets *Tickets, customers *Customers) func(ctx context.Context, b *batch, tenant, customerID string, items []customer.Item) error {
	return func(ctx context.Context, b *batch, tenant, customerID string, items []customer.Item) error {
		code := ""
		for _, it := range items {
			if it.Kind != "ticket" {
				continue
			}
			if code == "" {
				c, _, err := customers.customers.load(ctx, customerStream(tenant, customerID))
				if err != nil {
					return err
				}
				code = c.Snapshot().Code
			}
			stream := ticketStream(tenant, it.ID)
			t, _, err := tickets.tickets.load(ctx, stream)
			if err != nil {
				return err
			}
			if !t.Exists() {
				continue
			}
			if err := t.LinkCustomer(ticket.LinkCustomer{By: b.m.By, Source: b.m.Source, CustomerID: customerID, Code: code}, tickets.now()); err != nil {
				return fmt.Errorf("relink ticket %s: %w", it.ID, err)
			}
			if err := b.add(stream, eventstore.Any, t.Pending(), ticket.Encode); err != nil {
				return err
			}
		}
		return nil
	}
}
