package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Participants records video-room participants' sockets in the log.
// Implementations derive the events' ids from the session, so that
// however many nodes report one session's end, it is recorded once.
type Participants interface {
	// Connected records that identity joined room through socket session.
	Connected(ctx context.Context, tenant, room, identity, session string) error
	// Disconnected records that the session ended (participant left).
	Disconnected(ctx context.Context, tenant, room, identity, session string) error
}

// Session is a video-room participant's socket, as the presence store
// keeps it alive for other nodes: when its node dies, its heartbeat stops
// and any node records the participant's leaving once it has expired.
type Session struct {
	Tenant   string `json:"tenant"`
	Room     string `json:"room"`
	Identity string `json:"identity"`
	ID       string `json:"id"`
}

// SessionStore keeps participants' sessions alive across nodes (a
// PresenceStore may implement it). Calls are bounded by ctx.
type SessionStore interface {
	// PutSession starts or renews s until ttl passes.
	PutSession(ctx context.Context, s Session, ttl time.Duration) error
	// RemoveSession forgets s.
	RemoveSession(ctx context.Context, s Session) error
	// ExpiredSessions returns sessions whose ttl has passed (at most 100).
	ExpiredSessions(ctx context.Context) ([]Session, error)
}

func (c *conn) session() Session {
	return Session{Tenant: c.p.TenantID, Room: c.p.Room, Identity: c.p.Member.ID, ID: c.id}
}

// joinRoom records a participant's connection and keeps it alive; it
// reports false if the join could not be recorded (the socket is then
// closed 1011 and the client retries).
func (p *presence) joinRoom(c *conn) bool {
	if c.p.Room == "" || p.g.opt.Participants == nil {
		return true
	}
	s := c.session()
	// The session is kept alive before the join is recorded: a recorded
	// join always has a session some node will end.
	pctx, pcancel := context.WithTimeout(c.ctx, sessionTimeout)
	err := p.store.PutSession(pctx, s, PresenceTTL)
	pcancel()
	if err != nil {
		p.g.opt.Logger.Warn("video room: keep session", "err", err, "room", s.Room)
		return false
	}
	p.mu.Lock()
	p.sessions[c] = s
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if err := p.g.opt.Participants.Connected(ctx, s.Tenant, s.Room, s.Identity, s.ID); err != nil {
		p.g.opt.Logger.Warn("video room: record join", "err", err, "room", s.Room)
		return false // leaveRoom, as the socket closes, ends the session
	}
	return true
}

// sessionTimeout bounds keeping a participant's session in the store
// before its join is recorded (the join waits for it).
const sessionTimeout = 2 * time.Second

// leaveRoom records that a participant's connection ended, then forgets
// its session: if this node dies in between, another records the leaving
// (with the same event id) once the session expires.
func (p *presence) leaveRoom(c *conn) {
	p.mu.Lock()
	s, ok := p.sessions[c]
	delete(p.sessions, c)
	p.mu.Unlock()
	if !ok {
		return
	}
	if p.closeSession(s) {
		p.call(func(ctx context.Context) error { return p.store.RemoveSession(ctx, s) })
	}
}

func (p *presence) closeSession(s Session) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.g.opt.Participants.Disconnected(ctx, s.Tenant, s.Room, s.Identity, s.ID); err != nil {
		p.g.opt.Logger.Warn("video room: record leave; retried when the session expires", "err", err, "room", s.Room)
		return false
	}
	return true
}

// sweep records the leaving of sessions whose node stopped renewing them.
func (p *presence) sweep() {
	if p.g.opt.Participants == nil {
		return
	}
	var expired []Session
	p.call(func(ctx context.Context) error {
		var err error
		expired, err = p.store.ExpiredSessions(ctx)
		return err
	})
	for _, s := range expired {
		if p.closeSession(s) {
			p.call(func(ctx context.Context) error { return p.store.RemoveSession(ctx, s) })
		}
	}
}

// PutSession implements SessionStore.
func (m *MemoryPresence) PutSession(_ context.Context, s Session, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s] = m.now().Add(ttl)
	return nil
}

// RemoveSession implements SessionStore.
func (m *MemoryPresence) RemoveSession(_ context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, s)
	return nil
}

// ExpiredSessions implements SessionStore.
func (m *MemoryPresence) ExpiredSessions(context.Context) ([]Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Session
	for s, exp := range m.sessions {
		if !m.now().Before(exp) && len(out) < 100 {
			out = append(out, s)
		}
	}
	return out, nil
}

func (r *RedisPresence) sessionsKey() string { return r.prefix + "video-sessions" }

// PutSession implements SessionStore: one sorted set of sessions, scored
// by expiry.
func (r *RedisPresence) PutSession(ctx context.Context, s Session, ttl time.Duration) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := r.rdb.ZAdd(ctx, r.sessionsKey(), redis.Z{Score: float64(r.now().Add(ttl).UnixMilli()), Member: string(b)}).Err(); err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// RemoveSession implements SessionStore.
func (r *RedisPresence) RemoveSession(ctx context.Context, s Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := r.rdb.ZRem(ctx, r.sessionsKey(), string(b)).Err(); err != nil {
		return fmt.Errorf("remove session: %w", err)
	}
	return nil
}

// ExpiredSessions implements SessionStore.
func (r *RedisPresence) ExpiredSessions(ctx context.Context) ([]Session, error) {
	ms, err := r.rdb.ZRangeByScore(ctx, r.sessionsKey(), &redis.ZRangeBy{Min: "-inf",
		Max: strconv.FormatInt(r.now().UnixMilli(), 10), Count: 100}).Result()
	if err != nil {
		return nil, fmt.Errorf("expired sessions: %w", err)
	}
	out := make([]Session, 0, len(ms))
	for _, m := range ms {
		var s Session
		if json.Unmarshal([]byte(m), &s) == nil {
			out = append(out, s)
		} else {
			_ = r.rdb.ZRem(ctx, r.sessionsKey(), m).Err() // not ours to keep
		}
	}
	return out, nil
}
