package app

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/eventstore"
)

// MergeResult is the outcome of a merge, or of its dry run: the survivor
// as it is (or would be) afterwards and every field on which the merged
// customers disagreed, with the value chosen.
type MergeResult struct {
	Customer  customer.Snapshot
	Conflicts []customer.Conflict
	DryRun    bool
	Position  eventstore.Position
}

// ErrMergeSelf: a customer cannot be merged into itself.
var ErrMergeSelf = &domain.Error{Kind: domain.Invalid, Code: "merge_self", Field: "from", Msg: "a customer cannot be merged into itself"}

// Merge merges the customers from names into the live customer survivor
// names, all of the same kind: their identities move to the survivor, its
// profile becomes the union of theirs (prefer picks, per field, whose
// value wins), and each merged customer is frozen, pointing at the
// survivor, so that its id and code, tickets, deals, notes and history
// show under it. All of it is one atomic append. With dryRun nothing is
// written.
func (s *Customers) Merge(ctx context.Context, tenant, survivor string, from []string, prefer map[string]string, dryRun bool, m Meta) (MergeResult, error) {
	if len(from) == 0 {
		return MergeResult{}, customer.ErrInvalidField.At("from").Withf("from must name at least one customer")
	}
	for attempt := 0; ; attempt++ {
		sv, h, err := s.live(ctx, tenant, survivor)
		if err != nil {
			return MergeResult{}, err
		}
		sstream := customerStream(tenant, sv.ID())
		if at, ok := h.landed(m); ok && !dryRun {
			o := s.customers.replay(h, at)
			return MergeResult{Customer: o.agg.Snapshot(), Position: o.pos}, nil
		}
		merged := make([]*customer.Customer, 0, len(from))
		snaps := make([]customer.Snapshot, 0, len(from))
		for i, ref := range from {
			f, _, err := s.load(ctx, tenant, ref)
			if errors.Is(err, customer.ErrNotFound) {
				return MergeResult{}, customer.ErrNotFound.At(fmt.Sprintf("from[%d]", i)).Withf("from[%d]: no customer %s", i, ref)
			}
			if err != nil {
				return MergeResult{}, err
			}
			switch fs := f.Snapshot(); {
			case fs.ID == sv.ID():
				return MergeResult{}, ErrMergeSelf.At(fmt.Sprintf("from[%d]", i))
			case fs.MergedInto != "":
				return MergeResult{}, customer.ErrMerged.At(fmt.Sprintf("from[%d]", i)).Withf("from[%d]: customer %s is already merged into %s", i, ref, fs.MergedInto)
			case fs.Kind != sv.Snapshot().Kind:
				return MergeResult{}, customer.ErrKindMismatch.At(fmt.Sprintf("from[%d]", i)).Withf("from[%d]: %s is a %s; the survivor is a %s", i, ref, fs.Kind, sv.Snapshot().Kind)
			}
			merged, snaps = append(merged, f), append(snaps, f.Snapshot())
		}
		final, conflicts, err := customer.MergeProfiles(sv.Snapshot(), snaps, prefer)
		if err != nil {
			return MergeResult{}, err
		}
		if dryRun {
			preview := sv.Snapshot()
			preview.Profile = final
			for _, f := range snaps {
				preview.MergedFrom = append(preview.MergedFrom, f.ID)
			}
			return MergeResult{Customer: preview, Conflicts: conflicts, DryRun: true, Position: h.last()}, nil
		}
		mergeID := m.derivedID("merge")
		at := s.now()
		b := batch{m: m}
		// The survivor absorbs each merged customer in turn, so that each
		// absorption says what that one brought (an un-merge gives it back).
		for _, f := range snaps {
			step, _, err := customer.MergeProfiles(sv.Snapshot(), []customer.Snapshot{f}, only(prefer, sv.ID(), f.ID))
			if err != nil {
				return MergeResult{}, err
			}
			if err := sv.Absorb(m.By, m.Source, f, mergeID, step, at); err != nil {
				return MergeResult{}, err
			}
		}
		if err := b.add(sstream, eventstore.Exact(sv.Version()), sv.Pending(), customer.Encode); err != nil {
			return MergeResult{}, err
		}
		for _, f := range merged {
			if err := f.MergeInto(m.By, m.Source, sv.ID(), mergeID, at); err != nil {
				return MergeResult{}, err
			}
			if err := b.add(customerStream(tenant, f.ID()), eventstore.Exact(f.Version()), f.Pending(), customer.Encode); err != nil {
				return MergeResult{}, err
			}
			res, err := reserve(ctx, s.store, tenant, f.Snapshot().Profile.Identities())
			if err != nil {
				return MergeResult{}, err
			}
			for _, r := range res {
				if r.holder == f.ID() {
					if err := b.claim(tenant, r, sv.ID()); err != nil {
						return MergeResult{}, err
					}
				}
			}
		}
		out, err := b.append(ctx, s.store)
		if errors.Is(err, eventstore.ErrVersionConflict) || err == nil && out[0].Duplicate {
			s.forget(b.parts)
			if err := backoff(ctx, attempt); err != nil {
				return MergeResult{}, err
			}
			continue
		}
		if err != nil {
			return MergeResult{}, fmt.Errorf("merge into %s: %w", sv.ID(), err)
		}
		s.forget(b.parts)
		return MergeResult{Customer: sv.Snapshot(), Conflicts: conflicts, Position: lastCustomerEvent(b.parts, out)}, nil
	}
}

