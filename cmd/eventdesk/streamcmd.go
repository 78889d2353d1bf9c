package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/cobra"

	"github.com/eventdesk/eventdesk/realtime"
)

func streamCmd(a *cli) *cobra.Command {
	var topic, after, base string
	c := &cobra.Command{
		Use:   "stream --topic T [--after P]",
		Short: "Follow a realtime topic (ticket:34, contact:C-1, video-room:…, tenant) and print its events as NDJSON",
		Long: "Follows a topic of GET /v1/stream and prints each event, as GET /v1/events shows it, as one JSON line.\n" +
			"It connects with EVENTDESK_TOKEN (a tenant API key or an agent token) and, when the connection drops,\n" +
			"reconnects and resumes after the last position it printed. It stops on SIGINT or SIGTERM.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.Cfg.Token == "" {
				return errors.New("EVENTDESK_TOKEN: set it to a tenant API key or an agent token")
			}
			if base == "" {
				base = "http://" + loopback(a.Cfg.HTTPAddr)
			}
			return followTopic(cmd.Context(), base, a.Cfg.Token, topic, after, a.Stdout, a.Stderr)
		},
	}
	c.Flags().StringVar(&topic, "topic", "", "the topic: tenant, ticket:<id or number>, contact:<id or code>, video-room:<unique_name>")
	c.Flags().StringVar(&after, "after", "", "resume after this position (0: from the start of the log); default: live from now")
	c.Flags().StringVar(&base, "url", "", "the server (default: EVENTDESK_HTTP_ADDR on this machine)")
	_ = c.MarkFlagRequired("topic")
	return c
}

// loopback turns a listen address (":8080") into one to dial.
func loopback(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return addr
}

// errRefused is a refusal that reconnecting will not change.
var errRefused = errors.New("refused")

// followTopic prints topic's events until ctx ends, reconnecting after
// a dropped connection with the last position printed.
func followTopic(ctx context.Context, base, token, topic, after string, stdout, stderr io.Writer) error {
	u := "ws" + strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http") + "/v1/stream"
	for wait := time.Duration(0); ; wait = min(max(2*wait, 250*time.Millisecond), 10*time.Second) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		last, err := followOnce(ctx, u, token, topic, after, stdout)
		if last != "" {
			after, wait = last, 0
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errRefused):
			return err
		}
		fmt.Fprintf(stderr, "eventdesk stream: %v; reconnecting after %s\n", err, resumePoint(after))
	}
}

func resumePoint(after string) string {
	if after == "" {
		return "now"
	}
	return after
}

// followOnce follows topic over one connection; it returns the last
// position printed and why the connection ended.
func followOnce(ctx context.Context, u, token, topic, after string, stdout io.Writer) (string, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Subprotocols: []string{realtime.Subprotocol}}
	ws, res, err := d.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		if res != nil && res.StatusCode >= 400 && res.StatusCode < 500 {
			b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			return "", fmt.Errorf("%w: %s: %s", errRefused, res.Status, b)
		}
		return "", err
	}
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { _ = ws.Close() })
	defer stop()
	sub := map[string]any{"type": "subscribe", "topic": topic}
	if after != "" {
		sub["after"] = after
	}
	if err := ws.WriteJSON(sub); err != nil {
		return "", err
	}
	var last string
	for {
		var m struct {
			Type     string          `json:"type"`
			Position string          `json:"position"`
			Code     string          `json:"code"`
			Message  string          `json:"message"`
			Event    json.RawMessage `json:"event"`
		}
		if err := ws.ReadJSON(&m); err != nil {
			return last, err
		}
		switch m.Type {
		case "event":
			if _, err := fmt.Fprintf(stdout, "%s\n", m.Event); err != nil {
				return last, fmt.Errorf("%w: %v", errRefused, err)
			}
			last = m.Position
		case "error":
			if m.Code == "internal" || m.Code == "unavailable" {
				return last, fmt.Errorf("%s: %s", m.Code, m.Message)
			}
			return last, fmt.Errorf("%w: %s: %s", errRefused, m.Code, m.Message)
		}
	}
}
