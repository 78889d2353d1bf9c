package videoroom

import (
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// Commands. Every command names who issues it (By) and through which
// channel (Source); both are recorded in the resulting event, with the time
// the caller passes in. Input is checked before state.
type (
	// OpenRoom opens the room UniqueName (UniqueNamePattern, chosen by the
	// caller) for the ticket TicketID (a lower-case UUID).
	OpenRoom struct {
		By         domain.Actor
		Source     domain.Source
		UniqueName string
		TicketID   string
	}

	// JoinRoom connects Identity (see ValidIdentity) to the room. User is
	// who the participant is; nil means By.
	JoinRoom struct {
		By       domain.Actor
		Source   domain.Source
		Identity string
		User     *domain.Actor
	}

	// LeaveRoom disconnects Identity from the room.
	LeaveRoom struct {
		By       domain.Actor
		Source   domain.Source
		Identity string
	}

	// CloseRoom ends the session, disconnecting everyone.
	CloseRoom struct {
		By     domain.Actor
		Source domain.Source
	}
)

// errWrongStream reports a caller that loaded one room's stream and opened
// another: a bug, not a client error.
var errWrongStream = &domain.Error{Kind: domain.Internal, Code: "wrong_stream", Msg: "videoroom: Open names another room than the one loaded"}

// Open opens the room. On a room that was never opened (Rehydrate of an
// empty history) it records RoomOpened; on an open room it records nothing
// if the ticket is the same and returns ErrNameTaken otherwise; on a closed
// room it records RoomOpened, starting a new session without participants.
// Input problems are joined (see domain.Errors).
func (r *Room) Open(c OpenRoom, at time.Time) error {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !ValidUniqueName(c.UniqueName) {
		errs = append(errs, ErrInvalidUniqueName.At("unique_name").Withf("unique_name %.140q must match %s", c.UniqueName, UniqueNamePattern))
	}
	if !domain.ValidUUID(c.TicketID) {
		errs = append(errs, ErrInvalidField.At("ticket_id").Withf("ticket_id %.64q is not a lower-case UUID", c.TicketID))
	}
	if err := domain.Join(errs...); err != nil {
		return err
	}
	switch {
	case r.Exists() && r.uniqueName != c.UniqueName:
		return errWrongStream
	case r.status == Open && r.ticketID == c.TicketID:
		return nil
	case r.status == Open:
		return ErrNameTaken.Withf("video room %q is open for another ticket", c.UniqueName)
	}
	r.record(RoomOpened{Change: ch, UniqueName: c.UniqueName, TicketID: c.TicketID})
	return nil
}

// CanJoin reports whether identity may join the room now: nil when it may
// (or is connected already), otherwise ErrNotFound, ErrInvalidIdentity,
// ErrClosed or ErrRoomFull. The API asks it before issuing an access
// token; Join asks it too.
func (r *Room) CanJoin(identity string) error {
	switch {
	case !r.Exists():
		return ErrNotFound
	case !ValidIdentity(identity):
		return invalidIdentity(identity)
	case r.status == Closed:
		return ErrClosed
	case r.connected(identity):
		return nil
	case r.connectedCount() >= MaxParticipants:
		return ErrRoomFull.Withf("video room is full: %d participants connected", MaxParticipants)
	}
	return nil
}

// Join connects a participant; joining while connected records nothing.
// It returns the errors of CanJoin, and domain.ErrInvalidActor for a
// malformed User.
func (r *Room) Join(c JoinRoom, at time.Time) error {
	if !r.Exists() {
		return ErrNotFound
	}
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !ValidIdentity(c.Identity) {
		errs = append(errs, invalidIdentity(c.Identity))
	}
	user := c.By
	if c.User != nil {
		user = *c.User
		errs = append(errs, user.Validate("user"))
	}
	if err := domain.Join(errs...); err != nil {
		return err
	}
	if err := r.CanJoin(c.Identity); err != nil {
		return err
	}
	if r.connected(c.Identity) {
		return nil
	}
	r.record(ParticipantJoined{Change: ch, Identity: c.Identity, User: user})
	return nil
}

// Leave disconnects a participant. It returns ErrNotFound for no room,
// ErrClosed for a closed one, and ErrParticipantNotFound when the identity
// is not connected (never joined, or left already).
func (r *Room) Leave(c LeaveRoom, at time.Time) error {
	if !r.Exists() {
		return ErrNotFound
	}
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err}
	if !ValidIdentity(c.Identity) {
		errs = append(errs, invalidIdentity(c.Identity))
	}
	if err := domain.Join(errs...); err != nil {
		return err
	}
	switch {
	case r.status == Closed:
		return ErrClosed
	case !r.connected(c.Identity):
		return ErrParticipantNotFound.At("identity").Withf("%q is not in the video room", c.Identity)
	}
	r.record(ParticipantLeft{Change: ch, Identity: c.Identity})
	return nil
}

// Close ends the session, disconnecting everyone still connected. It
// returns ErrNotFound for no room and ErrAlreadyClosed for a closed one.
func (r *Room) Close(c CloseRoom, at time.Time) error {
	if !r.Exists() {
		return ErrNotFound
	}
	ch, err := domain.NewChange(c.By, c.Source, at)
	if err != nil {
		return err
	}
	if r.status == Closed {
		return ErrAlreadyClosed
	}
	var gone []string
	for _, p := range r.participants {
		if p.Status == Connected {
			gone = append(gone, p.Identity)
		}
	}
	r.record(RoomClosed{Change: ch, Disconnected: gone})
	return nil
}

func invalidIdentity(s string) error {
	return ErrInvalidIdentity.At("identity").Withf("identity %.140q must be 1..%d bytes of text without control characters or surrounding spaces", s, MaxIdentityLength)
}
