package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/domain/deal"
	"github.com/eventdesk/eventdesk/eventstore"
)

// A deal names the customer it is with and its related contacts by
// customer id; the customers' timelines show it through DealLinked events
// on their own streams, appended in the same atomic append as the deal's
// events (Deals.link).

// resolveCustomers turns the customer references of a deal command — ids
// or codes, perhaps of merged customers — into the ids of the live
// customers they stand for. A reference to no customer of the tenant is
// Invalid at field ("customer", "contacts[1]").
func (s *Customers) resolveCustomers(ctx context.Context, tenant string, customerRef *string, contacts *[]string) error {
	var errs []error
	resolve := func(field string, ref *string) error {
		if *ref == "" {
			return nil
		}
		c, _, err := s.live(ctx, tenant, *ref)
		if errors.Is(err, customer.ErrNotFound) {
			errs = append(errs, deal.ErrInvalidField.At(field).Withf("%s: no customer %s in this tenant", field, *ref))
			return nil
		}
		if err != nil {
			return err
		}
		*ref = c.ID()
		return nil
	}
	if customerRef != nil {
		if err := resolve("customer", customerRef); err != nil {
			return err
		}
	}
	if contacts != nil {
		*contacts = slices.Clone(*contacts) // the caller's stays as given
		for i := range *contacts {
			if err := resolve("contacts["+strconv.Itoa(i)+"]", &(*contacts)[i]); err != nil {
				return err
			}
		}
	}
	return domain.Join(errs...)
}

// dealLinkOffset numbers the ids of a deal command's link events after the
// deal's own (Meta.eventID), far enough not to meet them.
const dealLinkOffset = 1000

// dealLinks returns the appends that attach deal d to its customer and
// contacts (each once per role), for the deal command's own atomic append.
func (s *Customers) dealLinks(ctx context.Context, tenant string, d deal.Snapshot, m Meta) ([]eventstore.StreamAppend, error) {
	type link struct{ id, role string }
	var links []link
	if d.Customer != "" {
		links = append(links, link{d.Customer, customer.RoleCustomer})
	}
	for _, c := range d.Contacts {
		links = append(links, link{c, customer.RoleContact})
	}
	b := batch{m: m, n: dealLinkOffset}
	loaded := map[string]*customer.Customer{}
	var order []string
	for _, l := range links {
		live, _, err := s.live(ctx, tenant, l.id)
		if err != nil {
			return nil, fmt.Errorf("link deal %s to %s: %w", d.ID, l.id, err)
		}
		c, ok := loaded[live.ID()]
		if !ok {
			c = live
			loaded[live.ID()], order = c, append(order, live.ID())
		}
		if err := c.LinkDeal(m.By, m.Source, d.ID, d.Name, l.role, nil, s.now()); err != nil {
			return nil, err
		}
	}
	for _, id := range order {
		c, stream := loaded[id], customerStream(tenant, id)
		if err := b.add(stream, eventstore.Exact(c.Version()), c.Pending(), customer.Encode); err != nil {
			return nil, err
		}
		s.customers.cache.Remove(stream)
	}
	return b.parts, nil
}
