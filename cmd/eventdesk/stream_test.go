package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/realtime"
)

// streamEnv is the engine wired as serve wires it, in this process, over a
// scratch database, with two tenants: enough to drive the realtime
// gateway without a child process.
type streamEnv struct {
	t      *testing.T
	e      *engine
	http   *httptest.Server // every surface, GET /v1/stream included
	wsBase string           // ws:// URL of the gateway under test
	keyA   string
	keyB   string
}

// newStreamEnv starts an engine. With opt non-nil the gateway under test
// is one built with opt (served on a server of its own); otherwise it is
// the engine's own.
func newStreamEnv(t *testing.T, opt *realtime.Options) *streamEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	cfg, err := loadConfig(env(map[string]string{"EVENTDESK_DATABASE_URL": scratchURL(t), "EVENTDESK_DATA_DIR": t.TempDir(),
		"EVENTDESK_POLL_INTERVAL": "50ms", "EVENTDESK_ALLOWED_ORIGINS": "https://console.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(db, cfg, log, nil, nil)
	done := make(chan struct{}, 3)
	go func() { _ = e.hub.Run(ctx); done <- struct{}{} }()
	go func() { _ = e.runner.Run(ctx); done <- struct{}{} }()
	go func() { _ = e.stream.Run(ctx); done <- struct{}{} }()
	s := &streamEnv{t: t, e: e, http: httptest.NewServer(e.handler())}
	s.wsBase = "ws" + strings.TrimPrefix(s.http.URL, "http")
	if opt != nil {
		gw := realtime.New(streamAccess{e.Services}, e.store, e.hub, *opt)
		go func() { _ = gw.Run(ctx) }()
		own := httptest.NewServer(gw)
		s.wsBase = "ws" + strings.TrimPrefix(own.URL, "http")
		t.Cleanup(func() { gw.Close(); own.Close() })
	}
	t.Cleanup(func() {
		e.stream.Close()
		e.hub.Close()
		s.http.Close()
		cancel()
		for range 3 {
			<-done
		}
		_ = e.store.Close()
		_ = db.Close(context.Background())
	})
	for i, key := range []*string{&s.keyA, &s.keyB} {
		_, creds, err := e.Tenants.Create(context.Background(), fmt.Sprintf("Tenant %d", i))
		if err != nil {
			t.Fatal(err)
		}
		*key = creds.APIKey
	}
	return s
}

// api sends a native API request with credential key and decodes the
// answer, failing unless it has status want.
func apiCall(t *testing.T, base, key, method, path string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// serverMsg is any message the gateway sends.
type serverMsg struct {
	Type     string  `json:"type"`
	Topic    string  `json:"topic"`
	Position string  `json:"position"`
	Code     string  `json:"code"`
	Message  string  `json:"message"`
	Event    rawJSON `json:"event"`
	Members  []struct {
		Kind  string `json:"kind"`
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"members"`
}

// rawJSON is a JSON value kept as it came, printed as text.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }
func (r rawJSON) String() string                { return string(r) }

// lastPosition is the position of a ticket's last event.
func lastPosition(t *testing.T, base, key, ticket string) string {
	t.Helper()
	evs := apiCall(t, base, key, "GET", "/v1/tickets/"+ticket+"/events", nil, http.StatusOK)["events"].([]any)
	return evs[len(evs)-1].(map[string]any)["position"].(string)
}

func (m serverMsg) eventField(name string) string {
	var ev map[string]any
	_ = json.Unmarshal(m.Event, &ev)
	s, _ := ev[name].(string)
	return s
}

type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

// dialStream opens GET /v1/stream with the bearer key (or, if it starts
// "?", that query), offering the subprotocol.
func dialStream(t *testing.T, base, key string, d *websocket.Dialer) (*wsClient, *http.Response, error) {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	}
	d.Subprotocols = []string{realtime.Subprotocol}
	h := http.Header{}
	u := base + "/v1/stream"
	if strings.HasPrefix(key, "?") {
		u += key
	} else if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	c, res, err := d.Dial(u, h)
	if err != nil {
		return nil, res, err
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t: t, c: c}, res, nil
}

func mustDial(t *testing.T, base, key string) *wsClient {
	t.Helper()
	c, res, err := dialStream(t, base, key, nil)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", base, err, status)
	}
	if c.c.Subprotocol() != realtime.Subprotocol {
		t.Fatalf("subprotocol %q, want %q", c.c.Subprotocol(), realtime.Subprotocol)
	}
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.c.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// read returns the next message, or the error that ended the socket.
func (c *wsClient) read(timeout time.Duration) (serverMsg, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	var m serverMsg
	_, b, err := c.c.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("message %s is not JSON: %v", b, err)
	}
	return m, nil
}

// next returns the next message that is not presence, failing on error.
func (c *wsClient) next() serverMsg {
	c.t.Helper()
	for {
		m, err := c.read(15 * time.Second)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if m.Type != "presence" {
			return m
		}
	}
}

func (c *wsClient) subscribe(topic string, after any) serverMsg {
	c.t.Helper()
	msg := map[string]any{"type": "subscribe", "topic": topic}
	if after != nil {
		msg["after"] = after
	}
	c.send(msg)
	m := c.next()
	if m.Type != "subscribed" || m.Topic != topic {
		c.t.Fatalf("subscribe %s: got %+v, want subscribed", topic, m)
	}
	return m
}

// events reads n event messages, failing on anything else.
func (c *wsClient) events(n int) []serverMsg {
	c.t.Helper()
	out := make([]serverMsg, 0, n)
	for len(out) < n {
		m := c.next()
		if m.Type != "event" {
			c.t.Fatalf("got %+v, want an event (%d of %d read)", m, len(out), n)
		}
		out = append(out, m)
	}
	return out
}

// quiet checks that nothing but presence arrives for d: it waits, then
// pings, and the pong must be the next message. (A read that times out
// would break the socket: gorilla's connections do not survive one.)
func (c *wsClient) quiet(d time.Duration) {
	c.t.Helper()
	time.Sleep(d)
	c.send(map[string]any{"type": "ping"})
	if m := c.next(); m.Type != "pong" {
		c.t.Fatalf("got %+v, want nothing", m)
	}
}

func comment(t *testing.T, base, key, ticket, text, visibility string) {
	t.Helper()
	apiCall(t, base, key, "POST", "/v1/tickets/"+ticket+"/history",
		map[string]any{"type": "comment", "value": map[string]any{"text": text}, "visibility": visibility}, http.StatusCreated)
}

func commentText(m serverMsg) string {
	var ev struct {
		Data struct {
			Value struct {
				Text string `json:"text"`
			} `json:"value"`
		} `json:"data"`
	}
	_ = json.Unmarshal(m.Event, &ev)
	return ev.Data.Value.Text
}

// TestStream_SubscribeResumeIsolation drives the protocol: upgrade
// refusals, live delivery of exactly the item GET /v1/events shows,
// resuming after a position exactly once across a reconnect, another
// tenant's ids and positions, ping, and one-time connect tickets.
func TestStream_SubscribeResumeIsolation(t *testing.T) {
	s := newStreamEnv(t, nil)
	base := s.http.URL

	// Refused upgrades answer problem+json before any socket exists.
	if _, res, err := dialStream(t, s.wsBase, "", nil); err == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials: %v, want 401", res.Status)
	}
	if _, res, err := dialStream(t, s.wsBase, "edk_nonsense", nil); err == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown key: %v, want 401", res.Status)
	}
	d := &websocket.Dialer{}
	if c, res, err := d.Dial(s.wsBase+"/v1/stream", http.Header{"Authorization": {"Bearer " + s.keyA}}); err == nil || res.StatusCode != http.StatusUnprocessableEntity {
		if c != nil {
			c.Close()
		}
		t.Fatalf("no subprotocol: %v, want 422", res.Status)
	}
	for origin, want := range map[string]int{"https://evil.example.com": http.StatusForbidden, "https://console.example.com": http.StatusSwitchingProtocols} {
		d := &websocket.Dialer{Subprotocols: []string{realtime.Subprotocol}}
		c, res, _ := d.Dial(s.wsBase+"/v1/stream", http.Header{"Authorization": {"Bearer " + s.keyA}, "Origin": {origin}})
		if c != nil {
			c.Close()
		}
		if res == nil || res.StatusCode != want {
			t.Fatalf("origin %s: %v, want %d", origin, res, want)
		}
	}

	tk := apiCall(t, base, s.keyA, "POST", "/v1/tickets", map[string]any{"title": "Printer on fire"}, http.StatusCreated)
	id := tk["id"].(string)
	c := mustDial(t, s.wsBase, s.keyA)
	c.send(map[string]any{"type": "ping"})
	if m := c.next(); m.Type != "pong" {
		t.Fatalf("ping: got %+v, want pong", m)
	}
	sub := c.subscribe("ticket:1", nil) // by number, live from now
	comment(t, base, s.keyA, id, "one", "public")
	got := c.events(1)[0]
	if got.eventField("type") == "ticket.created" { // committed before, readable only since
		got = c.events(1)[0]
	}
	if got.Topic != "ticket:1" || commentText(got) != "one" || got.eventField("stream_id") != id || !positionLess(sub.Position, got.Position) {
		t.Fatalf("event %+v after subscribed at %s, want the comment on ticket:1", got, sub.Position)
	}
	// The event is exactly GET /v1/events's item.
	var want []byte
	for _, it := range apiCall(t, base, s.keyA, "GET", "/v1/events?after="+sub.Position, nil, http.StatusOK)["events"].([]any) {
		if it.(map[string]any)["id"] == got.eventField("id") {
			want, _ = json.Marshal(it)
		}
	}
	var have any
	_ = json.Unmarshal(got.Event, &have)
	haveJSON, _ := json.Marshal(have)
	if !bytes.Equal(haveJSON, want) || got.Position != got.eventField("position") {
		t.Fatalf("event\n%s\nwant GET /v1/events's item\n%s", haveJSON, want)
	}

	// Reconnect: what was missed comes exactly once, then live.
	last := got.Position
	c.c.Close()
	for _, text := range []string{"two", "three", "four"} {
		comment(t, base, s.keyA, id, text, "public")
	}
	c = mustDial(t, s.wsBase, s.keyA)
	if m := c.subscribe("ticket:"+id, last); m.Position != last {
		t.Fatalf("resumed subscription at %s, want %s", m.Position, last)
	}
	comment(t, base, s.keyA, id, "five", "internal") // staff see internal entries
	var texts []string
	prev := last
	for _, m := range c.events(4) {
		texts = append(texts, commentText(m))
		if !positionLess(prev, m.Position) {
			t.Errorf("position %s after %s: not increasing", m.Position, prev)
		}
		prev = m.Position
	}
	if strings.Join(texts, ",") != "two,three,four,five" {
		t.Fatalf("after a reconnect got %v, want two,three,four,five exactly once", texts)
	}
	c.quiet(300 * time.Millisecond)

	// Another tenant: the same id, unknown ids and topics all read the
	// same not_found; its positions are refused.
	b := mustDial(t, s.wsBase, s.keyB)
	for _, topic := range []string{"ticket:" + id, "ticket:1", "ticket:99999", "contact:" + id, "video-room:" + id, "nonsense", "ticket:"} {
		b.send(map[string]any{"type": "subscribe", "topic": topic})
		if m := b.next(); m.Type != "error" || m.Code != "not_found" || m.Message != "no such topic" || m.Topic != topic {
			t.Errorf("tenant B subscribing %s: got %+v, want not_found", topic, m)
		}
	}
	for _, after := range []any{last, "garbage", "12", 7} {
		b.send(map[string]any{"type": "subscribe", "topic": "tenant", "after": after})
		if m := b.next(); m.Type != "error" || m.Code != "invalid_after" {
			t.Errorf("tenant B subscribing after %v: got %+v, want invalid_after", after, m)
		}
	}
	b.send(map[string]any{"type": "dance"})
	if m := b.next(); m.Type != "error" || m.Code != "invalid_message" {
		t.Errorf("unknown type: got %+v, want invalid_message", m)
	}
	b.subscribe("tenant", nil)
	b.quiet(300 * time.Millisecond) // tenant A's comments never reach B
	comment(t, base, s.keyA, id, "six", "public")
	b.quiet(300 * time.Millisecond)

	// A connect ticket works once.
	ticket := apiCall(t, base, s.keyA, "POST", "/v1/stream/tickets", nil, http.StatusCreated)["ticket"].(string)
	tc := mustDial(t, s.wsBase, "?ticket="+ticket)
	tc.subscribe("ticket:1", last)
	if got := tc.events(5); commentText(got[4]) != "six" {
		t.Fatalf("via a connect ticket got %v, want through six", got)
	}
	if _, res, err := dialStream(t, s.wsBase, "?ticket="+ticket, nil); err == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a used ticket: %v, want 401", res.Status)
	}
}

// positionLess compares two positions as the log orders them.
func positionLess(a, b string) bool {
	var at, bt uint64
	var as, bs int64
	fmt.Sscanf(a, "%d-%d", &at, &as)
	fmt.Sscanf(b, "%d-%d", &bt, &bs)
	return at < bt || (at == bt && as < bs)
}

// TestStream_AgentPermits checks that an agent token's connection sees only
// what the agent's permits allow: a contact only its owner may see is
// not_found as a topic and absent from the tenant topic.
func TestStream_AgentPermits(t *testing.T) {
	s := newStreamEnv(t, nil)
	base := s.http.URL
	ana := apiCall(t, base, s.keyA, "POST", "/v1/agents", map[string]any{"email": "ana@example.com", "name": "Ana"}, http.StatusCreated)["id"].(string)
	bo := apiCall(t, base, s.keyA, "POST", "/v1/agents", map[string]any{"email": "bo@example.com", "name": "Bo"}, http.StatusCreated)["id"].(string)
	boToken := apiCall(t, base, s.keyA, "POST", "/v1/agents/"+bo+"/tokens", nil, http.StatusCreated)["token"].(string)

	c := mustDial(t, s.wsBase, boToken)
	c.subscribe("tenant", nil)
	secret := apiCall(t, base, s.keyA, "POST", "/v1/contacts", map[string]any{"name": "Secret", "owner": ana,
		"permit": map[string]any{"kind": "owner"}}, http.StatusCreated)["id"].(string)
	open := apiCall(t, base, s.keyA, "POST", "/v1/contacts", map[string]any{"name": "Open", "owner": ana}, http.StatusCreated)["id"].(string)
	// Bo's tenant topic carries the open contact's events (its creation,
	// its identities) and nothing that names the secret one.
	noSecret := func(m serverMsg) {
		if bytes.Contains(m.Event, []byte(secret)) {
			t.Fatalf("agent Bo got %s, which names the contact only Ana may see", m.Event)
		}
	}
	for seen := false; !seen; {
		m := c.events(1)[0]
		noSecret(m)
		seen = m.eventField("stream_id") == open
	}
	time.Sleep(300 * time.Millisecond)
	c.send(map[string]any{"type": "ping"})
	for m := c.next(); m.Type != "pong"; m = c.next() {
		noSecret(m)
	}
	c = mustDial(t, s.wsBase, boToken)
	c.send(map[string]any{"type": "subscribe", "topic": "contact:" + secret})
	if m := c.next(); m.Type != "error" || m.Code != "not_found" {
		t.Fatalf("Bo subscribing to a contact only Ana may see: %+v, want not_found", m)
	}
	c.subscribe("contact:"+open, "0")
	if m := c.events(1)[0]; m.eventField("stream_id") != open {
		t.Fatalf("got %+v, want the open contact's creation", m)
	}
	// The API key sees both.
	k := mustDial(t, s.wsBase, s.keyA)
	k.subscribe("contact:"+secret, "0")
	if m := k.events(1)[0]; m.eventField("stream_id") != secret {
		t.Fatalf("API key got %+v, want the secret contact's creation", m)
	}
}

// TestStream_SlowConsumer fills the send queue of a client that stops
// reading: it is closed 4008 "slow consumer", a reading client on the same
// node receives everything, and the slow one resumes from its last
// position with no gap and no duplicate.
func TestStream_SlowConsumer(t *testing.T) {
	s := newStreamEnv(t, &realtime.Options{QueueBytes: 8 << 10, StallTimeout: 200 * time.Millisecond, SendBuffer: 4096,
		WriteTimeout: time.Minute})
	base := s.http.URL
	id := apiCall(t, base, s.keyA, "POST", "/v1/tickets", map[string]any{"title": "Busy"}, http.StatusCreated)["id"].(string)

	small := &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, _, err := dialStream(t, s.wsBase, s.keyA, small)
	if err != nil {
		t.Fatal(err)
	}
	fast := mustDial(t, s.wsBase, s.keyA)
	start := slow.subscribe("ticket:"+id, lastPosition(t, base, s.keyA, id))
	fast.subscribe("ticket:"+id, start.Position)

	const n = 60
	big := strings.Repeat("x", 4000)
	var fastGot []serverMsg
	for i := range n {
		comment(t, base, s.keyA, id, fmt.Sprintf("%03d %s", i, big), "public")
		fastGot = append(fastGot, fast.events(1)...)
	}
	// The slow client now reads: what was sent, then the close.
	var slowGot []serverMsg
	var closeErr *websocket.CloseError
	for {
		m, err := slow.read(30 * time.Second)
		if err != nil {
			if !errors.As(err, &closeErr) {
				t.Fatalf("slow client: %v after %d events, want close 4008", err, len(slowGot))
			}
			break
		}
		if m.Type == "event" {
			slowGot = append(slowGot, m)
		}
	}
	if closeErr.Code != realtime.CloseSlowConsumer || closeErr.Text != "slow consumer" {
		t.Fatalf("slow client closed with %d %q, want 4008 slow consumer", closeErr.Code, closeErr.Text)
	}
	if len(slowGot) >= n {
		t.Fatalf("slow client got all %d events before its close; the queue never filled", len(slowGot))
	}
	// Resume from the last position received.
	after := start.Position
	if len(slowGot) > 0 {
		after = slowGot[len(slowGot)-1].Position
	}
	again := mustDial(t, s.wsBase, s.keyA)
	again.subscribe("ticket:"+id, after)
	slowGot = append(slowGot, again.events(n-len(slowGot))...)
	again.quiet(300 * time.Millisecond)
	for i := range n {
		if slowGot[i].Position != fastGot[i].Position || commentText(slowGot[i]) != commentText(fastGot[i]) {
			t.Fatalf("event %d: slow then resumed client got %s, the fast one %s", i, slowGot[i].Position, fastGot[i].Position)
		}
	}
}

// TestStream_MultiNode runs three `serve` processes over one database and
// one Redis. A client follows a ticket on node 1 while comments are
// posted through node 3; node 1 is killed (SIGKILL) and the client resumes
// on node 2, which is then stopped (SIGTERM: close 1001), and resumes on
// node 3: it receives every comment exactly once, in order. Presence
// reported on node 1 reaches a watcher on node 3 through Redis, and
// expires there within the TTL once node 1 is dead.
func TestStream_MultiNode(t *testing.T) {
	if servedByChild(t) {
		return
	}
	const test = "TestStream_MultiNode"
	vars := []map[string]string{serveVars(t)}
	vars[0]["EVENTDESK_REDIS_URL"] = "redis://127.0.0.1:6379/0"
	vars[0]["EVENTDESK_POLL_INTERVAL"] = "100ms"
	for range 2 {
		v := map[string]string{}
		for k, x := range vars[0] {
			v[k] = x
		}
		v["EVENTDESK_HTTP_ADDR"] = freeAddr(t)
		v["EVENTDESK_DATA_DIR"] = t.TempDir()
		vars = append(vars, v)
	}
	var nodes []*child
	var http1, ws []string
	for _, v := range vars {
		nodes = append(nodes, startServe(t, test, v))
		http1 = append(http1, "http://"+v["EVENTDESK_HTTP_ADDR"])
		ws = append(ws, "ws://"+v["EVENTDESK_HTTP_ADDR"])
	}
	key := createTenant(t, vars[0])
	id := apiCall(t, http1[2], key, "POST", "/v1/tickets", map[string]any{"title": "Across nodes"}, http.StatusCreated)["id"].(string)
	start := lastPosition(t, http1[2], key, id)

	// Presence: reported on node 1, seen on node 3.
	watcher := mustDial(t, ws[2], key)
	watcher.subscribe("ticket:"+id, start)
	reporter := mustDial(t, ws[0], key)
	reporter.subscribe("ticket:"+id, start)
	reporter.send(map[string]any{"type": "presence", "topic": "ticket:" + id, "state": "viewing"})
	waitPresence(t, watcher, "ticket:"+id, func(n int, state string) bool { return n == 1 && state == "viewing" })
	// A video-room participant on node 1, which is about to die.
	room := apiCall(t, http1[2], key, "POST", "/v1/tickets/"+id+"/video-room", nil, http.StatusCreated)["unique_name"].(string)
	tok := apiCall(t, http1[2], key, "POST", "/v1/video-rooms/"+room+"/token", map[string]any{"identity": "eve"}, http.StatusCreated)["access_token"].(string)
	eve := mustDial(t, ws[0], tok)
	eve.subscribe("video-room:"+room, nil)
	for deadline := time.Now().Add(10 * time.Second); participantEvents(t, http1[2], key, "video_room.participant_joined") != 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("eve's joining was never recorded")
		}
	}

	// Comments go on while node 1 dies; from the 30th they wait until
	// node 2 has been told to stop, so that its socket has more to come.
	const n, gated = 40, 30
	posted, gate := make(chan error, 1), make(chan struct{})
	var opened sync.Once
	openGate := func() { opened.Do(func() { close(gate) }) }
	defer openGate() // a failure before it opens must not leave the poster waiting
	go func() {
		for i := range n {
			if i == gated {
				<-gate
			}
			req, _ := http.NewRequest("POST", http1[2]+"/v1/tickets/"+id+"/history",
				strings.NewReader(fmt.Sprintf(`{"type":"comment","value":{"text":"c%02d"}}`, i)))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				posted <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				posted <- fmt.Errorf("comment %d: status %d", i, res.StatusCode)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		posted <- nil
	}()

	var got []serverMsg
	after := start
	// follow reads from c until it has want comments in all or the socket
	// ends; it returns the error that ended it.
	follow := func(c *wsClient, want int) error {
		for len(got) < want {
			m, err := c.read(20 * time.Second)
			if err != nil {
				return err
			}
			switch m.Type {
			case "event":
				if !positionLess(after, m.Position) {
					t.Fatalf("event at %s after %s: a duplicate or out of order", m.Position, after)
				}
				got, after = append(got, m), m.Position
			case "presence":
			default:
				t.Fatalf("got %+v, want events", m)
			}
		}
		return nil
	}
	c := mustDial(t, ws[0], key)
	c.subscribe("ticket:"+id, after)
	if err := follow(c, 10); err != nil {
		t.Fatalf("node 1: %v", err)
	}
	if err := nodes[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := follow(c, n); err == nil {
		t.Fatal("node 1 was killed but its socket still delivers everything")
	}

	c = mustDial(t, ws[1], key)
	c.subscribe("ticket:"+id, after)
	if err := follow(c, 25); err != nil {
		t.Fatalf("node 2: %v", err)
	}
	if err := nodes[1].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := follow(c, n)
	openGate()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("node 2 stopping ended the socket with %v, want close 1001", err)
	}
	select {
	case err := <-nodes[1].exited:
		if err != nil {
			t.Errorf("node 2 exited with %v after SIGTERM, want status 0\n%s", err, nodes[1].logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("node 2 still running 20s after SIGTERM")
	}

	c = mustDial(t, ws[2], key)
	c.subscribe("ticket:"+id, after)
	if err := follow(c, n); err != nil {
		t.Fatalf("node 3: %v", err)
	}
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	c.quiet(500 * time.Millisecond)
	for i, m := range got {
		if want := fmt.Sprintf("c%02d", i); commentText(m) != want {
			t.Fatalf("event %d is %q, want %q: every comment once, in order", i, commentText(m), want)
		}
	}

	// Node 1's presence report dies with it, within the TTL, and so does
	// its participant's session: node 3 records eve's leaving, once.
	waitPresence(t, watcher, "ticket:"+id, func(n int, _ string) bool { return n == 0 })
	for deadline := time.Now().Add(realtime.PresenceTTL); participantEvents(t, http1[2], key, "video_room.participant_left") == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			evs := apiCall(t, http1[2], key, "GET", "/v1/events?after=0&limit=1000&stream_type=video_room", nil, http.StatusOK)
			b, _ := json.Marshal(evs)
			t.Fatalf("eve's leaving was never recorded after node 1 died; video-room events %s; node 3:\n%s", b, nodes[2].logs.String())
		}
	}
	time.Sleep(realtime.PresenceTTL / 3) // another sweep
	if n := participantEvents(t, http1[2], key, "video_room.participant_left"); n != 1 {
		t.Fatalf("%d participant_left events, want 1", n)
	}
	if _, metrics := get(t, http1[2]+"/metrics"); !strings.Contains(metrics, "eventdesk_stream_resumes_total") ||
		!strings.Contains(metrics, "eventdesk_stream_delivery_latency_seconds_bucket") {
		t.Errorf("/metrics lacks the stream metrics")
	}
}

// participantEvents counts the tenant's video-room events of type typ.
func participantEvents(t *testing.T, base, key, typ string) int {
	t.Helper()
	n := 0
	for _, e := range apiCall(t, base, key, "GET", "/v1/events?after=0&limit=1000&stream_type=video_room", nil, http.StatusOK)["events"].([]any) {
		if e.(map[string]any)["type"] == typ {
			n++
		}
	}
	return n
}

// TestStream_UnsubscribeDropsPresence: what a connection reported on a
// ticket goes when it stops watching the ticket — under every topic that
// names it — while it stays connected.
func TestStream_UnsubscribeDropsPresence(t *testing.T) {
	s := newStreamEnv(t, nil)
	tk := apiCall(t, s.http.URL, s.keyA, "POST", "/v1/tickets", map[string]any{"title": "Watched"}, http.StatusCreated)
	byID, byNumber := "ticket:"+tk["id"].(string), fmt.Sprintf("ticket:%v", tk["number"])
	watcher := mustDial(t, s.wsBase, s.keyA)
	watcher.subscribe(byID, nil)
	agent := mustDial(t, s.wsBase, s.keyA)
	agent.subscribe(byID, nil)
	agent.subscribe(byNumber, nil)
	agent.send(map[string]any{"type": "presence", "topic": byID, "state": "typing"})
	waitPresence(t, watcher, byID, func(n int, state string) bool { return n == 1 && state == "typing" })
	agent.send(map[string]any{"type": "unsubscribe", "topic": byID})
	agent.send(map[string]any{"type": "presence", "topic": byNumber, "state": "viewing"})
	waitPresence(t, watcher, byID, func(n int, state string) bool { return n == 1 && state == "viewing" })
	agent.send(map[string]any{"type": "unsubscribe", "topic": byNumber})
	waitPresence(t, watcher, byID, func(n int, _ string) bool { return n == 0 })
	agent.send(map[string]any{"type": "ping"})
	if m := agent.next(); m.Type != "pong" {
		t.Errorf("after unsubscribing: %+v, want pong (still connected)", m)
	}
}

// TestStream_CredentialRechecked: an agent token's socket is checked again
// while it stays open — changed rights close it 4403 (the same token
// reconnects under the new ones), a revoked token closes it 4401 (and is
// refused at the next upgrade); the API key's socket is left alone.
func TestStream_CredentialRechecked(t *testing.T) {
	s := newStreamEnv(t, &realtime.Options{PingEvery: 50 * time.Millisecond, RecheckEvery: 50 * time.Millisecond})
	base := s.http.URL
	ana := apiCall(t, base, s.keyA, "POST", "/v1/agents", map[string]any{"email": "ana@example.com", "name": "Ana"}, http.StatusCreated)["id"].(string)
	tok := apiCall(t, base, s.keyA, "POST", "/v1/agents/"+ana+"/tokens", nil, http.StatusCreated)
	token, tokenID := tok["token"].(string), tok["id"].(string)
	closedWith := func(c *wsClient) *websocket.CloseError {
		t.Helper()
		for {
			_, err := c.read(10 * time.Second)
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce
			}
			if err != nil {
				t.Fatalf("read: %v, want a close frame", err)
			}
		}
	}
	key := mustDial(t, s.wsBase, s.keyA)
	c := mustDial(t, s.wsBase, token)
	c.subscribe("tenant", nil)
	apiCall(t, base, s.keyA, "PATCH", "/v1/agents/"+ana, map[string]any{"role": "admin"}, http.StatusOK)
	if ce := closedWith(c); ce.Code != realtime.CloseRightsChanged {
		t.Fatalf("after the agent became admin: closed %d %q, want %d", ce.Code, ce.Text, realtime.CloseRightsChanged)
	}
	c = mustDial(t, s.wsBase, token) // the same token, under the new rights
	c.subscribe("tenant", nil)
	apiCall(t, base, s.keyA, "DELETE", "/v1/agents/"+ana+"/tokens/"+tokenID, nil, http.StatusNoContent)
	if ce := closedWith(c); ce.Code != realtime.CloseRevoked {
		t.Fatalf("after the token was revoked: closed %d %q, want %d", ce.Code, ce.Text, realtime.CloseRevoked)
	}
	if _, res, err := dialStream(t, s.wsBase, token, nil); err == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a revoked token at the upgrade: %v, want 401", res)
	}
	key.send(map[string]any{"type": "ping"})
	if m := key.next(); m.Type != "pong" {
		t.Errorf("the API key's socket: %+v, want pong (still open)", m)
	}
}

// waitPresence reads c until a presence message for topic satisfies ok
// (its member count and first member's state), within PresenceTTL and a
// renewal period.
func waitPresence(t *testing.T, c *wsClient, topic string, ok func(n int, state string) bool) {
	t.Helper()
	deadline := time.Now().Add(realtime.PresenceTTL + realtime.PresenceTTL/3 + 5*time.Second)
	var last serverMsg
	for time.Now().Before(deadline) {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			break
		}
		if m.Type != "presence" || m.Topic != topic {
			continue
		}
		last = m
		state := ""
		if len(m.Members) > 0 {
			state = m.Members[0].State
		}
		if ok(len(m.Members), state) {
			return
		}
	}
	t.Fatalf("presence on %s never became as wanted; last: %+v", topic, last)
}

// TestStream_VideoRoomParticipant connects a participant with its room's
// access token: it may follow only its room (never a ticket, never the
// tenant), its connecting and disconnecting are recorded as participant
// joined and left, which staff following the room see live, and a
// session's end reported by two nodes is recorded once.
func TestStream_VideoRoomParticipant(t *testing.T) {
	s := newStreamEnv(t, nil)
	base := s.http.URL
	id := apiCall(t, base, s.keyA, "POST", "/v1/tickets", map[string]any{"title": "Call me"}, http.StatusCreated)["id"].(string)
	room := apiCall(t, base, s.keyA, "POST", "/v1/tickets/"+id+"/video-room", nil, http.StatusCreated)["unique_name"].(string)
	tok := apiCall(t, base, s.keyA, "POST", "/v1/video-rooms/"+room+"/token", map[string]any{"identity": "cara"}, http.StatusCreated)["access_token"].(string)

	staff := mustDial(t, s.wsBase, s.keyA)
	staff.subscribe("video-room:"+room, nil)
	cara := mustDial(t, s.wsBase, tok)
	if m := staff.events(1)[0]; m.eventField("type") != "video_room.participant_joined" {
		if m.eventField("type") == "video_room.opened" { // committed before, readable only since
			m = staff.events(1)[0]
		}
		if m.eventField("type") != "video_room.participant_joined" {
			t.Fatalf("staff got %v, want participant_joined", m.Event)
		}
	}
	parts := apiCall(t, base, s.keyA, "GET", "/v1/video-rooms/"+room+"/participants", nil, http.StatusOK)
	if b, _ := json.Marshal(parts); !strings.Contains(string(b), `"cara"`) {
		t.Fatalf("participants %s, want cara", b)
	}
	for _, topic := range []string{"ticket:" + id, "tenant", "video-room:someone-else"} {
		cara.send(map[string]any{"type": "subscribe", "topic": topic})
		if m := cara.next(); m.Type != "error" || m.Code != "not_found" {
			t.Errorf("participant subscribing %s: %+v, want not_found", topic, m)
		}
	}
	cara.send(map[string]any{"type": "presence", "topic": "ticket:" + id, "state": "viewing"})
	if m := cara.next(); m.Type != "error" || m.Code != "forbidden" {
		t.Errorf("participant reporting presence: %+v, want forbidden", m)
	}
	cara.subscribe("video-room:"+room, "0")
	if m := cara.next(); m.Type != "event" || !strings.HasPrefix(m.eventField("type"), "video_room.") {
		t.Fatalf("participant got %+v, want its room's events", m)
	}
	cara.c.Close()
	if m := staff.events(1)[0]; m.eventField("type") != "video_room.participant_left" {
		t.Fatalf("staff got %v, want participant_left", m.Event)
	}
	staff.quiet(300 * time.Millisecond)

	// A browser offers the token as a subprotocol (it cannot set headers).
	d := &websocket.Dialer{Subprotocols: []string{realtime.Subprotocol, realtime.TokenSubprotocol + tok}}
	browser, _, err := d.Dial(s.wsBase+"/v1/stream", nil)
	if err != nil {
		t.Fatalf("participant offering its token as a subprotocol: %v", err)
	}
	if browser.Subprotocol() != realtime.Subprotocol {
		t.Errorf("subprotocol %q, want %q", browser.Subprotocol(), realtime.Subprotocol)
	}
	if m := staff.events(1)[0]; m.eventField("type") != "video_room.participant_joined" {
		t.Fatalf("staff got %v, want participant_joined", m.Event)
	}
	browser.Close()
	if m := staff.events(1)[0]; m.eventField("type") != "video_room.participant_left" {
		t.Fatalf("staff got %v, want participant_left", m.Event)
	}

	// Two nodes noticing one session's end record one participant_left.
	ctx := context.Background()
	var tenant app.Tenant
	tenant, err = s.e.Tenants.ByAPIKey(ctx, s.keyA)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.e.Rooms.Connected(ctx, tenant.ID, room, "dan", "session-1"); err != nil {
		t.Fatal(err)
	}
	staff.events(1)
	for range 2 {
		if err := s.e.Rooms.Disconnected(ctx, tenant.ID, room, "dan", "session-1"); err != nil {
			t.Fatal(err)
		}
	}
	if m := staff.events(1)[0]; m.eventField("type") != "video_room.participant_left" {
		t.Fatalf("staff got %v, want participant_left", m.Event)
	}
	staff.quiet(300 * time.Millisecond)
}

// TestStream_CLI runs `eventdesk stream --topic ticket:1 --after 0`: it
// prints the ticket's events as NDJSON, each the GET /v1/events item,
// then live ones.
func TestStream_CLI(t *testing.T) {
	s := newStreamEnv(t, nil)
	id := apiCall(t, s.http.URL, s.keyA, "POST", "/v1/tickets", map[string]any{"title": "From the terminal"}, http.StatusCreated)["id"].(string)
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"stream", "--topic", "ticket:1", "--after", "0", "--url", s.http.URL},
			env(map[string]string{"EVENTDESK_TOKEN": s.keyA}), &out, &errOut)
	}()
	comment(t, s.http.URL, s.keyA, id, "from the API", "public")
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "from the API"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stream printed %q (stderr %q), want the comment", out.String(), errOut.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stream: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var types []string
	for _, l := range lines {
		var ev struct {
			Type     string `json:"type"`
			StreamID string `json:"stream_id"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.StreamID != id {
			t.Fatalf("line %q is not one of the ticket's events (%v)", l, err)
		}
		types = append(types, ev.Type)
	}
	if len(types) != 2 || types[0] != "ticket.created" || types[1] != "ticket.history_logged" {
		t.Fatalf("printed %v, want ticket.created then ticket.history_logged", types)
	}
	// A topic that does not exist is an error, not a wait.
	err := run(context.Background(), []string{"stream", "--topic", "ticket:77", "--url", s.http.URL},
		env(map[string]string{"EVENTDESK_TOKEN": s.keyA}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("stream of an unknown ticket: %v, want not_found", err)
	}
}
