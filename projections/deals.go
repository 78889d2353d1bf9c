package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lib/pq"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/domain/pipeline"
	"github.com/eventdesk/eventdesk/eventstore"
)

// DealsName is the deals projection's persisted name.
const DealsName = "deals.v1"

// Deals projects deal and pipeline streams into deal_pipeline and
// deal_stage (each pipeline and its stages as they are now), deal_list (one
// row per deal: its snapshot, filter columns, its value as an exact
// numeric, and the kind its stage has in its pipeline now) and
// deal_stage_history (every stage change).
type Deals struct{}

var _ Projection = Deals{}

// Name implements Projection.
func (Deals) Name() string { return DealsName }

// Tables implements Projection.
func (Deals) Tables() []string {
	return []string{"deal_pipeline", "deal_stage", "deal_list", "deal_stage_history"}
}

// Query implements Projection: the deal and pipeline events, by type (the
// log is filtered by one stream type at most).
func (Deals) Query() eventstore.Query {
	return eventstore.Query{Types: slices.Concat(deal.Codec().Types(), pipeline.Codec().Types()), Limit: 1000}
}

type pipelineState struct {
	tenant string
	snap   pipeline.Snapshot
	fresh  int // events of this batch applied
}

type dealState struct {
	tenant string
	snap   deal.Snapshot
	fresh  int
}

// stageChange is one deal_stage_history row.
type stageChange struct {
	tenant, deal string
	pos          eventstore.Position
	ev           deal.StageChanged
}

// Apply implements Projection: one read of the pipelines and deals a batch
// touches, then one write per table. Pipelines are written first, so that
// the deals of the batch find their stages' kinds.
func (Deals) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) error {
	pipes, deals, err := loadDeals(ctx, tx, t, evs)
	if err != nil {
		return err
	}
	var pipeOrder []*pipelineState
	var dealOrder []*dealState
	var history []stageChange
	for _, e := range evs {
		key := e.TenantID + "/" + e.StreamID
		switch e.StreamType {
		case pipeline.StreamType:
			de, err := pipeline.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
			st := pipes[key]
			if st == nil {
				st = &pipelineState{tenant: e.TenantID}
				pipes[key] = st
			}
			if e.Version <= st.snap.Version {
				continue // already applied (a replayed batch)
			}
			if st.fresh == 0 {
				pipeOrder = append(pipeOrder, st)
			}
			st.snap, st.fresh = pipeline.Evolve(st.snap, de), st.fresh+1
		case deal.StreamType:
			de, err := deal.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
			st := deals[key]
			if st == nil {
				st = &dealState{tenant: e.TenantID}
				deals[key] = st
			}
			if e.Version <= st.snap.Version {
				continue
			}
			if st.fresh == 0 {
				dealOrder = append(dealOrder, st)
			}
			st.snap, st.fresh = deal.Evolve(st.snap, de), st.fresh+1
			if sc, ok := de.(deal.StageChanged); ok {
				history = append(history, stageChange{tenant: e.TenantID, deal: e.StreamID, pos: e.Position, ev: sc})
			}
		}
	}
	if err := writePipelines(ctx, tx, t, pipeOrder); err != nil {
		return err
	}
	if err := upsertDeals(ctx, tx, t, dealOrder); err != nil {
		return err
	}
	return insertStageHistory(ctx, tx, t, history)
}

