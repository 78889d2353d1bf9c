-- +goose Up
-- tickets.v1's timeline now holds a ticket's conversation only: history
-- entries and activities. Its other changes (created, assigned, status, …)
-- were copied there too, though nothing read them: the ticket's own stream
-- is their audit trail (GET /v1/tickets/{id}/events). Removing the copies
-- leaves the table exactly as a rebuild of tickets.v1 now writes it.
DELETE FROM ticket_timeline WHERE kind NOT IN ('history', 'activity');

-- +goose Down
-- Nothing to undo in the schema; `eventdesk projections rebuild tickets.v1`
-- with the previous release writes the change rows again.
SELECT 1;
