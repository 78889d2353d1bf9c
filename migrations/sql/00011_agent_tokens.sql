-- +goose Up
-- Agents' personal API tokens (app.Agents.CreateToken): only the sha256 of
-- the secret is kept, as for tenant_credentials, so a token is shown once.
-- A revoked token keeps its row (revoked_at) for the audit trail.
CREATE TABLE agent_tokens (
    token_id     text        PRIMARY KEY,
    tenant_id    text        NOT NULL REFERENCES tenants (tenant_id),
    agent_id     text        NOT NULL,
    secret_hash  bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,  -- written at most once a minute
    revoked_at   timestamptz
);
CREATE INDEX agent_tokens_agent ON agent_tokens (tenant_id, agent_id, created_at);

-- +goose Down
DROP TABLE agent_tokens;
