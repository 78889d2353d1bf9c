// Package app is Eventdesk's application layer: every entry point (the
// native REST API, the vendor-compatible surfaces, the CLI) calls it to run
// domain commands against the event store — load the aggregate, let the
// domain decide, append its events with the version it was loaded at, and
// retry on a concurrent write — and to manage tenants and their
// credentials. It knows nothing of HTTP.
//
// Repositories (aggregate.go) keep recently used streams decoded in
// memory; a command decided on such a copy counts only if its append at
// the copy's version succeeds, so the copy saves a read per command and
// never changes an answer, on one node or many.
//
// Surfaces call named commands with typed results (Tickets.Create, Patch,
// LogHistory, AddActivity, …; Forms, VideoRooms, Agents, Groups; the CRM's
// Customers, Deals, Pipelines and CRM configuration; Listeners and the
// Outbox), never the domain directly; NewServices builds them all. Process
// managers run beside them: TicketLinker links every ticket to its
// customer, OutboxSender delivers e-mail and SMS.
//
// The CRM's identity graph (identities.go): each movable identity of a
// customer (e-mail, phone, passport, external contact id) is a
// reservation stream claimed and released in the same multi-stream append
// as the customer's events; a customer's readable code is its stream's
// key. A command whose
// Meta.Idempotency is set derives every id it chooses from it
// (idempotency.go), so a retry after a crash finds what the first attempt
// stored and answers it, or writes exactly once. Agents.Authenticate turns
// a bearer token (tenant API key or agent token) into a Principal.
package app

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// Meta is what a request says about itself; it becomes each event's
// metadata.
type Meta struct {
	By            domain.Actor
	Source        domain.Source
	CorrelationID string
	CausationID   string
	// IfVersion, if set, is the version the aggregate must be at (an HTTP
	// If-Match): a command on any other version fails with
	// PreconditionFailed instead of being re-decided on fresh state.
	IfVersion *int64
	// Principal is the credential that authenticated the request (see
	// eventstore.Metadata.Principal), recorded beside the actor By names.
	Principal string
	// Idempotency, if set, names the request uniquely (the surfaces derive
	// it from the tenant, the client's Idempotency-Key and a fingerprint of
	// the request): every id the command chooses derives from it, so a
	// retry after a crash finds what the first attempt stored and answers
	// it, or stores it exactly once (see eventID).
	Idempotency string
}

func (m Meta) metadata() eventstore.Metadata {
	actor := m.By.ID
	if actor == "" {
		actor = m.By.Email
	}
	return eventstore.Metadata{CorrelationID: m.CorrelationID, CausationID: m.CausationID,
		Actor: string(m.By.Kind) + ":" + actor, Source: string(m.Source), Principal: m.Principal}
}

// Result is the outcome of a ticket command.
type Result struct {
	Ticket ticket.Snapshot
	// Events are the events the command recorded (none for a no-op).
	Events []domain.Event
	// Position is where the last of them landed; zero for a no-op.
	Position eventstore.Position
}

// Tickets runs ticket and ticket-configuration commands.
type Tickets struct {
	store       eventstore.Store
	tickets     *repository[*ticket.Ticket]
	configs     *repository[*ticket.TenantConfig]
	numbers     *numbers
	now         func() time.Time
	configCache sync.Map // tenant -> cachedConfig
}

// NewTickets returns the ticket service over store; db holds the ticket
// number sequences; now is the clock.
func NewTickets(store eventstore.Store, db *sql.DB, now func() time.Time) *Tickets {
	if now == nil {
		now = time.Now
	}
	return &Tickets{store: store, tickets: newRepository(ticketKind, store), configs: newRepository(configKind, store),
		numbers: newNumbers(db, "ticket_number_"), now: now}
}

