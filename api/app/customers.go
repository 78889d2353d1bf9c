package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/eventstore"
)

var customerKind = kind[*customer.Customer]{encode: customer.Encode, decode: customer.Decode, rehydrate: customer.Rehydrate}

// Customers runs the commands on contacts, accounts and leads and keeps
// the identity graph: every identity of a live customer (e-mail, phone,
// passport, external contact id, code) is reserved for it in a
// reservation stream (package domain/identity), and every command that
// adds, drops or moves identities claims and releases them in the same
// atomic multi-stream append as the customer's own events, expecting each
// reservation at the version it read. Two requests that race for one
// identity cannot both win: the loser's append fails, it reads again and
// finds the winner.
type Customers struct {
	store     eventstore.Store
	customers *repository[*customer.Customer]
	codes     map[customer.Kind]*numbers
	agents    *Agents
	groups    *Groups
	// crm holds each tenant's phone region and custom field definitions.
	crm *CRM
	// relink, if set, adds to an un-merge's append whatever links the
	// items moved to the restored customer need on their own streams (a
	// ticket's link to its customer).
	relink func(ctx context.Context, b *batch, tenant, customerID string, items []customer.Item) error
	now    func() time.Time
}

// codePrefixes are the prefixes of customer codes by kind.
var codePrefixes = map[customer.Kind]string{customer.Contact: "PID", customer.Account: "CID", customer.Lead: "LID"}

// NewCustomers returns the customer service. db holds the code sequences;
// crm the tenants' phone regions and custom field definitions.
func NewCustomers(store eventstore.Store, db *sql.DB, crm *CRM, agents *Agents, groups *Groups, now func() time.Time) *Customers {
	if now == nil {
		now = time.Now
	}
	s := &Customers{store: store, customers: newRepository(customerKind, store), crm: crm, agents: agents, groups: groups, now: now,
		codes: map[customer.Kind]*numbers{}}
	for k, p := range codePrefixes {
		s.codes[k] = newNumbers(db, "customer_"+strings.ToLower(p)+"_")
	}
	return s
}

func customerStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: customer.StreamType, ID: id}
}

// Errors of the identity graph.
var (
	// ErrIdentityConflict: the identities of one request belong to two
	// different customers. Eventdesk never merges them silently.
	ErrIdentityConflict = &domain.Error{Kind: domain.Conflict, Code: "identity_conflict",
		Msg: "the identities of this request belong to different customers; merge them explicitly"}
	// ErrIdentityTaken: an identity a change adds belongs to another
	// customer.
	ErrIdentityTaken = &domain.Error{Kind: domain.Conflict, Code: "identity_taken", Msg: "identity belongs to another customer"}
)

// CustomerResult is the outcome of a customer command.
type CustomerResult struct {
	Customer customer.Snapshot
	// Duplicate is true when a create found the customer already there
	// (by Matched identities) and recorded a duplicate submission on it
	// instead of creating anything.
	Duplicate bool
	Matched   []customer.Identity
	// Events are what the command recorded (for a retry of an idempotent
	// command, what its first attempt recorded); none for a no-op.
	Events []domain.Event
	// Position is where the last event landed; for a no-op, the position
	// of the customer's last event.
	Position eventstore.Position
}

// prepare normalises a profile for kind in tenant: phones parsed in the
// tenant's region, the domain's normalisation, custom values checked, and
// the owner, account and permit checked to name things of the tenant.
func (s *Customers) prepare(ctx context.Context, tenant string, kind customer.Kind, p customer.Profile, m Meta) (customer.Profile, error) {
	cfg, _, err := s.crm.Get(ctx, tenant) // one read: the region and the custom fields
	if err != nil {
		return customer.Profile{}, err
	}
	return s.prepareWith(ctx, tenant, kind, p, m, cfg)
}

// prepareWith is prepare under the configuration cfg.
func (s *Customers) prepareWith(ctx context.Context, tenant string, kind customer.Kind, p customer.Profile, m Meta, cfg crmconfig.Snapshot) (customer.Profile, error) {
	var err error
	normalizePhones(&p, cfg.Region)
	if p.Owner == "" && m.By.Kind == domain.ActorAgent && domain.ValidUUID(m.By.ID) {
		p.Owner = m.By.ID
	}
	if p, err = customer.Normalize(p); err != nil {
		return customer.Profile{}, err
	}
	if len(p.Custom) > 0 {
		if p.Custom, _, err = crmconfig.CheckCustom(cfg.CustomFields, string(kind), p.Custom, crmconfig.Refuse); err != nil {
			return customer.Profile{}, err
		}
	}
	return p, s.checkRefs(ctx, tenant, p)
}

