package realtime

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// batchConn is the socket under a websocket connection, able to send the
// frames of several messages in one write. Between begin and flush,
// writes are gathered in a pooled buffer; flush sends them in one system
// call. A connection whose queue holds several messages (a burst on its
// topics, a writer catching up) then pays one write, one wake-up of the
// peer and one TCP segment for all of them instead of one each — under
// fan-out the socket writes are most of the gateway's work. Outside a
// batch, writes (the handshake, pings and close frames written beside the
// writer) go straight through. gorilla writes whole frames under its own
// lock, so a ping gathered into a batch sits between two messages, never
// inside one.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      *[]byte
}

// batchBufs holds the gathering buffers: an idle connection holds none.
var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBatch is the largest buffer given back to batchBufs; a larger
// one (a batch of big messages) is left to the collector.
const maxPooledBatch = 256 << 10

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.batching {
		*b.buf = append(*b.buf, p...)
		return len(p), nil
	}
	return b.Conn.Write(p)
}

// begin starts gathering writes.
func (b *batchConn) begin() {
	b.mu.Lock()
	b.batching, b.buf = true, batchBufs.Get().(*[]byte)
	b.mu.Unlock()
}

// flush sends what was gathered since begin, in one write, and stops
// gathering.
func (b *batchConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := b.buf
	b.batching, b.buf = false, nil
	var err error
	if len(*buf) > 0 {
		_, err = b.Conn.Write(*buf)
	}
	if cap(*buf) <= maxPooledBatch {
		*buf = (*buf)[:0]
		batchBufs.Put(buf)
	}
	return err
}

// hijacker is the response writer the upgrade sees: its Hijack hands
// gorilla a batchConn in place of the raw socket.
type hijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c}
	return h.conn, brw, nil
}
