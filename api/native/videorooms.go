package native

import (
	"net/http"
	"slices"
	"time"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/videoroom"
	"github.com/eventdesk/eventdesk/eventstore"
)

// writeRoom answers a video room with the position of its last event as
// Eventdesk-Position (for writes).
func writeRoom(w http.ResponseWriter, status int, room videoroom.Snapshot, pos eventstore.Position) {
	if !pos.IsZero() {
		w.Header().Set("Eventdesk-Position", pos.String())
	}
	web.WriteJSON(w, status, "application/json", room)
}

// writeParticipants answers the participants connected to a room.
func writeParticipants(w http.ResponseWriter, status int, room videoroom.Snapshot, pos eventstore.Position) {
	if !pos.IsZero() {
		w.Header().Set("Eventdesk-Position", pos.String())
	}
	web.WriteJSON(w, status, "application/json", map[string]any{"participants": room.Connected()})
}

// noBody is request for writes that take no body: it refuses one unless
// it is empty or an empty JSON object, and says who makes the write.
func (s *Server) noBody(r *http.Request) (app.Meta, error) {
	var none struct{}
	if err := s.decodeOptional(r, &none); err != nil {
		return app.Meta{}, err
	}
	return meta(r)
}

// openVideoRoom opens the video room of the ticket in the path (by id or
// number). A ticket has one room, named by the ticket's id: 201 when this
// request opened it (or re-opened a closed one), 200 when it was open
// already. Two racing first opens may both answer 201; one room is opened.
func (s *Server) openVideoRoom(w http.ResponseWriter, r *http.Request) {
	m, err := s.noBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tenant := tenantOf(r).ID
	id, err := s.Tickets.Resolve(r.Context(), tenant, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if cur, err := s.Rooms.Get(r.Context(), tenant, id); err == nil && cur.Status == videoroom.Open {
		status = http.StatusOK
	}
	room, pos, err := s.Rooms.Open(r.Context(), tenant, id, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/video-rooms/"+room.UniqueName)
	writeRoom(w, status, room, pos)
}

func (s *Server) getVideoRoom(w http.ResponseWriter, r *http.Request) {
	room, err := s.Rooms.Get(r.Context(), tenantOf(r).ID, r.PathValue("unique_name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeRoom(w, http.StatusOK, room, eventstore.Position{})
}

type videoTokenRequest struct {
	Identity string `json:"identity"`
}

// VideoToken is a short-lived access token for one identity to join one
// video room: an HS256 JWT signed with the tenant's video secret, naming
// the room (claim "room") and the identity (claim "sub").
type VideoToken struct {
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	Identity    string    `json:"identity"`
	Room        string    `json:"room"`
}

// videoToken issues an access token if the identity may join the room
// now: 404 for no room, 422 for a malformed identity, 409 when the room is
// closed or full. Issuing records nothing; joining is a separate call.
func (s *Server) videoToken(w http.ResponseWriter, r *http.Request) {
	var req videoTokenRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("unique_name")
	tok, exp, err := s.Rooms.Token(r.Context(), tenantOf(r).ID, name, req.Identity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusCreated, "application/json", VideoToken{AccessToken: tok, ExpiresAt: exp, Identity: req.Identity, Room: name})
}

type joinVideoRoomRequest struct {
	Identity string `json:"identity"`
	// User is who the participant is; absent means the caller (the API key,
	// or the Eventdesk-Actor header's person).
	User *domain.Actor `json:"user"`
}

// joinVideoRoom connects a participant and answers everyone connected:
// 201 when this request joined the identity, 200 when it was connected
// already (nothing recorded).
func (s *Server) joinVideoRoom(w http.ResponseWriter, r *http.Request) {
	var req joinVideoRoomRequest
	m, err := s.request(r, &req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tenant, name := tenantOf(r).ID, r.PathValue("unique_name")
	status := http.StatusCreated
	if cur, err := s.Rooms.Get(r.Context(), tenant, name); err == nil && slices.ContainsFunc(cur.Connected(),
		func(p videoroom.Participant) bool { return p.Identity == req.Identity }) {
		status = http.StatusOK
	}
	room, pos, err := s.Rooms.Join(r.Context(), tenant, name, req.Identity, req.User, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeParticipants(w, status, room, pos)
}

// leaveVideoRoom disconnects the participant in the path: 404 when the
// identity is not connected, 409 when the room is closed.
func (s *Server) leaveVideoRoom(w http.ResponseWriter, r *http.Request) {
	m, err := meta(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	room, pos, err := s.Rooms.Leave(r.Context(), tenantOf(r).ID, r.PathValue("unique_name"), r.PathValue("identity"), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeParticipants(w, http.StatusOK, room, pos)
}

func (s *Server) listParticipants(w http.ResponseWriter, r *http.Request) {
	room, err := s.Rooms.Get(r.Context(), tenantOf(r).ID, r.PathValue("unique_name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeParticipants(w, http.StatusOK, room, eventstore.Position{})
}

// closeVideoRoom ends the room's session, disconnecting everyone; 409 when
// it is closed already. Opening the ticket's room again starts a new
// session.
func (s *Server) closeVideoRoom(w http.ResponseWriter, r *http.Request) {
	m, err := s.noBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	room, pos, err := s.Rooms.Close(r.Context(), tenantOf(r).ID, r.PathValue("unique_name"), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeRoom(w, http.StatusOK, room, pos)
}
