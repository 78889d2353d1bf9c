package realtime

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// PresenceTTL is how long a presence report lasts unless renewed. The
// node renews its connections' reports every PresenceTTL/3, so a node that
// dies takes its clients' presence with it within PresenceTTL.
const PresenceTTL = 30 * time.Second

// presenceTimeout bounds every presence call to the store (Redis): a slow
// Redis delays presence, never anything else, and never for long.
const presenceTimeout = 500 * time.Millisecond

// PresenceEntry is one member's presence on a ticket.
type PresenceEntry struct {
	Member
	// State is viewing, typing or idle.
	State string `json:"state"`
}

// PresenceStore holds presence reports where every node sees them.
// Implementations must be safe for concurrent use and must bound each
// call by ctx.
type PresenceStore interface {
	// Put records that connection conn reports e on ticket until ttl
	// passes (or Remove), and tells every node's Changes.
	Put(ctx context.Context, tenant, ticket, conn string, e PresenceEntry, ttl time.Duration) error
	// Remove drops conn's report, and tells every node's Changes.
	Remove(ctx context.Context, tenant, ticket, conn string) error
	// Members returns the reports on ticket that have not expired.
	Members(ctx context.Context, tenant, ticket string) ([]PresenceEntry, error)
	// Changes delivers tenant+"/"+ticket for every Put and Remove on any
	// node (at most once: expiry is found by polling) until ctx ends.
	Changes(ctx context.Context) <-chan string
	// SessionStore keeps video-room participants' sessions.
	SessionStore
}

// stateRank orders states: a member with several connections shows its
// most active one.
var stateRank = map[string]int{"idle": 1, "viewing": 2, "typing": 3}

// merge lists each member once, in its most active state, in a stable
// order.
func merge(entries []PresenceEntry) []PresenceEntry {
	best := map[Member]string{}
	for _, e := range entries {
		if stateRank[e.State] > stateRank[best[e.Member]] {
			best[e.Member] = e.State
		}
	}
	out := make([]PresenceEntry, 0, len(best))
	for m, s := range best {
		out = append(out, PresenceEntry{Member: m, State: s})
	}
	slices.SortFunc(out, func(a, b PresenceEntry) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// watcher is a connection subscribed to a ticket topic.
type watcher struct {
	c     *conn
	topic string
}

// presence keeps this node's side of presence: the reports of its
// connections (renewed until they go) and the ticket topics they watch
// (pushed every change).
type presence struct {
	g     *Gateway
	store PresenceStore

	mu       sync.Mutex
	watchers map[string]map[watcher]struct{}    // by tenant/ticket
	reports  map[*conn]map[string]PresenceEntry // by tenant/ticket
	last     map[string][]PresenceEntry         // members last pushed, by tenant/ticket
	sessions map[*conn]Session                  // video-room participants' sockets
}

func newPresence(g *Gateway, store PresenceStore) *presence {
	if store == nil {
		store = NewMemoryPresence()
	}
	return &presence{g: g, store: store, watchers: map[string]map[watcher]struct{}{},
		reports: map[*conn]map[string]PresenceEntry{}, last: map[string][]PresenceEntry{}, sessions: map[*conn]Session{}}
}

func presenceKey(tenant, ticket string) string { return tenant + "/" + ticket }

func splitKey(key string) (tenant, ticket string) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}

func (p *presence) call(f func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		p.g.opt.Logger.Warn("presence: store unavailable", "err", err)
	}
}

// run renews this node's reports and looks for expired ones every
// PresenceTTL/3, and pushes changes other nodes announce, until ctx ends.
func (p *presence) run(ctx context.Context) error {
	changes := p.store.Changes(ctx)
	tick := time.NewTicker(PresenceTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case key := <-changes:
			p.refresh(key)
		case <-tick.C:
			p.renew()
			p.sweep()
			p.mu.Lock()
			keys := make([]string, 0, len(p.watchers))
			for k := range p.watchers {
				keys = append(keys, k)
			}
			p.mu.Unlock()
			for _, k := range keys {
				p.refresh(k)
			}
		}
	}
}

func (p *presence) renew() {
	type report struct {
		c   *conn
		key string
		e   PresenceEntry
	}
	var all []report
	p.mu.Lock()
	for c, rs := range p.reports {
		for k, e := range rs {
			all = append(all, report{c, k, e})
		}
	}
	p.mu.Unlock()
	for _, r := range all {
		tenant, ticket := splitKey(r.key)
		p.call(func(ctx context.Context) error { return p.store.Put(ctx, tenant, ticket, r.c.id, r.e, PresenceTTL) })
	}
	p.mu.Lock()
	sessions := make([]Session, 0, len(p.sessions))
	for _, s := range p.sessions {
		sessions = append(sessions, s)
	}
	p.mu.Unlock()
	for _, s := range sessions {
		p.call(func(ctx context.Context) error { return p.store.PutSession(ctx, s, PresenceTTL) })
	}
}

// refresh reads a watched ticket's members and pushes them to its local
// watchers if they changed since the last push.
func (p *presence) refresh(key string) {
	p.mu.Lock()
	_, watched := p.watchers[key]
	p.mu.Unlock()
	if !watched {
		return
	}
	tenant, ticket := splitKey(key)
	var members []PresenceEntry
	ok := false
	p.call(func(ctx context.Context) error {
		m, err := p.store.Members(ctx, tenant, ticket)
		members, ok = merge(m), err == nil
		return err
	})
	if !ok {
		return
	}
	p.mu.Lock()
	if slices.Equal(p.last[key], members) {
		p.mu.Unlock()
		return
	}
	p.last[key] = members
	ws := make([]watcher, 0, len(p.watchers[key]))
	for w := range p.watchers[key] {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.c.push(presenceMessage{Type: "presence", Topic: w.topic, Members: members})
	}
}