// only returns the entries of prefer that name one of ids.
func only(prefer map[string]string, ids ...string) map[string]string {
	out := maps.Clone(prefer)
	maps.DeleteFunc(out, func(_, id string) bool {
		for _, x := range ids {
			if x == id {
				return false
			}
		}
		return true
	})
	return out
}

// lastCustomerEvent returns the position of the last customer event an
// append of parts stored: what a read of the customers (contacts.v1) must
// reach to show the write. Identity reservations, tickets and other
// streams that follow it are not customer events, and a projection of
// customers never reaches their positions.
func lastCustomerEvent(parts []eventstore.StreamAppend, res []eventstore.AppendResult) eventstore.Position {
	var last eventstore.Position
	for i, p := range parts {
		if p.Stream.Type == customer.StreamType && last.Less(res[i].Last()) {
			last = res[i].Last()
		}
	}
	return last
}

// forget drops the cached histories of the customer streams in parts.
func (s *Customers) forget(parts []eventstore.StreamAppend) {
	for _, p := range parts {
		if p.Stream.Type == customer.StreamType {
			s.customers.cache.Remove(p.Stream)
		}
	}
}

// Unmerge undoes the merge of restored into the live customer survivor
// names: restored comes back exactly as it was, takes its identities back
// (those the survivor still holds), and receives whatever was attached to
// the survivor since the merge through those identities. The survivor
// gives back what restored brought to its profile, keeping edits made
// since. All of it is one atomic append.
func (s *Customers) Unmerge(ctx context.Context, tenant, survivor, restored string, m Meta) (CustomerResult, error) {
	for attempt := 0; ; attempt++ {
		sv, h, err := s.live(ctx, tenant, survivor)
		if err != nil {
			return CustomerResult{}, err
		}
		sstream := customerStream(tenant, sv.ID())
		if at, ok := h.landed(m); ok {
			// The restored customer's answer: read it back.
			o := s.customers.replay(h, at)
			if un, ok := o.events[0].(customer.CustomerUnmerged); ok {
				snap, _, err := s.Get(ctx, tenant, un.Restored)
				return CustomerResult{Customer: snap, Position: o.pos}, err
			}
			return CustomerResult{Customer: o.agg.Snapshot(), Position: o.pos}, nil
		}
		r, _, err := s.load(ctx, tenant, restored)
		if errors.Is(err, customer.ErrNotFound) {
			return CustomerResult{}, customer.ErrNotFound.At("contact").Withf("contact: no customer %s", restored)
		}
		if err != nil {
			return CustomerResult{}, err
		}
		if r.Snapshot().MergedInto != sv.ID() {
			return CustomerResult{}, customer.ErrNotMerged.At("contact").Withf("contact: %s is not merged into %s", restored, sv.ID())
		}
		at := s.now()
		un, err := sv.Unmerge(m.By, m.Source, r.Snapshot(), at)
		if err != nil {
			return CustomerResult{}, err
		}
		if err := r.Restore(m.By, m.Source, sv.ID(), un.MergeID, un.Items, at); err != nil {
			return CustomerResult{}, err
		}
		b := batch{m: m}
		if err := b.add(sstream, eventstore.Exact(sv.Version()), sv.Pending(), customer.Encode); err != nil {
			return CustomerResult{}, err
		}
		rstream := customerStream(tenant, r.ID())
		if err := b.add(rstream, eventstore.Exact(r.Version()), r.Pending(), customer.Encode); err != nil {
			return CustomerResult{}, err
		}
		res, err := reserve(ctx, s.store, tenant, un.Identities)
		if err != nil {
			return CustomerResult{}, err
		}
		for _, rs := range res {
			if rs.holder == sv.ID() {
				if err := b.claim(tenant, rs, r.ID()); err != nil {
					return CustomerResult{}, err
				}
			}
		}
		if s.relink != nil {
			if err := s.relink(ctx, &b, tenant, r.ID(), un.Items); err != nil {
				return CustomerResult{}, err
			}
		}
		out, err := b.append(ctx, s.store)
		if errors.Is(err, eventstore.ErrVersionConflict) || err == nil && out[0].Duplicate {
			s.forget(b.parts)
			if err := backoff(ctx, attempt); err != nil {
				return CustomerResult{}, err
			}
			continue
		}
		if err != nil {
			return CustomerResult{}, fmt.Errorf("unmerge %s from %s: %w", r.ID(), sv.ID(), err)
		}
		s.forget(b.parts)
		return CustomerResult{Customer: r.Snapshot(), Position: lastCustomerEvent(b.parts, out)}, nil
	}
}