// checkRefs checks that p's owner, account and permit name an agent, an
// account, a group and agents of tenant (422 naming each field).
func (s *Customers) checkRefs(ctx context.Context, tenant string, p customer.Profile) error {
	var errs []error
	agentExists := func(field, id string) error {
		_, err := s.agents.Get(ctx, tenant, id)
		if errors.Is(err, agent.ErrNotFound) {
			errs = append(errs, customer.ErrInvalidField.At(field).Withf("%s: no agent %s in this tenant", field, id))
			return nil
		}
		return err
	}
	if p.Owner != "" {
		if err := agentExists("owner", p.Owner); err != nil {
			return err
		}
	}
	for i, a := range p.Permit.Agents {
		if err := agentExists("permit.agents["+strconv.Itoa(i)+"]", a); err != nil {
			return err
		}
	}
	if p.Permit.Group != "" {
		if _, err := s.groups.Get(ctx, tenant, p.Permit.Group); errors.Is(err, group.ErrNotFound) {
			errs = append(errs, customer.ErrInvalidField.At("permit.group").Withf("permit.group: no group %s in this tenant", p.Permit.Group))
		} else if err != nil {
			return err
		}
	}
	if p.Account != "" {
		a, _, err := s.load(ctx, tenant, p.Account)
		switch {
		case errors.Is(err, customer.ErrNotFound):
			errs = append(errs, customer.ErrInvalidField.At("account_id").Withf("account_id: no account %s in this tenant", p.Account))
		case err != nil:
			return err
		case a.Snapshot().Kind != customer.Account:
			errs = append(errs, customer.ErrInvalidField.At("account_id").Withf("account_id: %s is a %s, not an account", p.Account, a.Snapshot().Kind))
		}
	}
	return domain.Join(errs...)
}

