// Package realtime is Eventdesk's websocket gateway: GET /v1/stream,
// subprotocol eventdesk.v1 (see the README's "Realtime" section for the
// protocol). Each socket subscribes to topics — the whole tenant, a
// ticket, a contact, a video room — and receives their events exactly as
// GET /v1/events shows them, with their log positions.
//
// The guarantee comes from the log, not from the gateway: every
// subscription is a subscription to the node's one follower of the log
// (eventstore/feed), which hands it every matching event after its start
// position exactly once, in log order, catching up from PostgreSQL when it
// starts behind. A client that reconnects — to this node or another —
// and subscribes with the last position it received therefore misses
// nothing and sees nothing twice. Redis carries only what is not in the
// log: presence.
//
// Slow consumers. Each connection has one send queue bounded in bytes
// (Options.QueueBytes, 1 MiB by default). A subscription waits for room in
// it, so a catch-up read never runs further ahead of the socket than the
// queue; if the queue stays full for Options.StallTimeout the connection
// is closed with code 4008 "slow consumer" and the client resumes from its
// last position. Nothing else waits for it: the node's follower drops a
// subscription that does not take its events and lets it catch up from
// the store later.
//
// Credentials. A socket authenticates once, at the upgrade (an API key or
// agent token, or a one-time connect ticket issued through one). What an
// agent token may see is decided then and checked again every
// Options.RecheckEvery (a minute by default), at a ping: a revoked token
// or a deactivated agent closes the socket with 4401, changed rights (role,
// groups) with 4403, and the client reconnects and resumes under its new
// rights.
//
// Presence (who views or types on a ticket) lives in Redis with a TTL
// (PresenceTTL), renewed by the node, and reaches ticket subscribers on
// every node; a node that dies takes its sockets' presence with it within
// the TTL.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
)

// Subprotocol is the websocket subprotocol of this version of the
// protocol; a client must offer it (Sec-WebSocket-Protocol).
const Subprotocol = "eventdesk.v1"

// Close codes the gateway sends besides the standard ones.
const (
	// CloseSlowConsumer: the connection's send queue stayed full.
	CloseSlowConsumer = 4008
	// CloseTooManyMessages: the client sent faster than Options.MessageRate.
	CloseTooManyMessages = 4029
	// CloseRevoked: the connection's credential was revoked, or its agent
	// deactivated, since it connected (Options.RecheckEvery).
	CloseRevoked = 4401
	// CloseRightsChanged: what the connection may see changed since it
	// connected (the agent's role or groups): reconnect with the same
	// credential and resume from the last position, under the new rights.
	CloseRightsChanged = 4403
)

// Principal is who a connection acts as.
type Principal struct {
	TenantID string
	// Viewer is who reads, for permits (domain.Permit.Allows).
	Viewer domain.Viewer
	// Staff is true for the tenant's people and integrations (its API key,
	// its agents' tokens): they see internal history entries and may
	// report presence. Video-room participants are not staff.
	Staff bool
	// Member is how the connection appears in presence lists.
	Member Member
	// Room is the unique name of the only video room a participant's
	// connection may follow; empty for staff.
	Room string
	// Credential names the credential the connection authenticated with
	// if it can change while the connection lasts (an agent token's id),
	// for Access.Recheck; empty if nothing needs checking again.
	Credential string
}

// sameRights reports whether a and b may see the same things.
func sameRights(a, b Principal) bool {
	return a.TenantID == b.TenantID && a.Staff == b.Staff && a.Room == b.Room &&
		a.Viewer.Admin == b.Viewer.Admin && a.Viewer.Agent == b.Viewer.Agent &&
		slices.Equal(slices.Sorted(slices.Values(a.Viewer.Groups)), slices.Sorted(slices.Values(b.Viewer.Groups)))
}

// Member is someone present on a ticket, as presence messages list them.
type Member struct {
	// Kind is "agent" or "integration" (the tenant's API key).
	Kind string `json:"kind"`
	// ID is the agent id, or "api_key".
	ID string `json:"id"`
	// Name is the agent's display name, if any.
	Name string `json:"name,omitempty"`
}

