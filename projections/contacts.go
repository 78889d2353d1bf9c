package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/eventstore"
)

// ContactsName is the contacts projection's persisted name.
const ContactsName = "contacts.v1"

// Contacts projects customer streams into customer_list (one row per
// customer: its snapshot, filter columns and its identities for search)
// and customer_timeline (its notes, tickets, deals, duplicate submissions,
// conversions, merges and un-merges). A customer's stream holds its whole
// story, so one stream type is all this projection reads.
type Contacts struct{}

var _ Projection = Contacts{}

// Name implements Projection.
func (Contacts) Name() string { return ContactsName }

// Tables implements Projection.
func (Contacts) Tables() []string { return []string{"customer_list", "customer_timeline"} }

// Query implements Projection.
func (Contacts) Query() eventstore.Query {
	return eventstore.Query{StreamType: customer.StreamType, Limit: 1000}
}

// Timeline entry kinds of customers.
const (
	EntryNote      = "note"
	EntryTicket    = "ticket"
	EntryDeal      = "deal"
	EntryDuplicate = "duplicate"
	EntryConverted = "converted"
	EntryMerged    = "merged"   // on the merged customer: it went into the survivor
	EntryAbsorbed  = "absorbed" // on the survivor: it took in a customer
	EntryUnmerged  = "unmerged" // on the survivor: a customer was split off
	EntryRestored  = "restored" // on the restored customer
)

// customerRow is one timeline row.
type customerRow struct {
	tenant, stream, customer, kind, item string
	version                              int64
	pos                                  eventstore.Position
	permit                               domain.Permit
	owner                                string
	typ                                  string
	data                                 []byte // the event's data as stored
	at                                   string
}

// move is an un-merge's move of items from the survivor's timeline to the
// restored customer's.
type move struct {
	tenant, from, to string
	items            []customer.Item
}

var _ Preparer = Contacts{}

// Apply implements Projection: Prepare, then the rest.
func (c Contacts) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) error {
	rest, err := c.Prepare(t, evs)
	if err != nil {
		return err
	}
	return rest(ctx, tx)
}

// customerEvent is an event of a batch, decoded, with its timeline row if
// it has one.
type customerEvent struct {
	e     eventstore.Event
	de    domain.Event
	row   customerRow
	onRow bool
	at    int // its index in the batch
}

// customerEvents are a batch's events of one customer stream.
type customerEvents struct {
	tenant, id string
	events     []customerEvent
}

// orderedMove is a move and the index in its batch of the un-merge that
// made it: moves are made in log order.
type orderedMove struct {
	at int
	move
}

