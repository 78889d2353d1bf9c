-- +goose Up
-- Reads of the global log (a follower's batch: Store.ReadAll without a
-- stream; Store.Head) as functions that carry their planner settings.
-- A log read must be an ordered index scan whatever the statistics say
-- (with lagging statistics the planner picks a bitmap scan plus a sort of
-- the whole rest of the log: every batch of a catch-up then costs the
-- remaining log). Set per transaction, those settings made every read five
-- round trips (BEGIN, SET LOCAL, parse and bind, execute, ROLLBACK), a
-- quarter of PostgreSQL's time under a write load whose followers wake on
-- every commit. A function's SET clause applies them to its own queries,
-- which PL/pgSQL plans once per session: a prepared call is one round trip.
-- The filters on stream type and event types are conditions on the
-- ordered scan, as before; the tenant's reads go through its feed index
-- (tenant_id COLLATE "C", migration 00007).
-- +goose StatementBegin
CREATE FUNCTION eventdesk_read_log(after_tx xid8, after_seq bigint, tenant text, stype text, types text[], lim int)
RETURNS SETOF events
LANGUAGE plpgsql
SET enable_bitmapscan = off SET enable_sort = off
AS $$
BEGIN
	IF tenant IS NULL THEN
		RETURN QUERY SELECT * FROM events e
			WHERE (e.tx_id, e.position) > (after_tx, after_seq) AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
				AND (stype IS NULL OR e.stream_type = stype) AND (types IS NULL OR e.event_type = ANY (types))
			ORDER BY e.tx_id, e.position LIMIT lim;
	ELSE
		RETURN QUERY SELECT * FROM events e
			WHERE (e.tenant_id COLLATE "C") = tenant
				AND (e.tx_id, e.position) > (after_tx, after_seq) AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
				AND (stype IS NULL OR e.stream_type = stype) AND (types IS NULL OR e.event_type = ANY (types))
			ORDER BY e.tx_id, e.position LIMIT lim;
	END IF;
END
$$;
-- +goose StatementEnd

-- The last event no transaction in flight can precede, of one tenant or
-- of all (tenant NULL); no row if there is none.
-- +goose StatementBegin
CREATE FUNCTION eventdesk_log_head(tenant text)
RETURNS TABLE (head_tx xid8, head_position bigint)
LANGUAGE plpgsql
SET enable_bitmapscan = off SET enable_sort = off
AS $$
BEGIN
	IF tenant IS NULL THEN
		RETURN QUERY SELECT e.tx_id, e.position FROM events e
			WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
			ORDER BY e.tx_id DESC, e.position DESC LIMIT 1;
	ELSE
		RETURN QUERY SELECT e.tx_id, e.position FROM events e
			WHERE (e.tenant_id COLLATE "C") = tenant AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
			ORDER BY e.tx_id DESC, e.position DESC LIMIT 1;
	END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION eventdesk_log_head(text);
DROP FUNCTION eventdesk_read_log(xid8, bigint, text, text, text[], int);
