package realtime

import (
	"io"
	"net"
	"testing"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	return c.Conn.Write(p)
}

// TestBatchConn: between begin and flush the writes reach the socket as
// one, in order; outside a batch each goes straight through.
func TestBatchConn(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	counted := &countingConn{Conn: server}
	b := &batchConn{Conn: counted}
	got := make(chan string, 1)
	go func() {
		all, _ := io.ReadAll(client)
		got <- string(all)
	}()

	if _, err := b.Write([]byte("hello ")); err != nil || counted.writes != 1 {
		t.Fatalf("write outside a batch: %v, %d writes, want 1 straight through", err, counted.writes)
	}
	b.begin()
	for _, s := range []string{"one ", "two ", "three "} {
		if n, err := b.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("gathered write = %d, %v", n, err)
		}
	}
	if counted.writes != 1 {
		t.Fatalf("%d writes reached the socket during the batch, want none", counted.writes-1)
	}
	if err := b.flush(); err != nil {
		t.Fatal(err)
	}
	if counted.writes != 2 {
		t.Errorf("the batch took %d writes, want 1", counted.writes-1)
	}
	b.begin()
	if err := b.flush(); err != nil || counted.writes != 2 {
		t.Errorf("an empty batch: %v, %d writes, want none", err, counted.writes-2)
	}
	if _, err := b.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if s := <-got; s != "hello one two three bye" {
		t.Errorf("the peer read %q", s)
	}
}
