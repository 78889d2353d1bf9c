-- +goose Up
-- One-time connect tickets of the realtime gateway (POST /v1/stream/tickets,
-- then GET /v1/stream?ticket=…): browsers cannot set an Authorization header
-- on a websocket, and long-lived secrets never go in URLs. Only the sha256 of
-- a ticket is kept; redeeming it deletes the row, so a ticket works once, on
-- whichever node the browser reaches (PostgreSQL, which every node shares,
-- rather than Redis, which a single node does without). token_id is the
-- agent token the ticket was issued through (NULL: the tenant's API key);
-- redeeming re-checks it, so a revoked token's tickets die with it.
CREATE TABLE stream_tickets (
    ticket_hash bytea       PRIMARY KEY,
    tenant_id   text        NOT NULL REFERENCES tenants (tenant_id),
    token_id    text,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX stream_tickets_expiry ON stream_tickets (expires_at);

-- +goose Down
DROP TABLE stream_tickets;
