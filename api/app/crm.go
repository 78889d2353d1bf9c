package app

import (
	"context"
	"strings"
	"time"

	crmconfig "github.com/eventdesk/eventdesk/domain/crm"
	"github.com/eventdesk/eventdesk/eventstore"
)

var crmKind = kind[*crmconfig.Config]{encode: crmconfig.Encode, decode: crmconfig.Decode, rehydrate: crmconfig.Rehydrate}

// CRM runs the commands of a tenant's CRM configuration: its default phone
// region, deal categories and packages, and custom field definitions (one
// stream per tenant, crmconfig.StreamType/crmconfig.StreamID).
type CRM struct {
	configs *repository[*crmconfig.Config]
	now     func() time.Time
}

// NewCRM returns the CRM configuration service.
func NewCRM(store eventstore.Store, now func() time.Time) *CRM {
	if now == nil {
		now = time.Now
	}
	return &CRM{configs: newRepository(crmKind, store), now: now}
}

func crmStream(tenant string) eventstore.StreamRef {
	return eventstore.StreamRef{TenantID: tenant, Type: crmconfig.StreamType, ID: crmconfig.StreamID}
}

// Get returns tenant's CRM configuration (the default one if never set)
// and the position of its last change.
func (s *CRM) Get(ctx context.Context, tenant string) (crmconfig.Snapshot, eventstore.Position, error) {
	c, pos, err := s.configs.load(ctx, crmStream(tenant))
	if err != nil {
		return crmconfig.Snapshot{}, eventstore.Position{}, err
	}
	return c.Snapshot(), pos, nil
}

// configTail is a tenant's CRM configuration as this process holds it and
// the read that brings it up to date, for commands that make that read
// along with their own (Customers.Create): see cached and caughtUp.
type configTail struct {
	stream eventstore.StreamRef
	h      history
	read   eventstore.StreamRead
}

// cached returns tenant's configuration as this process last read it (the
// default one if never) without reading the store, and its tail. A
// decision taken on it must be checked with caughtUp before it stands.
func (s *CRM) cached(tenant string) (crmconfig.Snapshot, configTail) {
	stream := crmStream(tenant)
	h, rd := s.configs.tail(stream)
	return s.configs.rehydrate(h.events, h.version()).Snapshot(), configTail{stream: stream, h: h, read: rd}
}

// caughtUp applies evs, read with t.read, and returns the configuration
// they make; changed says whether there were any (the copy was stale).
func (s *CRM) caughtUp(t configTail, evs []eventstore.Event) (cfg crmconfig.Snapshot, changed bool, err error) {
	h, err := s.configs.extend(t.stream, t.h, evs)
	if err != nil {
		return crmconfig.Snapshot{}, false, err
	}
	return s.configs.rehydrate(h.events, h.version()).Snapshot(), len(evs) > 0, nil
}

// Region returns tenant's default phone region ("" for none).
func (s *CRM) Region(ctx context.Context, tenant string) (string, error) {
	c, _, err := s.Get(ctx, tenant)
	return c.Region, err
}

// SetConfig replaces the region and the deal category and package lists.
// The region must be one libphonenumber supports (crmconfig.ErrInvalidRegion).
// With m.IfVersion the configuration must be at that version.
func (s *CRM) SetConfig(ctx context.Context, tenant string, c crmconfig.SetConfig, m Meta) (crmconfig.Snapshot, eventstore.Position, error) {
	if r := strings.ToUpper(strings.TrimSpace(c.Region)); r != "" && crmconfig.ValidRegion(r) && !SupportedRegion(r) {
		return crmconfig.Snapshot{}, eventstore.Position{}, crmconfig.ErrInvalidRegion.At("region").Withf("region %q is not a phone region libphonenumber supports", c.Region)
	}
	o, err := s.configs.run(ctx, crmStream(tenant), s.now, m, func(cfg *crmconfig.Config, at time.Time) error {
		return cfg.Set(c, m.By, m.Source, at)
	})
	if err != nil {
		return crmconfig.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}

// SetCustomFields replaces every custom field definition of the tenant.
func (s *CRM) SetCustomFields(ctx context.Context, tenant string, defs []crmconfig.FieldDef, m Meta) (crmconfig.Snapshot, eventstore.Position, error) {
	o, err := s.configs.run(ctx, crmStream(tenant), s.now, m, func(cfg *crmconfig.Config, at time.Time) error {
		return cfg.SetCustomFields(defs, m.By, m.Source, at)
	})
	if err != nil {
		return crmconfig.Snapshot{}, eventstore.Position{}, err
	}
	return o.agg.Snapshot(), o.pos, nil
}