// Create creates a customer of kind in tenant — unless one of its
// identities already belongs to a customer: then it creates nothing,
// records a duplicate submission on that customer and answers it with
// Duplicate set. Identities that belong to two different customers are
// ErrIdentityConflict. The new customer's id derives from m.Idempotency
// when set, so a retry answers what the first attempt did.
func (s *Customers) Create(ctx context.Context, tenant string, kind customer.Kind, p customer.Profile, m Meta) (CustomerResult, error) {
	prefix, ok := codePrefixes[kind]
	if !ok {
		return CustomerResult{}, customer.ErrInvalidField.At("kind").Withf("kind %q is not one of contact, account, lead", kind)
	}
	// The configuration (region, custom fields) this process holds is
	// checked by the append, or read again along with the identities
	// (below).
	cfg, tail := s.crm.cached(tenant)
	in := p
	p, err := s.prepareWith(ctx, tenant, kind, in, m, cfg)
	refused := err != nil
	if refused {
		// Refused on the copy: decide again on a fresh read.
		if cfg, _, err = s.crm.Get(ctx, tenant); err != nil {
			return CustomerResult{}, err
		}
		if p, err = s.prepareWith(ctx, tenant, kind, in, m, cfg); err != nil {
			return CustomerResult{}, err
		}
	}
	id := m.derivedID("customer")
	stream := customerStream(tenant, id)
	if m.Idempotency != "" {
		if o, ok, err := s.landed(ctx, stream, m); ok || err != nil {
			return CustomerResult{Customer: o.agg.Snapshot(), Position: o.pos}, err
		}
	}
	// The first attempt assumes what is true of nearly every create: its
	// identities were never reserved, and the configuration this process
	// holds is current. It appends at once, expecting each reservation
	// stream unwritten and checking the configuration's stream at the
	// copy's version (an append check). A duplicate, a released identity
	// or a stale copy fails it, and the command then reads them along with
	// the configuration's tail and decides again.
	optimistic, along := true, []eventstore.StreamRead(nil)
	if refused { // decided again on a fresh read: the copy is stale, read along
		optimistic, along = false, []eventstore.StreamRead{tail.read}
	}
	codes := s.codes[kind]
	// n is the code's number, taken and kept across attempts. It is given
	// back if no append ran with it or the last one certainly wrote
	// nothing; an append that did not return (a crash) or failed another
	// way may have landed, and its number stays a gap.
	var n int64
	appending := false
	defer func() {
		if n != 0 && !appending {
			codes.giveBack(tenant, n)
		}
	}()
	for attempt := 0; ; attempt++ {
		res := unreserved(p.Identities())
		if !optimistic {
			var got [][]eventstore.Event
			if res, got, err = reserveAlong(ctx, s.store, tenant, p.Identities(), along); err != nil {
				return CustomerResult{}, err
			}
			if along != nil {
				along = nil
				fresh, changed, err := s.crm.caughtUp(tail, got[0])
				if err != nil {
					return CustomerResult{}, err
				}
				if changed { // the copy was stale: prepare again, then read again
					if p, err = s.prepareWith(ctx, tenant, kind, in, m, fresh); err != nil {
						return CustomerResult{}, err
					}
					attempt--
					continue
				}
			}
		}
		holder, matched, err := heldBy(res)
		if err != nil {
			return CustomerResult{}, err
		}
		if holder != "" {
			return s.duplicate(ctx, tenant, holder, matched, p, m)
		}
		if n == 0 {
			if n, err = codes.next(ctx, tenant); err != nil {
				return CustomerResult{}, err
			}
		}
		code := prefix + "-" + strconv.FormatInt(n, 10)
		c, err := customer.New(customer.Create{By: m.By, Source: m.Source, ID: id, Kind: kind, Code: code, Profile: p}, s.now())
		if err != nil {
			return CustomerResult{}, err
		}
		b := batch{m: m}
		if err := b.add(stream, eventstore.NoStream, c.Pending(), customer.Encode); err != nil {
			return CustomerResult{}, err
		}
		// The code is the stream's key: fresh from the sequence, never
		// moved, found with one Lookup (codeHolder).
		b.parts[0].Events[0].Key = code
		for _, r := range res {
			if err := b.claim(tenant, r, id); err != nil {
				return CustomerResult{}, err
			}
		}
		if optimistic {
			b.check(tail.stream, tail.h.version())
		}
		appending = true
		out, err := b.append(ctx, s.store)
		if errors.Is(err, eventstore.ErrVersionConflict) || err == nil && out[0].Duplicate {
			appending = false
			// Someone claimed one of the identities first, the guess was
			// wrong, or an earlier attempt of this very request created
			// the customer: read again. Nothing was written: the code
			// taken serves the next attempt.
			if o, ok, lerr := s.landed(ctx, stream, m); ok || lerr != nil {
				return CustomerResult{Customer: o.agg.Snapshot(), Position: o.pos}, lerr
			}
			if optimistic {
				optimistic, along = false, []eventstore.StreamRead{tail.read}
				attempt--
				continue
			}
			if err := backoff(ctx, attempt); err != nil {
				return CustomerResult{}, err
			}
			continue
		}
		if err != nil {
			return CustomerResult{}, fmt.Errorf("create customer: %w", err)
		}
		s.customers.cache.Remove(stream)
		return CustomerResult{Customer: c.Snapshot(), Position: out[0].Last()}, nil
	}
}

// backoff waits before attempt+1 of a command that lost a race, or fails
// once attempts are exhausted.
func backoff(ctx context.Context, attempt int) error {
	if attempt+1 >= maxCommandAttempts {
		return fmt.Errorf("customer identities: %w", eventstore.ErrVersionConflict)
	}
	return spreadOut(ctx, attempt+1)
}

// heldBy returns the one customer holding any of the reservations and the
// identities it holds; none if all are free. Two holders are
// ErrIdentityConflict naming both.
func heldBy(res []reservation) (string, []customer.Identity, error) {
	holder := ""
	var matched []customer.Identity
	for _, r := range res {
		switch {
		case r.holder == "":
		case holder == "" || r.holder == holder:
			holder = r.holder
			matched = append(matched, r.id)
		default:
			return "", nil, ErrIdentityConflict.Withf("%s %s belongs to customer %s, %s %s to customer %s; merge them explicitly",
				matched[0].Kind, matched[0].Value, holder, r.id.Kind, r.id.Value, r.holder)
		}
	}
	return holder, matched, nil
}

// landed returns the outcome an earlier attempt of the idempotent command m
// left in stream, if any.
func (s *Customers) landed(ctx context.Context, stream eventstore.StreamRef, m Meta) (outcome[*customer.Customer], bool, error) {
	h, err := s.customers.read(ctx, stream)
	if err != nil {
		return outcome[*customer.Customer]{}, false, err
	}
	if at, ok := h.landed(m); ok {
		return s.customers.replay(h, at), true, nil
	}
	return outcome[*customer.Customer]{}, false, nil
}

