-- +goose Up
-- Idempotency keys expire (EVENTDESK_IDEMPOTENCY_TTL, 24 h by default): a
-- background job deletes the expired ones in created_at order.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
COMMENT ON COLUMN idempotency_keys.status IS 'NULL until a response is stored; a key without one is re-run on retry, and the event store recognises what the first run stored';

-- +goose Down
DROP INDEX idempotency_keys_created;
