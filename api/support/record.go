package support

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// Record is a customer support record, the data of every answer but a
// download: one ticket as the support-message API shows it. Members are in
// the documented order.
type Record struct {
	// ID is the record id: the Eventdesk ticket's UUID.
	ID string `json:"id"`
	// User is the app user who wrote (references.user_id); null when the
	// ticket has none.
	User *User `json:"user"`
	// Device is the device it was sent from (references.device_id); null
	// when the ticket has none.
	Device *Device `json:"device"`
	// TicketID is the client ticket id (references.client_ticket_id), or
	// the ticket's UUID for a ticket that has none.
	TicketID string `json:"ticketId"`
	// LogPath is the download URL of the ticket's latest LOG file; null
	// before one is uploaded.
	LogPath *string `json:"logPath"`
	Name    *string `json:"name"`
	Email   *string `json:"email"`
	Phone   *string `json:"phone"`
	// Category is the category as the client sent it.
	Category   *string    `json:"category"`
	TicketInfo TicketInfo `json:"ticketInfo"`
	// FeedbackPhoto is the download URL of the latest FEEDBACK_PHOTO; null
	// before one is uploaded.
	FeedbackPhoto *string `json:"feedbackPhoto"`
	// CreationDate is when the ticket was created, in epoch milliseconds.
	CreationDate int64 `json:"creationDate"`
}

// User is what Eventdesk knows of the app user: the id and the device the
// message came from. The app's user profile (names, settings, channels)
// lives in the app, not here.
type User struct {
	ID      string   `json:"id"`
	Devices []Device `json:"devices"`
}

// Device is a device by its UDID.
type Device struct {
	UDID string `json:"udid"`
}

// TicketInfo is the record's ticket.
type TicketInfo struct {
	ID string `json:"id"`
	// CoreTicketNumber is always null, as in every documented sample.
	CoreTicketNumber *string `json:"coreTicketNumber"`
	// SupportTicketID is the support (Zendesk) ticket id: the
	// support_ticket_id reference when one was linked, else the ticket's
	// readable number ("345").
	SupportTicketID string `json:"supportTicketId"`
	Subject         string `json:"subject"`
	Message         string `json:"message"`
	// TicketStatus is one of CREATED, OPEN, PENDING, SOLVED, CLOSED.
	TicketStatus      string  `json:"ticketStatus"`
	UserTransactionID *string `json:"userTransactionId"`
	UserID            *string `json:"userId"`
	UserName          *string `json:"userName"`
	// Images are the image names sent with the message (image assets
	// without an uploaded file), in order; never null.
	Images []string `json:"images"`
}

// The file types of uploads and downloads.
const (
	FileLog           = "LOG"
	FileFeedbackPhoto = "FEEDBACK_PHOTO"
)

// customCategory is the custom field keeping the category as sent.
const customCategory = "support_category"

// Ticket status names.
const (
	StatusCreated = "CREATED"
	StatusOpen    = "OPEN"
	StatusPending = "PENDING"
	StatusSolved  = "SOLVED"
	StatusClosed  = "CLOSED"
)

// ticketStatus names s's status: CREATED while the ticket is in the
// tenant's default status, OPEN in another status of kind open, and
// PENDING, SOLVED or CLOSED for the other kinds (Zendesk's words).
func ticketStatus(s ticket.Snapshot, cfg ticket.Config) string {
	switch s.StatusKind {
	case ticket.KindPending:
		return StatusPending
	case ticket.KindResolved:
		return StatusSolved
	case ticket.KindClosed:
		return StatusClosed
	}
	if s.Status == cfg.DefaultStatus().Key {
		return StatusCreated
	}
	return StatusOpen
}

// supportTicketID is s's support ticket id.
func supportTicketID(s ticket.Snapshot) string {
	if s.References.SupportTicketID != "" {
		return s.References.SupportTicketID
	}
	return strconv.FormatInt(s.Number, 10)
}

// clientTicketID is s's client ticket id.
func clientTicketID(s ticket.Snapshot) string {
	if s.References.ClientTicketID != "" {
		return s.References.ClientTicketID
	}
	return s.ID
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// record builds s's record. paths holds the download URLs of the files
// it has, by type.
func record(s ticket.Snapshot, cfg ticket.Config, paths map[string]string) Record {
	refs := s.References
	rec := Record{
		ID: s.ID, TicketID: clientTicketID(s),
		LogPath: ptr(paths[FileLog]), FeedbackPhoto: ptr(paths[FileFeedbackPhoto]),
		Name: ptr(refs.ContactName), Email: ptr(refs.ContactEmail), Phone: ptr(refs.ContactPhone),
		Category:     ptr(s.Category),
		CreationDate: s.CreatedAt.UnixMilli(),
		TicketInfo: TicketInfo{
			ID: clientTicketID(s), SupportTicketID: supportTicketID(s),
			Subject: s.Title, Message: s.Description, TicketStatus: ticketStatus(s, cfg),
			UserID: ptr(refs.UserID), Images: []string{},
		},
	}
	var cat string
	if raw, ok := s.Custom[customCategory]; ok && json.Unmarshal(raw, &cat) == nil && cat != "" {
		rec.Category = &cat
	}
	if refs.DeviceID != "" {
		rec.Device = &Device{UDID: refs.DeviceID}
	}
	if refs.UserID != "" {
		rec.User = &User{ID: refs.UserID, Devices: []Device{}}
		if rec.Device != nil {
			rec.User.Devices = append(rec.User.Devices, *rec.Device)
		}
	}
	for _, a := range s.Attachments {
		if a.Type == ticket.AssetImage && a.File == nil {
			rec.TicketInfo.Images = append(rec.TicketInfo.Images, a.Value)
		}
	}
	return rec
}

// hasFiles reports whether s has any uploaded file, so that tickets
// without one cost no look-up.
func hasFiles(s ticket.Snapshot) bool {
	for _, a := range s.Attachments {
		if a.File != nil {
			return true
		}
	}
	return false
}

// filePaths returns the download URLs of the LOG and FEEDBACK_PHOTO files
// s has. known maps a type to a URL already known (a file just uploaded).
func (h *Handler) filePaths(ctx context.Context, r *http.Request, tenant string, s ticket.Snapshot, known map[string]string) (map[string]string, error) {
	paths := map[string]string{}
	for _, kind := range []string{FileLog, FileFeedbackPhoto} {
		if p, ok := known[kind]; ok {
			paths[kind] = p
			continue
		}
		if !hasFiles(s) {
			continue
		}
		_, err := h.d.Files.Latest(ctx, tenant, s.ID, kind)
		switch {
		case errors.Is(err, app.ErrFileNotFound):
		case err != nil:
			return nil, err
		default:
			paths[kind] = downloadURL(r, clientTicketID(s), kind)
		}
	}
	return paths, nil
}

// downloadURL is the absolute URL that downloads the latest file of kind
// of the ticket with client id id, on the host the request came to
// (https when the request came over TLS or a proxy says so in
// X-Forwarded-Proto).
func downloadURL(r *http.Request, id, kind string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	switch r.Header.Get("X-Forwarded-Proto") {
	case "https":
		scheme = "https"
	case "http":
		scheme = "http"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: "/api/aws/download/support/file/" + id + "/" + kind}
	return u.String()
}
