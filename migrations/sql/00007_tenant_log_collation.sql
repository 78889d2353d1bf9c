-- +goose Up
-- The tenant feed's index, (tenant_id, tx_id, position), also matched a
-- lookup of one stream (tenant_id = .. AND stream_type = .. AND
-- stream_id = ..) on its first column. Prepared statements keep a generic
-- plan, priced once on a young table without statistics (autovacuum may
-- be off, or not have run yet), and on such a table the narrower tenant
-- index could win over the stream's own: every append then scanned the
-- tenant's whole log, 85-380 ms each once it had grown.
--
-- Keyed on tenant_id COLLATE "C", the index serves only the queries that
-- ask for that collation: the tenant feed does (eventstore/postgres
-- filter), a stream lookup cannot. Equality is the same under both
-- collations (both are deterministic), so the feed returns the same rows.
DROP INDEX events_tenant_log_idx;
CREATE INDEX events_tenant_log_idx ON events ((tenant_id COLLATE "C"), tx_id, position);

-- +goose Down
DROP INDEX events_tenant_log_idx;
CREATE INDEX events_tenant_log_idx ON events (tenant_id, tx_id, position);
