package group

import (
	"slices"
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// CreateGroup creates a group. ID is a lower-case UUID chosen by the
// caller; Members are agent ids (repeats are dropped).
type CreateGroup struct {
	By      domain.Actor
	Source  domain.Source
	ID      string
	Name    string
	Members []string
}

// New decides CreateGroup and returns the group with GroupCreated pending.
func New(c CreateGroup, at time.Time) (*Group, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err} // domain.Join drops nil
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id must be a lower-case UUID"))
	}
	name, err := validName(c.Name)
	if err != nil {
		errs = append(errs, err)
	}
	members, err := validMembers(c.Members)
	if err != nil {
		errs = append(errs, err)
	}
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	g := &Group{}
	g.record(GroupCreated{Change: ch, ID: c.ID, Name: name, Members: members})
	return g, nil
}

// Rename renames the group; the same name records nothing. That no other
// group has the name is the caller's to ensure (it claims NameKey).
func (g *Group) Rename(name string, by domain.Actor, src domain.Source, at time.Time) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	if name, err = validName(name); err != nil {
		return err
	}
	if !g.Exists() {
		return ErrNotFound
	}
	if name != g.name {
		g.record(GroupRenamed{Change: ch, Name: name})
	}
	return nil
}

// AddMembers adds the agents that are not members yet.
func (g *Group) AddMembers(ids []string, by domain.Actor, src domain.Source, at time.Time) error {
	return g.change(ids, by, src, at, func(ids []string) ([]string, []string) {
		return slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(g.members, id) }), nil
	})
}

// RemoveMembers removes the agents that are members.
func (g *Group) RemoveMembers(ids []string, by domain.Actor, src domain.Source, at time.Time) error {
	return g.change(ids, by, src, at, func(ids []string) ([]string, []string) {
		return nil, slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(g.members, id) })
	})
}

// SetMembers makes ids the group's members: it removes the others, then
// adds the new ones.
func (g *Group) SetMembers(ids []string, by domain.Actor, src domain.Source, at time.Time) error {
	return g.change(ids, by, src, at, func(ids []string) ([]string, []string) {
		removed := slices.DeleteFunc(slices.Clone(g.members), func(id string) bool { return slices.Contains(ids, id) })
		added := slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(g.members, id) })
		return added, removed
	})
}

func (g *Group) change(ids []string, by domain.Actor, src domain.Source, at time.Time, diff func([]string) (added, removed []string)) error {
	ch, err := domain.NewChange(by, src, at)
	if err != nil {
		return err
	}
	ids, err = validMembers(ids)
	if err != nil {
		return err
	}
	if !g.Exists() {
		return ErrNotFound
	}
	added, removed := diff(ids)
	if len(g.members)-len(removed)+len(added) > MaxMembers {
		return ErrInvalidField.At("members").Withf("a group has at most %d members", MaxMembers)
	}
	if len(removed) > 0 {
		g.record(MembersRemoved{Change: ch, Agents: removed})
	}
	if len(added) > 0 {
		g.record(MembersAdded{Change: ch, Agents: added})
	}
	return nil
}