// duplicate records the submission p on holder, the customer that holds
// the matched identities, and answers it.
func (s *Customers) duplicate(ctx context.Context, tenant, holder string, matched []customer.Identity, p customer.Profile, m Meta) (CustomerResult, error) {
	o, err := s.customers.run(ctx, customerStream(tenant, holder), s.now, m, func(c *customer.Customer, at time.Time) error {
		return c.RecordDuplicate(m.By, m.Source, matched, p, at)
	})
	if err != nil {
		return CustomerResult{}, err
	}
	return CustomerResult{Customer: o.agg.Snapshot(), Duplicate: true, Matched: matched, Position: o.pos}, nil
}

// maxMergeDepth bounds how far a chain of merges is followed.
const maxMergeDepth = 16

// load returns the customer ref names — an id or a code (PID-12, CID-3,
// LID-7) — as it is, merged or not, with its stream's history (what a
// command decides on and appends after).
func (s *Customers) load(ctx context.Context, tenant, ref string) (*customer.Customer, history, error) {
	id, err := s.resolveRef(ctx, tenant, ref)
	if err != nil {
		return nil, history{}, err
	}
	h, err := s.customers.read(ctx, customerStream(tenant, id))
	if err != nil {
		return nil, history{}, err
	}
	c := s.customers.rehydrate(h.events, h.version())
	if !c.Exists() {
		return nil, history{}, customer.ErrNotFound
	}
	return c, h, nil
}

// resolveRef turns an id or a code into a customer id.
func (s *Customers) resolveRef(ctx context.Context, tenant, ref string) (string, error) {
	if domain.ValidUUID(ref) {
		return ref, nil
	}
	code, ok := customer.ParseCode(ref)
	if !ok {
		return "", customer.ErrNotFound
	}
	id, ok, err := s.codeHolder(ctx, tenant, code)
	if err == nil && !ok {
		err = customer.ErrNotFound
	}
	return id, err
}

// codeHolder returns the id of the customer that was given code (a
// canonical PID-, CID- or LID- code): the key its stream claimed when it
// was created or converted. Codes never move; merges are followed by live.
func (s *Customers) codeHolder(ctx context.Context, tenant, code string) (string, bool, error) {
	return s.store.Lookup(ctx, tenant, customer.StreamType, code)
}

// live returns the live customer ref stands for — the customer itself, or
// the survivor its merges lead to — with its stream's history.
func (s *Customers) live(ctx context.Context, tenant, ref string) (*customer.Customer, history, error) {
	c, h, err := s.load(ctx, tenant, ref)
	for depth := 0; err == nil && c.Snapshot().MergedInto != ""; depth++ {
		if depth == maxMergeDepth {
			return nil, history{}, fmt.Errorf("customer %s: merge chain longer than %d", ref, maxMergeDepth)
		}
		c, h, err = s.load(ctx, tenant, c.Snapshot().MergedInto)
	}
	return c, h, err
}

// Get returns the customer ref names (an id or a code). A merged
// customer's id or code answers the survivor, whose MergedFrom lists it.
// An unknown ref, or another tenant's, is customer.ErrNotFound.
func (s *Customers) Get(ctx context.Context, tenant, ref string) (customer.Snapshot, eventstore.Position, error) {
	c, h, err := s.live(ctx, tenant, ref)
	if err != nil {
		return customer.Snapshot{}, eventstore.Position{}, err
	}
	return c.Snapshot(), h.last(), nil
}

// Find returns the live customer holding the first of ids (in the caller's
// priority order) that any customer holds, and that identity; ok is false
// when none does. Codes resolve through merges to the survivor.
func (s *Customers) Find(ctx context.Context, tenant string, ids []customer.Identity) (c customer.Snapshot, via customer.Identity, ok bool, err error) {
	for _, id := range ids {
		var holder string
		if id.Kind == customer.ByCode {
			holder, _, err = s.codeHolder(ctx, tenant, id.Value)
		} else {
			var res []reservation
			res, err = reserve(ctx, s.store, tenant, []customer.Identity{id})
			if err == nil {
				holder = res[0].holder
			}
		}
		if err != nil {
			return customer.Snapshot{}, customer.Identity{}, false, err
		}
		if holder == "" {
			continue
		}
		live, _, err := s.live(ctx, tenant, holder)
		if err != nil {
			return customer.Snapshot{}, customer.Identity{}, false, err
		}
		return live.Snapshot(), id, true, nil
	}
	return customer.Snapshot{}, customer.Identity{}, false, nil
}