// Access decides who may connect and what they may see. cmd wires it over
// the application services.
type Access interface {
	// Authenticate resolves an upgrade request's credential: a bearer
	// token (a tenant API key, an agent token or a video room's access
	// token) or, when ticket is true, a one-time connect ticket, which it
	// redeems. Unknown, expired, revoked or used credentials return an
	// error of kind domain.Unauthenticated. Safe for concurrent use.
	Authenticate(ctx context.Context, credential string, ticket bool) (Principal, error)
	// Recheck returns p, a principal Authenticate returned with a
	// Credential, as it stands now: an error of kind
	// domain.Unauthenticated once the credential is revoked or its agent
	// deactivated.
	Recheck(ctx context.Context, p Principal) (Principal, error)
	// Resolve returns the stream a topic's reference names (kind is
	// "ticket", "contact" or "video-room"), if it exists in p's tenant
	// and p may see it; otherwise an error of kind domain.NotFound.
	Resolve(ctx context.Context, p Principal, kind, ref string) (streamType, streamID string, err error)
	// Visible reports whether p may see e (permits, internal entries).
	// It is called once per event and connection, so it should be cheap
	// for the events most connections see (tickets).
	Visible(ctx context.Context, p Principal, e *eventstore.Event) (bool, error)
}

// Log is what the gateway reads of the log besides the feed: a tenant's
// head ("live from now") and single events (is an `after` the tenant's?).
type Log interface {
	Head(ctx context.Context, tenantID string) (eventstore.Position, error)
	ReadAll(ctx context.Context, q eventstore.Query) ([]eventstore.Event, error)
}

// Feed is the node's one follower of the log (feed.Hub).
type Feed interface {
	Subscribe(f feed.Filter, after eventstore.Position) (*feed.Subscription, error)
}

// Defaults of Options.
const (
	DefaultQueueBytes       = 1 << 20
	DefaultStallTimeout     = 5 * time.Second
	DefaultMaxMessageBytes  = 16 << 10
	DefaultMaxSubscriptions = 100
	DefaultMessageRate      = 20
	DefaultMessageBurst     = 50
	DefaultPingEvery        = 25 * time.Second
	DefaultRecheckEvery     = time.Minute
	DefaultPongWait         = 60 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
)

// readBufferSize is each socket's read buffer. Clients send small
// messages (subscribe, presence, ping); a larger one takes several reads.
// Writes borrow a buffer from the gateway's pool only while writing, so an
// idle socket holds no write buffer.
const readBufferSize = 1024

// Options tune a Gateway. Zero values mean the defaults.
type Options struct {
	// AllowedOrigins are the browser origins ("https://desk.example.com")
	// that may open sockets besides the server's own; "*" allows any.
	// Requests without an Origin header (not from a browser) are allowed.
	AllowedOrigins []string
	// QueueBytes bounds a connection's send queue; StallTimeout is how
	// long it may stay full before the connection is closed 4008.
	QueueBytes   int
	StallTimeout time.Duration
	// SendBuffer, if positive, sets each socket's kernel send buffer
	// (SO_SNDBUF), which otherwise absorbs megabytes before the queue
	// notices a slow reader.
	SendBuffer int
	// MaxMessageBytes bounds one client message (larger: close 1009);
	// MaxSubscriptions the topics of one connection.
	MaxMessageBytes  int64
	MaxSubscriptions int
	// MessageRate (per second) and MessageBurst bound what a client
	// sends; beyond them the connection is closed 4029.
	MessageRate  float64
	MessageBurst int
	// PingEvery is how often the server pings; a connection that sends
	// nothing, not even a pong, for PongWait is closed. WriteTimeout
	// bounds one write.
	PingEvery    time.Duration
	PongWait     time.Duration
	WriteTimeout time.Duration
	// RecheckEvery is how often a connection with a Credential (an agent
	// token) has it checked again (Access.Recheck), at its next ping: a
	// revoked token or a deactivated agent is closed 4401, changed rights
	// 4403. Revocation thus reaches open sockets within RecheckEvery plus
	// PingEvery.
	RecheckEvery time.Duration
	// Presence, if set, shares presence and video-room sessions across
	// nodes; nil keeps them in this process.
	Presence PresenceStore
	// Participants, if set, records video-room participants' sockets
	// joining and leaving (nil: not recorded).
	Participants Participants
	// Fail answers a refused upgrade (401, 403, 400, 503) in the API's
	// envelope; nil answers plain text.
	Fail   func(http.ResponseWriter, *http.Request, error)
	Logger *slog.Logger
}

