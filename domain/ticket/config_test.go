package ticket_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/domaintest"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// configScenario is a given/when/then case for TenantConfig.
type configScenario struct {
	name    string
	given   []domain.Event
	when    func(*ticket.TenantConfig) error
	then    []domain.Event
	wantErr error
}

func runConfig(t *testing.T, tests []configScenario) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ticket.RehydrateConfig(tt.given, int64(len(tt.given)))
			err := tt.when(c)
			domaintest.CheckErr(t, err, tt.wantErr)
			domaintest.CheckEvents(t, c.Pending(), tt.then)
			replayed := ticket.RehydrateConfig(domaintest.RoundTrip(t, append(append([]domain.Event{}, tt.given...), c.Pending()...), codec), 0)
			if got, want := replayed.Config(), c.Config(); !reflect.DeepEqual(got, want) {
				t.Fatalf("config after replay:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestRehydrateConfig_EmptyIsDefault(t *testing.T) {
	c := ticket.RehydrateConfig(nil, 0)
	if got, want := c.Config(), ticket.DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Config() = %+v, want DefaultConfig %+v", got, want)
	}
	if c.Version() != 0 || len(c.Pending()) != 0 {
		t.Fatalf("got version %d, %d pending; want 0, 0", c.Version(), len(c.Pending()))
	}
}

func TestDefaultConfig(t *testing.T) {
	d := ticket.DefaultConfig()
	var keys []string
	for _, s := range d.Statuses {
		keys = append(keys, s.Key)
	}
	if want := []string{"open", "in_progress", "pending", "resolved", "closed"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("default statuses %q, want %q", keys, want)
	}
	if _, ok := d.Category("general"); !ok {
		t.Fatalf("no general category in %+v", d.Categories)
	}
	// The defaults pass the same validation as tenant input: setting them
	// again changes nothing.
	c := ticket.RehydrateConfig(nil, 0)
	for _, err := range []error{
		c.SetCategories(ticket.SetCategories{By: agent, Source: api, Categories: d.Categories}, noon),
		c.SetStatuses(ticket.SetStatuses{By: agent, Source: api, Statuses: d.Statuses}, noon),
		c.SetPriorities(ticket.SetPriorities{By: agent, Source: api, Priorities: d.Priorities}, noon),
	} {
		if err != nil {
			t.Fatalf("setting the defaults: %v", err)
		}
	}
	if len(c.Pending()) != 0 {
		t.Fatalf("setting the defaults recorded %s", show(c.Pending()))
	}
}

func TestConfig_Lookups(t *testing.T) {
	c := testConfig()
	if s, ok := c.Status("pending"); !ok || s.Kind != ticket.KindPending {
		t.Errorf("Status(pending) = %+v, %v", s, ok)
	}
	if _, ok := c.Status("nope"); ok {
		t.Errorf("Status(nope) found")
	}
	if got, want := c.LookupStatus("archived", ticket.KindClosed), (ticket.Status{Key: "archived", Display: "archived", Color: "#9b9b9b", Kind: ticket.KindClosed}); got != want {
		t.Errorf("LookupStatus(removed) = %+v, want %+v", got, want)
	}
	if got := c.LookupStatus("open", ticket.KindOpen); got.Display != "Open" {
		t.Errorf("LookupStatus(open) = %+v", got)
	}
	if got := c.DefaultStatus(); got.Key != "open" {
		t.Errorf("DefaultStatus() = %+v, want open", got)
	}
	cat, ok := c.Category("orders")
	if !ok {
		t.Fatalf("Category(orders) not found")
	}
	if s, ok := cat.SubCategory("late"); !ok || s.Display != "Late delivery" {
		t.Errorf("SubCategory(late) = %+v, %v", s, ok)
	}
	if got := c.Priority(ticket.PriorityUrgent); got.Display != "Urgent" {
		t.Errorf("Priority(urgent) = %+v", got)
	}
	if got := (ticket.Config{}).Priority(ticket.PriorityHigh); got.Display != "High" {
		t.Errorf("Priority(high) of an empty config = %+v, want the default style", got)
	}
	clone := c.Clone()
	clone.Categories[1].SubCategories[0].Display = "changed"
	if c.Categories[1].SubCategories[0].Display != "Late delivery" {
		t.Errorf("Clone shares memory")
	}
}

