package videoroom

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of video rooms; the stream id is the
// room's unique name. It is persisted.
const StreamType = "video_room"

// UniqueNamePattern is the form of unique names: they appear in URLs and
// are stream ids. A lower-case UUID (a ticket id) fits.
const UniqueNamePattern = `^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`

// Limits on rooms.
const (
	// MaxIdentityLength is the longest participant identity, in bytes (as
	// Twilio's).
	MaxIdentityLength = 128
	// MaxParticipants is how many participants may be connected at once.
	MaxParticipants = 50
)

// Status is whether a room is open. Values are persisted in read models.
type Status string

// The room statuses. A room that was never opened has none ("").
const (
	Open   Status = "open"
	Closed Status = "closed"
)

// ParticipantStatus is whether a participant is in the room now (Fynd's
// Participant.status).
type ParticipantStatus string

// The participant statuses.
const (
	Connected    ParticipantStatus = "connected"
	Disconnected ParticipantStatus = "disconnected"
)

// Participant is someone who joined the room since it last opened.
type Participant struct {
	Identity string            `json:"identity"`
	Status   ParticipantStatus `json:"status"`
	// User is who the participant is (Join's User, or its By).
	User domain.Actor `json:"user"`
	// JoinedAt is when the participant last joined.
	JoinedAt time.Time `json:"joined_at"`
	// LeftAt is when the participant last left; zero while connected.
	LeftAt time.Time `json:"left_at,omitzero"`
}

// Room is the video room aggregate. Its methods check a command against
// the room's state and record events; they never read the clock or do I/O.
// A Room is not safe for concurrent use: load, decide, append, discard.
type Room struct {
	uniqueName, ticketID string
	status               Status
	openedBy             domain.Actor
	openedAt, closedAt   time.Time
	updatedAt            time.Time
	participants         []Participant
	domain.Root
}

// Rehydrate rebuilds a Room from its stored history at version. Only stores
// and their callers use it. An empty history gives a room that was never
// opened: Open opens it, every other command returns ErrNotFound.
func Rehydrate(history []domain.Event, version int64) *Room {
	r := &Room{Root: domain.LoadedAt(version)}
	for _, e := range history {
		r.apply(e)
	}
	return r
}

// Exists reports whether the room has ever been opened.
func (r *Room) Exists() bool { return r.uniqueName != "" }

// UniqueName returns the room's unique name (its stream id).
func (r *Room) UniqueName() string { return r.uniqueName }

// Snapshot is a read-only copy of a room's state, for command responses
// and read models.
type Snapshot struct {
	UniqueName string       `json:"unique_name"`
	TicketID   string       `json:"ticket_id"`
	Status     Status       `json:"status"`
	OpenedBy   domain.Actor `json:"opened_by"`
	OpenedAt   time.Time    `json:"opened_at"`
	ClosedAt   time.Time    `json:"closed_at,omitzero"`
	// Participants is everyone who joined since the room last opened,
	// connected or not, in order of first join.
	Participants []Participant `json:"participants"`
	UpdatedAt    time.Time     `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Exists reports whether s is the snapshot of a room that was opened.
func (s Snapshot) Exists() bool { return s.UniqueName != "" }

// Connected returns the participants in the room now, in order of first
// join: what the participants endpoints list. It is never nil.
func (s Snapshot) Connected() []Participant {
	out := []Participant{}
	for _, p := range s.Participants {
		if p.Status == Connected {
			out = append(out, p)
		}
	}
	return out
}

// Snapshot returns a copy of the room's current state, pending events
// included. Participants is never nil.
func (r *Room) Snapshot() Snapshot {
	return Snapshot{
		UniqueName: r.uniqueName, TicketID: r.ticketID, Status: r.status,
		OpenedBy: r.openedBy, OpenedAt: r.openedAt, ClosedAt: r.closedAt,
		Participants: append([]Participant{}, r.participants...),
		UpdatedAt:    r.updatedAt,
		Version:      r.Current(),
	}
}

// Evolve returns the snapshot s after event e, applying e exactly as the
// aggregate does. Read models keep a snapshot per room and evolve it one
// event at a time instead of replaying the room's history. A zero s is a
// room that was never opened (e should then be RoomOpened).
func Evolve(s Snapshot, e domain.Event) Snapshot {
	r := &Room{
		uniqueName: s.UniqueName, ticketID: s.TicketID, status: s.Status,
		openedBy: s.OpenedBy, openedAt: s.OpenedAt, closedAt: s.ClosedAt,
		updatedAt:    s.UpdatedAt,
		participants: slices.Clone(s.Participants),
		Root:         domain.LoadedAt(s.Version + 1),
	}
	r.apply(e)
	return r.Snapshot()
}

func (r *Room) record(e domain.Event) { r.Record(e, r.apply) }

// apply evolves the state by one event. It never fails and never consults
// anything but the event.
func (r *Room) apply(e domain.Event) {
	if a, ok := e.(domain.Audited); ok {
		r.updatedAt = a.Audit().At
	}
	switch e := e.(type) {
	case RoomOpened:
		r.uniqueName, r.ticketID, r.status = e.UniqueName, e.TicketID, Open
		r.openedBy, r.openedAt, r.closedAt = e.By, e.At, time.Time{}
		r.participants = nil
	case ParticipantJoined:
		p := Participant{Identity: e.Identity, Status: Connected, User: e.User, JoinedAt: e.At}
		if i := r.participant(e.Identity); i >= 0 {
			r.participants[i] = p
		} else {
			r.participants = append(r.participants, p)
		}
	case ParticipantLeft:
		if i := r.participant(e.Identity); i >= 0 {
			r.participants[i].Status, r.participants[i].LeftAt = Disconnected, e.At
		}
	case RoomClosed:
		r.status, r.closedAt = Closed, e.At
		for i, p := range r.participants {
			if p.Status == Connected {
				r.participants[i].Status, r.participants[i].LeftAt = Disconnected, e.At
			}
		}
	}
}

// participant returns the index of identity in participants, or -1.
func (r *Room) participant(identity string) int {
	return slices.IndexFunc(r.participants, func(p Participant) bool { return p.Identity == identity })
}

func (r *Room) connected(identity string) bool {
	i := r.participant(identity)
	return i >= 0 && r.participants[i].Status == Connected
}

func (r *Room) connectedCount() int {
	n := 0
	for _, p := range r.participants {
		if p.Status == Connected {
			n++
		}
	}
	return n
}

// ValidUniqueName reports whether s matches UniqueNamePattern.
func ValidUniqueName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// ValidIdentity reports whether s can be a participant identity: 1 to
// MaxIdentityLength bytes of UTF-8 without control characters, not
// starting or ending with a space. E-mail addresses and user ids fit.
func ValidIdentity(s string) bool {
	return s != "" && len(s) <= MaxIdentityLength && utf8.ValidString(s) &&
		strings.TrimSpace(s) == s && !strings.ContainsFunc(s, unicode.IsControl)
}
