package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
	"github.com/eventdesk/eventdesk/eventstore"
)

// The named ticket commands. Each takes what a surface parsed from a
// request, runs one decision on one ticket (re-decided on fresh state
// after a lost race, unless m.IfVersion pins the version) and returns a
// typed result, so that a surface only parses, calls one command and
// renders. The webhook listener dispatches its actions onto the same
// commands.

// PatchTicket is a set of changes decided together: all of them land in
// one atomic append, or none does. A nil or empty member is left as is.
type PatchTicket struct {
	Title       *string
	Description *string
	Status      string
	Priority    ticket.Priority
	Category    *string
	SubCategory *string
	// Assignee, if set, assigns the ticket; Unassign clears the assignee.
	Assignee   *domain.Actor
	Unassign   bool
	AddTags    []string
	RemoveTags []string
	Custom     map[string]json.RawMessage
	References *ticket.References
}

// Patch applies p to ticket ref. Status changes last: closing after the
// other edits is allowed, editing after closing is not.
func (s *Tickets) Patch(ctx context.Context, tenant, ref string, p PatchTicket, m Meta) (Result, error) {
	return s.execute(ctx, tenant, ref, m, func(t *ticket.Ticket, cfg ticket.Config, at time.Time) error {
		by, src := m.By, m.Source
		var errs []error
		if p.Title != nil || p.Description != nil {
			errs = append(errs, t.EditContent(ticket.EditContent{By: by, Source: src, Title: p.Title, Description: p.Description}, at))
		}
		if p.Priority != "" {
			errs = append(errs, t.ChangePriority(ticket.ChangePriority{By: by, Source: src, Priority: p.Priority}, at))
		}
		if p.Category != nil || p.SubCategory != nil {
			cur := t.Snapshot()
			cat, sub := cur.Category, cur.SubCategory
			if p.Category != nil {
				cat, sub = *p.Category, ""
			}
			if p.SubCategory != nil {
				sub = *p.SubCategory
			}
			errs = append(errs, t.Categorize(ticket.Categorize{By: by, Source: src, Category: cat, SubCategory: sub}, cfg, at))
		}
		switch {
		case p.Unassign:
			errs = append(errs, t.Unassign(ticket.Unassign{By: by, Source: src}, at))
		case p.Assignee != nil:
			errs = append(errs, t.Assign(ticket.Assign{By: by, Source: src, Assignee: *p.Assignee}, at))
		}
		if len(p.AddTags) > 0 {
			errs = append(errs, t.Tag(ticket.Tag{By: by, Source: src, Tags: p.AddTags}, at))
		}
		if len(p.RemoveTags) > 0 {
			errs = append(errs, t.Untag(ticket.Untag{By: by, Source: src, Tags: p.RemoveTags}, at))
		}
		if len(p.Custom) > 0 {
			errs = append(errs, t.MergeCustomFields(ticket.MergeCustomFields{By: by, Source: src, Patch: p.Custom}, at))
		}
		if p.References != nil {
			errs = append(errs, t.LinkReferences(ticket.LinkReferences{By: by, Source: src, References: *p.References}, at))
		}
		if p.Status != "" {
			errs = append(errs, t.ChangeStatus(ticket.ChangeStatus{By: by, Source: src, Status: p.Status}, cfg, at))
		}
		return domain.Join(errs...)
	})
}

// Reopen reopens a closed ticket, into status (empty: the tenant's first
// open status).
func (s *Tickets) Reopen(ctx context.Context, tenant, ref, status string, m Meta) (Result, error) {
	return s.execute(ctx, tenant, ref, m, func(t *ticket.Ticket, cfg ticket.Config, at time.Time) error {
		return t.Reopen(ticket.Reopen{By: m.By, Source: m.Source, Status: status}, cfg, at)
	})
}

