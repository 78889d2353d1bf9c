package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisPresence is the PresenceStore of several nodes
// (EVENTDESK_REDIS_URL). Each ticket's reports are one hash,
// prefix+"presence:"+tenant+":"+ticket, of connection id → report with its
// expiry time: readers skip (and delete) expired reports, so a dead node's
// reports vanish within their TTL although nobody removes them. Every Put
// and Remove is announced on the channel prefix+"presence" (Pub/Sub, at
// most once: nodes also poll the tickets they watch).
type RedisPresence struct {
	rdb    *redis.Client
	prefix string
	now    func() time.Time
}

// NewRedisPresence returns a store over rdb; prefix namespaces its keys
// (e.g. "eventdesk:").
func NewRedisPresence(rdb *redis.Client, prefix string) *RedisPresence {
	return &RedisPresence{rdb: rdb, prefix: prefix, now: time.Now}
}

type redisReport struct {
	PresenceEntry
	Expires int64 `json:"exp"` // unix milliseconds
}

func (r *RedisPresence) key(tenant, ticket string) string {
	return r.prefix + "presence:" + tenant + ":" + ticket
}

func (r *RedisPresence) channel() string { return r.prefix + "presence" }

// Put implements PresenceStore.
func (r *RedisPresence) Put(ctx context.Context, tenant, ticket, conn string, e PresenceEntry, ttl time.Duration) error {
	b, err := json.Marshal(redisReport{e, r.now().Add(ttl).UnixMilli()})
	if err != nil {
		return err
	}
	k := r.key(tenant, ticket)
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, conn, b)
		p.PExpire(ctx, k, 2*ttl) // the hash goes when its last report would have
		p.Publish(ctx, r.channel(), presenceKey(tenant, ticket))
		return nil
	})
	if err != nil {
		return fmt.Errorf("presence put: %w", err)
	}
	return nil
}

// Remove implements PresenceStore.
func (r *RedisPresence) Remove(ctx context.Context, tenant, ticket, conn string) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, r.key(tenant, ticket), conn)
		p.Publish(ctx, r.channel(), presenceKey(tenant, ticket))
		return nil
	})
	if err != nil {
		return fmt.Errorf("presence remove: %w", err)
	}
	return nil
}

// Members implements PresenceStore.
func (r *RedisPresence) Members(ctx context.Context, tenant, ticket string) ([]PresenceEntry, error) {
	k := r.key(tenant, ticket)
	all, err := r.rdb.HGetAll(ctx, k).Result()
	if err != nil {
		return nil, fmt.Errorf("presence members: %w", err)
	}
	now := r.now().UnixMilli()
	var out []PresenceEntry
	var expired []string
	for conn, v := range all {
		var rep redisReport
		if json.Unmarshal([]byte(v), &rep) != nil || rep.Expires <= now {
			expired = append(expired, conn)
			continue
		}
		out = append(out, rep.PresenceEntry)
	}
	if len(expired) > 0 {
		_ = r.rdb.HDel(ctx, k, expired...).Err() // tidying only
	}
	return out, nil
}

// Changes implements PresenceStore. While Redis is unreachable it
// delivers nothing (go-redis reconnects); polling still finds changes.
func (r *RedisPresence) Changes(ctx context.Context) <-chan string {
	ch := make(chan string, 64)
	sub := r.rdb.Subscribe(ctx, r.channel())
	go func() {
		defer sub.Close()
		msgs := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case ch <- m.Payload:
				default:
				}
			}
		}
	}()
	return ch
}