func positiveOr[T int | int64 | float64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Gateway serves GET /v1/stream. Create it with New; Close ends every
// socket with 1001.
type Gateway struct {
	access   Access
	log      Log
	feed     Feed
	opt      Options
	upgrader websocket.Upgrader
	metrics  *Metrics
	presence *presence
	encoder  *encoder

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns a gateway over the node's feed.
func New(access Access, log Log, f Feed, opt Options) *Gateway {
	opt.QueueBytes = positiveOr(opt.QueueBytes, DefaultQueueBytes)
	opt.StallTimeout = positiveOr(opt.StallTimeout, DefaultStallTimeout)
	opt.MaxMessageBytes = positiveOr(opt.MaxMessageBytes, DefaultMaxMessageBytes)
	opt.MaxSubscriptions = positiveOr(opt.MaxSubscriptions, DefaultMaxSubscriptions)
	opt.MessageRate = positiveOr(opt.MessageRate, DefaultMessageRate)
	opt.MessageBurst = positiveOr(opt.MessageBurst, DefaultMessageBurst)
	opt.PingEvery = positiveOr(opt.PingEvery, DefaultPingEvery)
	opt.RecheckEvery = positiveOr(opt.RecheckEvery, DefaultRecheckEvery)
	opt.PongWait = positiveOr(opt.PongWait, DefaultPongWait)
	opt.WriteTimeout = positiveOr(opt.WriteTimeout, DefaultWriteTimeout)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Fail == nil {
		opt.Fail = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), statusOf(err))
		}
	}
	g := &Gateway{access: access, log: log, feed: f, opt: opt, metrics: newMetrics(), encoder: newEncoder(),
		conns: map[*conn]struct{}{}}
	g.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   readBufferSize,
		WriteBufferPool:  &sync.Pool{},
		Subprotocols:     []string{Subprotocol},
		CheckOrigin:      func(*http.Request) bool { return true }, // checked before, with an answer that says why
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			opt.Fail(w, r, &domain.Error{Kind: domain.Invalid, Code: "bad_upgrade", Msg: reason.Error()})
		},
	}
	g.presence = newPresence(g, opt.Presence)
	return g
}

// Metrics returns the gateway's Prometheus metrics.
func (g *Gateway) Metrics() *Metrics { return g.metrics }

// Run keeps presence alive (heartbeats, expiry, changes from other nodes)
// until ctx ends.
func (g *Gateway) Run(ctx context.Context) error { return g.presence.run(ctx) }

// Close closes every socket with 1001 "going away" and refuses new ones.
// It does not wait (see Wait), so it suits
// http.Server.RegisterOnShutdown.
func (g *Gateway) Close() {
	g.mu.Lock()
	g.closed = true
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "server shutting down; resume elsewhere")
	}
}

// Wait waits until every socket has closed, or ctx ends.
func (g *Gateway) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	errShuttingDown = &domain.Error{Kind: domain.Unavailable, Code: "unavailable",
		Msg: "the server is shutting down; connect to another node"}
	errOrigin      = &domain.Error{Kind: domain.Forbidden, Code: "origin_not_allowed", Msg: "this origin may not open streams (EVENTDESK_ALLOWED_ORIGINS)"}
	errSubprotocol = &domain.Error{Kind: domain.Invalid, Code: "subprotocol_required",
		Msg: "offer the websocket subprotocol " + Subprotocol + " (Sec-WebSocket-Protocol)"}
	errNoCredential = &domain.Error{Kind: domain.Unauthenticated, Code: "unauthenticated",
		Msg: "missing credentials: send Authorization: Bearer <api key or agent token>, or ?ticket= from POST /v1/stream/tickets"}
)

