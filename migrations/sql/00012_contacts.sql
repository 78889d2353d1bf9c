-- +goose Up
-- contacts.v1 (projections.Contacts): one row per customer, and each
-- customer's timeline. Search over names uses trigrams; identities are
-- matched exactly through GIN indexes on their normalised arrays.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE customer_list (
    tenant_id     text        NOT NULL,
    id            text        NOT NULL,
    kind          text        NOT NULL,
    code          text        NOT NULL,
    codes         text[]      NOT NULL,
    full_name     text        NOT NULL,  -- name and last name, for search and FindByName
    emails        text[]      NOT NULL,
    phones        text[]      NOT NULL,  -- normalised
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
    doc           jsonb       NOT NULL,  -- customer.Snapshot
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customer_list_created ON customer_list (tenant_id, created_at DESC, id DESC);
CREATE INDEX customer_list_name ON customer_list USING gin (full_name gin_trgm_ops);
CREATE INDEX customer_list_lower_name ON customer_list (tenant_id, lower(full_name));
CREATE INDEX customer_list_emails ON customer_list USING gin (emails);
CREATE INDEX customer_list_phones ON customer_list USING gin (phones);
CREATE INDEX customer_list_codes ON customer_list USING gin (codes);
CREATE INDEX customer_list_tags ON customer_list USING gin (tags);
CREATE INDEX customer_list_passport ON customer_list (tenant_id, passport) WHERE passport <> '';
CREATE INDEX customer_list_contact_id ON customer_list (tenant_id, contact_id) WHERE contact_id <> '';
CREATE INDEX customer_list_merged ON customer_list (tenant_id, merged_into) WHERE merged_into <> '';

-- One row per timeline event of a customer stream. customer_id is whose
-- timeline the row is on: the stream's customer, until an un-merge moves
-- the row to the restored customer. A merged customer's rows show on its
-- survivor's timeline at query time (through customer_list.merged_into).
CREATE TABLE customer_timeline (
    tenant_id     text        NOT NULL,
    stream_id     text        NOT NULL,
    version       bigint      NOT NULL,
    customer_id   text        NOT NULL,
    kind          text        NOT NULL,  -- note | ticket | deal | duplicate | merge | ...
    item_id       text        NOT NULL,
    tx_id         bigint      NOT NULL,
    seq           bigint      NOT NULL,
    permit_kind   text        NOT NULL,
    permit_group  text        NOT NULL,
    permit_agents text[]      NOT NULL,
    owner         text        NOT NULL,
    entry         jsonb       NOT NULL,  -- the event as the API shows it
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, stream_id, version)
);
CREATE INDEX customer_timeline_customer ON customer_timeline (tenant_id, customer_id, tx_id DESC, seq DESC);

-- +goose Down
DROP TABLE customer_timeline;
DROP TABLE customer_list;
