package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/cobra"

	"github.com/eventdesk/eventdesk/realtime"
)

// The realtime figures of bench hold more sockets than one process may
// have descriptors for (20,000 here) on both ends, so their load generator
// is a process of its own: `eventdesk bench-sockets`, hidden. It reads a
// socketsSpec line on stdin, opens the sockets, answers a socketsReady
// line on stdout, then reads one socketsGo line, waits for the deliveries
// it names and answers a socketsResult line.

// socketsSpec is what the load generator is to open.
type socketsSpec struct {
	URL     string   `json:"url"` // ws://host:port/v1/stream
	Key     string   `json:"key"` // bearer credential
	Sockets int      `json:"sockets"`
	Topics  []string `json:"topics"`          // socket i subscribes to Topics[(i*Watch+j)%len], j < Watch; none: idle sockets
	Watch   int      `json:"watch,omitempty"` // topics a socket subscribes to; 0 means 1
	// After, per topic, makes the sockets connect and subscribe with
	// after only on go (a resume storm); without it they subscribe live
	// before ready.
	After map[string]string `json:"after,omitempty"`
	// Type, if set, is the only event type counted: a ticket's creation
	// may still commit after a live subscription's position.
	Type string `json:"type,omitempty"`
}

// socketsReady answers a spec once the sockets are open (and subscribed).
type socketsReady struct {
	Connected   int     `json:"connected"`
	DialSeconds float64 `json:"dial_seconds"`
	Error       string  `json:"error,omitempty"`
}

// socketsGo names, per topic, how many events each of its sockets must
// receive; the generator waits for them (at most Timeout) and closes.
type socketsGo struct {
	Expect map[string]int `json:"expect"`
	// Type, if set, is the only event type counted: a ticket's creation
	// may still commit after a live subscription's position.
	Type    string        `json:"type,omitempty"`
	Timeout time.Duration `json:"timeout"`
}

// socketsResult is what the sockets received. Latency runs from the
// event's recorded_at to its arrival at the socket.
type socketsResult struct {
	Deliveries int64   `json:"deliveries"`
	Duplicates int64   `json:"duplicates"`   // an event id a socket had already received
	Missing    int64   `json:"missing"`      // expected deliveries that did not arrive
	Extra      int64   `json:"extra"`        // deliveries beyond the expected count
	Errors     int64   `json:"errors"`       // error messages, and sockets closed before the end
	Resubs     int64   `json:"resubscribes"` // subscriptions ended internal/unavailable, resumed as the README says
	FirstError string  `json:"first_error,omitempty"`
	Complete   int     `json:"complete"` // sockets that received exactly what was expected
	Seconds    float64 `json:"seconds"`  // go (or the first delivery, live) to the last delivery
	P50ms      float64 `json:"p50_ms"`   // live: commit → delivery; storm: go → a client's last event
	P99ms      float64 `json:"p99_ms"`
	Error      string  `json:"error,omitempty"`
}

func benchSocketsCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:    "bench-sockets",
		Short:  "The websocket load generator of bench (a process of its own; speaks JSON lines on stdin/stdout)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchSockets(cmd.Context(), cmd.InOrStdin(), c.Stdout)
		},
	}
}

// raiseFDLimit raises this process's soft descriptor limit to its hard
// limit and returns the new soft limit.
func raiseFDLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return l.Cur
}

// benchSocket is one socket of the generator and what it received.
type benchSocket struct {
	ws     *websocket.Conn
	topics []string
	mu     sync.Mutex
	seen   map[string]struct{}
	dups   int64
	errs   int64
	err    string
	after  map[string]string // by topic: the subscription's after, then the last position received
	resub  int64
	lat    []time.Duration
	first  time.Time
	last   time.Time
	done   chan struct{} // closed when the read loop ends
	only   string
}

// socketsCPUProfileEnv names a file prefix: each generator writes a CPU
// profile of its whole life to <prefix>.<pid> (bench's own --cpuprofile
// covers only the server's process).
const socketsCPUProfileEnv = "EVENTDESK_BENCH_SOCKETS_CPUPROFILE"

