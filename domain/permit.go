package domain

import (
	"slices"
	"strconv"
)

// PermitKind says who, besides admins and the tenant's API key, may see a
// record (a customer, a note, a deal). Values are persisted; seed 004's
// numeric permit statuses 1..4 map to them in order (PermitKindOfStatus).
type PermitKind string

// The permit kinds.
const (
	// PermitEverybody: every agent of the tenant (seed 004 status 1).
	PermitEverybody PermitKind = "everybody"
	// PermitOwner: only the record's owner (status 2, "only me").
	PermitOwner PermitKind = "owner"
	// PermitOwnerGroup: the owner and the members of one group (status 3).
	PermitOwnerGroup PermitKind = "owner_group"
	// PermitOwnerAgents: the owner and listed agents (status 4).
	PermitOwnerAgents PermitKind = "owner_agents"
)

// PermitKinds returns every PermitKind, in the order of seed 004's statuses.
func PermitKinds() []PermitKind {
	return []PermitKind{PermitEverybody, PermitOwner, PermitOwnerGroup, PermitOwnerAgents}
}

// PermitKindOfStatus returns the kind of seed 004's numeric status (1..4).
func PermitKindOfStatus(status int) (PermitKind, bool) {
	if status < 1 || status > 4 {
		return "", false
	}
	return PermitKinds()[status-1], true
}

// Permit is who may see a record besides admins. Its JSON form is stored in
// events. The zero Permit means PermitEverybody.
type Permit struct {
	Kind PermitKind `json:"kind"`
	// Group is the group id of PermitOwnerGroup.
	Group string `json:"group,omitempty"`
	// Agents are the agent ids of PermitOwnerAgents.
	Agents []string `json:"agents,omitempty"`
}

// ErrInvalidPermit reports a malformed permit.
var ErrInvalidPermit = &Error{Kind: Invalid, Code: "invalid_permit", Msg: "invalid permit"}

// Normalize returns p with its kind defaulted to PermitEverybody and with
// the members another kind does not use dropped, or ErrInvalidPermit at
// field: an unknown kind, PermitOwnerGroup without a group id,
// PermitOwnerAgents without agents, ids that are not UUIDs.
func (p Permit) Normalize(field string) (Permit, error) {
	if p.Kind == "" {
		p.Kind = PermitEverybody
	}
	switch p.Kind {
	case PermitEverybody, PermitOwner:
		return Permit{Kind: p.Kind}, nil
	case PermitOwnerGroup:
		if !ValidUUID(p.Group) {
			return Permit{}, ErrInvalidPermit.At(field+".group").Withf("%s.group must be a group id", field)
		}
		return Permit{Kind: p.Kind, Group: p.Group}, nil
	case PermitOwnerAgents:
		if len(p.Agents) == 0 {
			return Permit{}, ErrInvalidPermit.At(field+".agents").Withf("%s.agents must list at least one agent", field)
		}
		agents := slices.Clone(p.Agents)
		for i, a := range agents {
			if !ValidUUID(a) {
				return Permit{}, ErrInvalidPermit.At(field+".agents["+strconv.Itoa(i)+"]").Withf("%s.agents[%d] must be an agent id", field, i)
			}
		}
		slices.Sort(agents)
		return Permit{Kind: p.Kind, Agents: slices.Compact(agents)}, nil
	}
	return Permit{}, ErrInvalidPermit.At(field+".kind").Withf("%s.kind %q is not one of %s", field, p.Kind, joinStrings(PermitKinds()))
}

// Viewer is who reads a record: an agent and the groups it belongs to, or
// an admin (the tenant's API key or an admin agent), who sees everything.
type Viewer struct {
	Admin  bool
	Agent  string
	Groups []string
}

// Allows reports whether v may see a record owned by owner (an agent id,
// empty if none) under permit p.
func (p Permit) Allows(v Viewer, owner string) bool {
	if v.Admin {
		return true
	}
	switch p.Kind {
	case "", PermitEverybody:
		return true
	case PermitOwner:
		return owner != "" && v.Agent == owner
	case PermitOwnerGroup:
		return owner != "" && v.Agent == owner || slices.Contains(v.Groups, p.Group)
	case PermitOwnerAgents:
		return owner != "" && v.Agent == owner || slices.Contains(p.Agents, v.Agent)
	}
	return false
}
