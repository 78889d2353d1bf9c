// Package fynd speaks Fynd Platform's Lead application API, so that a
// client written for Fynd (the fdk-client-javascript or fdk-client-python
// application SDK's lead module) works against Eventdesk unchanged:
//
//	GET  /service/application/lead/v1.0/form/{slug}                           getCustomForm
//	POST /service/application/lead/v1.0/form/{slug}/submit                    submitCustomForm
//	GET  /service/application/lead/v1.0/ticket/{id}                           getTicket
//	POST /service/application/lead/v1.0/ticket/                               createTicket (also without the slash)
//	POST /service/application/lead/v1.0/ticket/{id}/history                   createHistory
//	GET  /service/application/lead/v1.0/video/room/{unique_name}/participants getParticipantsInsideVideoRoom
//	GET  /service/application/lead/v1.0/video/room/{unique_name}/token        getTokenForVideoRoom
//
// It is a thin adapter over app.Tickets, app.Forms and app.VideoRooms:
// every ticket and history entry written here is an ordinary event in the
// tenant's log (ticket.created, ticket.history_logged), visible through
// the native API and every other surface, and every ticket of the tenant,
// whichever surface created it, reads here.
//
// # Authentication
//
// As Fynd's application clients do: "Authorization: Bearer
// base64(application_id:application_token)", with the tenant's Fynd
// application id and token printed by `eventdesk tenant create` (which
// also prints the ready-made bearer). Padded or unpadded, standard or URL
// base64 are accepted. A missing or unknown credential is 401. The SDKs'
// other headers (x-fp-date, x-fp-signature, x-fp-sdk-version,
// x-location-detail, x-currency-code, cookies) are accepted and ignored:
// the request signature is a client-side integrity check whose secret
// Eventdesk does not hold.
//
// Fynd identifies the storefront's logged-in user by its session; Eventdesk
// has none, so the user, when there is one, comes in the X-User-Data
// header (the form in which Fynd's gateway hands the user to its
// services): a JSON object {"_id", "first_name", "last_name", "emails":
// [{"email"}]} (also "id"/"user_id", "name", "email"; an id or an e-mail is
// needed), or a JSON string holding the user id. Without it, changes are
// recorded as made by the integration actor "fynd:<application_id>"; with
// it, by that user (kind user). A malformed X-User-Data is 400.
//
// # Responses
//
// Success is always 200, as Fynd documents, with exactly the documented
// members of each schema, always all of them (strings never null):
//
//   - Ticket: _id (the ticket's UUID), context {application_id, company_id
//     (a string, as Fynd sends "884")}, created_on {user_agent}, content
//     {title, description, attachments [TicketAsset {type, value,
//     display}]}, category {key, display} (both "" when uncategorized),
//     sub_category (the key, "" when none), source, status {key, display,
//     color}, priority {key, display, color}, created_by, assigned_to (null
//     when unassigned, as Fynd's schema allows), tags, _custom_json (an
//     object, {} when empty), is_feedback_pending, integration (an object),
//     response_id (the form submission's id, "" for tickets not made by a
//     form), created_at, updated_at. Displays and colors are the tenant's
//     configuration (GET /v1/config).
//   - Times are RFC 3339 in UTC with milliseconds, as Fynd writes them
//     ("2021-01-28T17:25:25.013Z").
//   - created_by is {"id", "user"} and assigned_to is {"agent_id", "_id",
//     …}, the shapes of Fynd's samples; the user members are a subset of
//     Fynd's UserSchema: _id (the actor's id, else its e-mail), first_name
//     and last_name (the name split at its first space), emails [{email,
//     primary}].
//   - source: Fynd knows platform_panel (company level) and sales_channel
//     (application level). Tickets created here are sales_channel. Of
//     Eventdesk's other sources, the channels customers use (form, portal,
//     email) read as sales_channel; the company's own (platform_panel, api,
//     webhook) as platform_panel. The native API shows the exact source.
//   - TicketHistory: _id, type, value, ticket_id (the readable number as a
//     string, "41", as in Fynd's sample), created_on {user_agent} (the
//     request's User-Agent; Eventdesk does not keep it with the entry),
//     created_by, created_at, updated_at.
//   - CustomForm: _id, application_id, slug, header_image, title,
//     description, priority {key, display, color} (the Priority object, as
//     the SDKs' CustomForm has it), login_required, should_notify,
//     success_message, submit_button {title, title_color,
//     background_color}, inputs (the form's field definitions as stored:
//     type, key, display, required, placeholder, regex, options),
//     created_on {user_agent} ("": forms are made through the native API,
//     which does not record one), poll_for_assignment {duration, message,
//     success_message, failure_message} — left out when the form has none,
//     because the SDKs' schemas allow it absent but not null.
//   - SubmitCustomFormResponse: message (the form's success_message) and
//     ticket.
//   - participants: {participants: [{identity, status, user}]}, the
//     participants connected now.
//   - token: {access_token}, a JWT valid for app.TokenTTL.
//
// # Requests
//
// Bodies are JSON objects of at most MaxBodyBytes (413 above). Member
// names are exact; members an operation does not know are ignored, so that
// newer and older SDKs keep working. Every problem with a body is listed
// in one 400.
//
//   - AddTicketPayload: category (required: a configured category key),
//     content (required: title required; description; attachments of
//     TicketAsset, type one of image, video, file, youtube, product,
//     collection, brand, shipment, order, value required), priority (low,
//     medium, high or urgent; default low), status (a configured status
//     key; default the first open one), _custom_json (an object),
//     subscribers (e-mail addresses), created_by (a user as in
//     X-User-Data; default the acting user). The ticket's source is
//     sales_channel, its user agent the request's User-Agent.
//   - TicketHistoryPayload: type (required: rating, log, comment or
//     thread), value (required: an object; a rating's "rating", if any,
//     must be 1 to 5). Entries are public.
//   - CustomFormSubmissionPayload: response (required: an array of {key,
//     value}), attachments (TicketAsset). A body of the wrong shape is 400;
//     answers that do not fit the form's inputs (a required one missing, a
//     bad e-mail, a number that is not one, a choice not among the options,
//     a key the form lacks) are 422, every bad answer listed in the
//     message — the distinction Eventdesk's native submit endpoint makes.
//     A form with login_required needs X-User-Data (401 otherwise). The
//     ticket has the form's category and priority and source form (read
//     here as sales_channel); response_id is a fresh UUID.
//   - {id} of a ticket is its _id (UUID, any case), its number ("34") or
//     its key ("%23034"). {slug} and {unique_name} are matched against
//     their patterns before anything is read, so no value can reach
//     outside the tenant's own streams: anything else is 404.
//   - The token's identity is the identity query parameter if given
//     (Fynd's API has none; Twilio-style rooms need one), else the
//     X-User-Data user's id (or e-mail), else the application id. An
//     invalid identity is 400.
//
// # Errors
//
// Every failure is {"message": "…"}, the member Fynd's SDKs read
// (error.response.data.message); Fynd's Lead API documents no other
// members, so none are added. Statuses: 400 (malformed JSON, not an
// object, wrong types, missing required members, bad enum values, unknown
// category or status, malformed X-User-Data, invalid identity), 401
// (missing or unknown credentials; login_required form without a user),
// 404 (unknown ticket, form or room, including another tenant's — never
// revealed — and unknown paths under /service/application/lead/), 405
// (a known path with another method, with Allow), 409 (a state that
// refuses the request: a disabled form, a closed or full video room, a
// ticket changed concurrently too often), 413, 422 (form answers), and
// 500 for anything unexpected — logged, answered without its cause.
package fynd