func TestTenantConfig_SetCategories(t *testing.T) {
	set := func(cats ...ticket.Category) func(*ticket.TenantConfig) error {
		return func(c *ticket.TenantConfig) error {
			return c.SetCategories(ticket.SetCategories{By: agent, Source: api, Categories: cats}, noon)
		}
	}
	orders := ticket.Category{Key: "orders", Display: " Orders ", SubCategories: []ticket.SubCategory{{Key: "late", Display: "Late"}}}
	ordersSet := ticket.CategoriesSet{Change: before, Categories: []ticket.Category{{Key: "orders", Display: "Orders", SubCategories: []ticket.SubCategory{{Key: "late", Display: "Late"}}}}}
	run := runConfig
	run(t, []configScenario{
		{"replace the defaults", nil, set(orders, ticket.Category{Key: "general", Display: "General"}),
			given(ticket.CategoriesSet{Change: now, Categories: []ticket.Category{
				{Key: "orders", Display: "Orders", SubCategories: []ticket.SubCategory{{Key: "late", Display: "Late"}}},
				{Key: "general", Display: "General"},
			}}), nil},
		{"no categories at all", nil, set(), given(ticket.CategoriesSet{Change: now}), nil},
		{"the same list: no event", given(ordersSet), set(orders), nil, nil},
		{"bad key", nil, set(ticket.Category{Key: "Orders", Display: "Orders"}), nil, ticket.ErrInvalidKey.At("categories[0].key")},
		{"key too long", nil, set(ticket.Category{Key: "a" + strings.Repeat("b", 64), Display: "x"}), nil, ticket.ErrInvalidKey},
		{"repeated key", nil, set(ticket.Category{Key: "a", Display: "A"}, ticket.Category{Key: "a", Display: "B"}), nil, ticket.ErrDuplicateKey.At("categories[1].key")},
		{"no display", nil, set(ticket.Category{Key: "a", Display: " "}), nil, ticket.ErrInvalidField.At("categories[0].display")},
		{"bad sub-category key", nil, set(ticket.Category{Key: "a", Display: "A", SubCategories: []ticket.SubCategory{{Key: "1x", Display: "x"}}}), nil,
			ticket.ErrInvalidKey.At("categories[0].sub_categories[0].key")},
		{"repeated sub-category key", nil, set(ticket.Category{Key: "a", Display: "A", SubCategories: []ticket.SubCategory{{Key: "x", Display: "x"}, {Key: "x", Display: "y"}}}), nil,
			ticket.ErrDuplicateKey},
		{"sub-category without display", nil, set(ticket.Category{Key: "a", Display: "A", SubCategories: []ticket.SubCategory{{Key: "x"}}}), nil,
			ticket.ErrInvalidField.At("categories[0].sub_categories[0].display")},
		{"bad actor", nil, func(c *ticket.TenantConfig) error {
			return c.SetCategories(ticket.SetCategories{Source: api}, noon)
		}, nil, domain.ErrInvalidActor},
		{"bad source", nil, func(c *ticket.TenantConfig) error {
			return c.SetCategories(ticket.SetCategories{By: agent}, noon)
		}, nil, domain.ErrUnknownSource},
	})
}

func TestTenantConfig_SetStatuses(t *testing.T) {
	set := func(sts ...ticket.Status) func(*ticket.TenantConfig) error {
		return func(c *ticket.TenantConfig) error {
			return c.SetStatuses(ticket.SetStatuses{By: agent, Source: api, Statuses: sts}, noon)
		}
	}
	open := ticket.Status{Key: "new", Display: "New", Color: "#FFA951", Kind: ticket.KindOpen}
	done := ticket.Status{Key: "done", Display: "Done", Color: "#9b9b9b", Kind: ticket.KindClosed}
	statusesSet := ticket.StatusesSet{Change: before, Statuses: []ticket.Status{
		{Key: "new", Display: "New", Color: "#ffa951", Kind: ticket.KindOpen}, done,
	}}
	runConfig(t, []configScenario{
		{"two statuses, color lower-cased", nil, set(open, done), given(ticket.StatusesSet{Change: now, Statuses: []ticket.Status{
			{Key: "new", Display: "New", Color: "#ffa951", Kind: ticket.KindOpen}, done,
		}}), nil},
		{"the same list: no event", given(statusesSet), set(open, done), nil, nil},
		{"no open status", nil, set(done), nil, ticket.ErrStatusesIncomplete},
		{"no closed status", nil, set(open), nil, ticket.ErrStatusesIncomplete},
		{"empty list", nil, set(), nil, ticket.ErrStatusesIncomplete},
		{"bad key", nil, set(open, done, ticket.Status{Key: "in-progress", Display: "x", Color: "#000000", Kind: ticket.KindOpen}), nil,
			ticket.ErrInvalidKey.At("statuses[2].key")},
		{"repeated key", nil, set(open, done, open), nil, ticket.ErrDuplicateKey.At("statuses[2].key")},
		{"bad color", nil, set(open, ticket.Status{Key: "done", Display: "Done", Color: "grey", Kind: ticket.KindClosed}), nil,
			ticket.ErrInvalidColor.At("statuses[1].color")},
		{"short color", nil, set(open, ticket.Status{Key: "done", Display: "Done", Color: "#999", Kind: ticket.KindClosed}), nil,
			ticket.ErrInvalidColor},
		{"unknown kind", nil, set(open, done, ticket.Status{Key: "x", Display: "X", Color: "#000000", Kind: "archived"}), nil,
			ticket.ErrUnknownStatusKind.At("statuses[2].kind")},
		{"no display", nil, set(open, ticket.Status{Key: "done", Color: "#000000", Kind: ticket.KindClosed}), nil,
			ticket.ErrInvalidField.At("statuses[1].display")},
		{"too many", nil, func(c *ticket.TenantConfig) error {
			sts := make([]ticket.Status, ticket.MaxStatuses+1)
			return c.SetStatuses(ticket.SetStatuses{By: agent, Source: api, Statuses: sts}, noon)
		}, nil, ticket.ErrInvalidField.At("statuses")},
		{"bad actor", nil, func(c *ticket.TenantConfig) error {
			return c.SetStatuses(ticket.SetStatuses{Source: api, Statuses: []ticket.Status{open, done}}, noon)
		}, nil, domain.ErrInvalidActor},
	})
}

