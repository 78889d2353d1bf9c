package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
)

// clientMessage is any message a client sends.
type clientMessage struct {
	Type  string          `json:"type"`
	Topic string          `json:"topic"`
	After json.RawMessage `json:"after"`
	State string          `json:"state"`
}

// Server messages.
type (
	subscribedMessage struct {
		Type     string              `json:"type"` // "subscribed"
		Topic    string              `json:"topic"`
		Position eventstore.Position `json:"position"`
	}
	presenceMessage struct {
		Type    string          `json:"type"` // "presence"
		Topic   string          `json:"topic"`
		Members []PresenceEntry `json:"members"`
	}
	errorMessage struct {
		Type    string `json:"type"` // "error"
		Topic   string `json:"topic,omitempty"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

var pong = []byte(`{"type":"pong"}`)

// Errors answered in error messages.
var (
	errUnknownType = &domain.Error{Kind: domain.Invalid, Code: "invalid_message",
		Msg: `type must be one of subscribe, unsubscribe, presence, ping`}
	errMalformed       = &domain.Error{Kind: domain.Invalid, Code: "invalid_message", Msg: "a message is one JSON object"}
	errTopicNotFound   = &domain.Error{Kind: domain.NotFound, Code: "not_found", Msg: "no such topic"}
	errInvalidAfter    = &domain.Error{Kind: domain.Invalid, Code: "invalid_after", Msg: `after must be a position of this tenant's log, such as "1234-5", as received in an event or subscribed message`}
	errTooManyTopics   = &domain.Error{Kind: domain.Invalid, Code: "too_many_subscriptions", Msg: "this connection has as many subscriptions as it may; unsubscribe first"}
	errPresenceTopic   = &domain.Error{Kind: domain.Invalid, Code: "invalid_presence", Msg: `presence needs a topic "ticket:<id>" this connection is subscribed to and a state viewing, typing or idle`}
	errPresenceNoStaff = &domain.Error{Kind: domain.Forbidden, Code: "forbidden", Msg: "only the tenant's agents and API key report presence"}
)

// outgoing is a queued message; at is its event's recorded time, for the
// commit → delivery histogram (zero for other messages).
type outgoing struct {
	data []byte
	at   time.Time
}

// conn is one socket: a reader (the caller of serve), a writer that runs
// only while something is queued, and one goroutine per subscription.
// An idle connection is its reader, its state and a ping timer: the
// timer's function pings (gorilla's WriteControl may be called beside a
// writer), and the end of ctx sends the close frame.
type conn struct {
	g      *Gateway
	ws     *websocket.Conn
	p      Principal
	id     string
	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	limit  *rate.Limiter
	subWG  sync.WaitGroup

	mu        sync.Mutex
	queue     []outgoing
	queued    int            // bytes in queue and being written
	writing   bool           // a writer goroutine is running
	writers   sync.WaitGroup // the writer goroutine, if any
	space     chan struct{}  // closed when bytes leave the queue; nil until a sender waits
	ping      *time.Timer
	checked   time.Time // the principal was last checked (Recheck); owned by the ping timer
	closeCode int
	closeText string

	// Owned by the reader.
	subs map[string]*subscription
}

type subscription struct {
	topic    string
	topicJS  []byte // topic as a JSON string, for its event messages
	streamID string // ticket id for presence; empty for the tenant topic
	kind     string
	cancel   context.CancelFunc
	done     chan struct{} // closed when its goroutine has ended
}

func newConn(g *Gateway, ws *websocket.Conn, p Principal) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{g: g, ws: ws, p: p, id: newID(), ctx: ctx, cancel: cancel,
		limit: rate.NewLimiter(rate.Limit(g.opt.MessageRate), g.opt.MessageBurst),
		subs:  map[string]*subscription{}}
}

// closeWith ends the connection with a close frame of code (the first
// reason given wins).
func (c *conn) closeWith(code int, text string) {
	c.mu.Lock()
	if c.closeCode == 0 {
		c.closeCode, c.closeText = code, text
	}
	c.mu.Unlock()
	c.cancel()
}

