package outbox

import (
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// Outbox events. Each embeds domain.Change ("by", "source", "at" in JSON).
// Type strings and JSON names are persisted and must never change meaning.
type (
	// MessageRequested recorded that a message is due: nothing was sent
	// yet. Trial is set for an SMS requested while the tenant had no
	// provider (it is written to a file, not sent).
	MessageRequested struct {
		domain.Change
		ID         string  `json:"id"`
		Channel    Channel `json:"channel"`
		To         string  `json:"to"`
		Subject    string  `json:"subject,omitempty"`
		Body       string  `json:"body"`
		CustomerID string  `json:"customer_id,omitempty"`
		Trial      bool    `json:"trial,omitempty"`
	}

	// AttemptFailed recorded that attempt Attempt (counted from 1 over the
	// message's whole life) failed with Error. NextAttemptAt is when the
	// next attempt is due; zero when the message was dead-lettered.
	AttemptFailed struct {
		domain.Change
		Attempt       int       `json:"attempt"`
		Error         string    `json:"error"`
		NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	}

	// MessageSent recorded that attempt Attempt handed the message over;
	// ProviderID is the provider's id for it (the SMTP Message-ID, the SMS
	// provider's sid, the trial file's name).
	MessageSent struct {
		domain.Change
		Attempt    int    `json:"attempt"`
		ProviderID string `json:"provider_id,omitempty"`
	}

	// MessageDeadLettered recorded that the message is given up on after
	// Attempts attempts (or an error no retry can cure); only a retry
	// command makes it due again.
	MessageDeadLettered struct {
		domain.Change
		Attempts int    `json:"attempts"`
		Error    string `json:"error"`
	}

	// MessageRetried made a failed or dead-lettered message due again, now.
	MessageRetried struct {
		domain.Change
	}
)

// EventType returns "outbox.requested".
func (MessageRequested) EventType() string { return "outbox.requested" }

// EventType returns "outbox.attempt_failed".
func (AttemptFailed) EventType() string { return "outbox.attempt_failed" }

// EventType returns "outbox.sent".
func (MessageSent) EventType() string { return "outbox.sent" }

// EventType returns "outbox.dead_lettered".
func (MessageDeadLettered) EventType() string { return "outbox.dead_lettered" }

// EventType returns "outbox.retried".
func (MessageRetried) EventType() string { return "outbox.retried" }
