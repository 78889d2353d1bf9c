-- +goose Up
-- The event log: the only source of truth. Rows are only ever inserted.
--
-- Delivery order is (tx_id, position), not position alone: positions are
-- handed out at insert time, but transactions commit in another order. A
-- reader only looks at rows whose tx_id is below the xmin of its own
-- snapshot, i.e. rows of transactions that can no longer commit "behind" it.
CREATE TABLE events (
    position       bigint GENERATED ALWAYS AS IDENTITY,
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid        NOT NULL,
    tenant_id      text        NOT NULL,
    stream_type    text        NOT NULL,
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL CHECK (version >= 1),
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL DEFAULT 1 CHECK (schema_version >= 1),
    data           jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    metadata       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_pkey PRIMARY KEY (position),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (tenant_id, stream_type, stream_id, version)
);

CREATE INDEX events_log_idx ON events (tx_id, position);
CREATE INDEX events_tenant_log_idx ON events (tenant_id, tx_id, position);

-- Checkpoints of durable consumers (projections, forwarders). A consumer
-- writes its checkpoint in the same transaction as its own writes.
CREATE TABLE checkpoints (
    name       text        PRIMARY KEY,
    tx_id      xid8        NOT NULL DEFAULT '0',
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE events;
