// Package tenant holds the events of a tenant's own stream and their
// codec. A tenant is an organisation using Eventdesk; its credentials and
// lookup rows live in the application layer's tables, not in events: the
// log is immutable and readable by analysts, and secrets must be neither.
//
// # Writing
//
// One stream per tenant: StreamType "tenant", stream id the tenant id,
// holding TenantCreated first.
//
// # Event types
//
// These strings are persisted; never rename one. Schema versions (see the
// domain package for how to change a shape):
//
//	tenant.created  TenantCreated  v1
package tenant
