package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/projections"
)

// crmFixture appends customer (and deal) events through the real store and
// runs the CRM projections over them.
type crmFixture struct {
	db     *sqlx.DB
	store  *postgres.Store
	runner *projections.Runner
	q      *projections.ContactQueries
	n      int

	mu   sync.Mutex
	last eventstore.Position
}

// newCRMFixture returns a fixture over a fresh database whose runner runs
// projs (contacts.v1 and deals.v1 if none are given).
func newCRMFixture(t testing.TB, projs ...projections.Projection) *crmFixture {
	db := pgtest.DB(t)
	s := postgres.New(db, nil)
	t.Cleanup(func() { s.Close() })
	if len(projs) == 0 {
		projs = []projections.Projection{projections.Contacts{}, projections.Deals{}}
	}
	return &crmFixture{db: db, store: s, q: projections.NewContactQueries(db.DB),
		runner: projections.NewRunner(db.DB, s, s, slog.New(slog.NewTextHandler(os.Stderr, nil)), 20*time.Millisecond, projs...)}
}

func (f *crmFixture) start(t testing.TB) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.runner.Run(ctx)
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// appendEvents appends evs, encoded by codec, to stream typ/id at version exp.
func (f *crmFixture) appendEvents(t testing.TB, codec *domain.Codec, tenant, typ, id string, exp int64, evs []domain.Event) {
	t.Helper()
	data := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		b, err := codec.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		data[i] = eventstore.EventData{ID: uuid.NewString(), Type: e.EventType(), SchemaVersion: codec.Version(e.EventType()), Data: b}
	}
	res, err := f.store.Append(context.Background(), eventstore.StreamRef{TenantID: tenant, Type: typ, ID: id},
		eventstore.Exact(exp), data)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	if f.last.Less(res.Last()) {
		f.last = res.Last()
	}
	f.mu.Unlock()
}

// waitFor waits until projection name has applied every append so far.
func (f *crmFixture) waitFor(t testing.TB, name string) {
	t.Helper()
	f.mu.Lock()
	head := f.last
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.runner.WaitFor(ctx, name, head); err != nil {
		t.Fatalf("%s did not reach %v: %v", name, head, err)
	}
}

// cust is a customer under test: its tenant and its whole history.
type cust struct {
	tenant string
	hist   []domain.Event
}

func (c *cust) agg() *customer.Customer {
	return customer.Rehydrate(c.hist, int64(len(c.hist)))
}

func (c *cust) snap() customer.Snapshot { return c.agg().Snapshot() }

func (c *cust) id() string { return c.snap().ID }

// do runs cmd on the customer and appends what it recorded.
func (f *crmFixture) do(t testing.TB, c *cust, cmd func(*customer.Customer) error) {
	t.Helper()
	a := c.agg()
	if err := cmd(a); err != nil {
		t.Fatal(err)
	}
	f.appendEvents(t, customer.Codec(), c.tenant, customer.StreamType, a.ID(), a.Version(), a.Pending())
	c.hist = append(c.hist, a.Pending()...)
}

