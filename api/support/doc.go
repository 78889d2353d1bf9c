// Package support speaks a mobile app's customer-support API (seed 003,
// originally bridged to Zendesk), so that a client written for it works
// against Eventdesk unchanged:
//
//	POST /api/user/log/message                                                create a support message
//	POST /api/user/help/file/upload/{feedbackId}/{HelpSupportFileType}         upload a LOG or FEEDBACK_PHOTO (multipart "file")
//	GET  /api/aws/download/support/file/{coreTicketId}/{HelpSupportFileType}   download the latest one
//	POST /api/admin/fetch/customer/support                                     search support records
//
// The document shows its paths without the /api prefix under "Request
// Endpoint", but every curl example calls https://core.dev.Example.net/api/…;
// clients are configured with such base URLs, so the paths are served
// under /api/. It is a thin adapter over app.Tickets and app.Files: a
// support message is an ordinary ticket (ticket.created in the tenant's
// log), visible through the native API and every other surface, and every
// ticket of the tenant is a support record here.
//
// # Authentication
//
// The document names no authentication. Requests carry the tenant's
// native API key, "Authorization: Bearer <api_key>" (printed by
// `eventdesk tenant create`); without it, or with another, every operation
// answers 401 in the envelope, with WWW-Authenticate: Bearer. A record or
// file of another tenant is 404, exactly like one that does not exist.
//
// # Envelope
//
// Every answer but a downloaded file is {"data", "detail", "error",
// "message"}, members in that order, Content-Type application/json. On
// success error is false, detail null and message the documented one:
// "Adding a complaint successful" (create), "User customer support file is
// uploaded successfully" (upload), "Customer support info fetched
// successfully." (search). On failure data is null, error true, message
// says what went wrong in the words of the Spring stack such a product
// runs on ("Malformed JSON request", "Required request part 'file' is not
// present", "Maximum upload size exceeded", …) and detail, a string or
// null, says more. Statuses: 400 for any bad input (malformed JSON, a body
// that is not an object, wrong member types, missing or blank mandatory
// members, a bad uuid or e-mail, a HelpSupportFileType other than exactly
// LOG or FEEDBACK_PHOTO, a FEEDBACK_PHOTO that is not an image, an empty
// file, a body that is not multipart), 401, 404 (unknown record or no file
// of that type yet), 405 (another method on one of the four paths, with
// Allow), 409 (an upload to a closed ticket, or a ticket that keeps
// changing concurrently), 413 (a JSON body over MaxBodyBytes, a file over
// EVENTDESK_MAX_UPLOAD_BYTES, 25 MiB by default) and 500 for
// anything unexpected: logged with slog, answered "Internal server error"
// with a null detail and nothing of the cause.
//
// # Creating a support message
//
// Members are matched by exact name, as Jackson does by default; unknown
// members are ignored. uuid, udid, subject, message, email and category
// are mandatory: absent, null or blank ones are one 400 naming them all
// ("Required fields are missing: uuid, category"). Text members take a
// JSON string or a number (taken as its literal, as Jackson coerces
// 919916248135 into a String); booleans, arrays and objects are 400.
// images is an array of strings (a lone string is 400, as in Jackson's
// default). The uuid must be a UUID (it is stored canonically, lower case);
// the e-mail must be an address (stored lower case); the phone must look
// like one (digits, an optional leading +, spaces, dashes, dots,
// parentheses). Lengths are the engine's: subject ≤ 500 characters,
// message ≤ 65,536, udid, name, phone and category ≤ 256, e-mail ≤ 254, at most
// 100 images of ≤ 2048 characters. The body is read as JSON whatever its
// Content-Type says.
//
// The message becomes a ticket: subject → title, message → description,
// e-mail, phone and name → the contact references, uuid → references
// user_id, udid → references device_id, each image name → an attachment
// of asset type image whose value is the name (the images live in the
// app's own file service; Eventdesk keeps their names), source "email"
// (Eventdesk's support-message channel), channel "support_message",
// created_by the app user (kind user, id uuid, the e-mail and name), and
// the API key as the events' actor (integration support_api). The category
// is free text ("cat1"): it is kept as sent in the custom field
// support_category and, when the tenant has a category with that key or
// display (without regard to case), it becomes the ticket's category as
// well. The client ticketId is a new UUID, stored as references
// client_ticket_id.
//
// The answer is the record (below) of the new ticket. It is sent once the
// tickets read model holds the ticket (at most WaitTimeout), so that an
// upload by ticketId or a search right after it finds it.
//
// # The record
//
// data (one record, or an array of them for a search) mirrors the
// documented shape and member order:
//
//	id              the record id: the Eventdesk ticket's UUID
//	user            {"id": uuid, "devices": [{"udid": udid}]}, null when the ticket has no user
//	device          {"udid": udid}, null when the ticket has no device
//	ticketId        the client ticket id (references client_ticket_id); for a ticket made
//	                through another surface, which has none, the ticket's UUID
//	logPath         absolute URL of GET …/download/support/file/{ticketId}/LOG once a LOG
//	                was uploaded, else null
//	name, email, phone, category   as stored; null when unknown
//	ticketInfo      {id (= ticketId), coreTicketNumber: null, supportTicketId, subject,
//	                message, ticketStatus, userTransactionId: null, userId, userName: null,
//	                images}
//	feedbackPhoto   like logPath, for FEEDBACK_PHOTO
//	creationDate    creation time in epoch milliseconds
//
// Eventdesk does not have the app's user profile or device registry (the
// document's names, settings, social channels, device models): user and
// device carry only what the message said — ids — rather than invented
// values; clients reading the profile fields get them absent (null to
// Jackson). The document's "target" members are Hibernate proxy artefacts
// and are not reproduced. supportTicketId — the Zendesk ticket id of the
// original product — is the ticket's readable number as a string ("345");
// if a support_ticket_id reference is later linked to the ticket (native
// PATCH), that value is shown instead. images lists the ticket's image
// assets that are not uploaded files (never null). The download URLs are
// absolute, as the document's S3 links are, built from the request's Host
// and scheme (https when the request came over TLS or X-Forwarded-Proto
// says https); downloading needs the API key like every other call.
//
// ticketStatus maps the ticket's status by its kind: CREATED while the
// ticket is in the tenant's default status (the state of a new ticket, as
// in the samples), OPEN in any other status of kind open (e.g.
// in_progress), PENDING for kind pending, SOLVED for resolved (Zendesk's
// word) and CLOSED for closed.
//
// # Uploading and downloading files
//
// {HelpSupportFileType} must be exactly LOG or FEEDBACK_PHOTO (a Java
// enum is case-sensitive), else 400. {feedbackId} may be the record id
// (data.id: the document's upload sample answers with the id the create
// returned as data.id) or the client ticketId; {coreTicketId} is "the
// Client ticket id", and the record id works there too. Both must be
// UUIDs; anything else — numbers, names, "..%2F.." — names no record and
// is 404, and no path segment ever becomes a file path (files are stored
// content-addressed under EVENTDESK_DATA_DIR). The file travels in the
// multipart part "file"; its type is sniffed from its first bytes, and a
// FEEDBACK_PHOTO must sniff as image/*. It becomes an attachment of the
// ticket (ticket.attachment_added, kept under its kind LOG or
// FEEDBACK_PHOTO); the answer is the record with logPath or feedbackPhoto
// set, sent once the read model has the change. A download serves the
// latest file of the type, with its sniffed Content-Type, Content-Disposition
// attachment and X-Content-Type-Options nosniff (ranges and conditional
// requests work); no such file yet is 404.
//
// # Searching
//
// The body's uuid, udid, email, phone, ticketId and zendeskTicketId are
// all optional; the non-empty ones must all match (AND); empty strings and
// nulls do not filter (the sample sends zendeskTicketId ""); no filter, an
// empty object or an empty body lists every record. uuid, udid, email and
// ticketId match without regard to case; phone matches exactly (after
// trimming); zendeskTicketId matches supportTicketId. Records come newest
// first. Pagination is Spring Data's Pageable in the query string: page
// (from 0, default 0) and size (default DefaultPageSize, 20; at most
// MaxPageSize, 100); like Spring, a missing or malformed value is the
// default and a larger size is clamped. data stays the documented bare
// array; when another page follows, a Link header names it
// (</api/admin/fetch/customer/support?page=1&size=20>; rel="next").
// Search reads the tickets read model, so it shows a change made through
// another surface once the projection has applied it (normally within
// milliseconds).
package support

