package leadsquared

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

type activityRequest struct {
	Text      json.RawMessage `json:"Text"`
	Direction json.RawMessage `json:"Direction"`
}

// activityResponse is the documented success body, in its order.
type activityResponse struct {
	ID      string  `json:"Id"`
	Status  string  `json:"Status"`
	Message *string `json:"Message"`
}

func (h *Handler) addActivity(w http.ResponseWriter, r *http.Request, c caller) error {
	var req activityRequest
	if err := decodeObject(r, &req); err != nil {
		return err
	}
	txt, err := text("Text", req.Text)
	if err != nil {
		return err
	}
	if strings.TrimSpace(txt) == "" {
		return mandatoryMissing("Text is mandatory.")
	}
	dir, err := text("Direction", req.Direction)
	if err != nil {
		return err
	}
	direction := ticket.Direction(strings.ToUpper(strings.TrimSpace(dir)))
	switch {
	case direction == "":
		return mandatoryMissing(`Direction is mandatory; pass "INBOUND".`)
	case direction != ticket.Inbound && direction != ticket.Outbound:
		return invalidInput(fmt.Sprintf(`Direction %q is not valid; pass "INBOUND" (or "OUTBOUND").`, dir))
	}
	ref := r.PathValue("ticketId")
	m := meta(w, r, c, domain.SourcePortal)
	res, err := h.d.Tickets.AddActivity(r.Context(), c.tenant.ID, ref, txt, direction, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, activityResponse{ID: strconv.Itoa(res.Ticket.ActivityCount), Status: "Success"})
	return nil
}
