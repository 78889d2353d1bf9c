package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/deal"
)

// DealQueries answers queries on the deals.v1 read models.
type DealQueries struct {
	db *sql.DB
}

// NewDealQueries returns the query side of the deals projection.
func NewDealQueries(db *sql.DB) *DealQueries { return &DealQueries{db: db} }

// DealFilter selects deals of one tenant. Empty fields do not filter.
type DealFilter struct {
	TenantID string
	Pipeline string
	// Stage keeps deals in these stages (ids); StageKind deals whose stage
	// is of these kinds (open, won, lost) in its pipeline now.
	Stage     []string
	StageKind []string
	// Owner keeps deals an agent or group owns (among the deal's owners, or
	// as the owner of its permit).
	Owner string
	// Customer keeps deals with the customer, or that list it among their
	// related contacts.
	Customer string
	// CloseFrom and CloseTo bound the close date, both days included (only
	// their dates count); deals without one are left out when either is set.
	CloseFrom time.Time
	CloseTo   time.Time
	// Viewer is who reads: deals its permits do not show are left out.
	Viewer domain.Viewer
	// Limit caps the page (1..200, default 50); Cursor continues a list.
	Limit  int
	Cursor string
}

// DealPage is one page of deals, newest first. NextCursor is empty on the
// last page.
type DealPage struct {
	Deals      []deal.Snapshot
	NextCursor string
}

// List returns a page of the deals matching f, newest first. Pages are
// stable: a deal created while a client pages does not shift the pages
// after the cursor.
func (q *DealQueries) List(ctx context.Context, f DealFilter) (DealPage, error) {
	limit := pageLimit(f.Limit)
	args := []any{f.TenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"l.tenant_id = $1"}
	if f.Pipeline != "" {
		where = append(where, "l.pipeline_id = "+arg(f.Pipeline))
	}
	if len(f.Stage) > 0 {
		where = append(where, "l.stage_id = ANY("+arg(textArray(f.Stage))+"::text[])")
	}
	if len(f.StageKind) > 0 {
		where = append(where, "l.stage_kind = ANY("+arg(textArray(f.StageKind))+"::text[])")
	}
	if f.Owner != "" {
		where = append(where, "l.owners @> ARRAY["+arg(f.Owner)+"]::text[]")
	}
	if f.Customer != "" {
		p := arg(f.Customer)
		where = append(where, "(l.customer_id = "+p+" OR l.contacts @> ARRAY["+p+"]::text[])")
	}
	if !f.CloseFrom.IsZero() {
		where = append(where, "l.close_date >= "+arg(f.CloseFrom.Format(time.DateOnly))+"::date")
	}
	if !f.CloseTo.IsZero() {
		where = append(where, "l.close_date <= "+arg(f.CloseTo.Format(time.DateOnly))+"::date")
	}
	if !f.Viewer.Admin {
		where = append(where, permitSQL("l", len(args)+1, len(args)+2))
		args = append(args, f.Viewer.Agent, textArray(f.Viewer.Groups))
	}
	list, next, err := newestFirst(ctx, q.db, "deal_list", where, args, f.Cursor, limit,
		func(s deal.Snapshot) string { return s.ID })
	return DealPage{Deals: list, NextCursor: next}, err
}

// FindByName returns the ids of the deals of tenant called name (compared
// case-insensitively, surrounding spaces ignored), oldest first: seed
// 004's lookup of a deal by "name" after its dealId.
func (q *DealQueries) FindByName(ctx context.Context, tenant, name string) ([]string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, nil
	}
	rows, err := q.db.QueryContext(ctx, `SELECT id FROM deal_list WHERE tenant_id = $1 AND lower(name) = lower($2)
		ORDER BY created_at, id`, tenant, name)
	if err != nil {
		return nil, fmt.Errorf("find deals by name: %w", err)
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

// BoardStage is one column of a pipeline's board: a stage, how many deals
// are in it and the sum of their values per currency.
type BoardStage struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Probability string `json:"probability"`
	// Removed marks a stage the pipeline no longer has, which deals are
	// still in (they keep it until moved).
	Removed bool `json:"removed,omitempty"`
	Count   int  `json:"count"`
	// Values sums the values of the stage's deals per currency, exactly,
	// ordered by currency; deals without a value only count.
	Values []CurrencySum `json:"values"`
}

