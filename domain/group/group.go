// Package group holds the Group aggregate: a named set of a tenant's
// agents, which tickets, deals and permits can name.
//
// A group's name is unique in the tenant, compared by NameKey. The
// application layer claims each name a group takes as an event-store key
// of its stream, and such keys are never released: a group may take back
// a name it had before, but never a name another group ever had.
// Membership names agents by id; that they exist is checked by the
// application layer, which can read them.
package group

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
)

// StreamType is the stream type of groups; the stream id is the group's id
// (a lower-case UUID). It is persisted.
const StreamType = "group"

// Limits on groups.
const (
	// MaxNameLength bounds a group's name, in bytes.
	MaxNameLength = 200
	// MaxMembers bounds a group's members.
	MaxMembers = 1000
)

// NameKey returns the form group names are compared by: trimmed, inner
// spaces collapsed, lower case.
func NameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// Group is the group aggregate. Its methods check a command against the
// group's state and record events; they never read the clock or do I/O.
// A Group is not safe for concurrent use: load, decide, append, discard.
type Group struct {
	id, name             string
	members              []string
	createdAt, updatedAt time.Time
	domain.Root
}

// Rehydrate rebuilds a Group from its stored history at version. An empty
// history gives a group that does not exist.
func Rehydrate(history []domain.Event, version int64) *Group {
	g := &Group{Root: domain.LoadedAt(version)}
	for _, e := range history {
		g.apply(e)
	}
	return g
}

// Exists reports whether the group was ever created.
func (g *Group) Exists() bool { return g.id != "" }

// ID returns the group's id.
func (g *Group) ID() string { return g.id }

// Snapshot is a read-only copy of a group's state.
type Snapshot struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Members are agent ids, in the order they joined. Never nil.
	Members   []string  `json:"members"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts every event, pending ones included.
	Version int64 `json:"version"`
}

// Snapshot returns a copy of the group's current state.
func (g *Group) Snapshot() Snapshot {
	return Snapshot{ID: g.id, Name: g.name, Members: append([]string{}, g.members...),
		CreatedAt: g.createdAt, UpdatedAt: g.updatedAt, Version: g.Current()}
}

// Evolve returns the snapshot s after event e, applying e exactly as the
// aggregate does.
func Evolve(s Snapshot, e domain.Event) Snapshot {
	g := &Group{id: s.ID, name: s.Name, members: slices.Clone(s.Members),
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, Root: domain.LoadedAt(s.Version + 1)}
	g.apply(e)
	return g.Snapshot()
}

func (g *Group) record(e domain.Event) { g.Record(e, g.apply) }

// apply evolves the state by one event. It never fails.
func (g *Group) apply(e domain.Event) {
	if au, ok := e.(domain.Audited); ok {
		g.updatedAt = au.Audit().At
	}
	switch e := e.(type) {
	case GroupCreated:
		g.id, g.name, g.createdAt = e.ID, e.Name, e.At
		g.members = slices.Clone(e.Members)
	case GroupRenamed:
		g.name = e.Name
	case MembersAdded:
		for _, id := range e.Agents {
			if !slices.Contains(g.members, id) {
				g.members = append(g.members, id)
			}
		}
	case MembersRemoved:
		g.members = slices.DeleteFunc(g.members, func(id string) bool { return slices.Contains(e.Agents, id) })
	}
}

func validName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || len(name) > MaxNameLength || !utf8.ValidString(name) {
		return "", ErrInvalidField.At("name").Withf("name must be 1..%d bytes of UTF-8", MaxNameLength)
	}
	return name, nil
}

// validMembers checks agent ids (lower-case UUIDs) and drops repeats,
// keeping the first.
func validMembers(ids []string) ([]string, error) {
	if len(ids) > MaxMembers {
		return nil, ErrInvalidField.At("members").Withf("a group has at most %d members", MaxMembers)
	}
	out := make([]string, 0, len(ids))
	var errs []error
	for i, id := range ids {
		if !domain.ValidUUID(id) {
			errs = append(errs, ErrInvalidField.At("members["+strconv.Itoa(i)+"]").Withf("member %q is not an agent id (a lower-case UUID)", id))
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, domain.Join(errs...)
}