// Prepare implements Preparer: it decodes the batch, and evolves and
// encodes the customers whose first event in the batch is their first
// event (created in this batch: while catching up, most of a batch),
// which needs no read. The rest reads the other customers the batch
// touches (one read), evolves them too, and writes each customer once, in
// its state at the end of the batch (one upsert), then the timeline (one
// insert) and the moves of un-merges.
func (Contacts) Prepare(t Tables, evs []eventstore.Event) (func(context.Context, *sql.Tx) error, error) {
	byKey := map[string]*customerEvents{}
	var created, others []*customerEvents // in the order first seen
	for i, e := range evs {
		de, err := customer.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", e.ID, err)
		}
		key := e.TenantID + "/" + e.StreamID
		ce := byKey[key]
		if ce == nil {
			ce = &customerEvents{tenant: e.TenantID, id: e.StreamID}
			byKey[key] = ce
			if e.Version == 1 { // nothing to read: the customer is new
				created = append(created, ce)
			} else {
				others = append(others, ce)
			}
		}
		row, ok, err := timelineRowOf(e, de)
		if err != nil {
			return nil, err
		}
		ce.events = append(ce.events, customerEvent{e: e, de: de, row: row, onRow: ok, at: i})
	}
	var list customerColumns
	var rows []customerRow
	var moves []orderedMove
	for _, ce := range created {
		if err := evolveCustomer(&list, &rows, &moves, ce, customer.Snapshot{}); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		snaps, err := loadCustomers(ctx, tx, t, others)
		if err != nil {
			return err
		}
		for _, ce := range others {
			if err := evolveCustomer(&list, &rows, &moves, ce, snaps[ce.tenant+"/"+ce.id]); err != nil {
				return err
			}
		}
		if err := upsertCustomers(ctx, tx, t, list); err != nil {
			return err
		}
		if err := insertCustomerTimeline(ctx, tx, t, rows); err != nil {
			return err
		}
		slices.SortFunc(moves, func(a, b orderedMove) int { return a.at - b.at })
		for _, m := range moves {
			kinds, ids := make([]string, len(m.items)), make([]string, len(m.items))
			for i, it := range m.items {
				kinds[i], ids[i] = it.Kind, it.ID
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET customer_id = $3
			WHERE tenant_id = $1 AND customer_id = $2 AND (kind, item_id) IN (SELECT * FROM unnest($4::text[], $5::text[]))`,
				pq.QuoteIdentifier(t.Of("customer_timeline"))), m.tenant, m.from, m.to, pq.Array(kinds), pq.Array(ids)); err != nil {
				return fmt.Errorf("move timeline items: %w", err)
			}
		}
		return nil
	}, nil
}

// evolveCustomer evolves snap, the customer's stored state (empty if
// none), by ce's events that it has not seen (all but those of a replayed
// batch), and adds its row to list, and the events' timeline rows and
// moves to rows and moves. A customer that has seen every event gets no
// row.
func evolveCustomer(list *customerColumns, rows *[]customerRow, moves *[]orderedMove, ce *customerEvents, snap customer.Snapshot) error {
	s, applied := snap, 0
	for _, ev := range ce.events {
		if ev.e.Version <= snap.Version+int64(applied) {
			continue // already applied (a replayed batch)
		}
		applied++
		s = customer.Evolve(s, ev.de)
		if ev.onRow {
			*rows = append(*rows, ev.row)
		}
		if un, ok := ev.de.(customer.CustomerUnmerged); ok && len(un.Items) > 0 {
			*moves = append(*moves, orderedMove{at: ev.at, move: move{tenant: ce.tenant, from: ce.id, to: un.Restored, items: un.Items}})
		}
	}
	if applied == 0 {
		return nil
	}
	return list.add(ce.tenant, s)
}

// timelineRowOf describes a customer event as a timeline row; ok is false
// for events that are not on the timeline (profile updates).
func timelineRowOf(e eventstore.Event, de domain.Event) (customerRow, bool, error) {
	row := customerRow{tenant: e.TenantID, stream: e.StreamID, customer: e.StreamID, version: e.Version, pos: e.Position,
		permit: domain.Permit{Kind: domain.PermitEverybody}, item: e.ID, at: timestamp(e.RecordedAt)}
	switch ev := de.(type) {
	case customer.NoteAdded:
		row.kind, row.item, row.permit, row.owner = EntryNote, ev.NoteID, ev.Permit, ev.Owner
	case customer.TicketLinked:
		row.kind, row.item = EntryTicket, ev.TicketID
	case customer.DealLinked:
		row.kind, row.item = EntryDeal, ev.DealID
	case customer.DuplicateSubmitted:
		row.kind = EntryDuplicate
	case customer.LeadConverted:
		row.kind = EntryConverted
	case customer.CustomerMerged:
		row.kind, row.item = EntryMerged, ev.Into
	case customer.CustomerAbsorbed:
		row.kind, row.item = EntryAbsorbed, ev.From
	case customer.CustomerUnmerged:
		row.kind, row.item = EntryUnmerged, ev.Restored
	case customer.CustomerRestored:
		row.kind, row.item = EntryRestored, ev.From
	default:
		return row, false, nil
	}
	if a, ok := de.(domain.Audited); ok {
		row.at = timestamp(a.Audit().At)
	}
	row.typ, row.data = e.Type, e.Data
	return row, true, nil
}

// TimelineItem is one entry of a customer's timeline: its kind, the id of
// what it is about (a note, ticket or deal id, the other customer of a
// merge; the event id otherwise), the event's type and position, and the
// event's data as stored (who, when, and what).
type TimelineItem struct {
	Kind       string          `json:"kind"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Position   string          `json:"position"`
	CustomerID string          `json:"customer_id,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// loadCustomers reads the stored state of the customers of ces, by
// tenant/id (none for a customer not stored yet).
func loadCustomers(ctx context.Context, tx *sql.Tx, t Tables, ces []*customerEvents) (map[string]customer.Snapshot, error) {
	out := map[string]customer.Snapshot{}
	if len(ces) == 0 {
		return out, nil
	}
	tenants, ids := make([]string, len(ces)), make([]string, len(ces))
	for i, ce := range ces {
		tenants[i], ids[i] = ce.tenant, ce.id
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT l.tenant_id, l.doc FROM %s l
		JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, id) USING (tenant_id, id)`,
		pq.QuoteIdentifier(t.Of("customer_list"))), pq.Array(tenants), pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("load customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tenant string
		var doc []byte
		if err := rows.Scan(&tenant, &doc); err != nil {
			return nil, err
		}
		var snap customer.Snapshot
		if err := json.Unmarshal(doc, &snap); err != nil {
			return nil, fmt.Errorf("customer snapshot: %w", err)
		}
		out[tenant+"/"+snap.ID] = snap
	}
	return out, rows.Err()
}

// customerColumns is a batch of customer_list rows, column by column.
type customerColumns struct {
	tenant, id, kind, code, codes, name, emails, phones, idents, passport textArray
	contactID                                                             textArray
	account, owner, pkind, pgroup, pagents, channel, tags, merged, doc    textArray
	created, updated                                                      textArray
	version                                                               []int64
}

// add appends the row of customer s of tenant (snapshots do not carry
// their tenant).
func (c *customerColumns) add(tenant string, s customer.Snapshot) error {
	doc, err := json.Marshal(s)
	if err != nil {
		return err
	}
	p := s.Profile
	var emails, phones []string
	for _, e := range p.Emails {
		emails = append(emails, e.Value)
	}
	for _, ph := range p.Phones {
		phones = append(phones, ph.Normalized)
	}
	c.tenant = append(c.tenant, tenant)
	c.id, c.kind, c.code = append(c.id, s.ID), append(c.kind, string(s.Kind)), append(c.code, s.Code)
	c.codes = append(c.codes, textArray(s.Codes).literal())
	c.name = append(c.name, strings.TrimSpace(p.Name+" "+p.LastName))
	c.emails, c.phones = append(c.emails, textArray(emails).literal()), append(c.phones, textArray(phones).literal())
	var idents []string
	for _, id := range s.Identities() {
		idents = append(idents, identityTerm(id.Kind, id.Value))
	}
	c.idents = append(c.idents, textArray(idents).literal())
	c.passport, c.contactID = append(c.passport, p.Passport), append(c.contactID, p.ContactID)
	c.account, c.owner = append(c.account, p.Account), append(c.owner, p.Owner)
	kind := p.Permit.Kind
	if kind == "" {
		kind = domain.PermitEverybody
	}
	c.pkind, c.pgroup = append(c.pkind, string(kind)), append(c.pgroup, p.Permit.Group)
	c.pagents = append(c.pagents, textArray(p.Permit.Agents).literal())
	c.channel, c.tags = append(c.channel, p.Channel), append(c.tags, textArray(p.Tags).literal())
	c.merged, c.doc = append(c.merged, s.MergedInto), append(c.doc, string(doc))
	c.created, c.updated = append(c.created, timestamp(s.CreatedAt)), append(c.updated, timestamp(s.UpdatedAt))
	c.version = append(c.version, s.Version)
	return nil
}

func upsertCustomers(ctx context.Context, tx *sql.Tx, t Tables, c customerColumns) error {
	if len(c.id) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s AS l (tenant_id, id, kind, code, codes, full_name, emails, phones,
		identities, passport, contact_id, account_id, owner, permit_kind, permit_group, permit_agents, channel, tags,
		merged_into, created_at, updated_at, version, doc)
	SELECT tenant_id, id, kind, code, codes::text[], full_name, emails::text[], phones::text[], identities::text[], passport,
		contact_id, account_id, owner, permit_kind, permit_group, permit_agents::text[], channel, tags::text[], merged_into, created_at, updated_at,
		version, doc
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
		$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
		$19::timestamptz[], $20::timestamptz[], $21::bigint[], $22::json[], $23::text[])
		AS r(tenant_id, id, kind, code, codes, full_name, emails, phones, passport, contact_id, account_id, owner, permit_kind,
		permit_group, permit_agents, channel, tags, merged_into, created_at, updated_at, version, doc, identities)
	ON CONFLICT (tenant_id, id) DO UPDATE SET kind = EXCLUDED.kind, code = EXCLUDED.code, codes = EXCLUDED.codes,
		full_name = EXCLUDED.full_name, emails = EXCLUDED.emails, phones = EXCLUDED.phones,
		identities = EXCLUDED.identities, passport = EXCLUDED.passport,
		contact_id = EXCLUDED.contact_id, account_id = EXCLUDED.account_id, owner = EXCLUDED.owner,
		permit_kind = EXCLUDED.permit_kind, permit_group = EXCLUDED.permit_group, permit_agents = EXCLUDED.permit_agents,
		channel = EXCLUDED.channel, tags = EXCLUDED.tags, merged_into = EXCLUDED.merged_into,
		updated_at = EXCLUDED.updated_at, version = EXCLUDED.version, doc = EXCLUDED.doc
	WHERE l.version < EXCLUDED.version`, pq.QuoteIdentifier(t.Of("customer_list"))),
		c.tenant, c.id, c.kind, c.code, c.codes, c.name, c.emails, c.phones, c.passport, c.contactID, c.account, c.owner,
		c.pkind, c.pgroup, c.pagents, c.channel, c.tags, c.merged, c.created, c.updated, pq.Array(c.version), c.doc, c.idents)
	if err != nil {
		return fmt.Errorf("upsert customers: %w", err)
	}
	return nil
}

func insertCustomerTimeline(ctx context.Context, tx *sql.Tx, t Tables, rows []customerRow) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	text := func() textArray { return make(textArray, n) }
	tenant, stream, cust, kind, item, pkind, pgroup, pagents, owner, typ, data, at := text(), text(), text(), text(), text(),
		text(), text(), text(), text(), text(), text(), text()
	version, txid, seq := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, r := range rows {
		tenant[i], stream[i], cust[i], kind[i], item[i] = r.tenant, r.stream, r.customer, r.kind, r.item
		version[i], txid[i], seq[i] = r.version, int64(r.pos.TxID), r.pos.Seq
		k := r.permit.Kind
		if k == "" {
			k = domain.PermitEverybody
		}
		pkind[i], pgroup[i], pagents[i], owner[i] = string(k), r.permit.Group, textArray(r.permit.Agents).literal(), r.owner
		typ[i], data[i], at[i] = r.typ, string(r.data), r.at
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (tenant_id, stream_id, version, customer_id, kind, item_id, tx_id,
		seq, permit_kind, permit_group, permit_agents, owner, type, data, created_at)
	SELECT tenant_id, stream_id, version, customer_id, kind, item_id, tx_id, seq, permit_kind, permit_group,
		permit_agents::text[], owner, type, data, created_at
	FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[],
		$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::timestamptz[])
		AS r(tenant_id, stream_id, version, customer_id, kind, item_id, tx_id, seq, permit_kind, permit_group, permit_agents,
		owner, type, data, created_at)
	ON CONFLICT DO NOTHING`, pq.QuoteIdentifier(t.Of("customer_timeline"))),
		tenant, stream, pq.Array(version), cust, kind, item, pq.Array(txid), pq.Array(seq), pkind, pgroup, pagents, owner,
		typ, data, at)
	if err != nil {
		return fmt.Errorf("insert customer timeline: %w", err)
	}
	return nil
}

// identityTerm is how an identity is written in customer_list.identities:
// kind:value.
func identityTerm(kind customer.IdentityKind, value string) string { return string(kind) + ":" + value }
