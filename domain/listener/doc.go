// Package listener holds the Listener aggregate: one webhook listener of a
// tenant (seed 004's "webhook listener"), a URL other systems POST batches
// of CRM actions to, with the settings the document lists — an IP
// allow-list, a default tag, the customer channels of new contacts /
// accounts and of new leads, automatic e-mail and SMS to new customers —
// and a per-listener rate limit.
//
// The URL embeds a secret, which is the listener's only credential. The
// secret never enters the log: the application layer keeps its sha256 in a
// table (listener_secrets) and the aggregate only records that the secret
// was rotated (ListenerRotated), so the log says when the old URL stopped
// working without ever holding a URL that works.
//
// Templates of the automatic messages are text/template texts that may only
// print the documented fields of the new customer (TemplateFields); no
// function, pipeline, condition or range is allowed, so a template can
// read those fields and nothing else.
package listener
