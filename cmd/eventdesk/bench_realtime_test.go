package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
	"github.com/eventdesk/eventdesk/eventstore/postgres/pgtest"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
)

// benchSocketsChild is set in the environment of the load generator the
// realtime bench test starts: this test binary again, running
// bench-sockets.
const benchSocketsChild = "EVENTDESK_TEST_BENCH_SOCKETS_CHILD"

// TestBench_Realtime runs the realtime figure group at tiny sizes, its
// load generator a process of its own as in make bench, and checks every
// figure is there and every socket received every event it was owed
// exactly once (live and in the resume storm).
func TestBench_Realtime(t *testing.T) {
	if os.Getenv(benchSocketsChild) == "1" {
		if err := run(context.Background(), []string{"bench-sockets"}, os.Getenv, os.Stdout, os.Stderr); err != nil {
			t.Fatalf("bench-sockets: %v", err)
		}
		return
	}
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	cfg, err := loadConfig(env(map[string]string{"EVENTDESK_DATABASE_URL": pgtest.ServerURL(), "EVENTDESK_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	defer func(p func(context.Context) (*exec.Cmd, error), d time.Duration) {
		benchSocketsProcess, statsFlush = p, d
	}(benchSocketsProcess, statsFlush)
	benchSocketsProcess = func(ctx context.Context) (*exec.Cmd, error) {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBench_Realtime$")
		cmd.Env = append(os.Environ(), benchSocketsChild+"=1")
		return cmd, nil
	}
	statsFlush = 100 * time.Millisecond
	var stderr bytes.Buffer
	c := &cli{Cfg: cfg, Log: slog.New(slog.DiscardHandler), Stdout: io.Discard, Stderr: &stderr}
	o := benchOptions{duration: time.Second, clients: 4,
		realtime: realtimeOptions{sockets: 40, tickets: 8, stormClients: 20, stormBehind: 30, burst: 3, pacedShare: 0.5, watch: 2}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	figs, err := realtimeBench(ctx, c, o, func(string) {})
	if err != nil { // realtimeBench fails when a delivery is missing, repeated or extra
		t.Fatalf("realtimeBench: %v\n%s", err, stderr.String())
	}
	want := []string{"realtime_idle_socket_memory", "realtime_commit_to_delivery", "realtime_commit_to_delivery_paced",
		"realtime_fan_out_burst", "realtime_fan_out_burst_under_writes", "realtime_resume_storm"}
	if len(figs) != len(want) {
		t.Fatalf("figures %v, want %v", figs, want)
	}
	for i, f := range figs {
		if f.Name != want[i] || f.Ops <= 0 {
			t.Errorf("figure %d = %+v, want %s with ops", i, f, want[i])
		}
	}
	live, paced, burst, busy, storm := figs[1], figs[2], figs[3], figs[4], figs[5]
	for _, f := range []storebench.Figure{live, paced} {
		// Each comment reaches the 10 sockets of its ticket (40 sockets
		// watching 2 of the 8 tickets each), once.
		if f.Ops != 10*int64(f.Extra["writes"]) || f.Extra["writes"] == 0 {
			t.Errorf("%s: %d deliveries of %v writes, want 10 per write", f.Name, f.Ops, f.Extra["writes"])
		}
		if f.P99ms <= 0 || f.P50ms > f.P99ms {
			t.Errorf("%s: latency p50 %v p99 %v", f.Name, f.P50ms, f.P99ms)
		}
	}
	// Paced to half the rate reached as fast as they went: well below it.
	if r, sat := paced.Extra["writes_per_s"], live.Extra["writes_per_s"]; paced.Extra["paced_per_s"] != sat/2 || r > 0.75*sat {
		t.Errorf("paced: %.0f comments/s, paced to %.0f, after %.0f/s as fast as they went; want about half",
			r, paced.Extra["paced_per_s"], sat)
	}
	// The burst: 3 comments on each of the 8 tickets, to its 10 sockets,
	// the second time with comments on other tickets made beside it.
	for _, f := range []storebench.Figure{burst, busy} {
		if f.Ops != 3*8*10 {
			t.Errorf("%s: %d deliveries, want %d", f.Name, f.Ops, 3*8*10)
		}
	}
	if busy.Extra["writes_beside"] == 0 || burst.Extra["writes_beside"] != 0 {
		t.Errorf("comments beside the bursts: %v and %v, want none beside the first and some beside the second",
			burst.Extra["writes_beside"], busy.Extra["writes_beside"])
	}
	if storm.Ops != 20*30 {
		t.Errorf("storm: %d deliveries, want %d", storm.Ops, 20*30)
	}
}

// TestParseServerMessage: the generator's look-up of an event message
// reads what json.Unmarshal reads, for a message laid out as the gateway
// lays it out (an item of feed.Item after type, topic and position), and
// anything else — other messages, escapes, another order — is decoded in
// full with the same result.
func TestParseServerMessage(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 2, 3, 456789000, time.UTC)
	item, err := json.Marshal(feed.Item{ID: "0193a0b2-0000-7000-8000-000000000001", Position: eventstore.Position{TxID: 812, Seq: 3},
		StreamType: "ticket", StreamID: "t1", Version: 4, Type: "ticket.history_logged", SchemaVersion: 1, RecordedAt: at,
		Metadata: eventstore.Metadata{Actor: "agent:x", Extra: map[string]string{"type": "not this", "recorded_at": "nor this"}},
		Data:     json.RawMessage(`{"type":"comment","id":"nested","value":{"text":"a \"quoted\" text"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	gateway := `{"type":"event","topic":"ticket:t1","position":"812-3","event":` + string(item) + `}`
	others := []string{
		`{"type":"subscribed","topic":"ticket:t1","position":"812-2"}`,
		`{"type":"error","topic":"ticket:t1","code":"internal","message":"read failed"}`,
		`{"topic":"ticket:t1","type":"event","position":"812-3","event":` + string(item) + `}`,
		`{"type":"event","topic":"ticket:t\"1","position":"812-3","event":` + string(item) + `}`,
		`{"type":"pong"}`,
	}
	for i, msg := range append([]string{gateway}, others...) {
		var want, got serverMessage
		if err := json.Unmarshal([]byte(msg), &want); err != nil {
			t.Fatal(err)
		}
		got.Code = "left over from the previous message"
		if err := parseServerMessage([]byte(msg), &got); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("message %d: got %+v, want %+v", i, got, want)
		}
		var m serverMessage
		if fast := fastEvent([]byte(msg), &m); fast != (i == 0) {
			t.Errorf("message %d: looked up without decoding = %v, want %v", i, fast, i == 0)
		}
	}
	if got := (serverMessage{}); parseServerMessage([]byte(`{"type":`), &got) == nil {
		t.Error("a truncated message parsed without an error")
	}
}

// FuzzParseServerMessage: whatever the gateway sends, the generator's
// parser never panics, and where it looks an event message's members up
// rather than decoding it, it reads what json.Unmarshal reads.
func FuzzParseServerMessage(f *testing.F) {
	f.Add([]byte(`{"type":"event","topic":"ticket:t1","position":"812-3","event":{"id":"e1","position":"812-3","stream_type":"ticket","stream_id":"t1","version":4,"type":"ticket.history_logged","schema_version":1,"recorded_at":"2026-12-05T01:02:03.456789Z","metadata":{},"data":{}}}`))
	f.Add([]byte(`{"type":"event","topic":"ticket:\"t1","position":"812-3","event":{"id":"e1","type":"x","recorded_at":"2026-12-05T01:02:03Z"}}`))
	f.Add([]byte(`{"type":"subscribed","topic":"tenant","position":"0"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast serverMessage
		if !fastEvent(b, &fast) {
			var m serverMessage
			_ = parseServerMessage(b, &m) // must not panic
			return
		}
		var want serverMessage
		if err := json.Unmarshal(b, &want); err != nil {
			return // not JSON past the members looked up: the socket's read fails either way
		}
		if fast.Type != want.Type || fast.Topic != want.Topic || fast.Position != want.Position ||
			fast.Event.ID != want.Event.ID || fast.Event.Type != want.Event.Type || !fast.Event.RecordedAt.Equal(want.Event.RecordedAt) {
			t.Errorf("looked up %+v, json.Unmarshal reads %+v", fast, want)
		}
	})
}