func benchSockets(ctx context.Context, in io.Reader, out io.Writer) error {
	raiseFDLimit()
	if prefix := os.Getenv(socketsCPUProfileEnv); prefix != "" {
		stop, err := startCPUProfile(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
		if err != nil {
			return err
		}
		defer stop()
	}
	rd := bufio.NewReader(in)
	enc := json.NewEncoder(out)
	var spec socketsSpec
	if err := readJSONLine(rd, &spec); err != nil {
		return fmt.Errorf("bench-sockets: spec: %w", err)
	}
	socks := make([]*benchSocket, spec.Sockets)
	watch := max(spec.Watch, 1)
	for i := range socks {
		s := &benchSocket{seen: map[string]struct{}{}, after: map[string]string{}, done: make(chan struct{}), only: spec.Type}
		for j := range watch {
			if len(spec.Topics) > 0 {
				s.topics = append(s.topics, spec.Topics[(i*watch+j)%len(spec.Topics)])
			}
		}
		socks[i] = s
	}
	storm := len(spec.After) > 0
	defer func() {
		for _, s := range socks {
			if s.ws != nil {
				_ = s.ws.Close()
			}
		}
	}()
	start := time.Now()
	if !storm {
		if err := openSockets(ctx, spec, socks, ""); err != nil {
			_ = enc.Encode(socketsReady{Error: err.Error()})
			return err
		}
	}
	if err := enc.Encode(socketsReady{Connected: len(socks), DialSeconds: time.Since(start).Seconds()}); err != nil {
		return err
	}
	var g socketsGo
	if err := readJSONLine(rd, &g); err != nil {
		return fmt.Errorf("bench-sockets: go: %w", err)
	}
	goAt := time.Now()
	if storm {
		if err := openSockets(ctx, spec, socks, "storm"); err != nil {
			_ = enc.Encode(socketsResult{Error: err.Error()})
			return err
		}
	}
	res := collect(ctx, socks, g, goAt, storm)
	return enc.Encode(res)
}

func readJSONLine(rd *bufio.Reader, v any) error {
	line, err := rd.ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return err
	}
	return json.Unmarshal(line, v)
}

// openSockets dials every socket, 64 at a time, subscribes it to its
// topic (after spec.After's position in a storm) and starts its reader.
// Outside a storm it returns once every subscription is confirmed.
func openSockets(ctx context.Context, spec socketsSpec, socks []*benchSocket, mode string) error {
	dialer := websocket.Dialer{HandshakeTimeout: 30 * time.Second, Subprotocols: []string{realtime.Subprotocol},
		ReadBufferSize: 4096, WriteBufferSize: 1024} // 4 KB: a burst of messages in one read
	hdr := http.Header{"Authorization": {"Bearer " + spec.Key}}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, 64)
	)
	par := 64
	if mode == "storm" { // reconnecting at once: as many dials in flight as the server takes
		par = 256
	}
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(socks) || ctx.Err() != nil {
					return
				}
				s := socks[i]
				ws, res, err := dialer.DialContext(ctx, spec.URL, hdr)
				if err != nil {
					if res != nil {
						err = fmt.Errorf("%w (status %d)", err, res.StatusCode)
					}
					errs <- fmt.Errorf("socket %d: %w", i, err)
					return
				}
				s.ws = ws
				if len(s.topics) == 0 {
					continue
				}
				for _, topic := range s.topics {
					sub := map[string]string{"type": "subscribe", "topic": topic}
					if a, ok := spec.After[topic]; ok {
						sub["after"] = a
						s.after[topic] = a
					}
					if err := ws.WriteJSON(sub); err != nil {
						errs <- err
						return
					}
					// Outside a storm, wait for the subscription before
					// counting the socket ready (past the presence of the
					// topics subscribed before).
					for mode != "storm" {
						var m serverMessage
						if err := ws.ReadJSON(&m); err != nil {
							errs <- err
							return
						}
						if m.Type == "subscribed" && m.Topic == topic {
							break
						}
						if m.Type != "presence" {
							errs <- fmt.Errorf("socket %d: %s %s %s", i, m.Type, m.Code, m.Message)
							return
						}
					}
				}
				go s.read()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(slices.Collect(func(yield func(error) bool) {
		for err := range errs {
			if !yield(err) {
				return
			}
		}
	})...)
}

// serverMessage is what the generator reads of a gateway message.
type serverMessage struct {
	Type     string `json:"type"`
	Topic    string `json:"topic"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Position string `json:"position"`
	Event    struct {
		ID         string    `json:"id"`
		Type       string    `json:"type"`
		RecordedAt time.Time `json:"recorded_at"`
	} `json:"event"`
}

// parseServerMessage reads what the generator needs of a gateway
// message into m. An event message, as the gateway encodes it
// (realtime/encode.go: type, topic, position, then the item, whose id,
// type and recorded_at precede its metadata and data), is read by looking
// up those members in order, without decoding the rest: json.Unmarshal of
// the whole message cost the generator as much CPU as the gateway spent
// delivering it. Anything else, or an event message laid out otherwise,
// is decoded in full.
func parseServerMessage(b []byte, m *serverMessage) error {
	if fastEvent(b, m) {
		return nil
	}
	*m = serverMessage{}
	return json.Unmarshal(b, m)
}

// fastEvent is parseServerMessage's look-up of an event message; it
// reports false if b is not one laid out as the gateway lays it out.
func fastEvent(b []byte, m *serverMessage) bool {
	const head = `{"type":"event","topic":"`
	if !bytes.HasPrefix(b, []byte(head)) {
		return false
	}
	rest := b[len(head):]
	topic, rest, ok := stringAt(rest, nil) // the topic's value
	if !ok {
		return false
	}
	pos, rest, ok := stringAt(rest, []byte(`,"position":"`))
	if !ok {
		return false
	}
	id, rest, ok := stringAt(rest, []byte(`,"event":{"id":"`))
	if !ok {
		return false
	}
	// The item's own members up to its metadata hold no object, so the
	// first "type" and "recorded_at" after its id are its own.
	typ, rest, ok := stringAfter(rest, []byte(`,"type":"`))
	if !ok {
		return false
	}
	at, _, ok := stringAfter(rest, []byte(`,"recorded_at":"`))
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, string(at))
	if err != nil {
		return false
	}
	m.Type, m.Topic, m.Position, m.Code, m.Message = "event", string(topic), string(pos), "", ""
	m.Event.ID, m.Event.Type, m.Event.RecordedAt = string(id), string(typ), t
	return true
}

