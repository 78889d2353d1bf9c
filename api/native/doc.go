// Package native serves Eventdesk's native REST API (/v1: tickets, history,
// activities, attachments, forms, video rooms, the event feed, the ticket
// configuration; agents, groups and their tokens; the CRM's contacts,
// accounts and leads with merges and notes, deals and pipelines, the CRM
// configuration and custom fields; webhook listeners and the outbox) and
// its OpenAPI document (openapi.json, validated against
// real traffic by the tests). It is one surface among several: like the
// vendor-compatible ones (api/fynd, api/leadsquared, api/support) it only
// parses a request, calls one named command of the application layer
// (api/app) and renders the result; errors are classified once by
// web.Classify and rendered here as RFC 9457 problem+json. Writes honour
// Idempotency-Key through web.Idempotency, crash-safe: a retry gets the
// original outcome or the write done exactly once.
package native