// SubmitFeedback rates ticket ref.
func (s *Tickets) SubmitFeedback(ctx context.Context, tenant, ref string, rating int, comment string, m Meta) (Result, error) {
	return s.execute(ctx, tenant, ref, m, func(t *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return t.SubmitFeedback(ticket.SubmitFeedback{By: m.By, Source: m.Source, Rating: rating, Comment: comment}, at)
	})
}

// HistoryInput is a history entry to log.
type HistoryInput struct {
	Type       ticket.HistoryType
	Value      json.RawMessage
	Visibility ticket.Visibility // empty: public
}

// HistoryResult is a logged history entry and the ticket after it.
type HistoryResult struct {
	Result
	Entry ticket.HistoryLogged
}

// LogHistory logs a history entry (comment, log, rating, thread) on
// ticket ref.
func (s *Tickets) LogHistory(ctx context.Context, tenant, ref string, in HistoryInput, m Meta) (HistoryResult, error) {
	entryID := m.derivedID("history-entry")
	res, err := s.execute(ctx, tenant, ref, m, func(t *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return t.LogHistory(ticket.LogHistory{By: m.By, Source: m.Source, EntryID: entryID,
			Type: in.Type, Value: in.Value, Visibility: in.Visibility}, at)
	})
	if err != nil {
		return HistoryResult{}, err
	}
	e, err := recorded[ticket.HistoryLogged](res, "log history")
	return HistoryResult{Result: res, Entry: e}, err
}

// ActivityResult is an added portal activity and the ticket after it.
type ActivityResult struct {
	Result
	Activity ticket.ActivityAdded
}

// AddActivity adds a portal activity to ticket ref.
func (s *Tickets) AddActivity(ctx context.Context, tenant, ref, text string, dir ticket.Direction, m Meta) (ActivityResult, error) {
	id := m.derivedID("activity")
	res, err := s.execute(ctx, tenant, ref, m, func(t *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return t.AddActivity(ticket.AddActivity{By: m.By, Source: m.Source, ActivityID: id, Text: text, Direction: dir}, at)
	})
	if err != nil {
		return ActivityResult{}, err
	}
	e, err := recorded[ticket.ActivityAdded](res, "add activity")
	return ActivityResult{Result: res, Activity: e}, err
}

// recorded finds the event of type E that a command recorded; a command
// that should have recorded one and did not is a bug.
func recorded[E domain.Event](res Result, op string) (E, error) {
	for _, e := range res.Events {
		if x, ok := e.(E); ok {
			return x, nil
		}
	}
	var zero E
	return zero, fmt.Errorf("%s: no %T recorded", op, zero)
}

// ConfigResult is the tenant's ticket configuration after a change, its
// version, and where the change landed (zero for a no-op).
type ConfigResult struct {
	Config   ticket.Config
	Version  int64
	Position eventstore.Position
}

// SetCategories replaces the tenant's ticket categories.
func (s *Tickets) SetCategories(ctx context.Context, tenant string, cats []ticket.Category, m Meta) (ConfigResult, error) {
	return s.changeConfig(ctx, tenant, m, func(c *ticket.TenantConfig, at time.Time) error {
		return c.SetCategories(ticket.SetCategories{By: m.By, Source: m.Source, Categories: cats}, at)
	})
}

// SetStatuses replaces the tenant's ticket statuses.
func (s *Tickets) SetStatuses(ctx context.Context, tenant string, statuses []ticket.Status, m Meta) (ConfigResult, error) {
	return s.changeConfig(ctx, tenant, m, func(c *ticket.TenantConfig, at time.Time) error {
		return c.SetStatuses(ticket.SetStatuses{By: m.By, Source: m.Source, Statuses: statuses}, at)
	})
}

// SetPriorities replaces the tenant's ticket priority styles.
func (s *Tickets) SetPriorities(ctx context.Context, tenant string, ps []ticket.PriorityStyle, m Meta) (ConfigResult, error) {
	return s.changeConfig(ctx, tenant, m, func(c *ticket.TenantConfig, at time.Time) error {
		return c.SetPriorities(ticket.SetPriorities{By: m.By, Source: m.Source, Priorities: ps}, at)
	})
}