// Create opens a ticket: it allocates the tenant's next number, lets the
// domain decide and appends TicketCreated, which claims the number as its
// stream's key (eventstore.EventData.Key): one append, and the number
// resolves to the ticket the moment the create returns. c.ID, if empty,
// is generated (derived from m.Idempotency when set, so that a retried
// request finds the ticket its first attempt created instead of opening a
// second one); c.Number and c.TenantID are set here.
func (s *Tickets) Create(ctx context.Context, tenant string, c ticket.CreateTicket, m Meta) (Result, error) {
	chosen := c.ID != "" // by the client, who may be retrying
	if !chosen {
		c.ID = m.derivedID("ticket")
	}
	c.TenantID, c.By, c.Source = tenant, m.By, m.Source
	cfg, _, err := s.Config(ctx, tenant)
	if err != nil {
		return Result{}, err
	}
	// Decide once with a placeholder number, and check what the store
	// would refuse (NUL, an oversized event), so that invalid input never
	// burns a number.
	c.Number = 1
	stream := ticketStream(tenant, c.ID)
	draft, err := ticket.New(c, cfg, s.now())
	if err != nil {
		return Result{}, err
	}
	if data, err := encode(draft.Pending(), m, ticket.Encode); err != nil {
		return Result{}, err
	} else if err := eventstore.ValidateAppend(stream, eventstore.NoStream, data); err != nil {
		return Result{}, fmt.Errorf("create ticket %s: %w", c.ID, err)
	}
	// A retried create must not take a second number. (A fresh random id
	// cannot exist yet: no need to look.)
	if chosen || m.Idempotency != "" {
		h, err := s.tickets.read(ctx, stream)
		if err != nil {
			return Result{}, err
		}
		if at, ok := h.landed(m); ok {
			return ticketResult(s.tickets.replay(h, at)), nil
		}
		if h.version() > 0 {
			return Result{}, fmt.Errorf("create ticket %s: %w", c.ID, &eventstore.VersionConflictError{
				Stream: stream, Expected: eventstore.NoStream, Actual: h.version()})
		}
	}
	if c.Number, err = s.numbers.next(ctx, tenant); err != nil {
		return Result{}, err
	}
	t, err := ticket.New(c, cfg, s.now())
	if err != nil {
		return Result{}, err
	}
	pending := t.Pending()
	data, err := encode(pending, m, ticket.Encode)
	if err != nil {
		return Result{}, err
	}
	data[0].Key = strconv.FormatInt(c.Number, 10) // TicketCreated
	crashPoint(ctx, StepDecided)
	ar, err := s.store.Append(ctx, stream, eventstore.NoStream, data)
	if err != nil {
		return Result{}, fmt.Errorf("ticket %s: %w", t.ID(), err)
	}
	if ar.Duplicate {
		// A concurrent attempt of the same request created it (with
		// another number, which this attempt leaves as a gap).
		h, err := s.tickets.read(ctx, stream)
		if err != nil {
			return Result{}, err
		}
		if at, ok := h.landed(m); ok {
			return ticketResult(s.tickets.replay(h, at)), nil
		}
		return Result{}, fmt.Errorf("ticket %s: the store reported a duplicate that the stream does not hold", t.ID())
	}
	s.tickets.added(stream, history{}, pending, data, ar)
	crashPoint(ctx, StepAppended)
	return Result{Ticket: t.Snapshot(), Events: pending, Position: ar.Last()}, nil
}

// ticketResult is the Result of a ticket command's outcome; a no-op has no
// events and a zero Position.
func ticketResult(o outcome[*ticket.Ticket]) Result {
	res := Result{Ticket: o.agg.Snapshot(), Events: o.events}
	if len(o.events) > 0 {
		res.Position = o.pos
	}
	return res
}

// Resolve turns a ticket reference — its UUID, its number ("34") or its
// key ("#034") — into the ticket id. An unknown reference is
// ticket.ErrNotFound.
func (s *Tickets) Resolve(ctx context.Context, tenant, ref string) (string, error) {
	if domain.ValidUUID(ref) {
		return ref, nil
	}
	if u, err := uuid.Parse(ref); err == nil {
		return u.String(), nil
	}
	num := ref
	if len(num) > 1 && num[0] == '#' {
		num = num[1:]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 {
		return "", ticket.ErrNotFound
	}
	id, ok, err := s.store.Lookup(ctx, tenant, ticket.StreamType, strconv.FormatInt(n, 10))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ticket.ErrNotFound
	}
	return id, nil
}

// ticketKind and configKind say how ticket streams and config streams are
// stored.
var (
	ticketKind = kind[*ticket.Ticket]{encode: ticket.Encode, decode: ticket.Decode, rehydrate: ticket.Rehydrate}
	configKind = kind[*ticket.TenantConfig]{encode: ticket.Encode, decode: ticket.Decode, rehydrate: ticket.RehydrateConfig}
)

func ticketStream(tenant, id string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: ticket.StreamType, ID: id}
}

// Load returns the ticket ref names (see Resolve), rebuilt from its stream,
// with the position of its last event. It always reflects every write that
// committed before the call: reads of one ticket need no projection.
func (s *Tickets) Load(ctx context.Context, tenant, ref string) (*ticket.Ticket, eventstore.Position, error) {
	id, err := s.Resolve(ctx, tenant, ref)
	if err != nil {
		return nil, eventstore.Position{}, err
	}
	t, pos, err := s.tickets.load(ctx, ticketStream(tenant, id))
	if err == nil && !t.Exists() {
		err = ticket.ErrNotFound
	}
	return t, pos, err
}