// watch registers c's ticket subscription s and sends it the ticket's
// full presence.
func (p *presence) watch(c *conn, s *subscription) {
	key := presenceKey(c.p.TenantID, s.streamID)
	p.mu.Lock()
	set := p.watchers[key]
	if set == nil {
		set = map[watcher]struct{}{}
		p.watchers[key] = set
	}
	set[watcher{c, s.topic}] = struct{}{}
	p.mu.Unlock()
	var members []PresenceEntry
	p.call(func(ctx context.Context) error {
		m, err := p.store.Members(ctx, c.p.TenantID, s.streamID)
		members = merge(m)
		return err
	})
	c.send(presenceMessage{Type: "presence", Topic: s.topic, Members: members})
}

// unwatch ends s's watch of its ticket; if c watches the ticket under no
// other topic, what c reported on it goes too.
func (p *presence) unwatch(c *conn, s *subscription) {
	key := presenceKey(c.p.TenantID, s.streamID)
	p.mu.Lock()
	p.dropWatcher(key, watcher{c, s.topic})
	still := false
	for w := range p.watchers[key] {
		if w.c == c {
			still = true
			break
		}
	}
	_, reported := p.reports[c][key]
	reported = reported && !still
	if reported {
		delete(p.reports[c], key)
	}
	p.mu.Unlock()
	if reported {
		p.call(func(ctx context.Context) error { return p.store.Remove(ctx, c.p.TenantID, s.streamID, c.id) })
		p.refresh(key)
	}
}

// dropWatcher removes w from key's watchers, with p.mu held.
func (p *presence) dropWatcher(key string, w watcher) {
	if set := p.watchers[key]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(p.watchers, key)
			delete(p.last, key)
		}
	}
}

// report records c's state on a ticket it watches and pushes the change.
func (c *conn) reportPresence(m clientMessage) error {
	if !c.p.Staff {
		return errPresenceNoStaff
	}
	s, ok := c.subs[m.Topic]
	if !ok || s.kind != "ticket" || stateRank[m.State] == 0 {
		return errPresenceTopic
	}
	p := c.g.presence
	key := presenceKey(c.p.TenantID, s.streamID)
	e := PresenceEntry{Member: c.p.Member, State: m.State}
	p.mu.Lock()
	if p.reports[c] == nil {
		p.reports[c] = map[string]PresenceEntry{}
	}
	p.reports[c][key] = e
	p.mu.Unlock()
	p.call(func(ctx context.Context) error {
		return p.store.Put(ctx, c.p.TenantID, s.streamID, c.id, e, PresenceTTL)
	})
	p.refresh(key)
	return nil
}

// disconnect drops everything c reported and watched. c's reader calls
// it once it has ended, so c.subs holds what c watched: the cost is c's
// own subscriptions, not every watched ticket of the node.
func (p *presence) disconnect(c *conn) {
	p.mu.Lock()
	rs := p.reports[c]
	delete(p.reports, c)
	for _, s := range c.subs {
		if s.kind == "ticket" {
			p.dropWatcher(presenceKey(c.p.TenantID, s.streamID), watcher{c, s.topic})
		}
	}
	p.mu.Unlock()
	for key := range rs {
		tenant, ticket := splitKey(key)
		p.call(func(ctx context.Context) error { return p.store.Remove(ctx, tenant, ticket, c.id) })
		p.refresh(key)
	}
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MemoryPresence is a PresenceStore for a single node.
type MemoryPresence struct {
	mu       sync.Mutex
	entries  map[string]map[string]memoryEntry
	sessions map[Session]time.Time
	subs     []chan string
	now      func() time.Time
}

type memoryEntry struct {
	e       PresenceEntry
	expires time.Time
}

// NewMemoryPresence returns an empty in-process store.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{entries: map[string]map[string]memoryEntry{}, sessions: map[Session]time.Time{}, now: time.Now}
}

// Put implements PresenceStore.
func (m *MemoryPresence) Put(_ context.Context, tenant, ticket, conn string, e PresenceEntry, ttl time.Duration) error {
	m.mu.Lock()
	key := presenceKey(tenant, ticket)
	if m.entries[key] == nil {
		m.entries[key] = map[string]memoryEntry{}
	}
	m.entries[key][conn] = memoryEntry{e, m.now().Add(ttl)}
	m.mu.Unlock()
	m.notify(key)
	return nil
}

// Remove implements PresenceStore.
func (m *MemoryPresence) Remove(_ context.Context, tenant, ticket, conn string) error {
	m.mu.Lock()
	key := presenceKey(tenant, ticket)
	delete(m.entries[key], conn)
	m.mu.Unlock()
	m.notify(key)
	return nil
}

// Members implements PresenceStore.
func (m *MemoryPresence) Members(_ context.Context, tenant, ticket string) ([]PresenceEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []PresenceEntry
	for conn, me := range m.entries[presenceKey(tenant, ticket)] {
		if m.now().Before(me.expires) {
			out = append(out, me.e)
		} else {
			delete(m.entries[presenceKey(tenant, ticket)], conn)
		}
	}
	return out, nil
}

// Changes implements PresenceStore.
func (m *MemoryPresence) Changes(ctx context.Context) <-chan string {
	ch := make(chan string, 64)
	m.mu.Lock()
	m.subs = append(m.subs, ch)
	m.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.subs = slices.DeleteFunc(m.subs, func(c chan string) bool { return c == ch })
	})
	return ch
}

func (m *MemoryPresence) notify(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range m.subs {
		select {
		case ch <- key:
		default: // at most once: the next poll finds it
		}
	}
}