// SampleMessage is the documented create-support-message request body,
// verbatim; tests and benchmarks send it.
const SampleMessage = `{ "uuid": "79af4bc5-a995-4262-92ee-0da381ccaf07", "udid": "7237F578-828D-43D9-995D-F8B7AC8A4881", "subject": "sub 1@innoflexion.com", "message": "msg 1@innoflexion.com", "email": "sudipta.bhaumik@innoflexion.com", "name": "sudipta", "category": "cat1", "phone": "+919916248135", "images": [ "732bbe0a-8d29-4c8d-bb84-891e43439630.jpeg" ] }`

// SampleMessageCurl is the same request as the document's curl example
// sends it (its --data-binary after the shell's unquoting).
const SampleMessageCurl = `{ "uuid" : "79af4bc5-a995-4262-92ee-0da381ccaf07", "udid" : "7237F578-828D-43D9-995D-F8B7AC8A4881", "subject" : "sub 1@innoflexion.com", "message" : "msg 1@innoflexion.com", "email" : "sudipta.bhaumik@innoflexion.com", "name" : "sudipta", "category" : "cat1", "phone" : "+919916248135", "images" : ["732bbe0a-8d29-4c8d-bb84-891e43439630.jpeg"] }`

// SampleSearch is the documented search request body, verbatim.
const SampleSearch = `{ "uuid": "79af4bc5-a995-4262-92ee-0da381ccaf07", "udid": "7237F578-828D-43D9-995D-F8B7AC8A4881", "email": "sudipta.bhaumik@innoflexion.com", "phone": "+919916248135", "ticketId": "0fcdaf5c-0835-40b5-af7d-8c685dfbec0e", "zendeskTicketId": "" }`
