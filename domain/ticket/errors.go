package ticket

import "github.com/eventdesk/eventdesk/domain"

// Errors returned by ticket and configuration commands. Returned errors are
// often copies of these with a precise Msg and Field; match them with
// errors.Is, which compares codes (see domain.Error.Is). Validation that
// finds several bad fields returns them joined; domain.Errors lists them.
var (
	// ErrNotFound is for callers: no ticket has the requested id or number
	// in the tenant. Commands on a Ticket that was never created return it.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "ticket_not_found", Msg: "ticket not found"}

	// ErrAlreadyClosed: the ticket is closed and the command would close it.
	ErrAlreadyClosed = &domain.Error{Kind: domain.Conflict, Code: "ticket_already_closed", Msg: "ticket is already closed"}
	// ErrClosed: the ticket is closed and the command would change it. Only
	// Reopen, LogHistory, AddActivity, SubmitFeedback and LinkReferences
	// work on a closed ticket.
	ErrClosed = &domain.Error{Kind: domain.Conflict, Code: "ticket_closed", Msg: "ticket is closed; reopen it first"}
	// ErrNotClosed: Reopen on a ticket that is not closed.
	ErrNotClosed = &domain.Error{Kind: domain.Conflict, Code: "ticket_not_closed", Msg: "ticket is not closed"}
	// ErrDuplicateID: a history entry, activity or attachment id is already
	// used on the ticket.
	ErrDuplicateID = &domain.Error{Kind: domain.Conflict, Code: "duplicate_id", Msg: "id already used on this ticket"}

	// ErrInvalidTitle: the title is empty or longer than MaxTitleLength.
	ErrInvalidTitle = &domain.Error{Kind: domain.Invalid, Code: "invalid_title", Msg: "invalid title"}
	// ErrUnknownStatus: the status key is not configured for the tenant.
	ErrUnknownStatus = &domain.Error{Kind: domain.Invalid, Code: "unknown_status", Msg: "unknown status"}
	// ErrUnknownPriority: the priority is not low, medium, high or urgent.
	ErrUnknownPriority = &domain.Error{Kind: domain.Invalid, Code: "unknown_priority", Msg: "unknown priority"}
	// ErrUnknownCategory: the category key is not configured for the tenant.
	ErrUnknownCategory = &domain.Error{Kind: domain.Invalid, Code: "unknown_category", Msg: "unknown category"}
	// ErrUnknownSubCategory: the sub-category is not one of the category's.
	ErrUnknownSubCategory = &domain.Error{Kind: domain.Invalid, Code: "unknown_sub_category", Msg: "unknown sub-category"}
	// ErrUnknownHistoryType: the history type is not comment, log, rating or
	// thread.
	ErrUnknownHistoryType = &domain.Error{Kind: domain.Invalid, Code: "unknown_history_type", Msg: "unknown history type"}
	// ErrUnknownVisibility: the visibility is not public or internal.
	ErrUnknownVisibility = &domain.Error{Kind: domain.Invalid, Code: "unknown_visibility", Msg: "unknown visibility"}
	// ErrUnknownDirection: the activity direction is not INBOUND or OUTBOUND.
	ErrUnknownDirection = &domain.Error{Kind: domain.Invalid, Code: "unknown_direction", Msg: "unknown direction"}
	// ErrUnknownAssetType: the attachment type is not one of AssetTypes.
	ErrUnknownAssetType = &domain.Error{Kind: domain.Invalid, Code: "unknown_asset_type", Msg: "unknown asset type"}
	// ErrInvalidRating: a rating is not a number from 1 to 5.
	ErrInvalidRating = &domain.Error{Kind: domain.Invalid, Code: "invalid_rating", Msg: "rating must be from 1 to 5"}
	// ErrInvalidEmail: a subscriber or contact e-mail is malformed.
	ErrInvalidEmail = &domain.Error{Kind: domain.Invalid, Code: "invalid_email", Msg: "invalid e-mail address"}
	// ErrInvalidTag: a tag is empty after trimming, too long or has control
	// characters, or a ticket would carry more than MaxTags.
	ErrInvalidTag = &domain.Error{Kind: domain.Invalid, Code: "invalid_tag", Msg: "invalid tag"}
	// ErrInvalidField covers every other malformed input; Field names it
	// (e.g. "id", "number", "description", "custom", "text").
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}

	// ErrInvalidKey: a configuration key does not match KeyPattern.
	ErrInvalidKey = &domain.Error{Kind: domain.Invalid, Code: "invalid_key", Msg: "invalid key"}
	// ErrDuplicateKey: a configuration key appears twice in one list.
	ErrDuplicateKey = &domain.Error{Kind: domain.Invalid, Code: "duplicate_key", Msg: "duplicate key"}
	// ErrInvalidColor: a color is not "#rrggbb".
	ErrInvalidColor = &domain.Error{Kind: domain.Invalid, Code: "invalid_color", Msg: "color must be #rrggbb"}
	// ErrUnknownStatusKind: a status kind is not open, pending, resolved or
	// closed.
	ErrUnknownStatusKind = &domain.Error{Kind: domain.Invalid, Code: "unknown_status_kind", Msg: "unknown status kind"}
	// ErrStatusesIncomplete: a status list lacks a status of kind open or of
	// kind closed.
	ErrStatusesIncomplete = &domain.Error{Kind: domain.Invalid, Code: "statuses_incomplete", Msg: "statuses need at least one of kind open and one of kind closed"}
)
