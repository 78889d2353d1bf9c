-- +goose Up
-- The outbox (app.Outbox): each tenant's SMS provider, the trial SMS it
-- sent while it had none, and the outbox.v1 read model of its messages.

-- A tenant's Twilio-compatible SMS provider (PUT /v1/config/sms). The auth
-- token must be presented to the provider, so it cannot be hashed; it is
-- kept here, out of the event log (which the event feed shows), and never
-- returned by the API.
CREATE TABLE sms_configs (
    tenant_id   text        PRIMARY KEY REFERENCES tenants (tenant_id),
    base_url    text        NOT NULL,
    account_sid text        NOT NULL,
    auth_token  text        NOT NULL,
    from_number text        NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- One row per SMS requested on trial (no provider): the count is the
-- trial's use. Keyed by message id so that a retried request counts once.
CREATE TABLE sms_trial (
    tenant_id  text        NOT NULL REFERENCES tenants (tenant_id),
    message_id text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);

-- outbox.v1: one row per message, its snapshot in doc.
CREATE TABLE outbox_messages (
    tenant_id       text        NOT NULL,
    id              text        NOT NULL,
    channel         text        NOT NULL,
    status          text        NOT NULL,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    version         bigint      NOT NULL,
    doc             jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_messages_list ON outbox_messages (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX outbox_messages_all ON outbox_messages (tenant_id, created_at DESC, id DESC);
-- The scheduler's scan of due retries, across tenants.
CREATE INDEX outbox_messages_due ON outbox_messages (next_attempt_at) WHERE status = 'failed';

-- +goose Down
DROP TABLE outbox_messages;
DROP TABLE sms_trial;
DROP TABLE sms_configs;
