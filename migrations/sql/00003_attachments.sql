-- +goose Up
-- The index of uploaded files. File contents live under EVENTDESK_DATA_DIR,
-- content-addressed by SHA-256; the ticket's event (ticket.attachment_added)
-- carries the same metadata. This table answers "which file is attachment
-- X of tenant T" without a projection, so a download right after an upload
-- always works.
CREATE TABLE attachments (
    tenant_id     text        NOT NULL,
    attachment_id text        NOT NULL,
    ticket_id     text        NOT NULL,
    kind          text        NOT NULL DEFAULT 'file', -- file | LOG | FEEDBACK_PHOTO (support surface)
    filename      text        NOT NULL,
    content_type  text        NOT NULL,
    size          bigint      NOT NULL,
    sha256        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, attachment_id)
);
CREATE INDEX attachments_ticket ON attachments (tenant_id, ticket_id, kind, created_at);

-- +goose Down
DROP TABLE attachments;
