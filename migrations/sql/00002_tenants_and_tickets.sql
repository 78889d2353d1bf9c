-- +goose Up
-- Tenants and their credentials. Credentials are secrets, so they are kept
-- out of the immutable event log (which analysts read and which cannot
-- forget): the log records that a tenant was created, this table holds the
-- hashes of its keys. Keys are random 256-bit strings, stored as SHA-256.
CREATE TABLE tenants (
    tenant_id  text        PRIMARY KEY,
    name       text        NOT NULL,
    company_id bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_credentials (
    tenant_id   text        NOT NULL REFERENCES tenants (tenant_id),
    kind        text        NOT NULL, -- api_key | fynd | leadsquared | video_secret
    key_id      text        NOT NULL, -- the public half (application id, access key); '' for api keys
    secret_hash bytea,                -- sha256 of the secret half
    secret      bytea,                -- only for signing keys the server must read (video tokens)
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind, key_id)
);
CREATE UNIQUE INDEX tenant_credentials_lookup ON tenant_credentials (kind, key_id, secret_hash);

-- Idempotency-Key records of the native API: same key and body replay the
-- stored response; same key, other body is refused.
CREATE TABLE idempotency_keys (
    tenant_id    text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       integer,             -- NULL while the first request runs
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

-- Read models of the tickets.v1 projection. Rows are derived from the log
-- only (rebuild replays them into shadow copies made with LIKE ... INCLUDING
-- ALL, so keep everything a table needs inside its definition: no foreign
-- keys, no triggers).
CREATE TABLE ticket_list (
    tenant_id    text        NOT NULL,
    ticket_id    text        NOT NULL,
    number       bigint      NOT NULL,
    title        text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    status       text        NOT NULL,
    status_kind  text        NOT NULL,
    priority     text        NOT NULL,
    category     text        NOT NULL DEFAULT '',
    sub_category text        NOT NULL DEFAULT '',
    source       text        NOT NULL,
    channel      text        NOT NULL DEFAULT '',
    assignee     text        NOT NULL DEFAULT '', -- assignee id, else e-mail
    tags         text[]      NOT NULL DEFAULT '{}',
    comments     text        NOT NULL DEFAULT '', -- public comments, for search
    search       tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', description), 'B') ||
        setweight(to_tsvector('english', comments), 'C')) STORED,
    doc          jsonb       NOT NULL,            -- the ticket's snapshot
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint      NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id)
);
CREATE UNIQUE INDEX ticket_list_number ON ticket_list (tenant_id, number);
CREATE INDEX ticket_list_status ON ticket_list (tenant_id, status, number);
CREATE INDEX ticket_list_assignee ON ticket_list (tenant_id, assignee, number);
CREATE INDEX ticket_list_updated ON ticket_list (tenant_id, updated_at);
CREATE INDEX ticket_list_tags ON ticket_list USING gin (tags);
CREATE INDEX ticket_list_search ON ticket_list USING gin (search);

-- The timeline of a ticket: history entries (comment, log, rating,
-- thread), portal activities, and the ticket's other changes.
CREATE TABLE ticket_timeline (
    tenant_id  text        NOT NULL,
    ticket_id  text        NOT NULL,
    version    bigint      NOT NULL,  -- the event's version in the ticket stream
    entry_id   text        NOT NULL,  -- history / activity id, else the event id
    kind       text        NOT NULL,  -- history | activity | change
    type       text        NOT NULL,  -- comment|log|rating|thread, INBOUND|OUTBOUND, or the event type
    visibility text        NOT NULL DEFAULT 'public',
    value      jsonb       NOT NULL,
    created_by jsonb       NOT NULL,
    source     text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id, version)
);
CREATE INDEX ticket_timeline_entry ON ticket_timeline (tenant_id, ticket_id, entry_id);

-- +goose Down
DROP TABLE ticket_timeline;
DROP TABLE ticket_list;
DROP TABLE idempotency_keys;
DROP TABLE tenant_credentials;
DROP TABLE tenants;
