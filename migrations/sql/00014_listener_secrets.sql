-- +goose Up
-- Webhook listeners' URL secrets (app.Listeners): only the sha256 of the
-- secret is kept, as for tenant_credentials and agent_tokens, so a
-- listener's URL is shown once (at creation and at each rotation). One row
-- per listener: a rotation replaces it in one statement, so the old URL
-- stops working at once; a deleted listener has no row. A delivery
-- resolves its URL to tenant and listener with one lookup of the primary
-- key.
CREATE TABLE listener_secrets (
    secret_hash bytea       PRIMARY KEY,
    tenant_id   text        NOT NULL REFERENCES tenants (tenant_id),
    listener_id text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE listener_secrets;
