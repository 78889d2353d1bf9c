package realtime_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/realtime"
)

// keyAccess admits the credential "key" and resolves no topic: enough for
// sockets that subscribe to nothing.
type keyAccess struct{}

func (keyAccess) Authenticate(_ context.Context, cred string, _ bool) (realtime.Principal, error) {
	if cred != "key" {
		return realtime.Principal{}, &domain.Error{Kind: domain.Unauthenticated, Msg: "unknown credential"}
	}
	return realtime.Principal{TenantID: "t1", Staff: true, Member: realtime.Member{Kind: "integration", ID: "api_key"}}, nil
}

func (keyAccess) Recheck(_ context.Context, p realtime.Principal) (realtime.Principal, error) {
	return p, nil
}

func (keyAccess) Resolve(context.Context, realtime.Principal, string, string) (string, string, error) {
	return "", "", &domain.Error{Kind: domain.NotFound, Msg: "no such topic"}
}

func (keyAccess) Visible(context.Context, realtime.Principal, *eventstore.Event) (bool, error) {
	return false, nil
}

// serveGateway serves a gateway built with opt and returns it with its
// ws:// URL. Cleanup closes it and waits for its sockets.
func serveGateway(t *testing.T, opt realtime.Options) (*realtime.Gateway, string) {
	t.Helper()
	gw := realtime.New(keyAccess{}, nil, nil, opt)
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		gw.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := gw.Wait(ctx); err != nil {
			t.Errorf("Wait after Close: %v", err)
		}
		srv.Close()
	})
	return gw, "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dialKey(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{realtime.Subprotocol}, HandshakeTimeout: 10 * time.Second}
	ws, res, err := d.Dial(url, http.Header{"Authorization": {"Bearer key"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	res.Body.Close()
	t.Cleanup(func() { ws.Close() })
	return ws
}

// goroutinesIn counts the goroutines whose stack has a frame of fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn+"(") {
			count++
		}
	}
	return count
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pingPong sends the protocol's ping and waits for its pong.
func pingPong(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatalf("write ping: %v", err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read pong: %v", err)
	}
	if got, want := string(b), `{"type":"pong"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestGateway_IdleSocket checks that an idle socket is one goroutine, the
// gateway's reader, not net/http's handler and no writer; and that a
// message queued to it is still written, each time the writer starts.
func TestGateway_IdleSocket(t *testing.T) {
	_, url := serveGateway(t, realtime.Options{})
	const n = 3
	socks := make([]*websocket.Conn, n)
	for i := range socks {
		socks[i] = dialKey(t, url)
	}
	eventually(t, "a reader for each socket", func() bool { return goroutinesIn("realtime.(*Gateway).run") == n })
	if got := goroutinesIn("realtime.(*Gateway).ServeHTTP"); got != 0 {
		t.Errorf("%d goroutines in ServeHTTP, want 0: the upgrade handler returns", got)
	}
	if got := goroutinesIn("realtime.(*conn).writeLoop"); got != 0 {
		t.Errorf("%d writers for %d idle sockets, want 0", got, n)
	}
	for _, ws := range []*websocket.Conn{socks[0], socks[0], socks[1]} {
		pingPong(t, ws)
		eventually(t, "the writer ends once the queue is empty", func() bool {
			return goroutinesIn("realtime.(*conn).writeLoop") == 0
		})
	}
}

// TestGateway_Pings checks that the server pings an idle socket every
// PingEvery, that answered pings keep it open past PongWait, and that one
// which answers nothing is closed after PongWait.
func TestGateway_Pings(t *testing.T) {
	_, url := serveGateway(t, realtime.Options{PingEvery: 50 * time.Millisecond, PongWait: 300 * time.Millisecond})

	t.Run("answered", func(t *testing.T) {
		ws := dialKey(t, url)
		var pings atomic.Int64
		ws.SetPingHandler(func(data string) error {
			pings.Add(1)
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		got := make(chan []byte, 1)
		go func() {
			_, b, err := ws.ReadMessage() // runs the ping handler until a message arrives
			if err != nil {
				b = []byte(err.Error())
			}
			got <- b
		}()
		time.Sleep(1200 * time.Millisecond) // 4 × PongWait
		if n := pings.Load(); n < 4 {
			t.Errorf("%d pings in 1.2s, want one per 50ms", n)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatalf("write ping after 1.2s: %v", err)
		}
		select {
		case b := <-got:
			if string(b) != `{"type":"pong"}` {
				t.Fatalf("after 1.2s of answered pings: got %s, want a pong", b)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no pong after 1.2s of answered pings")
		}
	})

	t.Run("unanswered", func(t *testing.T) {
		ws := dialKey(t, url)
		ws.SetPingHandler(func(string) error { return nil })
		start := time.Now()
		_ = ws.SetReadDeadline(start.Add(5 * time.Second))
		_, _, err := ws.ReadMessage()
		var ne interface{ Timeout() bool }
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			t.Fatalf("read from a socket that answers no ping: %v, want it closed by the server", err)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("closed after %v, before PongWait (300ms)", d)
		}
	})
}

// TestGateway_CloseGoingAway checks that Close ends idle sockets with 1001
// and that Wait sees them gone.
func TestGateway_CloseGoingAway(t *testing.T) {
	gw, url := serveGateway(t, realtime.Options{})
	ws := dialKey(t, url)
	eventually(t, "the socket's reader", func() bool { return goroutinesIn("realtime.(*Gateway).run") == 1 })
	gw.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("read after Close: %v, want close 1001", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := gw.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	// Wait returns on run's last deferred call: the goroutine may still
	// be on its way out.
	eventually(t, "no reader after Wait", func() bool { return goroutinesIn("realtime.(*Gateway).run") == 0 })
}
