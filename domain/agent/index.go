package agent

import "github.com/eventdesk/eventdesk/domain"

// IndexStreamType is the type of a tenant's agent index: one stream per
// tenant (stream id IndexStreamID) holding a AgentIndexed per created agent,
// written in the same atomic append as the agent's creation, so that
// listing agents needs no scan of the log and never lags a create.
const (
	IndexStreamType = "agent_index"
	IndexStreamID   = "agents"
)

// AgentIndexed added a agent to its tenant's agent index. It is not Audited:
// the agent's own creation event says who created it and when.
type AgentIndexed struct {
	ID string `json:"id"`
}

// EventType returns "agent_index.added".
func (AgentIndexed) EventType() string { return "agent_index.added" }

// indexCodec knows the events of the agent index.
var indexCodec = domain.NewCodec("agent index", domain.EventKindOf[AgentIndexed]())

// IndexCodec returns the codec of the agent index's events.
func IndexCodec() *domain.Codec { return indexCodec }
