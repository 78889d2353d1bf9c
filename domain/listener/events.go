package listener

import "github.com/eventdesk/eventdesk/domain"

// Listener events. Each embeds domain.Change ("by", "source", "at" in
// JSON). Type strings and JSON names are persisted and must never change
// meaning. No event holds the listener's secret.
type (
	// ListenerCreated created a listener with its settings.
	ListenerCreated struct {
		domain.Change
		ID       string   `json:"id"`
		Settings Settings `json:"settings"`
	}

	// ListenerUpdated replaced the listener's settings.
	ListenerUpdated struct {
		domain.Change
		Settings Settings `json:"settings"`
	}

	// ListenerRotated replaced the listener's secret: the URL it had stopped
	// working at once. Generation counts rotations from 1.
	ListenerRotated struct {
		domain.Change
		Generation int `json:"generation"`
	}

	// ListenerDeleted deleted the listener; its URL stopped working.
	ListenerDeleted struct {
		domain.Change
	}
)

// EventType returns "listener.created".
func (ListenerCreated) EventType() string { return "listener.created" }

// EventType returns "listener.updated".
func (ListenerUpdated) EventType() string { return "listener.updated" }

// EventType returns "listener.rotated".
func (ListenerRotated) EventType() string { return "listener.rotated" }

// EventType returns "listener.deleted".
func (ListenerDeleted) EventType() string { return "listener.deleted" }

// IndexStreamType is the type of a tenant's listener index: one stream per
// tenant (stream id IndexStreamID) holding a ListenerIndexed per created
// listener, written in the creation's own atomic append.
const (
	IndexStreamType = "listener_index"
	IndexStreamID   = "listeners"
)

// ListenerIndexed added a listener to its tenant's index. It is not
// Audited: the listener's own creation event says who and when.
type ListenerIndexed struct {
	ID string `json:"id"`
}

// EventType returns "listener_index.added".
func (ListenerIndexed) EventType() string { return "listener_index.added" }
