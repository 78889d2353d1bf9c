-- +goose Up
-- deals.v1 (projections.Deals): pipelines and their stages, one row per
-- deal, and every stage change of a deal (the board and win rates are
-- built from them).

-- One row per pipeline; doc is its pipeline.Snapshot.
CREATE TABLE deal_pipeline (
    tenant_id  text        NOT NULL,
    id         text        NOT NULL,
    name       text        NOT NULL,
    version    bigint      NOT NULL,
    doc        json        NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- One row per stage a pipeline has now, ord giving their order.
CREATE TABLE deal_stage (
    tenant_id   text    NOT NULL,
    pipeline_id text    NOT NULL,
    stage_id    text    NOT NULL,
    ord         integer NOT NULL,
    name        text    NOT NULL,
    probability numeric NOT NULL,
    kind        text    NOT NULL,  -- open | won | lost
    PRIMARY KEY (tenant_id, pipeline_id, stage_id)
);

CREATE TABLE deal_list (
    tenant_id     text        NOT NULL,
    id            text        NOT NULL,
    external_id   text        NOT NULL,
    name          text        NOT NULL,
    value         numeric,               -- exact, as the deal holds it; NULL when it has none
    currency      text        NOT NULL,
    pipeline_id   text        NOT NULL,
    stage_id      text        NOT NULL,
    stage_kind    text        NOT NULL,  -- the stage's kind in its pipeline now; '' if the pipeline no longer has it
    close_date    date,
    category      text        NOT NULL,
    package       text        NOT NULL,
    owner_agents  text[]      NOT NULL,
    owner_groups  text[]      NOT NULL,
    owners        text[]      NOT NULL,  -- owner_agents, owner_groups and owner: what the Owner filter matches
    customer_id   text        NOT NULL,
    contacts      text[]      NOT NULL,
    owner         text        NOT NULL,  -- the agent owning the deal for its permit
    permit_kind   text        NOT NULL,
    permit_group  text        NOT NULL,
    permit_agents text[]      NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint      NOT NULL,
    doc           json        NOT NULL,  -- deal.Snapshot
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX deal_list_created ON deal_list (tenant_id, created_at DESC, id DESC);
CREATE INDEX deal_list_stage ON deal_list (tenant_id, pipeline_id, stage_id);
CREATE INDEX deal_list_customer ON deal_list (tenant_id, customer_id) WHERE customer_id <> '';
CREATE INDEX deal_list_contacts ON deal_list USING gin (contacts);
CREATE INDEX deal_list_owners ON deal_list USING gin (owners);
CREATE INDEX deal_list_close ON deal_list (tenant_id, close_date) WHERE close_date IS NOT NULL;
CREATE INDEX deal_list_lower_name ON deal_list (tenant_id, lower(name));

-- One row per deal.stage_changed, keyed by its log position.
CREATE TABLE deal_stage_history (
    seq          bigint      PRIMARY KEY,
    tx_id        bigint      NOT NULL,
    tenant_id    text        NOT NULL,
    deal_id      text        NOT NULL,
    pipeline_id  text        NOT NULL,
    from_pipeline text       NOT NULL,
    from_stage   text        NOT NULL,
    to_stage     text        NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history (tenant_id, deal_id, tx_id, seq);

-- +goose Down
DROP TABLE deal_stage_history;
DROP TABLE deal_list;
DROP TABLE deal_stage;
DROP TABLE deal_pipeline;
