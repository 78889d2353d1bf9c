package native

import (
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/api/web"
)

// streamTicket issues a one-time connect ticket for the realtime gateway
// (GET /v1/stream?ticket=…): browsers cannot send an Authorization header
// with a websocket, and the caller's long-lived credential must not go in
// a URL. The ticket stands for the same principal as the request's
// credential, works once, on any node, within 30 seconds.
func (s *Server) streamTicket(w http.ResponseWriter, r *http.Request) {
	t, exp, err := s.Agents.IssueConnectTicket(r.Context(), principalOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, "application/json", struct {
		Ticket    string    `json:"ticket"`
		ExpiresAt time.Time `json:"expires_at"`
	}{t, exp})
}