// CurrencySum is an exact sum of deal values in one currency ("" for
// values without a currency).
type CurrencySum struct {
	Currency string `json:"currency"`
	Sum      string `json:"sum"`
}

// Board returns the board of a pipeline of tenant as viewer sees it: its
// stages in order (then any removed stage deals are still in), each with
// the count and value sums of the deals viewer may see. A pipeline the
// projection does not know has no stages.
func (q *DealQueries) Board(ctx context.Context, tenant, pipelineID string, viewer domain.Viewer) ([]BoardStage, error) {
	args := []any{tenant, pipelineID}
	permit := "true"
	if !viewer.Admin {
		permit = permitSQL("l", 3, 4)
		args = append(args, viewer.Agent, textArray(viewer.Groups))
	}
	rows, err := q.db.QueryContext(ctx, `WITH sums AS (
			SELECT l.stage_id, l.currency, count(*) AS n, sum(l.value) AS total, count(l.value) AS valued
			FROM deal_list l WHERE l.tenant_id = $1 AND l.pipeline_id = $2 AND `+permit+`
			GROUP BY l.stage_id, l.currency),
		stages AS (
			SELECT s.stage_id, s.ord, s.name, s.kind, s.probability::text AS probability, false AS removed
			FROM deal_stage s WHERE s.tenant_id = $1 AND s.pipeline_id = $2
			UNION ALL
			SELECT DISTINCT x.stage_id, 2147483647, '', '', '', true FROM sums x
			WHERE NOT EXISTS (SELECT 1 FROM deal_stage s WHERE s.tenant_id = $1 AND s.pipeline_id = $2 AND s.stage_id = x.stage_id))
		SELECT st.stage_id, st.name, st.kind, st.probability, st.removed, coalesce(x.currency, ''), coalesce(x.n, 0),
			coalesce(x.valued, 0), coalesce(x.total::text, '0')
		FROM stages st LEFT JOIN sums x USING (stage_id)
		ORDER BY st.ord, st.stage_id, x.currency`, args...)
	if err != nil {
		return nil, fmt.Errorf("deal board: %w", err)
	}
	defer rows.Close()
	var out []BoardStage
	for rows.Next() {
		var s BoardStage
		var cur, sum string
		var n, valued int
		if err := rows.Scan(&s.ID, &s.Name, &s.Kind, &s.Probability, &s.Removed, &cur, &n, &valued, &sum); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != s.ID {
			s.Values = []CurrencySum{}
			out = append(out, s)
		}
		last := &out[len(out)-1]
		last.Count += n
		if valued > 0 {
			last.Values = append(last.Values, CurrencySum{Currency: cur, Sum: sum})
		}
	}
	return out, rows.Err()
}

// StageChange is one move of a deal between stages.
type StageChange struct {
	Pipeline     string    `json:"pipeline"`
	FromPipeline string    `json:"from_pipeline,omitempty"`
	FromStage    string    `json:"from_stage"`
	ToStage      string    `json:"to_stage"`
	At           time.Time `json:"at"`
}

// StageChanges returns a deal's stage changes, oldest first.
func (q *DealQueries) StageChanges(ctx context.Context, tenant, dealID string) ([]StageChange, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT pipeline_id, from_pipeline, from_stage, to_stage, at FROM deal_stage_history
		WHERE tenant_id = $1 AND deal_id = $2 ORDER BY tx_id, seq`, tenant, dealID)
	if err != nil {
		return nil, fmt.Errorf("deal stage changes: %w", err)
	}
	defer rows.Close()
	var out []StageChange
	for rows.Next() {
		var c StageChange
		if err := rows.Scan(&c.Pipeline, &c.FromPipeline, &c.FromStage, &c.ToStage, &c.At); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