// serve runs the connection until either side ends it.
func (c *conn) serve() {
	// Whoever ends the connection (the reader, the writer, a ping,
	// Gateway.Close), the close frame is sent and the socket closed once,
	// which unblocks the reader.
	closed := make(chan struct{})
	context.AfterFunc(c.ctx, func() { defer close(closed); c.writeClose() })
	c.mu.Lock()
	c.checked = time.Now()
	c.ping = time.AfterFunc(c.g.opt.PingEvery, c.sendPing)
	c.mu.Unlock()
	c.readLoop()
	c.cancel()
	<-closed
	// Once ctx has ended, no sender starts a writer (enqueue checks ctx
	// under mu): past this lock, the writers to wait for have been added.
	c.mu.Lock()
	c.ping.Stop()
	c.mu.Unlock()
	c.writers.Wait()
	for _, s := range c.subs {
		s.cancel()
	}
	c.subWG.Wait()
	c.g.metrics.subscriptions.Sub(float64(len(c.subs)))
	c.g.presence.disconnect(c)
	c.g.presence.leaveRoom(c)
	_ = c.ws.Close()
}

// sendPing pings the client every PingEvery, from the timer's goroutine;
// a ping that cannot be written ends the connection.
func (c *conn) sendPing() {
	if c.ctx.Err() != nil {
		return
	}
	if c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.g.opt.WriteTimeout)) != nil {
		c.cancel()
		return
	}
	if c.p.Credential != "" && time.Since(c.checked) >= c.g.opt.RecheckEvery {
		c.checked = time.Now()
		c.recheck()
	}
	c.mu.Lock()
	if c.ctx.Err() == nil {
		c.ping.Reset(c.g.opt.PingEvery)
	}
	c.mu.Unlock()
}

// recheck checks the connection's credential again (Access.Recheck) and
// ends the connection if it was revoked or its rights changed: the client
// reconnects and resumes, or is refused.
func (c *conn) recheck() {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	now, err := c.g.access.Recheck(ctx, c.p)
	var de *domain.Error
	switch {
	case errors.As(err, &de) && de.Kind == domain.Unauthenticated:
		c.closeWith(CloseRevoked, "credential revoked")
	case err != nil: // checked again at a later ping
		c.g.opt.Logger.Warn("stream: recheck credential", "err", err)
	case !sameRights(now, c.p):
		c.closeWith(CloseRightsChanged, "rights changed: reconnect and resume from your last position")
	}
}

// readLoop reads client messages until the socket fails or closes (serve
// closes it when the connection ends).
func (c *conn) readLoop() {
	c.ws.SetReadLimit(c.g.opt.MaxMessageBytes)
	_ = c.ws.SetReadDeadline(time.Now().Add(c.g.opt.PongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(c.g.opt.PongWait)) })
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(c.g.opt.PongWait))
		if !c.limit.Allow() {
			c.closeWith(CloseTooManyMessages, "too many messages")
			return
		}
		var m clientMessage
		if typ != websocket.TextMessage || json.Unmarshal(data, &m) != nil {
			c.sendError("", errMalformed)
			continue
		}
		c.handle(m)
	}
}

func (c *conn) handle(m clientMessage) {
	switch m.Type {
	case "ping":
		_ = c.enqueue(c.ctx, pong, time.Time{})
	case "subscribe":
		if err := c.subscribe(m); err != nil {
			c.sendError(m.Topic, err)
		}
	case "unsubscribe":
		if s, ok := c.subs[m.Topic]; ok {
			c.unsubscribe(s)
		}
	case "presence":
		if err := c.reportPresence(m); err != nil {
			c.sendError(m.Topic, err)
		}
	default:
		c.sendError(m.Topic, errUnknownType)
	}
}

func (c *conn) sendError(topic string, err error) {
	code, msg := c.g.errorOf(c.ctx, err)
	b, _ := json.Marshal(errorMessage{Type: "error", Topic: topic, Code: code, Message: msg})
	_ = c.enqueue(c.ctx, b, time.Time{})
}

func (c *conn) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.g.opt.Logger.Error("stream: encode message", "err", err)
		return
	}
	_ = c.enqueue(c.ctx, b, time.Time{})
}