// Locate returns the id of the ticket ref names (see Resolve) if it
// exists, reading only its first event: what a subscription to the
// ticket needs (a storm of them must not rebuild it once each). An
// unknown ticket is ticket.ErrNotFound.
func (s *Tickets) Locate(ctx context.Context, tenant, ref string) (string, error) {
	id, err := s.Resolve(ctx, tenant, ref)
	if err != nil {
		return "", err
	}
	stream := ticketStream(tenant, id)
	evs, err := s.store.ReadStream(ctx, stream, 1, 1)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", stream, err)
	}
	if len(evs) == 0 {
		return "", ticket.ErrNotFound
	}
	first, err := ticketKind.decode(evs[0].Type, evs[0].SchemaVersion, evs[0].Data)
	if err != nil {
		return "", err
	}
	if !ticketKind.rehydrate([]domain.Event{first}, 1).Exists() {
		return "", ticket.ErrNotFound
	}
	return id, nil
}

// Events returns the stored events of ticket id, oldest first.
func (s *Tickets) Events(ctx context.Context, tenant, id string) ([]eventstore.Event, error) {
	return readStream(ctx, s.store, ticketStream(tenant, id))
}

// execute runs decide on ticket ref and appends what it records. If
// m.IfVersion is set the ticket must be at that version (else a
// PreconditionFailed error); otherwise a lost race with a concurrent write
// re-decides on the fresh state. A decision that records nothing returns
// the current state and a zero Position. Surfaces call the named commands
// (tickets_commands.go) built on it.
func (s *Tickets) execute(ctx context.Context, tenant, ref string, m Meta,
	decide func(t *ticket.Ticket, cfg ticket.Config, at time.Time) error) (Result, error) {
	id, err := s.Resolve(ctx, tenant, ref)
	if err != nil {
		return Result{}, err
	}
	o, err := s.tickets.run(ctx, ticketStream(tenant, id), s.now, m, func(t *ticket.Ticket, at time.Time) error {
		if !t.Exists() {
			return ticket.ErrNotFound
		}
		cfg, _, err := s.Config(ctx, tenant)
		if err != nil {
			return err
		}
		return decide(t, cfg, at)
	})
	if err != nil {
		return Result{}, err
	}
	return ticketResult(o), nil
}

func configStream(tenant string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: ticket.ConfigStreamType, ID: ticket.ConfigStreamID}
}

// Config returns the tenant's ticket configuration (DefaultConfig until
// changed) and the version of its stream.
//
// Every command needs it, and it rarely changes, so it is cached for
// configTTL: a change made through this process is seen at once, one made
// through another node within configTTL. Tickets record keys and status
// kinds, never displays, so a stale read can at worst accept or refuse a
// key for that long; it never corrupts history.
func (s *Tickets) Config(ctx context.Context, tenant string) (ticket.Config, int64, error) {
	now := s.now()
	if v, ok := s.configCache.Load(tenant); ok {
		if c := v.(cachedConfig); now.Sub(c.at) < configTTL {
			return c.cfg.Clone(), c.version, nil
		}
	}
	c, err := s.loadConfig(ctx, tenant)
	if err != nil {
		return ticket.Config{}, 0, err
	}
	s.configCache.Store(tenant, cachedConfig{cfg: c.Config(), version: c.Version(), at: now})
	return c.Config(), c.Version(), nil
}

// configTTL bounds how stale a cached tenant configuration may be.
const configTTL = time.Second

type cachedConfig struct {
	cfg     ticket.Config
	version int64
	at      time.Time
}

func (s *Tickets) loadConfig(ctx context.Context, tenant string) (*ticket.TenantConfig, error) {
	c, _, err := s.configs.load(ctx, configStream(tenant))
	return c, err
}

// changeConfig runs decide on the tenant's configuration and appends what
// it records. With m.IfVersion the configuration must be at that version
// (else PreconditionFailed); without, a concurrent change is retried.
func (s *Tickets) changeConfig(ctx context.Context, tenant string, m Meta,
	decide func(c *ticket.TenantConfig, at time.Time) error) (ConfigResult, error) {
	o, err := s.configs.run(ctx, configStream(tenant), s.now, m, decide)
	s.configCache.Delete(tenant)
	if err != nil {
		return ConfigResult{}, err
	}
	res := ConfigResult{Config: o.agg.Config(), Version: o.agg.Version() + int64(len(o.agg.Pending()))}
	if len(o.events) > 0 {
		res.Position = o.pos
	}
	return res, nil
}
