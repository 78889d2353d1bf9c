package agent

import (
	"time"

	"github.com/eventdesk/eventdesk/domain"
)

// Commands. Each names who issues it and through which channel; both are
// recorded with the time the caller passes in. Input is checked before
// state.
type (
	// CreateAgent adds an agent. ID is a lower-case UUID chosen by the
	// caller; Email is normalised; Role empty means Member.
	CreateAgent struct {
		By     domain.Actor
		Source domain.Source
		ID     string
		Email  string
		Name   string
		Role   Role
	}

	// UpdateAgent changes what it names; nil members are unchanged.
	UpdateAgent struct {
		By     domain.Actor
		Source domain.Source
		Name   *string
		Role   *Role
		Active *bool
	}
)

// New decides CreateAgent and returns the new agent with AgentCreated
// pending.
func New(c CreateAgent, at time.Time) (*Agent, error) {
	ch, err := domain.NewChange(c.By, c.Source, at)
	errs := []error{err} // domain.Join drops nil
	if !domain.ValidUUID(c.ID) {
		errs = append(errs, ErrInvalidField.At("id").Withf("id must be a lower-case UUID"))
	}
	email := NormalizeEmail(c.Email)
	if !domain.ValidEmail(email) {
		errs = append(errs, ErrInvalidField.At("email").Withf("email %q is not an e-mail address", c.Email))
	}
	name, err := validName("name", c.Name)
	if err != nil {
		errs = append(errs, err)
	}
	role := c.Role
	if role == "" {
		role = Member
	}
	if _, err := ParseRole(string(role)); err != nil {
		errs = append(errs, err)
	}
	if err := domain.Join(errs...); err != nil {
		return nil, err
	}
	a := &Agent{}
	a.record(AgentCreated{Change: ch, ID: c.ID, Email: email, Name: name, Role: role})
	return a, nil
}

// Update decides UpdateAgent: it records AgentUpdated for a changed name
// or role, and AgentDeactivated or AgentReactivated for a changed active
// flag. What is unchanged records nothing.
func (a *Agent) Update(c UpdateAgent, at time.Time) error {
	ch, err := domain.NewChange(c.By, c.Source, at)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	var upd AgentUpdated
	if c.Name != nil {
		name, err := validName("name", *c.Name)
		if err != nil {
			errs = append(errs, err)
		} else if name != a.name {
			upd.Name = name
		}
	}
	if c.Role != nil {
		if _, err := ParseRole(string(*c.Role)); err != nil {
			errs = append(errs, err)
		} else if *c.Role != a.role {
			upd.Role = *c.Role
		}
	}
	if err := domain.Join(errs...); err != nil {
		return err
	}
	if !a.Exists() {
		return ErrNotFound
	}
	if upd.Name != "" || upd.Role != "" {
		upd.Change = ch
		a.record(upd)
	}
	if c.Active != nil && *c.Active != a.active {
		if *c.Active {
			a.record(AgentReactivated{Change: ch})
		} else {
			a.record(AgentDeactivated{Change: ch})
		}
	}
	return nil
}

// Deactivate makes the agent inactive; an inactive agent stays so.
func (a *Agent) Deactivate(by domain.Actor, src domain.Source, at time.Time) error {
	f := false
	return a.Update(UpdateAgent{By: by, Source: src, Active: &f}, at)
}

// Reactivate makes the agent active again; an active agent stays so.
func (a *Agent) Reactivate(by domain.Actor, src domain.Source, at time.Time) error {
	t := true
	return a.Update(UpdateAgent{By: by, Source: src, Active: &t}, at)
}
