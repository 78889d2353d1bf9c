package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// benchClient is the HTTP load generator: HTTP/1.1 over one keep-alive
// connection per worker, each request written and its response read by
// the worker's own goroutine. net/http's Transport hands every request
// across three goroutines (the caller, its writeLoop and its readLoop);
// on a machine whose two cores the server shares, those hand-offs cost
// the server about a tenth of the CPU it would otherwise get. Responses
// are parsed by net/http (http.ReadResponse), so the server is held to
// real HTTP.
type benchClient struct {
	addr   string
	header []byte // the headers every request carries, "\r\n"-terminated
	conns  []*benchConn
}

// hangTimeout is how long after its context's deadline a request may
// still take.
const hangTimeout = 10 * time.Second

type benchConn struct {
	c   net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	buf bytes.Buffer // the last response body
}

// newBenchClient returns a client for workers workers that sends header
// (name → value) with every request to the server at addr (host:port).
func newBenchClient(addr string, workers int, header map[string]string) *benchClient {
	var h bytes.Buffer
	fmt.Fprintf(&h, "Host: %s\r\n", addr)
	for k, v := range header {
		fmt.Fprintf(&h, "%s: %s\r\n", k, v)
	}
	return &benchClient{addr: addr, header: h.Bytes(), conns: make([]*benchConn, workers)}
}

// post sends body to path as worker and returns the status and the body
// of the response; the body is valid until the worker's next request.
func (c *benchClient) post(ctx context.Context, worker int, path string, body []byte) (int, []byte, error) {
	bc := c.conns[worker]
	if bc == nil {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return 0, nil, err
		}
		bc = &benchConn{c: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}
		c.conns[worker] = bc
	}
	status, keep, err := bc.roundTrip(ctx, c.header, path, body)
	if err != nil || !keep {
		bc.c.Close()
		c.conns[worker] = nil
	}
	if err != nil {
		return 0, nil, err
	}
	return status, bc.buf.Bytes(), nil
}

// roundTrip sends one request and reads its response into bc.buf; keep
// says whether the connection may carry another.
func (bc *benchConn) roundTrip(ctx context.Context, header []byte, path string, body []byte) (status int, keep bool, err error) {
	// A request in flight when the run ends is let finish (its result is
	// not counted); the deadline only stops a server that hangs.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now()
	}
	if err := bc.c.SetDeadline(deadline.Add(hangTimeout)); err != nil {
		return 0, false, err
	}
	bc.w.WriteString("POST ")
	bc.w.WriteString(path)
	bc.w.WriteString(" HTTP/1.1\r\n")
	bc.w.Write(header)
	bc.w.WriteString("Content-Length: ")
	bc.w.WriteString(strconv.Itoa(len(body)))
	bc.w.WriteString("\r\n\r\n")
	bc.w.Write(body)
	if err := bc.w.Flush(); err != nil {
		return 0, false, err
	}
	res, err := http.ReadResponse(bc.r, nil)
	if err != nil {
		return 0, false, err
	}
	bc.buf.Reset()
	_, err = io.Copy(&bc.buf, res.Body)
	res.Body.Close()
	return res.StatusCode, !res.Close, err
}

// close closes every open connection.
func (c *benchClient) close() {
	for _, bc := range c.conns {
		if bc != nil {
			bc.c.Close()
		}
	}
}
