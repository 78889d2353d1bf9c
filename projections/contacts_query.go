package projections

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/eventstore"
)

// ContactQueries answers queries on the contacts.v1 read models.
type ContactQueries struct {
	db *sql.DB
}

// NewContactQueries returns the query side of the contacts projection.
func NewContactQueries(db *sql.DB) *ContactQueries { return &ContactQueries{db: db} }

// ContactFilter selects customers of one tenant. Empty fields do not
// filter.
type ContactFilter struct {
	TenantID    string
	Kind        []string
	Tag         []string // customers having any of the tags
	Owner       string
	Account     string
	Channel     string
	CreatedFrom time.Time
	CreatedTo   time.Time
	UpdatedFrom time.Time
	UpdatedTo   time.Time
	// Q searches names (trigram similarity on name and last name, or a
	// substring), and matches an e-mail, passport, code or external contact
	// id exactly (case-insensitively); QPhone, if set, is Q's phone number
	// normalised as customers' phones are, matched exactly.
	Q      string
	QPhone string
	// IncludeMerged lists merged customers too (they are left out by
	// default: their survivor stands for them).
	IncludeMerged bool
	// Viewer is who reads: customers its permits do not show are left out.
	Viewer domain.Viewer
	// Limit caps the page (1..200, default 50); Cursor continues a list.
	Limit  int
	Cursor string
}

// ContactPage is one page of customers, newest first. NextCursor is empty
// on the last page.
type ContactPage struct {
	Contacts   []customer.Snapshot
	NextCursor string
}

// permitSQL is the condition under which viewer v (the parameters at
// agent, groups) may see a row with the permit columns of alias a.
func permitSQL(a string, agent, groups int) string {
	return fmt.Sprintf(`(%[1]s.permit_kind = 'everybody' OR (%[1]s.owner <> '' AND %[1]s.owner = $%[2]d)
		OR (%[1]s.permit_kind = 'owner_group' AND %[1]s.permit_group = ANY($%[3]d::text[]))
		OR (%[1]s.permit_kind = 'owner_agents' AND $%[2]d = ANY(%[1]s.permit_agents)))`, a, agent, groups)
}

