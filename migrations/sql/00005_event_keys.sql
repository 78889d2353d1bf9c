-- +goose Up
-- Keys: an event may claim a name for its stream, unique per tenant and
-- stream type for ever (EventData.Key). The partial unique index is both
-- the guarantee and the lookup; events without a key cost it nothing.
ALTER TABLE events ADD COLUMN unique_key text;

-- Tickets created before keys existed recorded their number in a stream
-- of its own (ticket_number/<n>); their creation event now claims it.
UPDATE events SET unique_key = data->>'number'
WHERE stream_type = 'ticket' AND event_type = 'ticket.created' AND data ? 'number';

CREATE UNIQUE INDEX events_unique_key ON events (tenant_id, stream_type, unique_key)
    WHERE unique_key IS NOT NULL;

-- +goose Down
DROP INDEX events_unique_key;
ALTER TABLE events DROP COLUMN unique_key;