// stringAt reads a JSON string's contents when they are printable ASCII
// without escapes (ids, positions, types, times, most topics: anything
// else is left to json.Unmarshal, which unescapes, refuses control
// characters and replaces invalid UTF-8): b starts with prefix (nil: b
// starts inside the string) and the string ends at the next quote. It
// returns the contents and what follows the quote.
func stringAt(b, prefix []byte) (s, rest []byte, ok bool) {
	if !bytes.HasPrefix(b, prefix) {
		return nil, nil, false
	}
	b = b[len(prefix):]
	for i, c := range b {
		switch {
		case c == '"':
			return b[:i], b[i+1:], true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// stringAfter is stringAt at the first occurrence of key in b.
func stringAfter(b, key []byte) (s, rest []byte, ok bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return nil, nil, false
	}
	return stringAt(b[i:], key)
}

func (s *benchSocket) read() {
	defer close(s.done)
	var m serverMessage
	for {
		// ReadMessage and a look-up of the members needed rather than
		// ReadJSON, whose decoder and its buffer are made anew for every
		// message: the generator must cost less than the gateway it
		// measures.
		_, b, err := s.ws.ReadMessage()
		if err == nil {
			err = parseServerMessage(b, &m)
		}
		if err != nil {
			s.mu.Lock()
			if !errors.Is(err, net.ErrClosed) {
				s.errs++
				s.err = err.Error()
			}
			s.mu.Unlock()
			return
		}
		if m.Type == "error" {
			s.mu.Lock()
			s.errs++
			s.err = m.Code + ": " + m.Message
			after := s.after[m.Topic]
			s.mu.Unlock()
			if m.Code == "internal" || m.Code == "unavailable" { // the subscription ended: resume it
				sub := map[string]string{"type": "subscribe", "topic": m.Topic}
				if after != "" {
					sub["after"] = after
				}
				if s.ws.WriteJSON(sub) == nil {
					s.mu.Lock()
					s.resub++
					s.mu.Unlock()
				}
			}
		}
		if m.Type != "event" {
			continue
		}
		now := time.Now()
		s.mu.Lock()
		s.after[m.Topic] = m.Position
		if s.only != "" && m.Event.Type != s.only {
			s.mu.Unlock()
			continue
		}
		if _, ok := s.seen[m.Event.ID]; ok {
			s.dups++
		} else {
			s.seen[m.Event.ID] = struct{}{}
			s.lat = append(s.lat, now.Sub(m.Event.RecordedAt))
		}
		if s.first.IsZero() {
			s.first = now
		}
		s.last = now
		s.mu.Unlock()
	}
}

// expected is how many events s is owed: those of all its topics.
func (s *benchSocket) expected(g socketsGo) int {
	n := 0
	for _, t := range s.topics {
		n += g.Expect[t]
	}
	return n
}

// collect waits until every socket has its expected deliveries (or the
// timeout), then sums up.
func collect(ctx context.Context, socks []*benchSocket, g socketsGo, goAt time.Time, storm bool) socketsResult {
	deadline := time.Now().Add(g.Timeout)
	for _, s := range socks {
		for {
			s.mu.Lock()
			n := len(s.seen)
			s.mu.Unlock()
			if n >= s.expected(g) || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // room for duplicates or extras to show
	var (
		res         socketsResult
		lat         []time.Duration
		first, last time.Time
	)
	for _, s := range socks {
		s.mu.Lock()
		n, want := len(s.seen), s.expected(g)
		res.Deliveries += int64(n) + s.dups
		res.Duplicates += s.dups
		res.Errors += s.errs
		res.Resubs += s.resub
		if res.FirstError == "" {
			res.FirstError = s.err
		}
		switch {
		case n < want:
			res.Missing += int64(want - n)
		case n > want:
			res.Extra += int64(n - want)
		}
		if n == want && s.dups == 0 {
			res.Complete++
		}
		lat = append(lat, s.lat...)
		if s.last.After(last) {
			last = s.last
		}
		s.mu.Unlock()
	}
	if storm { // the latency that matters is each client's catching up
		lat = lat[:0]
		for _, s := range socks {
			lat = append(lat, s.last.Sub(goAt))
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50ms = float64(lat[len(lat)/2].Microseconds()) / 1000
		res.P99ms = float64(lat[len(lat)*99/100].Microseconds()) / 1000
		first = goAt // a storm: from the reconnecting
		if !storm {  // live: from the first arrival (go follows the writes)
			first = last
			for _, s := range socks {
				if !s.first.IsZero() && s.first.Before(first) {
					first = s.first
				}
			}
		}
		res.Seconds = last.Sub(first).Seconds()
	}
	return res
}
