-- +goose Up
-- Expression indexes for the support-message API (api/support): its search
-- filters tickets on their references (AND of the given ones) and resolves
-- the client's ticketId to a ticket. They live on ticket_list itself, so a
-- projection rebuild keeps them: shadow tables are created with LIKE ...
-- INCLUDING ALL, which copies indexes (under generated names). The
-- expressions must stay exactly those of projections/support_query.go, or
-- the planner will not use them.
CREATE INDEX ticket_list_support_user ON ticket_list (tenant_id, lower(doc->'references'->>'user_id'));
CREATE INDEX ticket_list_support_device ON ticket_list (tenant_id, lower(doc->'references'->>'device_id'));
CREATE INDEX ticket_list_support_email ON ticket_list (tenant_id, lower(doc->'references'->>'contact_email'));
CREATE INDEX ticket_list_support_phone ON ticket_list (tenant_id, (doc->'references'->>'contact_phone'));
CREATE INDEX ticket_list_support_client_ticket ON ticket_list (tenant_id, lower(doc->'references'->>'client_ticket_id'));
CREATE INDEX ticket_list_support_ticket ON ticket_list
    (tenant_id, coalesce(nullif(doc->'references'->>'support_ticket_id', ''), number::text));

-- +goose Down
-- After a rebuild the indexes carry generated names; IF EXISTS keeps the
-- down migration from failing then (the rebuilt ones go with the table).
DROP INDEX IF EXISTS ticket_list_support_ticket;
DROP INDEX IF EXISTS ticket_list_support_client_ticket;
DROP INDEX IF EXISTS ticket_list_support_phone;
DROP INDEX IF EXISTS ticket_list_support_email;
DROP INDEX IF EXISTS ticket_list_support_device;
DROP INDEX IF EXISTS ticket_list_support_user;
