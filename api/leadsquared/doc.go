// Package leadsquared speaks LeadSquared Service CRM's ticket API, so that
// a client written for LeadSquared works against Eventdesk unchanged:
//
//	POST /api/tenants/{OrgID}/ticket                                create a ticket
//	POST /api/tenants/{OrgID}/tickets                               the same (the live docs' path)
//	POST /api/tenants/{OrgID}/ticket/{ticketId}/portal/activity     add a portal activity
//
// It is a thin adapter over app.Tickets: a ticket created here is an
// ordinary ticket (ticket.created in the tenant's log), visible through the
// native API and every other surface.
//
// # Authentication and tenancy
//
// Requests carry X-LSQ-ACCESS-KEY and X-LSQ-SECRET-KEY, the tenant's
// LeadSquared keys printed by `eventdesk tenant create`. Missing or unknown
// keys are 401. {OrgID} must name the keys' own tenant: its tenant id (the
// UUID) or its company id (a number, like LeadSquared's numeric org ids);
// any other OrgID is also 401 — never 404 — so that a caller learns nothing
// about other tenants. A ticket of another tenant is 404, exactly like a
// ticket that does not exist.
//
// # Rate limit
//
// 25 calls per 5 seconds per access key (DefaultLimit), counted after
// authentication (calls with bad keys cost nothing, and nobody can spend
// another tenant's allowance by knowing only its access key). Beyond it:
// 429 with ExceptionType MXAPIRateLimitExceededException and the
// documented message "API calls exceeded the limit of 25 in 5 second(s)",
// and a Retry-After in whole seconds. Every admitted or refused call
// carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset
// (seconds until the full allowance is back). The limiter is a GCRA (a
// token bucket of 25 refilled at one call per 200 ms): a client keeping to
// 25 calls in any 5 s is never refused, and sustained throughput is capped
// at 25 per 5 s. With Redis configured it runs in Redis (go-redis/
// redis_rate), so the limit holds across nodes; without, in process
// (golang.org/x/time/rate). Redis trouble costs a call at most
// RedisTimeout (250 ms) and never lifts the limit: a call Redis does not
// answer in time is limited per node (the same limit, in process), and a
// circuit breaker skips Redis for RedisCooldown (2 s) before probing it
// again, one call at a time (see RedisLimiter).
//
// # Creating a ticket
//
// Body: {TypeId, Id, LeadId, Fields: [{SchemaName, Value}], RelatedTicketTypeId}.
// Member names match as in LeadSquared's .NET binder: exactly, else
// without regard to case; unknown members are ignored. System schema names
// (matched without regard to case) map onto the ticket:
//
//	Title                     title (mandatory, like LeadSquared's mandatory ticket field)
//	Description               description
//	Status                    a configured status, by display ("In Progress") or by key after
//	                          lower-casing and turning spaces into underscores; else 400
//	Priority                  low|medium|high|urgent, without regard to case; else 400
//	Channel                   channel, as given ("Chat")
//	Type                      LeadSquared's ticket type ("General"): the category when the tenant
//	                          has one with that display or key, else kept as custom field "Type"
//	SubType                   the sub-category of that category when it has it, else custom "SubType"
//	RelatedCustomerId         references.customer_id
//	LeadId                    references.lead_id (top-level LeadId or a field; both → must agree)
//	LeadDetail.EmailAddress   references.contact_email (also "EmailAddress", as the live docs spell it)
//	LeadDetail.Phone          references.contact_phone
//	LeadDetail.FirstName/LastName  references.contact_name ("First Last")
//
// Every other SchemaName is a custom field, kept in the ticket's custom map
// under its schema name with its JSON value as sent (a null Value means
// not given). TypeId and RelatedTicketTypeId ("pass 1") are kept in the
// ticket's integration map under "leadsquared". Id must be null, absent or
// empty: this operation never updates. At least one of LeadDetail.EmailAddress,
// LeadId and LeadDetail.Phone must be non-empty, else 400
// (MXMandatoryAttributeMissingException). System values are strings; a
// number is taken as its literal (a phone sent as 919876543210), as
// LeadSquared's binder does; a boolean, array or object is 400. A
// SchemaName given twice is 400. Tickets are recorded with source "api"
// (the channel the customer used is Channel) and actor
// integration:leadsquared.
//
// Success is 200 {"Status":"Success","ReasonForFailure":null,"Id":"34",
// "Message":null,"TicketId":"<uuid>","Key":"#034"}: Id is the tenant's
// readable ticket number, TicketId the ticket's UUID, Key the number as
// Eventdesk and LeadSquared show it.
//
// # Adding a portal activity
//
// Body: {"Text": "...", "Direction": "INBOUND"}. {ticketId} may be the
// ticket's UUID, its number ("34") or its key ("%23034", URL-encoded).
// Text is mandatory. Direction is mandatory; INBOUND (the documented value)
// and OUTBOUND (the other direction Eventdesk's model has) are accepted
// without regard to case, anything else is 400. Activities are recorded
// with source "portal". Success is 200 {"Id":"1","Status":"Success",
// "Message":null}, where Id is the activity's sequence number on the
// ticket (1 for its first activity), as the documented sample shows.
//
// # Errors
//
// Failures keep the endpoint's envelope with Status "Error" and add
// LeadSquared's platform error fields, so that a client reading either
// finds the reason:
//
//	{"Status":"Error","ReasonForFailure":"…","Id":null,"Message":"…","TicketId":null,"Key":null,
//	 "ExceptionType":"MXInvalidInputException","ExceptionMessage":"…"}
//
// Statuses are the documented ones: 400 for a body that is not as
// specified (malformed JSON, not an object, wrong types, missing mandatory
// values, unknown status or priority, more than MaxBodyBytes), 401, 404 for
// an unknown ticket or an unknown path under /api/tenants/, 429, and 500
// for anything unexpected — logged with slog, answered with a generic
// message that says nothing of the cause. Two cases have no documented
// code and use HTTP's: 409 when a ticket keeps changing concurrently, and
// 503 when the request was interrupted (the engine is shutting down); a
// client that went away is answered nothing. Content-Type is not enforced: the body is
// read as JSON whatever it says.
package leadsquared

// SampleCreateTicket is LeadSquared's documented create-ticket request,
// verbatim; benchmarks and tests send it.
const SampleCreateTicket = `{ "TypeId":"1", "Id":null, "LeadId":"45b5fded-e696-45a6-9fbb-c6af6178229e", "Fields":[ { "SchemaName":"Title", "Value":"Test ticket from API" }, { "SchemaName":"RelatedCustomerId", "Value":"45b5fded-e696-45a6-9fbb-c6af6178229e" }, { "SchemaName":"Description", "Value":"Test ticket from External API" }, { "SchemaName":"Type", "Value":"General" }, { "SchemaName":"Status", "Value":"Open" }, { "SchemaName":"Priority", "Value":"Low" }, { "SchemaName":"Channel", "Value":"Chat" } ], "RelatedTicketTypeId":1 }`

// SampleActivity is LeadSquared's documented portal-activity request,
// verbatim.
const SampleActivity = `{
   "Text":"The lead submitted the ticket through our portal",
   "Direction":"INBOUND"
}`