// Identify normalises identities as a customer's are (e-mails lower case,
// phones through the tenant's region, passports upper case without
// spaces, codes canonical) for Find. Values that normalise to nothing are
// dropped.
func (s *Customers) Identify(ctx context.Context, tenant string, ids []customer.Identity) ([]customer.Identity, error) {
	region, err := s.crm.Region(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]customer.Identity, 0, len(ids))
	for _, id := range ids {
		v := strings.TrimSpace(id.Value)
		switch id.Kind {
		case customer.ByEmail:
			v = strings.ToLower(v)
		case customer.ByPhone:
			v = NormalizePhone(v, region)
		case customer.ByPassport:
			v = customer.NormalizePassport(v)
		case customer.ByCode:
			v, _ = customer.ParseCode(v)
		}
		if v != "" {
			out = append(out, customer.Identity{Kind: id.Kind, Value: v})
		}
	}
	return out, nil
}

// change runs decide on the live customer ref names and appends what it
// recorded together with the identity moves its profile change implies
// (identities added are claimed, identities dropped released), all or
// nothing. An identity added that another customer holds is
// ErrIdentityTaken naming it. Lost races are decided again.
func (s *Customers) change(ctx context.Context, tenant, ref string, m Meta,
	decide func(c *customer.Customer, at time.Time) error) (CustomerResult, error) {
	for attempt := 0; ; attempt++ {
		c, h, err := s.live(ctx, tenant, ref)
		if err != nil {
			return CustomerResult{}, err
		}
		stream := customerStream(tenant, c.ID())
		if at, ok := h.landed(m); ok {
			o := s.customers.replay(h, at)
			return CustomerResult{Customer: o.agg.Snapshot(), Events: o.events, Position: o.pos}, nil
		}
		if m.IfVersion != nil && c.Version() != *m.IfVersion {
			return CustomerResult{}, domain.PreconditionFailedf("customer is at version %d, If-Match says %d", c.Version(), *m.IfVersion)
		}
		before := c.Snapshot().Profile.Identities()
		if err := decide(c, s.now()); err != nil {
			return CustomerResult{}, err
		}
		pending := c.Pending()
		if len(pending) == 0 {
			return CustomerResult{Customer: c.Snapshot(), Position: h.last()}, nil
		}
		after := c.Snapshot().Profile.Identities()
		added, dropped := diffIdentities(before, after)
		b := batch{m: m}
		if err := b.add(stream, eventstore.Exact(c.Version()), pending, customer.Encode); err != nil {
			return CustomerResult{}, err
		}
		res, err := reserve(ctx, s.store, tenant, append(added, dropped...))
		if err != nil {
			return CustomerResult{}, err
		}
		for i, r := range res {
			switch {
			case i < len(added) && r.holder != "" && r.holder != c.ID():
				return CustomerResult{}, ErrIdentityTaken.At(string(r.id.Kind)).Withf("%s %s belongs to customer %s", r.id.Kind, r.id.Value, r.holder)
			case i < len(added) && r.holder == "":
				err = b.claim(tenant, r, c.ID())
			case i >= len(added) && r.holder == c.ID():
				err = b.release(tenant, r, c.ID())
			}
			if err != nil {
				return CustomerResult{}, err
			}
		}
		out, err := b.append(ctx, s.store)
		if errors.Is(err, eventstore.ErrVersionConflict) || err == nil && out[0].Duplicate {
			s.customers.cache.Remove(stream)
			if m.IfVersion != nil && err != nil {
				return CustomerResult{}, domain.PreconditionFailedf("customer was changed concurrently; reload it")
			}
			if err := backoff(ctx, attempt); err != nil {
				return CustomerResult{}, err
			}
			continue
		}
		if err != nil {
			return CustomerResult{}, fmt.Errorf("change customer %s: %w", c.ID(), err)
		}
		s.customers.added(stream, h, pending, b.parts[0].Events, out[0])
		return CustomerResult{Customer: c.Snapshot(), Events: pending, Position: out[0].Last()}, nil
	}
}