func loadDeals(ctx context.Context, tx *sql.Tx, t Tables, evs []eventstore.Event) (map[string]*pipelineState, map[string]*dealState, error) {
	var ptenants, pids, dtenants, dids []string
	seen := map[string]bool{}
	for _, e := range evs {
		k := e.TenantID + "/" + e.StreamType + "/" + e.StreamID
		if seen[k] {
			continue
		}
		seen[k] = true
		if e.Version == 1 {
			continue // created in this batch: nothing to load
		}
		switch e.StreamType {
		case pipeline.StreamType:
			ptenants, pids = append(ptenants, e.TenantID), append(pids, e.StreamID)
		case deal.StreamType:
			dtenants, dids = append(dtenants, e.TenantID), append(dids, e.StreamID)
		}
	}
	pipes, deals := map[string]*pipelineState{}, map[string]*dealState{}
	load := func(table string, tenants, ids []string, add func(tenant string, doc []byte) error) error {
		if len(ids) == 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT l.tenant_id, l.doc FROM %s l
			JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, id) USING (tenant_id, id)`,
			pq.QuoteIdentifier(t.Of(table))), textArray(tenants), textArray(ids))
		if err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var tenant string
			var doc []byte
			if err := rows.Scan(&tenant, &doc); err != nil {
				return err
			}
			if err := add(tenant, doc); err != nil {
				return fmt.Errorf("%s snapshot: %w", table, err)
			}
		}
		return rows.Err()
	}
	err := load("deal_pipeline", ptenants, pids, func(tenant string, doc []byte) error {
		st := &pipelineState{tenant: tenant}
		err := json.Unmarshal(doc, &st.snap)
		pipes[tenant+"/"+st.snap.ID] = st
		return err
	})
	if err == nil {
		err = load("deal_list", dtenants, dids, func(tenant string, doc []byte) error {
			st := &dealState{tenant: tenant}
			err := json.Unmarshal(doc, &st.snap)
			deals[tenant+"/"+st.snap.ID] = st
			return err
		})
	}
	return pipes, deals, err
}

// writePipelines upserts the pipelines, replaces their stages and gives
// their deals their stages' kinds now.
func writePipelines(ctx context.Context, tx *sql.Tx, t Tables, pipes []*pipelineState) error {
	if len(pipes) == 0 {
		return nil
	}
	var tenant, id, name, doc textArray
	var version []int64
	var stTenant, stPipe, stID, stName, stProb, stKind textArray
	var stOrd []int64
	for _, p := range pipes {
		b, err := json.Marshal(p.snap)
		if err != nil {
			return err
		}
		tenant, id, name, doc = append(tenant, p.tenant), append(id, p.snap.ID), append(name, p.snap.Name), append(doc, string(b))
		version = append(version, p.snap.Version)
		for i, s := range p.snap.Stages {
			stTenant, stPipe, stID = append(stTenant, p.tenant), append(stPipe, p.snap.ID), append(stID, s.ID)
			stName, stProb, stKind = append(stName, s.Name), append(stProb, s.Probability), append(stKind, string(s.Kind))
			stOrd = append(stOrd, int64(i))
		}
	}
	pt, st, lt := pq.QuoteIdentifier(t.Of("deal_pipeline")), pq.QuoteIdentifier(t.Of("deal_stage")), pq.QuoteIdentifier(t.Of("deal_list"))
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s AS p (tenant_id, id, name, version, doc)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::json[])
		ON CONFLICT (tenant_id, id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version, doc = EXCLUDED.doc
		WHERE p.version < EXCLUDED.version`, pt), tenant, id, name, pq.Array(version), doc); err != nil {
		return fmt.Errorf("upsert pipelines: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s s USING unnest($1::text[], $2::text[]) AS k(tenant_id, id)
		WHERE s.tenant_id = k.tenant_id AND s.pipeline_id = k.id`, st), tenant, id); err != nil {
		return fmt.Errorf("clear stages: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (tenant_id, pipeline_id, stage_id, ord, name, probability, kind)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::numeric[], $7::text[])`, st),
		stTenant, stPipe, stID, pq.Array(stOrd), stName, stProb, stKind); err != nil {
		return fmt.Errorf("insert stages: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s d SET stage_kind = coalesce(
			(SELECT s.kind FROM %[2]s s WHERE s.tenant_id = d.tenant_id AND s.pipeline_id = d.pipeline_id AND s.stage_id = d.stage_id), '')
		FROM unnest($1::text[], $2::text[]) AS k(tenant_id, id)
		WHERE d.tenant_id = k.tenant_id AND d.pipeline_id = k.id`, lt, st), tenant, id); err != nil {
		return fmt.Errorf("stage kinds: %w", err)
	}
	return nil
}

// dealColumns is a batch of deal_list rows, column by column.
type dealColumns struct {
	tenant, id, ext, name, value, currency, pipe, stage, closeDate, category, pkg textArray
	agents, groups, owners, customer, contacts, owner, pkind, pgroup, pagents     textArray
	created, updated, doc                                                         textArray
	version                                                                       []int64
}

func (c *dealColumns) add(tenant string, s deal.Snapshot) error {
	doc, err := json.Marshal(s)
	if err != nil {
		return err
	}
	owners := slices.Concat(s.Owners.Agents, s.Owners.Groups)
	if s.Owner != "" {
		owners = append(owners, s.Owner)
	}
	closeDate := s.CloseDate
	if len(closeDate) > 10 {
		closeDate = closeDate[:10] // RFC 3339: the date as written
	}
	kind := s.Permit.Kind
	if kind == "" {
		kind = domain.PermitEverybody
	}
	c.tenant, c.id, c.ext, c.name = append(c.tenant, tenant), append(c.id, s.ID), append(c.ext, s.ExternalID), append(c.name, s.Name)
	c.value, c.currency = append(c.value, s.Value), append(c.currency, s.Currency)
	c.pipe, c.stage, c.closeDate = append(c.pipe, s.Pipeline), append(c.stage, s.Stage), append(c.closeDate, closeDate)
	c.category, c.pkg = append(c.category, s.Category), append(c.pkg, s.Package)
	c.agents, c.groups = append(c.agents, textArray(s.Owners.Agents).literal()), append(c.groups, textArray(s.Owners.Groups).literal())
	c.owners, c.customer = append(c.owners, textArray(owners).literal()), append(c.customer, s.Customer)
	c.contacts, c.owner = append(c.contacts, textArray(s.Contacts).literal()), append(c.owner, s.Owner)
	c.pkind, c.pgroup = append(c.pkind, string(kind)), append(c.pgroup, s.Permit.Group)
	c.pagents = append(c.pagents, textArray(s.Permit.Agents).literal())
	c.created, c.updated, c.doc = append(c.created, timestamp(s.CreatedAt)), append(c.updated, timestamp(s.UpdatedAt)), append(c.doc, string(doc))
	c.version = append(c.version, s.Version)
	return nil
}

func upsertDeals(ctx context.Context, tx *sql.Tx, t Tables, deals []*dealState) error {
	if len(deals) == 0 {
		return nil
	}
	var c dealColumns
	for _, d := range deals {
		if err := c.add(d.tenant, d.snap); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s AS l (tenant_id, id, external_id, name, value, currency,
		pipeline_id, stage_id, stage_kind, close_date, category, package, owner_agents, owner_groups, owners, customer_id,
		contacts, owner, permit_kind, permit_group, permit_agents, created_at, updated_at, version, doc)
	SELECT r.tenant_id, r.id, r.external_id, r.name, NULLIF(r.value, '')::numeric, r.currency, r.pipeline_id, r.stage_id,
		coalesce((SELECT s.kind FROM %[2]s s WHERE s.tenant_id = r.tenant_id AND s.pipeline_id = r.pipeline_id
			AND s.stage_id = r.stage_id), ''),
		NULLIF(r.close_date, '')::date, r.category, r.package, r.owner_agents::text[], r.owner_groups::text[], r.owners::text[],
		r.customer_id, r.contacts::text[], r.owner, r.permit_kind, r.permit_group, r.permit_agents::text[], r.created_at,
		r.updated_at, r.version, r.doc
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
		$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
		$19::text[], $20::text[], $21::timestamptz[], $22::timestamptz[], $23::bigint[], $24::json[])
		AS r(tenant_id, id, external_id, name, value, currency, pipeline_id, stage_id, close_date, category, package,
		owner_agents, owner_groups, owners, customer_id, contacts, owner, permit_kind, permit_group, permit_agents,
		created_at, updated_at, version, doc)
	ON CONFLICT (tenant_id, id) DO UPDATE SET external_id = EXCLUDED.external_id, name = EXCLUDED.name,
		value = EXCLUDED.value, currency = EXCLUDED.currency, pipeline_id = EXCLUDED.pipeline_id,
		stage_id = EXCLUDED.stage_id, stage_kind = EXCLUDED.stage_kind, close_date = EXCLUDED.close_date,
		category = EXCLUDED.category, package = EXCLUDED.package, owner_agents = EXCLUDED.owner_agents,
		owner_groups = EXCLUDED.owner_groups, owners = EXCLUDED.owners, customer_id = EXCLUDED.customer_id,
		contacts = EXCLUDED.contacts, owner = EXCLUDED.owner, permit_kind = EXCLUDED.permit_kind,
		permit_group = EXCLUDED.permit_group, permit_agents = EXCLUDED.permit_agents, updated_at = EXCLUDED.updated_at,
		version = EXCLUDED.version, doc = EXCLUDED.doc
	WHERE l.version < EXCLUDED.version`, pq.QuoteIdentifier(t.Of("deal_list")), pq.QuoteIdentifier(t.Of("deal_stage"))),
		c.tenant, c.id, c.ext, c.name, c.value, c.currency, c.pipe, c.stage, c.closeDate, c.category, c.pkg, c.agents,
		c.groups, c.owners, c.customer, c.contacts, c.owner, c.pkind, c.pgroup, c.pagents, c.created, c.updated,
		pq.Array(c.version), c.doc)
	if err != nil {
		return fmt.Errorf("upsert deals: %w", err)
	}
	return nil
}

func insertStageHistory(ctx context.Context, tx *sql.Tx, t Tables, rows []stageChange) error {
	if len(rows) == 0 {
		return nil
	}
	var tenant, id, pipe, fromPipe, from, to, at textArray
	var seq, txid []int64
	for _, r := range rows {
		tenant, id, pipe = append(tenant, r.tenant), append(id, r.deal), append(pipe, r.ev.Pipeline)
		fromPipe, from, to = append(fromPipe, r.ev.FromPipeline), append(from, r.ev.FromStage), append(to, r.ev.ToStage)
		at = append(at, timestamp(r.ev.At))
		seq, txid = append(seq, r.pos.Seq), append(txid, int64(r.pos.TxID))
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (seq, tx_id, tenant_id, deal_id, pipeline_id, from_pipeline,
		from_stage, to_stage, at)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::timestamptz[])
	ON CONFLICT DO NOTHING`, pq.QuoteIdentifier(t.Of("deal_stage_history"))),
		pq.Array(seq), pq.Array(txid), tenant, id, pipe, fromPipe, from, to, at)
	if err != nil {
		return fmt.Errorf("insert stage history: %w", err)
	}
	return nil
}
