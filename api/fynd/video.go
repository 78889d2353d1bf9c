package fynd

import (
	"errors"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain/videoroom"
)

// participants answers GET video/room/{unique_name}/participants: the
// participants connected now.
func (h *Handler) participants(w http.ResponseWriter, r *http.Request, c caller) error {
	room, err := h.d.Rooms.Get(r.Context(), c.tenant.ID, r.PathValue("unique_name"))
	if err != nil {
		return roomNotFound(err)
	}
	writeJSON(w, http.StatusOK, participantsView(room))
	return nil
}

// videoToken answers GET video/room/{unique_name}/token with an access
// token for the identity query parameter, else the logged-in user's id
// (X-User-Data), else the application id.
func (h *Handler) videoToken(w http.ResponseWriter, r *http.Request, c caller) error {
	identity := c.appID
	if c.user != nil {
		identity = actorID(*c.user)
	}
	if q := r.URL.Query(); q.Has("identity") {
		identity = q.Get("identity")
	}
	tok, _, err := h.d.Rooms.Token(r.Context(), c.tenant.ID, r.PathValue("unique_name"), identity)
	if err != nil {
		return roomNotFound(err)
	}
	writeJSON(w, http.StatusOK, VideoToken{AccessToken: tok})
	return nil
}

func roomNotFound(err error) error {
	if errors.Is(err, videoroom.ErrNotFound) {
		return web.NewProblem(http.StatusNotFound, "not_found", "video room not found")
	}
	return err
}