// diffIdentities returns the identities of after not in before, and those
// of before not in after.
func diffIdentities(before, after []customer.Identity) (added, dropped []customer.Identity) {
	for _, id := range after {
		if !slices.Contains(before, id) {
			added = append(added, id)
		}
	}
	for _, id := range before {
		if !slices.Contains(after, id) {
			dropped = append(dropped, id)
		}
	}
	return added, dropped
}

// Update replaces the profile of the customer ref names with what edit
// makes of its current profile. With m.IfVersion the customer must be at
// that version.
func (s *Customers) Update(ctx context.Context, tenant, ref string, edit func(customer.Profile) customer.Profile, m Meta) (CustomerResult, error) {
	// Prepare outside the loop of change: it reads agents and accounts.
	c, _, err := s.live(ctx, tenant, ref)
	if err != nil {
		return CustomerResult{}, err
	}
	p, err := s.prepare(ctx, tenant, c.Snapshot().Kind, edit(c.Snapshot().Profile), m)
	if err != nil {
		return CustomerResult{}, err
	}
	return s.change(ctx, tenant, c.ID(), m, func(c *customer.Customer, at time.Time) error {
		return c.Update(m.By, m.Source, p, at)
	})
}

// Convert turns a lead into a contact with a new PID code, claimed in the
// same append; its LID code keeps resolving to it.
func (s *Customers) Convert(ctx context.Context, tenant, ref string, m Meta) (CustomerResult, error) {
	c, _, err := s.live(ctx, tenant, ref)
	if err != nil {
		return CustomerResult{}, err
	}
	if c.Snapshot().Kind != customer.Lead {
		return CustomerResult{}, customer.ErrNotLead
	}
	n, err := s.codes[customer.Contact].next(ctx, tenant)
	if err != nil {
		return CustomerResult{}, err
	}
	code := "PID-" + strconv.FormatInt(n, 10)
	// The code is new: the conversion's event claims it as the stream's
	// key (codeHolder).
	o, err := s.customers.runKeyed(ctx, customerStream(tenant, c.ID()), s.now, m, code, func(c *customer.Customer, at time.Time) error {
		return c.Convert(m.By, m.Source, code, at)
	})
	if err != nil {
		return CustomerResult{}, err
	}
	return CustomerResult{Customer: o.agg.Snapshot(), Position: o.pos}, nil
}

// NoteInput is a note to add to a customer.
type NoteInput struct {
	Body    string
	Permit  domain.Permit
	Owner   string
	Tag     string
	Channel string
	// Via is the identity the customer was found by, if any: an un-merge
	// moves what was attached through the merged customer's identities.
	Via *customer.Identity
}

// AddNote adds a note to the live customer ref names and returns it as
// recorded.
// The note's id derives from m.Idempotency when set; its owner defaults
// to the acting agent.
func (s *Customers) AddNote(ctx context.Context, tenant, ref string, n NoteInput, m Meta) (customer.NoteAdded, CustomerResult, error) {
	if n.Owner == "" && m.By.Kind == domain.ActorAgent && domain.ValidUUID(m.By.ID) {
		n.Owner = m.By.ID
	}
	if err := s.checkRefs(ctx, tenant, customer.Profile{Owner: n.Owner, Permit: n.Permit}); err != nil {
		return customer.NoteAdded{}, CustomerResult{}, err
	}
	noteID := m.derivedID("note")
	r, err := s.change(ctx, tenant, ref, m, func(c *customer.Customer, at time.Time) error {
		return c.AddNote(m.By, m.Source, customer.NoteInput{NoteID: noteID, Body: n.Body, Owner: n.Owner, Permit: n.Permit,
			Tag: n.Tag, Channel: n.Channel, Via: n.Via}, at)
	})
	if err != nil {
		return customer.NoteAdded{}, r, err
	}
	for _, e := range r.Events {
		if note, ok := e.(customer.NoteAdded); ok {
			return note, r, nil
		}
	}
	return customer.NoteAdded{}, r, fmt.Errorf("add note %s: no note recorded", noteID)
}

// LinkTicket attaches a ticket to the live customer ref names (once).
func (s *Customers) LinkTicket(ctx context.Context, tenant, ref, ticketID string, number int64, title string, via *customer.Identity, m Meta) (CustomerResult, error) {
	return s.change(ctx, tenant, ref, m, func(c *customer.Customer, at time.Time) error {
		return c.LinkTicket(m.By, m.Source, ticketID, number, title, via, at)
	})
}
