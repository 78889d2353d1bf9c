package support

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// multipartOverhead is what a multipart envelope may add to a file.
const multipartOverhead = 64 << 10

// fileType checks {HelpSupportFileType}: exactly LOG or FEEDBACK_PHOTO
// (a Java enum's valueOf is case-sensitive), else 400.
func fileType(r *http.Request) (string, error) {
	switch t := r.PathValue("HelpSupportFileType"); t {
	case FileLog, FileFeedbackPhoto:
		return t, nil
	default:
		return "", badRequest("Invalid HelpSupportFileType", fmt.Sprintf("HelpSupportFileType %q is not one of LOG, FEEDBACK_PHOTO", t))
	}
}

// resolve finds the ticket a path id names: the record id (the ticket's
// UUID) or the client ticketId, both UUIDs. Anything else — numbers,
// names, path tricks — names no record: 404.
func (h *Handler) resolve(ctx context.Context, tenant, ref string) (ticket.Snapshot, error) {
	u, err := uuid.Parse(ref)
	if err != nil || len(ref) != 36 {
		return ticket.Snapshot{}, errRecordNotFound
	}
	id := u.String()
	t, _, err := h.d.Tickets.Load(ctx, tenant, id)
	if err == nil {
		return t.Snapshot(), nil
	}
	if !errors.Is(err, ticket.ErrNotFound) {
		return ticket.Snapshot{}, err
	}
	s, err := h.d.Queries.TicketByClientID(ctx, tenant, id)
	if errors.Is(err, ticket.ErrNotFound) {
		return ticket.Snapshot{}, errRecordNotFound
	}
	return s, err
}

var (
	errNotMultipart = badRequest("Current request is not a multipart request",
		`send multipart/form-data with the file in the part "file"`)
	errNoFilePart = badRequest("Required request part 'file' is not present",
		`send multipart/form-data with the file in the part "file"`)
	errEmptyFile          = badRequest("The uploaded file is empty", "")
	errMalformedMultipart = badRequest("Malformed multipart request", "the multipart body could not be read: it is truncated or not valid multipart")
)

// filePart finds the multipart part "file" of r's body, at most limit
// bytes in all, and hands it to fn.
func filePart(w http.ResponseWriter, r *http.Request, limit int64, fn func(filename string, content io.Reader) error) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return errNotMultipart
	}
	for {
		part, err := mr.NextPart()
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return err // too large: web.Classify knows it
		case errors.Is(err, io.EOF):
			return errNoFilePart
		case err != nil:
			return errMalformedMultipart
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		err = fn(part.FileName(), web.SoleFile(mr, part, "file"))
		part.Close()
		var me *web.MultipartError
		switch {
		case errors.As(err, &me) && me.Repeated:
			return badRequest("Only one part 'file' is allowed", `send multipart/form-data with one file in the part "file"`)
		case errors.As(err, &me):
			return errMalformedMultipart
		}
		return err
	}
}

// upload is POST /api/user/help/file/upload/{feedbackId}/{HelpSupportFileType}.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, tenant app.Tenant) error {
	kind, err := fileType(r)
	if err != nil {
		return err
	}
	s, err := h.resolve(r.Context(), tenant.ID, r.PathValue("feedbackId"))
	if err != nil {
		return err
	}
	if s.StatusKind == ticket.KindClosed {
		// Refused before the file is read and stored; the domain would
		// refuse the attachment anyway.
		return ticket.ErrClosed
	}
	var res app.Result
	err = filePart(w, r, h.d.Files.Limit()+multipartOverhead, func(name string, content io.Reader) error {
		head := make([]byte, 512)
		n, err := io.ReadFull(content, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return err
		}
		head = head[:n]
		if n == 0 {
			return errEmptyFile
		}
		if ct := http.DetectContentType(head); kind == FileFeedbackPhoto && !strings.HasPrefix(ct, "image/") {
			return badRequest("The feedback photo must be an image", fmt.Sprintf("the uploaded file is %s", ct))
		}
		if name == "" {
			name = strings.ToLower(kind)
		}
		_, res, err = h.d.Files.Attach(r.Context(), tenant.ID, s.ID, kind, name, io.MultiReader(bytes.NewReader(head), content), meta(w, r))
		return err
	})
	if err != nil {
		return err
	}
	// Like a create, an upload answers once searches show it.
	h.waitReadModel(r.Context(), res)
	cfg, _, err := h.d.Tickets.Config(r.Context(), tenant.ID)
	if err != nil {
		return err
	}
	paths, err := h.filePaths(r.Context(), r, tenant.ID, res.Ticket, map[string]string{kind: downloadURL(r, clientTicketID(res.Ticket), kind)})
	if err != nil {
		return err
	}
	return ok(w, record(res.Ticket, cfg, paths), MsgUploaded)
}

// download is GET /api/aws/download/support/file/{coreTicketId}/{HelpSupportFileType}:
// the latest file of that type, as an attachment with its sniffed type.
func (h *Handler) download(w http.ResponseWriter, r *http.Request, tenant app.Tenant) error {
	kind, err := fileType(r)
	if err != nil {
		return err
	}
	s, err := h.resolve(r.Context(), tenant.ID, r.PathValue("coreTicketId"))
	if err != nil {
		return err
	}
	file, err := h.d.Files.Latest(r.Context(), tenant.ID, s.ID, kind)
	if errors.Is(err, app.ErrFileNotFound) {
		return problem(http.StatusNotFound, "file_not_found", "Customer support file not found",
			fmt.Sprintf("no %s file has been uploaded for this ticket", kind))
	}
	if err != nil {
		return err
	}
	return web.ServeFile(w, r, h.d.Files, file)
}
