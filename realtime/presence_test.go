package realtime_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/eventstore/pubsub/redistest"
	"github.com/eventdesk/eventdesk/realtime"
)

// TestPresenceStores runs one suite against every PresenceStore: the
// in-process one and Redis (real, at EVENTDESK_TEST_REDIS_URL).
func TestPresenceStores(t *testing.T) {
	stores := map[string]func(t *testing.T) realtime.PresenceStore{
		"memory": func(*testing.T) realtime.PresenceStore { return realtime.NewMemoryPresence() },
		"redis": func(t *testing.T) realtime.PresenceStore {
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			rdb, prefix := redistest.Client(t), "eventdesk-test-"+hex.EncodeToString(b)+":"
			t.Cleanup(func() {
				ctx := context.Background()
				keys, _ := rdb.Keys(ctx, prefix+"*").Result()
				if len(keys) > 0 {
					rdb.Del(ctx, keys...)
				}
			})
			return realtime.NewRedisPresence(rdb, prefix)
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Run("ReportsExpire", func(t *testing.T) { reportsExpire(t, newStore(t)) })
			t.Run("ChangesAnnounced", func(t *testing.T) { changesAnnounced(t, newStore(t)) })
			t.Run("SessionsExpire", func(t *testing.T) { sessionsExpire(t, newStore(t)) })
		})
	}
}

var (
	ana = realtime.Member{Kind: "agent", ID: "ana", Name: "Ana"}
	bo  = realtime.Member{Kind: "agent", ID: "bo"}
)

// reportsExpire: a report lasts its TTL unless renewed, and Remove drops it.
func reportsExpire(t *testing.T, s realtime.PresenceStore) {
	ctx := context.Background()
	must(t, s.Put(ctx, "t1", "k1", "conn-a", realtime.PresenceEntry{Member: ana, State: "typing"}, time.Hour))
	must(t, s.Put(ctx, "t1", "k1", "conn-b", realtime.PresenceEntry{Member: bo, State: "viewing"}, 300*time.Millisecond))
	must(t, s.Put(ctx, "t2", "k1", "conn-c", realtime.PresenceEntry{Member: bo, State: "idle"}, time.Hour)) // another tenant
	if got := members(t, s, "t1", "k1"); len(got) != 2 {
		t.Fatalf("members = %v, want ana and bo", got)
	}
	time.Sleep(500 * time.Millisecond) // bo's report expires: nobody removed it (its node died)
	if got, want := members(t, s, "t1", "k1"), map[string]string{"ana": "typing"}; !cmp.Equal(got, want) {
		t.Fatalf("after bo's TTL: got %v, want %v", got, want)
	}
	must(t, s.Remove(ctx, "t1", "k1", "conn-a"))
	if got := members(t, s, "t1", "k1"); len(got) != 0 {
		t.Fatalf("after Remove: got %v, want nobody", got)
	}
	if got, want := members(t, s, "t2", "k1"), map[string]string{"bo": "idle"}; !cmp.Equal(got, want) {
		t.Fatalf("tenant t2: got %v, want %v", got, want)
	}
}

// changesAnnounced: every Put and Remove is announced to Changes.
func changesAnnounced(t *testing.T, s realtime.PresenceStore) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := s.Changes(ctx)
	time.Sleep(100 * time.Millisecond) // a Redis subscription takes a moment to start
	must(t, s.Put(ctx, "t1", "k9", "conn-a", realtime.PresenceEntry{Member: ana, State: "viewing"}, time.Hour))
	must(t, s.Remove(ctx, "t1", "k9", "conn-a"))
	for i := range 2 {
		select {
		case key := <-ch:
			if key != "t1/k9" {
				t.Fatalf("change %d: got %q, want t1/k9", i, key)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("change %d never announced", i)
		}
	}
}

// sessionsExpire: a session not renewed within its TTL is expired, once
// removed it is gone.
func sessionsExpire(t *testing.T, s realtime.PresenceStore) {
	ctx := context.Background()
	live := realtime.Session{Tenant: "t1", Room: "r1", Identity: "cara", ID: "s1"}
	dead := realtime.Session{Tenant: "t1", Room: "r1", Identity: "dan", ID: "s2"}
	must(t, s.PutSession(ctx, live, time.Hour))
	must(t, s.PutSession(ctx, dead, 200*time.Millisecond))
	time.Sleep(400 * time.Millisecond)
	got, err := s.ExpiredSessions(ctx)
	must(t, err)
	if want := []realtime.Session{dead}; !cmp.Equal(got, want) {
		t.Fatalf("expired = %v, want %v", got, want)
	}
	must(t, s.RemoveSession(ctx, dead))
	must(t, s.RemoveSession(ctx, live))
	if got, err := s.ExpiredSessions(ctx); err != nil || len(got) != 0 {
		t.Fatalf("after removal: expired = %v, %v; want none", got, err)
	}
}

func members(t *testing.T, s realtime.PresenceStore, tenant, ticket string) map[string]string {
	t.Helper()
	es, err := s.Members(context.Background(), tenant, ticket)
	must(t, err)
	out := map[string]string{}
	for _, e := range es {
		out[e.ID] = e.State
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
