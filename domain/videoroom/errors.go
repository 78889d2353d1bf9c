package videoroom

import "github.com/eventdesk/eventdesk/domain"

// Errors returned by room commands. Returned errors are often copies of
// these with a precise Msg and Field; match them with errors.Is, which
// compares codes (see domain.Error.Is). Validation that finds several bad
// fields returns them joined; domain.Errors lists them.
var (
	// ErrNotFound: no room has the unique name in the tenant. Commands
	// other than Open on a Room that was never opened return it.
	ErrNotFound = &domain.Error{Kind: domain.NotFound, Code: "video_room_not_found", Msg: "video room not found"}
	// ErrNameTaken: Open named a room that is open for another ticket.
	ErrNameTaken = &domain.Error{Kind: domain.Conflict, Code: "video_room_name_taken", Msg: "a video room with this unique name is open for another ticket"}
	// ErrClosed: the room is closed; nobody can join or leave it.
	ErrClosed = &domain.Error{Kind: domain.Conflict, Code: "video_room_closed", Msg: "video room is closed"}
	// ErrAlreadyClosed: Close on a closed room.
	ErrAlreadyClosed = &domain.Error{Kind: domain.Conflict, Code: "video_room_already_closed", Msg: "video room is already closed"}
	// ErrRoomFull: MaxParticipants are connected already.
	ErrRoomFull = &domain.Error{Kind: domain.Conflict, Code: "video_room_full", Msg: "video room is full"}
	// ErrParticipantNotFound: Leave named an identity that is not connected
	// to the room.
	ErrParticipantNotFound = &domain.Error{Kind: domain.NotFound, Code: "participant_not_found", Msg: "no such participant in the room"}

	// ErrInvalidUniqueName: the unique name does not match
	// UniqueNamePattern.
	ErrInvalidUniqueName = &domain.Error{Kind: domain.Invalid, Code: "invalid_unique_name", Msg: "invalid unique name"}
	// ErrInvalidIdentity: a participant identity is empty, too long, or
	// not plain text (see ValidIdentity).
	ErrInvalidIdentity = &domain.Error{Kind: domain.Invalid, Code: "invalid_identity", Msg: "invalid identity"}
	// ErrInvalidField covers every other malformed input; Field names it
	// (e.g. "ticket_id").
	ErrInvalidField = &domain.Error{Kind: domain.Invalid, Code: "invalid_field", Msg: "invalid field"}
)