// push queues v without waiting, for senders that serve every connection
// (presence): a connection whose queue is full is closed 4008 at once.
func (c *conn) push(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.g.opt.Logger.Error("stream: encode message", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	cancel() // enqueue then waits for nothing
	if err := c.enqueue(ctx, b, time.Time{}); errors.Is(err, context.Canceled) && c.ctx.Err() == nil {
		c.g.metrics.slowCloses.Inc()
		c.closeWith(CloseSlowConsumer, "slow consumer")
	}
}

// topicFilter resolves a topic to the feed filter of its events.
func (c *conn) topicFilter(topic string) (feed.Filter, string, string, error) {
	f := feed.Filter{TenantID: c.p.TenantID}
	if topic == "tenant" {
		if c.p.Room != "" {
			return f, "", "", errTopicNotFound
		}
		return f, "tenant", "", nil
	}
	kind, ref, ok := strings.Cut(topic, ":")
	if !ok || ref == "" || (kind != "ticket" && kind != "contact" && kind != "video-room") {
		return f, "", "", errTopicNotFound
	}
	if c.p.Room != "" && (kind != "video-room" || ref != c.p.Room) {
		return f, "", "", errTopicNotFound
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	st, id, err := c.g.access.Resolve(ctx, c.p, kind, ref)
	if err != nil {
		return f, "", "", err
	}
	f.StreamType, f.StreamID = st, id
	return f, kind, id, nil
}

// startAfter is where a subscription starts: the tenant's head (live from
// now) without after, else after, which must be a position of one of the
// tenant's events (or "0", the start of the log).
func (c *conn) startAfter(raw json.RawMessage) (eventstore.Position, bool, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if len(raw) == 0 || string(raw) == "null" {
		head, err := c.g.log.Head(ctx, c.p.TenantID)
		return head, false, err
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		if string(raw) != "0" {
			return eventstore.Position{}, false, errInvalidAfter
		}
		s = "0"
	}
	after, err := eventstore.ParsePosition(s)
	if err != nil {
		return eventstore.Position{}, false, errInvalidAfter
	}
	if after.IsZero() {
		return after, true, nil
	}
	// The event at after is the first one after the position just
	// before it: sequence numbers are unique.
	prev := eventstore.Position{TxID: after.TxID, Seq: after.Seq - 1}
	if after.Seq == 0 {
		return eventstore.Position{}, false, errInvalidAfter
	}
	for {
		evs, err := c.g.log.ReadAll(ctx, eventstore.Query{After: prev, Limit: 1})
		if err != nil {
			return eventstore.Position{}, false, err
		}
		if len(evs) > 0 && evs[0].Position == after {
			if evs[0].TenantID != c.p.TenantID {
				return eventstore.Position{}, false, errInvalidAfter
			}
			return after, true, nil
		}
		// Not there: either no such event, or one that committed but is
		// not readable yet (the log's fence waits for older
		// transactions), e.g. a position a write's answer just gave.
		head, err := c.g.log.Head(ctx, "")
		if err != nil {
			return eventstore.Position{}, false, err
		}
		if !head.Less(after) {
			return eventstore.Position{}, false, errInvalidAfter
		}
		select {
		case <-ctx.Done():
			return eventstore.Position{}, false, errInvalidAfter
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *conn) subscribe(m clientMessage) error {
	old, again := c.subs[m.Topic]
	if !again && len(c.subs) >= c.g.opt.MaxSubscriptions {
		return errTooManyTopics
	}
	f, kind, id, err := c.topicFilter(m.Topic)
	if err != nil {
		return err
	}
	after, resumed, err := c.startAfter(m.After)
	if err != nil {
		return err
	}
	var head eventstore.Position // events up to it are replayed, not live
	if resumed {
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		head, err = c.g.log.Head(ctx, c.p.TenantID)
		cancel()
		if err != nil {
			return err
		}
	}
	fs, err := c.g.feed.Subscribe(f, after)
	if errors.Is(err, feed.ErrClosed) {
		c.closeWith(websocket.CloseGoingAway, "server shutting down; resume elsewhere")
		return errShuttingDown
	}
	if err != nil {
		return err
	}
	if again { // a subscription again replaces the old one
		c.unsubscribe(old)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	topicJS, _ := json.Marshal(m.Topic) // a string always marshals
	s := &subscription{topic: m.Topic, topicJS: topicJS, kind: kind, streamID: id, cancel: cancel, done: make(chan struct{})}
	c.subs[m.Topic] = s
	c.g.metrics.subscriptions.Inc()
	if resumed {
		c.g.metrics.resumes.Inc()
	}
	c.send(subscribedMessage{Type: "subscribed", Topic: m.Topic, Position: after})
	if kind == "ticket" {
		c.g.presence.watch(c, s)
	}
	c.subWG.Add(1)
	go func() {
		defer c.subWG.Done()
		defer close(s.done)
		defer fs.Close()
		c.follow(ctx, s, fs, head)
	}()
	return nil
}

// unsubscribe ends s and waits for its goroutine, so that nothing of s
// follows what the reader sends next (a new subscription's subscribed).
func (c *conn) unsubscribe(s *subscription) {
	s.cancel()
	<-s.done
	delete(c.subs, s.topic)
	c.g.metrics.subscriptions.Dec()
	if s.kind == "ticket" {
		c.g.presence.unwatch(c, s)
	}
}

// follow pushes a subscription's events until ctx ends. Events at or
// before head were missed while away: they count as replayed.
func (c *conn) follow(ctx context.Context, s *subscription, fs *feed.Subscription, head eventstore.Position) {
	for {
		evs, err := fs.Next(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, feed.ErrClosed): // the node is stopping
			c.closeWith(websocket.CloseGoingAway, "server shutting down; resume elsewhere")
			return
		case err != nil:
			c.failSubscription(s, err)
			return
		}
		for i := range evs {
			e := &evs[i]
			ok, err := c.g.access.Visible(ctx, c.p, e)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				c.failSubscription(s, err)
				return
			}
			if !ok {
				continue
			}
			b, err := c.g.encoder.message(s.topicJS, e)
			if err != nil {
				c.failSubscription(s, err)
				return
			}
			if c.enqueue(ctx, b, e.RecordedAt) != nil {
				return
			}
			if !head.Less(e.Position) {
				c.g.metrics.replayed.Inc()
			}
		}
	}
}

// failSubscription tells the client its subscription ended; it resumes
// by subscribing again after the last position it received.
func (c *conn) failSubscription(s *subscription, err error) {
	c.sendError(s.topic, err)
}

// enqueue queues data for the writer, starting it if none runs, and
// waits while the queue is full; if it stays full for StallTimeout the
// connection is closed 4008.
func (c *conn) enqueue(ctx context.Context, data []byte, at time.Time) error {
	var stall <-chan time.Time
	for {
		c.mu.Lock()
		if c.ctx.Err() != nil {
			c.mu.Unlock()
			return c.ctx.Err()
		}
		if c.queued == 0 || c.queued+len(data) <= c.g.opt.QueueBytes {
			c.queue = append(c.queue, outgoing{data: data, at: at})
			c.queued += len(data)
			if !c.writing {
				c.writing = true
				c.writers.Add(1)
				go c.writeLoop()
			}
			c.mu.Unlock()
			return nil
		}
		if c.space == nil {
			c.space = make(chan struct{})
		}
		space := c.space
		c.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if stall == nil {
			t := time.NewTimer(c.g.opt.StallTimeout)
			defer t.Stop()
			stall = t.C
		}
		select {
		case <-space:
		case <-stall:
			c.g.metrics.slowCloses.Inc()
			c.closeWith(CloseSlowConsumer, "slow consumer")
			return errSlow
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
}

var errSlow = errors.New("slow consumer")

// writeLoop writes queued messages until the queue is empty or the
// connection ends; a failed write ends the connection. An idle
// connection has no writer: enqueue starts one.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.ctx.Err() != nil {
			c.writing = false
			c.queue = nil // an idle connection keeps no backing array
			c.mu.Unlock()
			return
		}
		m := c.queue[0]
		c.queue[0] = outgoing{}
		c.queue = c.queue[1:]
		c.mu.Unlock()
		_ = c.ws.SetWriteDeadline(time.Now().Add(c.g.opt.WriteTimeout))
		if err := c.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
			c.cancel()
			continue
		}
		if !m.at.IsZero() {
			c.g.metrics.deliveries.Inc()
			c.g.metrics.latency.Observe(time.Since(m.at).Seconds())
		}
		c.mu.Lock()
		c.queued -= len(m.data)
		if c.space != nil {
			close(c.space)
			c.space = nil
		}
		c.mu.Unlock()
	}
}

// writeClose sends the close frame the connection ended with, if any,
// and closes the socket (which ends the reader).
func (c *conn) writeClose() {
	c.mu.Lock()
	code, text := c.closeCode, c.closeText
	c.mu.Unlock()
	if code != 0 {
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
			time.Now().Add(c.g.opt.WriteTimeout))
	}
	_ = c.ws.UnderlyingConn().Close()
}