// create appends a new customer of kind with profile p, created a minute
// after the previous one.
func (f *crmFixture) create(t testing.TB, tenant string, kind customer.Kind, p customer.Profile) *cust {
	t.Helper()
	f.n++
	prefix, _ := customer.CodePrefix(kind)
	a, err := customer.New(customer.Create{By: agent, Source: domain.SourceAPI, ID: uuid.NewString(), Kind: kind,
		Code: fmt.Sprintf("%s-%d", prefix, f.n), Profile: p}, noon.Add(time.Duration(f.n)*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f.appendEvents(t, customer.Codec(), tenant, customer.StreamType, a.ID(), 0, a.Pending())
	return &cust{tenant: tenant, hist: a.Pending()}
}

var (
	ownerAgent = uuid.NewString()
	otherAgent = uuid.NewString()
	listed     = uuid.NewString()
	salesGroup = uuid.NewString()
)

func names(page projections.ContactPage) []string {
	var out []string
	for _, s := range page.Contacts {
		out = append(out, s.Profile.Name)
	}
	return out
}

func TestContactsList(t *testing.T) {
	f := newCRMFixture(t)
	f.start(t)
	account := f.create(t, "t1", customer.Account, customer.Profile{Name: "Acme Trading", Tags: []string{"b2b"}})
	ana := f.create(t, "t1", customer.Contact, customer.Profile{Name: "Ana", LastName: "Lima", Passport: "b 123 456",
		Emails: []customer.Email{{Type: "Work", Value: "Ana.Lima@Example.com"}},
		Phones: []customer.Phone{{Value: "0905 000 001", Normalized: "+84905000001"}}, Tags: []string{"vip", "hot"},
		ContactID: "crm-77", Account: account.id(), Owner: ownerAgent, Channel: "web"})
	f.create(t, "t1", customer.Lead, customer.Profile{Name: "Bruno Costa", Channel: "phone",
		Emails: []customer.Email{{Value: "bruno@example.org"}}})
	f.create(t, "t2", customer.Contact, customer.Profile{Name: "Ana Lima", Emails: []customer.Email{{Value: "ana.lima@example.com"}}})
	later := f.create(t, "t1", customer.Contact, customer.Profile{Name: "Carla"})
	f.do(t, later, func(c *customer.Customer) error {
		return c.Update(agent, domain.SourceAPI, customer.Profile{Name: "Carla", Tags: []string{"vip"}}, noon.Add(time.Hour))
	})
	f.waitFor(t, projections.ContactsName)

	tests := []struct {
		name string
		f    projections.ContactFilter
		want []string
	}{
		{"all, newest first", projections.ContactFilter{}, []string{"Carla", "Bruno Costa", "Ana", "Acme Trading"}},
		{"kind", projections.ContactFilter{Kind: []string{"contact"}}, []string{"Carla", "Ana"}},
		{"kinds", projections.ContactFilter{Kind: []string{"lead", "account"}}, []string{"Bruno Costa", "Acme Trading"}},
		{"tag", projections.ContactFilter{Tag: []string{"vip"}}, []string{"Carla", "Ana"}},
		{"owner", projections.ContactFilter{Owner: ownerAgent}, []string{"Ana"}},
		{"account", projections.ContactFilter{Account: account.id()}, []string{"Ana"}},
		{"channel", projections.ContactFilter{Channel: "phone"}, []string{"Bruno Costa"}},
		{"created from", projections.ContactFilter{CreatedFrom: noon.Add(3 * time.Minute)}, []string{"Carla", "Bruno Costa"}},
		{"created to", projections.ContactFilter{CreatedTo: noon.Add(3 * time.Minute)}, []string{"Ana", "Acme Trading"}},
		{"updated from", projections.ContactFilter{UpdatedFrom: noon.Add(30 * time.Minute)}, []string{"Carla"}},
		{"updated to", projections.ContactFilter{UpdatedTo: noon.Add(30 * time.Minute)}, []string{"Bruno Costa", "Ana", "Acme Trading"}},
		{"search name", projections.ContactFilter{Q: "lima"}, []string{"Ana"}},
		{"search full name", projections.ContactFilter{Q: "Ana Lima"}, []string{"Ana"}},
		{"search e-mail, any case", projections.ContactFilter{Q: "ANA.LIMA@example.COM"}, []string{"Ana"}},
		{"search phone", projections.ContactFilter{Q: "0905000001", QPhone: "+84905000001"}, []string{"Ana"}},
		{"search passport", projections.ContactFilter{Q: "b123 456"}, []string{"Ana"}},
		{"search code", projections.ContactFilter{Q: "pid-2"}, []string{"Ana"}},
		{"search contact id", projections.ContactFilter{Q: "crm-77"}, []string{"Ana"}},
		{"search and filter", projections.ContactFilter{Q: "example", Kind: []string{"lead"}}, nil},
		{"search finds nothing", projections.ContactFilter{Q: "nobody@example.com"}, nil},
		{"search with LIKE characters", projections.ContactFilter{Q: "%"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.TenantID, tt.f.Viewer = "t1", domain.Viewer{Admin: true}
			page, err := f.q.List(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(page)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}

	page, err := f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Q: "ana.lima@example.com", Viewer: domain.Viewer{Admin: true}})
	if err != nil || len(page.Contacts) != 1 {
		t.Fatalf("List by e-mail = %v, %v", page, err)
	}
	if diff := cmp.Diff(ana.snap(), page.Contacts[0]); diff != "" {
		t.Errorf("read model differs from the aggregate (-aggregate +read model):\n%s", diff)
	}

	for _, tt := range []struct {
		name  string
		kinds []string
		want  []string
	}{
		{"Ana Lima", nil, []string{ana.id()}},
		{"  ana LIMA ", []string{"contact"}, []string{ana.id()}},
		{"Ana Lima", []string{"lead"}, nil},
		{"Ana", nil, nil},
	} {
		got, err := f.q.FindByName(context.Background(), "t1", tt.name, tt.kinds...)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("FindByName(%q, %v) (-want +got):\n%s", tt.name, tt.kinds, diff)
		}
	}
}

func TestContactsCursor(t *testing.T) {
	f := newCRMFixture(t)
	f.start(t)
	for i := range 7 {
		f.create(t, "t1", customer.Contact, customer.Profile{Name: fmt.Sprintf("c%d", i)})
	}
	f.waitFor(t, projections.ContactsName)
	var got []string
	cursor := ""
	for i := range 10 {
		page, err := f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Limit: 3, Cursor: cursor,
			Viewer: domain.Viewer{Admin: true}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(page)...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if i == 0 { // a customer created while paging does not shift the pages
			f.create(t, "t1", customer.Contact, customer.Profile{Name: "late"})
			f.waitFor(t, projections.ContactsName)
		}
	}
	if diff := cmp.Diff([]string{"c6", "c5", "c4", "c3", "c2", "c1", "c0"}, got); diff != "" {
		t.Errorf("paged names (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"garbage!", "MjAyNg", "eA"} {
		_, err := f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Cursor: bad})
		var de *domain.Error
		if !errors.Is(err, projections.ErrBadCursor) || !errors.As(err, &de) || de.Kind != domain.Invalid {
			t.Errorf("List with cursor %q: err = %v, want ErrBadCursor (Invalid)", bad, err)
		}
		_, err = f.q.Timeline(context.Background(), projections.TimelineQuery{TenantID: "t1", CustomerID: uuid.NewString(), Cursor: bad})
		if !errors.Is(err, projections.ErrBadCursor) {
			t.Errorf("Timeline with cursor %q: err = %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestContactsPermits(t *testing.T) {
	f := newCRMFixture(t)
	f.start(t)
	permits := map[string]domain.Permit{
		"everybody":    {Kind: domain.PermitEverybody},
		"owner":        {Kind: domain.PermitOwner},
		"owner_group":  {Kind: domain.PermitOwnerGroup, Group: salesGroup},
		"owner_agents": {Kind: domain.PermitOwnerAgents, Agents: []string{listed}},
	}
	order := []string{"everybody", "owner", "owner_group", "owner_agents"}
	var holder *cust
	for _, name := range order {
		c := f.create(t, "t1", customer.Contact, customer.Profile{Name: name, Owner: ownerAgent, Permit: permits[name]})
		if name == "everybody" {
			holder = c
		}
	}
	// Notes with each permit on a customer everybody sees.
	for _, name := range order {
		f.do(t, holder, func(c *customer.Customer) error {
			return c.AddNote(agent, domain.SourceAPI, customer.NoteInput{NoteID: uuid.NewString(), Body: name,
				Owner: ownerAgent, Permit: permits[name]}, noon.Add(time.Hour))
		})
	}
	f.waitFor(t, projections.ContactsName)

	viewers := []struct {
		name string
		v    domain.Viewer
		want []string // oldest first
	}{
		{"admin", domain.Viewer{Admin: true}, order},
		{"owner", domain.Viewer{Agent: ownerAgent}, order},
		{"group member", domain.Viewer{Agent: otherAgent, Groups: []string{uuid.NewString(), salesGroup}}, []string{"everybody", "owner_group"}},
		{"listed agent", domain.Viewer{Agent: listed}, []string{"everybody", "owner_agents"}},
		{"another agent", domain.Viewer{Agent: otherAgent}, []string{"everybody"}},
		{"agent of no name", domain.Viewer{}, []string{"everybody"}},
	}
	for _, tt := range viewers {
		t.Run(tt.name, func(t *testing.T) {
			page, err := f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Viewer: tt.v})
			if err != nil {
				t.Fatal(err)
			}
			got := names(page)
			slices.Reverse(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("listed customers (-want +got):\n%s", diff)
			}
			tl, err := f.q.Timeline(context.Background(), projections.TimelineQuery{TenantID: "t1", CustomerID: holder.id(),
				Kinds: []string{projections.EntryNote}, Viewer: tt.v})
			if err != nil {
				t.Fatal(err)
			}
			var notes []string
			for _, it := range slices.Backward(tl.Items) {
				n, err := customer.Decode(it.Type, 1, it.Data)
				if err != nil {
					t.Fatal(err)
				}
				notes = append(notes, n.(customer.NoteAdded).Body)
			}
			if diff := cmp.Diff(tt.want, notes); diff != "" {
				t.Errorf("notes on the timeline (-want +got):\n%s", diff)
			}
		})
	}
}

// timeline returns the customer's timeline as "kind id" lines, newest first,
// paging through it two items at a time.
func timeline(t *testing.T, f *crmFixture, tenant, id string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		page, err := f.q.Timeline(context.Background(), projections.TimelineQuery{TenantID: tenant, CustomerID: id,
			Viewer: domain.Viewer{Admin: true}, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out = append(out, it.Kind+" "+it.ID)
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

func TestContactsMergeTimeline(t *testing.T) {
	f := newCRMFixture(t)
	f.start(t)
	at := noon.Add(time.Hour)
	survivor := f.create(t, "t1", customer.Contact, customer.Profile{Name: "Ana", Emails: []customer.Email{{Value: "ana@a.example"}}})
	merged := f.create(t, "t1", customer.Contact, customer.Profile{Name: "Ana L", Emails: []customer.Email{{Value: "ana@b.example"}}})
	survivorNote, mergedNote, viaNote := uuid.NewString(), uuid.NewString(), uuid.NewString()
	mergedTicket, dealID := uuid.NewString(), uuid.NewString()
	f.do(t, survivor, func(c *customer.Customer) error {
		return c.AddNote(agent, domain.SourceAPI, customer.NoteInput{NoteID: survivorNote, Body: "hello"}, at)
	})
	f.do(t, merged, func(c *customer.Customer) error {
		if err := c.AddNote(agent, domain.SourceAPI, customer.NoteInput{NoteID: mergedNote, Body: "from b"}, at); err != nil {
			return err
		}
		if err := c.LinkTicket(agent, domain.SourceAPI, mergedTicket, 7, "Broken", nil, at); err != nil {
			return err
		}
		return c.RecordDuplicate(agent, domain.SourceAPI, []customer.Identity{{Kind: customer.ByEmail, Value: "ana@b.example"}},
			customer.Profile{Name: "Ana L"}, at)
	})
	f.waitFor(t, projections.ContactsName)
	mergedBefore := timeline(t, f, "t1", merged.id())
	survivorBefore := timeline(t, f, "t1", survivor.id())

	// Merge: the survivor absorbs, the merged customer records where it went.
	mergeID := uuid.NewString()
	mergedSnap := merged.snap()
	profile, _, err := customer.MergeProfiles(survivor.snap(), []customer.Snapshot{mergedSnap}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.do(t, survivor, func(c *customer.Customer) error {
		return c.Absorb(agent, domain.SourceAPI, mergedSnap, mergeID, profile, at)
	})
	f.do(t, merged, func(c *customer.Customer) error {
		return c.MergeInto(agent, domain.SourceAPI, survivor.id(), mergeID, at)
	})
	// Attached to the survivor through the merged customer's e-mail: it
	// goes back with it on un-merge. A deal linked by id stays.
	f.do(t, survivor, func(c *customer.Customer) error {
		via := &customer.Identity{Kind: customer.ByEmail, Value: "ana@b.example"}
		if err := c.AddNote(agent, domain.SourceAPI, customer.NoteInput{NoteID: viaNote, Body: "by b's e-mail", Via: via}, at); err != nil {
			return err
		}
		return c.LinkDeal(agent, domain.SourceAPI, dealID, "Big deal", customer.RoleCustomer, nil, at)
	})
	f.waitFor(t, projections.ContactsName)

	got := timeline(t, f, "t1", survivor.id())
	want := []string{"deal " + dealID, "note " + viaNote, "merged " + survivor.id(), "absorbed " + merged.id()}
	// Older entries of both interleave by position.
	if len(got) != len(survivorBefore)+len(mergedBefore)+4 {
		t.Fatalf("survivor timeline after merge = %v, want 4 new entries, its own %v and the merged customer's %v",
			got, survivorBefore, mergedBefore)
	}
	if diff := cmp.Diff(want, got[:4]); diff != "" {
		t.Errorf("survivor's newest entries (-want +got):\n%s", diff)
	}
	for _, e := range slices.Concat(survivorBefore, mergedBefore) {
		if !slices.Contains(got, e) {
			t.Errorf("survivor timeline %v lacks %q", got, e)
		}
	}
	// Each item says whose it is, where it is in the log and what the
	// event said (the identity a note came by included).
	items, err := f.q.Timeline(context.Background(), projections.TimelineQuery{TenantID: "t1", CustomerID: survivor.id(),
		Viewer: domain.Viewer{Admin: true}, Kinds: []string{projections.EntryNote, projections.EntryTicket}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var last eventstore.Position
	for i, it := range items.Items {
		pos, err := eventstore.ParsePosition(it.Position)
		if err != nil || (i > 0 && !pos.Less(last)) {
			t.Errorf("item %d position %q (%v) is not before %v", i, it.Position, err, last)
		}
		last = pos
		e, err := customer.Decode(it.Type, 1, it.Data)
		if err != nil {
			t.Fatal(err)
		}
		line := it.Kind + " of " + it.CustomerID
		if n, ok := e.(customer.NoteAdded); ok && n.Via != nil {
			line += " via " + n.Via.Value
		}
		lines = append(lines, line)
	}
	want = []string{"note of " + survivor.id() + " via ana@b.example", "ticket of " + merged.id(), "note of " + merged.id(),
		"note of " + survivor.id()}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("survivor's notes and tickets (-want +got):\n%s", diff)
	}
	page, err := f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Viewer: domain.Viewer{Admin: true}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Ana"}, names(page)); diff != "" {
		t.Errorf("list after merge (-want +got):\n%s", diff)
	}
	page, err = f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", IncludeMerged: true, Viewer: domain.Viewer{Admin: true}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Ana L", "Ana"}, names(page)); diff != "" {
		t.Errorf("list with merged customers (-want +got):\n%s", diff)
	}
	if page.Contacts[0].MergedInto != survivor.id() {
		t.Errorf("merged customer's merged_into = %q, want %q", page.Contacts[0].MergedInto, survivor.id())
	}

	// Un-merge: the note attached through the merged e-mail moves back.
	restoredSnap := merged.snap()
	var un customer.CustomerUnmerged
	f.do(t, survivor, func(c *customer.Customer) error {
		un, err = c.Unmerge(agent, domain.SourceAPI, restoredSnap, at)
		return err
	})
	if want := []customer.Item{{Kind: "note", ID: viaNote}}; !cmp.Equal(want, un.Items) {
		t.Fatalf("unmerge moves %v, want %v", un.Items, want)
	}
	f.do(t, merged, func(c *customer.Customer) error {
		return c.Restore(agent, domain.SourceAPI, survivor.id(), mergeID, un.Items, at)
	})
	f.waitFor(t, projections.ContactsName)

	got = timeline(t, f, "t1", merged.id())
	want = slices.Concat([]string{"restored " + survivor.id(), "note " + viaNote, "merged " + survivor.id()}, mergedBefore)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restored customer's timeline (-want +got):\n%s", diff)
	}
	got = timeline(t, f, "t1", survivor.id())
	want = slices.Concat([]string{"unmerged " + merged.id(), "deal " + dealID, "absorbed " + merged.id()}, survivorBefore)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("survivor's timeline after un-merge (-want +got):\n%s", diff)
	}
	page, err = f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Viewer: domain.Viewer{Admin: true}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Ana L", "Ana"}, names(page)); diff != "" {
		t.Errorf("list after un-merge (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(merged.snap(), page.Contacts[0], cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("restored read model differs from the aggregate (-aggregate +read model):\n%s", diff)
	}
	if diff := cmp.Diff(survivor.snap(), page.Contacts[1], cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("survivor read model differs from the aggregate (-aggregate +read model):\n%s", diff)
	}

	// Rebuilding gives the same tables, moved rows included.
	liveList := dump(t, f.db, "customer_list", "tenant_id, id")
	liveTimeline := dump(t, f.db, "customer_timeline", "tenant_id, stream_id, version")
	if err := f.runner.Rebuild(context.Background(), projections.ContactsName, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(liveList, dump(t, f.db, "customer_list", "tenant_id, id")); diff != "" {
		t.Errorf("rebuilt customer_list differs from the live one:\n%s", diff)
	}
	if diff := cmp.Diff(liveTimeline, dump(t, f.db, "customer_timeline", "tenant_id, stream_id, version")); diff != "" {
		t.Errorf("rebuilt customer_timeline differs from the live one:\n%s", diff)
	}
}

// TestContactsCatchUpBatch catches up with the runner stopped, so that one
// batch holds 700 customers, three of them created, then updated and noted
// later in the same batch: each customer is written once per batch, and its
// row must hold its final state and its timeline every note.
func TestContactsCatchUpBatch(t *testing.T) {
	f := newCRMFixture(t, projections.Contacts{})
	var custs []*cust
	for i := range 700 {
		custs = append(custs, f.create(t, "t1", customer.Contact, customer.Profile{Name: fmt.Sprintf("Bulk %d", i)}))
	}
	changed := []*cust{custs[0], custs[260], custs[699]}
	for i, c := range changed {
		f.do(t, c, func(a *customer.Customer) error {
			return a.Update(agent, domain.SourceAPI, customer.Profile{Name: fmt.Sprintf("Renamed %d", i), Tags: []string{"moved"}},
				noon.Add(time.Hour))
		})
		f.do(t, c, func(a *customer.Customer) error {
			return a.AddNote(agent, domain.SourceAPI, customer.NoteInput{NoteID: uuid.NewString(), Body: "called back"}, noon.Add(2*time.Hour))
		})
	}
	f.start(t)
	f.waitFor(t, projections.ContactsName)

	var rows int
	if err := f.db.Get(&rows, `SELECT count(*) FROM customer_list`); err != nil || rows != len(custs) {
		t.Fatalf("customer_list has %d rows (%v), want %d", rows, err, len(custs))
	}
	page, err := f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Tag: []string{"moved"},
		Viewer: domain.Viewer{Admin: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(page.Contacts); got != len(changed) {
		t.Fatalf("customers tagged moved: got %d, want %d", got, len(changed))
	}
	byID := map[string]customer.Snapshot{}
	for _, s := range page.Contacts {
		byID[s.ID] = s
	}
	for _, c := range changed {
		if diff := cmp.Diff(c.snap(), byID[c.id()], cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("customer %s: read model differs from the aggregate (-aggregate +read model):\n%s", c.id(), diff)
		}
		if got := timeline(t, f, "t1", c.id()); len(got) != 1 || !strings.HasPrefix(got[0], projections.EntryNote+" ") {
			t.Errorf("timeline of %s: got %q, want one note", c.id(), got)
		}
	}
	var unchanged customer.Snapshot
	var doc []byte
	if err := f.db.Get(&doc, `SELECT doc FROM customer_list WHERE id = $1`, custs[500].id()); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc, &unchanged); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(custs[500].snap(), unchanged, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("unchanged customer (-aggregate +read model):\n%s", diff)
	}
}

// TestRebuildIndexesAtSwap checks that a rebuild fills its shadow tables
// with their primary keys only, and that after the swap the live tables
// have every index they had before, under the same names and definitions.
// TestContactsCatchUpReadAhead: a catch-up of several full batches, most
// of them read and prepared ahead while the batch before is written:
// customers created in one batch and changed in a later one (read back,
// evolved in the transaction), customers created and changed in the same
// batch, every row equal to its aggregate's snapshot.
func TestContactsCatchUpReadAhead(t *testing.T) {
	f := newCRMFixture(t, projections.Contacts{})
	var custs []*cust
	for i := range 2500 { // three batches of at most 1000 events
		custs = append(custs, f.create(t, "t1", customer.Contact, customer.Profile{Name: fmt.Sprintf("Bulk %d", i)}))
		if i%500 == 1 { // changed in its own batch, right after it was created
			f.do(t, custs[i], func(a *customer.Customer) error {
				return a.Update(agent, domain.SourceAPI, customer.Profile{Name: fmt.Sprintf("Early %d", i), Tags: []string{"early"}}, noon)
			})
		}
	}
	for i := 0; i < len(custs); i += 250 { // changed in a later batch
		f.do(t, custs[i], func(a *customer.Customer) error {
			return a.AddNote(agent, domain.SourceAPI, customer.NoteInput{NoteID: uuid.NewString(), Body: "later"}, noon.Add(time.Hour))
		})
	}
	f.start(t)
	f.waitFor(t, projections.ContactsName)

	var docs []string
	if err := f.db.Select(&docs, `SELECT doc FROM customer_list`); err != nil {
		t.Fatal(err)
	}
	got := map[string]customer.Snapshot{}
	for _, d := range docs {
		var s customer.Snapshot
		if err := json.Unmarshal([]byte(d), &s); err != nil {
			t.Fatal(err)
		}
		got[s.ID] = s
	}
	if len(got) != len(custs) {
		t.Fatalf("customer_list has %d customers, want %d", len(got), len(custs))
	}
	for i, c := range custs {
		if diff := cmp.Diff(c.snap(), got[c.id()], cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("customer %d: read model differs from the aggregate (-aggregate +read model):\n%s", i, diff)
		}
	}
	var notes int
	if err := f.db.Get(&notes, `SELECT count(*) FROM customer_timeline WHERE kind = 'note'`); err != nil || notes != 10 {
		t.Fatalf("timeline has %d notes (%v), want 10", notes, err)
	}
}

func TestRebuildIndexesAtSwap(t *testing.T) {
	f := newCRMFixture(t, projections.Contacts{})
	f.start(t)
	c := f.create(t, "t1", customer.Contact, customer.Profile{Name: "Ana Lima", Emails: []customer.Email{{Value: "ana@example.com"}}})
	f.do(t, c, func(a *customer.Customer) error {
		return a.AddNote(agent, domain.SourceAPI, customer.NoteInput{NoteID: uuid.NewString(), Body: "hello"}, noon.Add(time.Hour))
	})
	f.waitFor(t, projections.ContactsName)
	indexes := func(table string) []string {
		t.Helper()
		var defs []string
		if err := f.db.Select(&defs, `SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`,
			table); err != nil {
			t.Fatal(err)
		}
		return defs
	}
	before := indexes("customer_list")
	beforeTimeline := indexes("customer_timeline")
	if len(before) < 5 {
		t.Fatalf("customer_list has indexes %q, want the migrations' (at least 5)", before)
	}

	var during []string
	err := f.runner.Rebuild(context.Background(), projections.ContactsName, func(p projections.Progress) {
		if p.Done > 0 && during == nil {
			during = append(indexes("customer_list__rebuild"), indexes("customer_timeline__rebuild")...)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"customer_list_pkey__rebuild: CREATE UNIQUE INDEX customer_list_pkey__rebuild ON public.customer_list__rebuild USING btree (tenant_id, id)",
		"customer_timeline_pkey__rebuild: CREATE UNIQUE INDEX customer_timeline_pkey__rebuild ON public.customer_timeline__rebuild USING btree (seq)",
	}
	if diff := cmp.Diff(want, during); diff != "" {
		t.Errorf("shadow indexes while filling (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, indexes("customer_list")); diff != "" {
		t.Errorf("customer_list indexes after the swap (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeTimeline, indexes("customer_timeline")); diff != "" {
		t.Errorf("customer_timeline indexes after the swap (-before +after):\n%s", diff)
	}
	// The primary key is still a constraint (ON CONFLICT's arbiter).
	var con string
	if err := f.db.Get(&con, `SELECT conname FROM pg_constraint WHERE conrelid = 'customer_list'::regclass AND contype = 'p'`); err != nil {
		t.Fatal(err)
	}
	if con != "customer_list_pkey" {
		t.Errorf("primary key constraint after the swap: got %q, want customer_list_pkey", con)
	}
	// And the rebuilt tables answer searches through their indexes.
	page, err := f.q.List(context.Background(), projections.ContactFilter{TenantID: "t1", Q: "lima", Viewer: domain.Viewer{Admin: true}})
	if err != nil || len(page.Contacts) != 1 {
		t.Fatalf("search after rebuild: %v, %v; want Ana", page.Contacts, err)
	}
}
