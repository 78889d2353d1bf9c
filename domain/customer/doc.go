// Package customer is the customer aggregate of Eventdesk's CRM: the
// people and organisations a tenant serves, whose stream holds their whole
// story (profile, notes, linked tickets and deals, duplicate submissions,
// merges).
//
// # Kinds and codes
//
// A customer is a Contact (a person), an Account (a company; it belongs to
// no account itself) or a Lead (a prospect). Each has a readable code
// chosen by the caller from a per-kind sequence: PID-n for contacts, CID-n
// for accounts, LID-n for leads. Converting a lead makes it a contact with a
// new PID code; Snapshot.Codes keeps every code it ever had, so its LID code
// still names it.
//
// # Identities
//
// An Identity names at most one live customer of a tenant: a normalised
// e-mail address, a phone's Normalized form, a passport, an outside
// system's contact id, or a code. Profile.Identities lists a profile's;
// Snapshot.Identities adds the codes. The application layer reserves them
// (domain/identity) so that two customers never share one; this package
// only says which identities a customer holds.
//
// Phones are matched by Normalized, which the caller sets: the application
// layer parses numbers with libphonenumber in the tenant's region and
// stores their E.164 form. The domain only falls back to the number's
// digits (a leading "+" kept) when Normalized is left empty (see Digits).
//
// # Merge and un-merge
//
// Merging customers of one kind into a survivor is three decisions:
// MergeProfiles computes the survivor's profile (lists united, the
// survivor's single values kept unless empty or a preference says
// otherwise) and names every conflict; the survivor records
// CustomerAbsorbed per merged customer (Absorb), remembering its profile
// before and after and the identities that moved; each merged customer
// records CustomerMerged (MergeInto) and is frozen: every command but
// Restore answers ErrMerged.
//
// An un-merge gives back exactly what the merged customer brought. The
// survivor (Unmerge) drops the list values only the restored customer had,
// reverts every single-valued or custom field the merge changed unless it
// was edited since, and hands over the items (tickets, notes, deals)
// attached since the merge through one of the restored customer's
// identities; it records CustomerUnmerged. The restored customer (Restore)
// records CustomerRestored with those items and is live again with the
// profile it had before the merge.
package customer