func TestTenantConfig_SetPriorities(t *testing.T) {
	set := func(ps ...ticket.PriorityStyle) func(*ticket.TenantConfig) error {
		return func(c *ticket.TenantConfig) error {
			return c.SetPriorities(ticket.SetPriorities{By: agent, Source: api, Priorities: ps}, noon)
		}
	}
	defaults := ticket.DefaultConfig().Priorities
	restyled := append([]ticket.PriorityStyle{}, defaults...)
	restyled[3] = ticket.PriorityStyle{Key: ticket.PriorityUrgent, Display: "P1", Color: "#ff0000"}
	runConfig(t, []configScenario{
		{"one restyled, the rest default, in order", nil, set(ticket.PriorityStyle{Key: ticket.PriorityUrgent, Display: " P1 ", Color: "#FF0000"}),
			given(ticket.PrioritiesSet{Change: now, Priorities: restyled}), nil},
		{"left out means default", given(ticket.PrioritiesSet{Change: before, Priorities: restyled}), set(),
			given(ticket.PrioritiesSet{Change: now, Priorities: defaults}), nil},
		{"the defaults: no event", nil, set(defaults...), nil, nil},
		{"unknown priority", nil, set(ticket.PriorityStyle{Key: "critical", Display: "C", Color: "#000000"}), nil,
			ticket.ErrUnknownPriority.At("priorities[0].key")},
		{"repeated priority", nil, set(defaults[0], defaults[0]), nil, ticket.ErrDuplicateKey.At("priorities[1].key")},
		{"bad color", nil, set(ticket.PriorityStyle{Key: ticket.PriorityLow, Display: "Low", Color: "blue"}), nil, ticket.ErrInvalidColor},
		{"no display", nil, set(ticket.PriorityStyle{Key: ticket.PriorityLow, Color: "#000000"}), nil, ticket.ErrInvalidField.At("priorities[0].display")},
		{"bad source", nil, func(c *ticket.TenantConfig) error {
			return c.SetPriorities(ticket.SetPriorities{By: agent, Source: "x"}, noon)
		}, nil, domain.ErrUnknownSource},
	})
}

// TestConfigChangesDoNotRewriteTickets: a ticket keeps the kind its status
// had when it was set, whatever the configuration says later.
func TestConfigChangesDoNotRewriteTickets(t *testing.T) {
	c := ticket.RehydrateConfig(nil, 0)
	err := c.SetStatuses(ticket.SetStatuses{By: agent, Source: api, Statuses: []ticket.Status{
		{Key: "open", Display: "Open", Color: "#ffa951", Kind: ticket.KindOpen},
		{Key: "closed", Display: "Closed", Color: "#9b9b9b", Kind: ticket.KindOpen}, // now open-like
		{Key: "archived", Display: "Archived", Color: "#000000", Kind: ticket.KindClosed},
	}}, noon)
	if err != nil {
		t.Fatal(err)
	}
	tk := ticket.Rehydrate(given(created, closed), 2)
	err = tk.ChangeStatus(ticket.ChangeStatus{By: agent, Source: api, Status: "open"}, c.Config(), noon)
	domaintest.CheckErr(t, err, ticket.ErrClosed)
	err = tk.Reopen(ticket.Reopen{By: agent, Source: api}, c.Config(), noon)
	domaintest.CheckErr(t, err, nil)
}