// List returns a page of customers matching f, newest first. Pages are
// stable: a customer created while a client pages does not shift the
// pages after the cursor.
func (q *ContactQueries) List(ctx context.Context, f ContactFilter) (ContactPage, error) {
	limit := pageLimit(f.Limit)
	var where []string
	args := []any{f.TenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "l.tenant_id = $1")
	if !f.IncludeMerged {
		where = append(where, "l.merged_into = ''")
	}
	if len(f.Kind) > 0 {
		where = append(where, "l.kind = ANY("+arg(pq.Array(f.Kind))+"::text[])")
	}
	if len(f.Tag) > 0 {
		// The tags index is partial (tags <> '{}'): saying so lets the
		// planner use it.
		where = append(where, "l.tags <> '{}' AND l.tags && "+arg(pq.Array(f.Tag))+"::text[]")
	}
	for col, v := range map[string]string{"owner": f.Owner, "account_id": f.Account, "channel": f.Channel} {
		if v != "" {
			where = append(where, "l."+col+" = "+arg(v))
		}
	}
	for cond, v := range map[string]time.Time{"l.created_at >= ": f.CreatedFrom, "l.created_at < ": f.CreatedTo,
		"l.updated_at >= ": f.UpdatedFrom, "l.updated_at < ": f.UpdatedTo} {
		if !v.IsZero() {
			where = append(where, cond+arg(v))
		}
	}
	if s := strings.TrimSpace(f.Q); s != "" {
		lower := strings.ToLower(s)
		terms := []string{
			identityTerm(customer.ByEmail, lower),
			identityTerm(customer.ByCode, strings.ToUpper(s)),
			identityTerm(customer.ByPassport, strings.ToUpper(strings.Join(strings.Fields(s), ""))),
			identityTerm(customer.ByContactID, s),
		}
		if f.QPhone != "" {
			terms = append(terms, identityTerm(customer.ByPhone, f.QPhone))
		}
		conds := []string{
			"l.full_name ILIKE " + arg("%"+escapeLike(s)+"%"),
			"l.identities && " + arg(textArray(terms)) + "::text[]",
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
	}
	if !f.Viewer.Admin {
		where = append(where, permitSQL("l", len(args)+1, len(args)+2))
		args = append(args, f.Viewer.Agent, pq.Array(f.Viewer.Groups))
	}
	list, next, err := newestFirst(ctx, q.db, "customer_list", where, args, f.Cursor, limit,
		func(s customer.Snapshot) string { return s.ID })
	return ContactPage{Contacts: list, NextCursor: next}, err
}

// pageLimit is a list's page size: limit, or 50 when it is not in 1..200.
func pageLimit(limit int) int {
	if limit <= 0 || limit > 200 {
		return 50
	}
	return limit
}

// newestFirst runs a list over table (alias l, with created_at, id and a
// JSON doc column) under the conditions where, whose parameters are args,
// newest first by (created_at, id), after cursor (a cursor it returned, or
// ""): it decodes up to limit docs into T and returns the cursor of the
// next page ("" on the last). Pages are stable: rows created while a
// client pages come before its cursor, never after.
func newestFirst[T any](ctx context.Context, db *sql.DB, table string, where []string, args []any, cursor string, limit int,
	id func(T) string) ([]T, string, error) {
	if cursor != "" {
		at, cid, err := decodeCreatedCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, at, cid)
		where = append(where, fmt.Sprintf("(l.created_at, l.id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	rows, err := db.QueryContext(ctx, `SELECT l.doc, l.created_at FROM `+table+` l WHERE `+strings.Join(where, " AND ")+
		` ORDER BY l.created_at DESC, l.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", table, err)
	}
	defer rows.Close()
	var out []T
	var lastAt time.Time
	for rows.Next() {
		var doc []byte
		var at time.Time
		if err := rows.Scan(&doc, &at); err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			return out, encodeCreatedCursor(lastAt, id(out[limit-1])), nil
		}
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, "", err
		}
		out, lastAt = append(out, v), at
	}
	return out, "", rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// encodeCreatedCursor is the cursor of lists ordered newest first by
// (created_at, id): customers and deals.
func encodeCreatedCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + " " + id))
}

func decodeCreatedCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	ts, id, ok := strings.Cut(string(b), " ")
	at, err := time.Parse(time.RFC3339Nano, ts)
	// Only the form encodeCreatedCursor writes (UTC): another offset could
	// put the instant past year 9999, where no cursor can be written back.
	if !ok || err != nil || at.UTC().Format(time.RFC3339Nano) != ts || !domain.ValidUUID(id) {
		return time.Time{}, "", ErrBadCursor
	}
	return at, id, nil
}

// FindByName returns the ids of the live customers of tenant whose name
// (name and last name) is name, case-insensitively, oldest first: seed
// 004's lookup by "name". Kinds, if given, restricts them.
func (q *ContactQueries) FindByName(ctx context.Context, tenant, name string, kinds ...string) ([]string, error) {
	// ILIKE uses the trigram index; lower() = lower() is the exact test.
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, nil
	}
	rows, err := q.db.QueryContext(ctx, `SELECT id FROM customer_list
		WHERE tenant_id = $1 AND full_name ILIKE $4 AND lower(full_name) = lower($2) AND merged_into = ''
		  AND (cardinality($3::text[]) = 0 OR kind = ANY($3::text[]))
		ORDER BY created_at, id`, tenant, name, textArray(kinds), escapeLike(name))
	if err != nil {
		return nil, fmt.Errorf("find customers by name: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// TimelineQuery selects a customer's timeline: its own entries and those of
// every customer merged into it (and not un-merged), newest first.
type TimelineQuery struct {
	TenantID   string
	CustomerID string
	// Kinds, if set, keeps only these entry kinds (EntryNote, ...).
	Kinds  []string
	Viewer domain.Viewer
	Limit  int
	Cursor string
}

// TimelinePage is one page of a timeline. NextCursor is empty on the last
// page.
type TimelinePage struct {
	Items      []TimelineItem
	NextCursor string
}

// Timeline returns a page of the customer's timeline. Notes its viewer's
// permits do not show are left out.
func (q *ContactQueries) Timeline(ctx context.Context, f TimelineQuery) (TimelinePage, error) {
	limit := pageLimit(f.Limit)
	args := []any{f.TenantID, f.CustomerID, textArray(f.Kinds)} // never NULL
	where := []string{"t.tenant_id = $1", "t.customer_id IN (SELECT id FROM members)",
		"(cardinality($3::text[]) = 0 OR t.kind = ANY($3::text[]))"}
	if !f.Viewer.Admin {
		where = append(where, "(t.kind <> 'note' OR "+permitSQL("t", 4, 5)+")")
		args = append(args, f.Viewer.Agent, pq.Array(f.Viewer.Groups))
	}
	if f.Cursor != "" {
		tx, seq, err := decodeTimelineCursor(f.Cursor)
		if err != nil {
			return TimelinePage{}, err
		}
		args = append(args, tx, seq)
		where = append(where, fmt.Sprintf("(t.tx_id, t.seq) < ($%d, $%d)", len(args)-1, len(args)))
	}
	rows, err := q.db.QueryContext(ctx, `WITH RECURSIVE members(id, depth) AS (
			SELECT $2::text COLLATE "C", 0 -- customer_list.id's collation (migration 00020)
			UNION SELECT l.id, m.depth + 1 FROM customer_list l JOIN members m ON l.merged_into = m.id
			WHERE l.tenant_id = $1 AND l.merged_into <> '' AND m.depth < 16)
		SELECT t.kind, t.item_id, t.type, t.data, t.customer_id, t.tx_id, t.seq FROM customer_timeline t
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY t.tx_id DESC, t.seq DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return TimelinePage{}, fmt.Errorf("customer timeline: %w", err)
	}
	defer rows.Close()
	var page TimelinePage
	var lastTx, lastSeq int64
	for rows.Next() {
		var it TimelineItem
		var data []byte
		var tx, seq int64
		if err := rows.Scan(&it.Kind, &it.ID, &it.Type, &data, &it.CustomerID, &tx, &seq); err != nil {
			return TimelinePage{}, err
		}
		if len(page.Items) == limit {
			page.NextCursor = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d-%d", lastTx, lastSeq))
			break
		}
		it.Data = json.RawMessage(data)
		it.Position = eventstore.Position{TxID: uint64(tx), Seq: seq}.String()
		page.Items, lastTx, lastSeq = append(page.Items, it), tx, seq
	}
	return page, rows.Err()
}

func decodeTimelineCursor(c string) (int64, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, ErrBadCursor
	}
	a, s, ok := strings.Cut(string(b), "-")
	tx, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(s, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, ErrBadCursor
	}
	return tx, seq, nil
}
