-- +goose Up
-- contacts.v1 (projections.Contacts): one row per customer, and each
-- customer's timeline. Search over names uses trigrams; identities are
-- matched exactly through one GIN index over every identity of the
-- customer, each written kind:value ("email:ana@example.com",
-- "phone:+84905000001", "passport:B123", "contact_id:77", "code:PID-12"):
-- one index instead of one per kind keeps catching up fast, and a search
-- probes every kind at once (identities && ARRAY[...]).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE customer_list (
    tenant_id     text        NOT NULL,
    id            text        NOT NULL,
    kind          text        NOT NULL,
    code          text        NOT NULL,
    codes         text[]      NOT NULL,
    full_name     text        NOT NULL,  -- name and last name, for search and FindByName (both through the trigram index)
    emails        text[]      NOT NULL,
    phones        text[]      NOT NULL,  -- normalised
    identities    text[]      NOT NULL,  -- kind:value, searched
    passport      text        NOT NULL,
    contact_id    text        NOT NULL,
    account_id    text        NOT NULL,
    owner         text        NOT NULL,
    permit_kind   text        NOT NULL,
    permit_group  text        NOT NULL,
    permit_agents text[]      NOT NULL,
    channel       text        NOT NULL,
    tags          text[]      NOT NULL,
    merged_into   text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint      NOT NULL,
    doc           json        NOT NULL,  -- customer.Snapshot, read whole (json: cheaper in and out than jsonb)
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customer_list_created ON customer_list (tenant_id, created_at DESC, id DESC);
CREATE INDEX customer_list_name ON customer_list USING gin (full_name gin_trgm_ops);
CREATE INDEX customer_list_identities ON customer_list USING gin (identities);
CREATE INDEX customer_list_tags ON customer_list USING gin (tags);
CREATE INDEX customer_list_merged ON customer_list (tenant_id, merged_into) WHERE merged_into <> '';

-- One row per timeline event of a customer stream (notes, linked tickets
-- and deals, duplicate submissions, conversions, merges), keyed by its log
-- position: keys that only grow keep the primary key's inserts at its
-- right edge while the projection catches up. customer_id is whose
-- timeline the row is on: the stream's customer, until an un-merge moves
-- the row to the restored customer. A merged customer's rows show on its
-- survivor's timeline at query time (through customer_list.merged_into).
CREATE TABLE customer_timeline (
    seq           bigint      PRIMARY KEY,  -- the event's log position
    tx_id         bigint      NOT NULL,
    tenant_id     text        NOT NULL,
    stream_id     text        NOT NULL,
    version       bigint      NOT NULL,
    customer_id   text        NOT NULL,
    kind          text        NOT NULL,  -- note | ticket | deal | duplicate | converted | merged | absorbed | unmerged | restored
    item_id       text        NOT NULL,
    permit_kind   text        NOT NULL,
    permit_group  text        NOT NULL,
    permit_agents text[]      NOT NULL,
    owner         text        NOT NULL,
    type          text        NOT NULL,  -- the event's type
    -- The event's data as stored, passed through as JSON and never queried
    -- here: text, since checking it as json again cost a fifth of the insert.
    data          text        NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX customer_timeline_customer ON customer_timeline (tenant_id, customer_id, tx_id DESC, seq DESC);

-- +goose Down
DROP TABLE customer_timeline;
DROP TABLE customer_list;
