package videoroom_test

import (
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/videoroom"
)

// Fixtures: a room opened by an agent at t0 for a ticket, which a customer
// joined at t1; the commands under test run at noon, by the agent, through
// the API.
const (
	ticketID  = "0b7e4c1e-3a1f-4c6e-9a53-5d1f2b3c4d5e"
	ticketID2 = "11111111-1111-4111-8111-111111111111"
	room      = ticketID
	api       = domain.SourceAPI
)

var (
	t0, t1 = domaintest.T0, domaintest.T1
	t2     = domaintest.T2
	noon   = domaintest.Noon

	agent    = domaintest.Agent
	customer = domain.Actor{Email: "cara@example.com", Name: "Cara", Kind: domain.ActorUser}

	atOpening = domain.Change{By: agent, Source: api, At: t0}
	before    = domain.Change{By: agent, Source: api, At: t1}
	later     = domain.Change{By: agent, Source: api, At: t2}
	now       = domain.Change{By: agent, Source: api, At: noon}

	opened     = videoroom.RoomOpened{Change: atOpening, UniqueName: room, TicketID: ticketID}
	caraJoined = videoroom.ParticipantJoined{Change: before, Identity: "cara", User: customer}
	anaJoined  = videoroom.ParticipantJoined{Change: before, Identity: "ana", User: agent}
	caraLeft   = videoroom.ParticipantLeft{Change: later, Identity: "cara"}
	closed     = videoroom.RoomClosed{Change: later}
)

func given(events ...domain.Event) []domain.Event { return events }

var codec = videoroom.Codec()

// scenario is one given/when/then case (domaintest.Scenario).
type scenario domaintest.Scenario[*videoroom.Room]

// run runs the scenarios (domaintest.Run).
func run(t *testing.T, tests []scenario) {
	t.Helper()
	domaintest.Run(t, tests, codec, videoroom.Rehydrate, videoroom.Evolve)
}