// statusOf is the HTTP status of a refused upgrade when no Fail is set.
func statusOf(err error) int {
	switch domain.KindOf(err) {
	case domain.Unauthenticated:
		return http.StatusUnauthorized
	case domain.Forbidden:
		return http.StatusForbidden
	case domain.Invalid:
		return http.StatusBadRequest
	case domain.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ServeHTTP upgrades GET /v1/stream: origin, subprotocol and credentials
// are checked first and refused in the API's envelope.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.originAllowed(r) {
		g.opt.Fail(w, r, errOrigin)
		return
	}
	if !slices.Contains(websocket.Subprotocols(r), Subprotocol) {
		g.opt.Fail(w, r, errSubprotocol)
		return
	}
	g.mu.Lock()
	closed := g.closed
	if !closed {
		g.wg.Add(1)
	}
	g.mu.Unlock()
	if closed {
		g.opt.Fail(w, r, errShuttingDown)
		return
	}
	upgraded := false
	defer func() {
		if !upgraded {
			g.wg.Done()
		}
	}()
	cred, ticket := credential(r)
	if cred == "" {
		g.opt.Fail(w, r, errNoCredential)
		return
	}
	p, err := g.access.Authenticate(r.Context(), cred, ticket)
	if err != nil {
		g.opt.Fail(w, r, err)
		return
	}
	ws, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	if g.opt.SendBuffer > 0 {
		if tc, ok := ws.NetConn().(interface{ SetWriteBuffer(int) error }); ok {
			_ = tc.SetWriteBuffer(g.opt.SendBuffer)
		}
	}
	// The socket outlives the request on a goroutine of its own: once this
	// handler returns, net/http lets go of the hijacked connection, and
	// with it the request, its 4 KB buffered reader and writer and this
	// goroutine's stack, grown to 8 KB while serving the request: 20 KB of
	// the 37 KB an idle socket took when this handler went on serving it.
	upgraded = true
	go g.run(newConn(g, ws, p))
}

// run serves an upgraded socket until it closes. A panic closes it 1011
// and is logged (net/http no longer recovers it).
func (g *Gateway) run(c *conn) {
	defer g.wg.Done()
	g.mu.Lock()
	if g.closed { // Close ran since the check: it did not see c
		g.mu.Unlock()
		c.closeWith(websocket.CloseGoingAway, "server shutting down; resume elsewhere")
	} else {
		g.conns[c] = struct{}{}
		g.mu.Unlock()
	}
	g.metrics.connections.Inc()
	defer func() {
		if v := recover(); v != nil {
			g.opt.Logger.Error("stream: panic", "conn", c.id, "panic", v, "stack", string(debug.Stack()))
			c.closeWith(websocket.CloseInternalServerErr, "internal error")
			c.writeClose()
		}
		g.metrics.connections.Dec()
		g.mu.Lock()
		delete(g.conns, c)
		g.mu.Unlock()
	}()
	if !g.presence.joinRoom(c) {
		c.closeWith(websocket.CloseInternalServerErr, "could not record joining the video room; retry")
	}
	c.serve()
}

// TokenSubprotocol prefixes a bearer token offered as a subprotocol
// ("eventdesk.token.<token>", beside eventdesk.v1): the one header a
// browser's WebSocket can set, for video-room participants, whom no
// connect ticket serves. The server never selects it.
const TokenSubprotocol = "eventdesk.token."

// credential is the upgrade request's ?ticket=, its bearer token, or a
// token offered as a subprotocol.
func credential(r *http.Request) (cred string, ticket bool) {
	if t := r.URL.Query().Get("ticket"); t != "" {
		return t, true
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok), false
	}
	for _, p := range websocket.Subprotocols(r) {
		if tok, ok := strings.CutPrefix(p, TokenSubprotocol); ok {
			return tok, false
		}
	}
	return "", false
}

// originAllowed admits requests without an Origin (not browsers), from
// the server's own origin, and from Options.AllowedOrigins.
func (g *Gateway) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range g.opt.AllowedOrigins {
		if a == "*" || strings.EqualFold(strings.TrimRight(a, "/"), origin) {
			return true
		}
	}
	return false
}

// errorOf is what a client is told of err in an error message: a stable
// code and a message safe to show. Unexpected errors are logged.
func (g *Gateway) errorOf(ctx context.Context, err error) (code, msg string) {
	var de *domain.Error
	if errors.As(err, &de) && de.Kind != domain.Internal {
		if de.Kind == domain.NotFound {
			return "not_found", "no such topic" // never a hint that it exists elsewhere
		}
		code = de.Code
		if code == "" {
			code = de.Kind.String()
		}
		return code, de.Error()
	}
	g.opt.Logger.ErrorContext(ctx, "stream failed", "err", err)
	return "internal", "internal error; it has been logged: resubscribe from your last position"
}
