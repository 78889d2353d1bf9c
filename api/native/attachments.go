package native

import (
	"io"
	"net/http"

	"github.com/eventdesk/eventdesk/api/web"

	"github.com/eventdesk/eventdesk/api/app"
)

// multipartOverhead is what a multipart envelope may add to a file.
const multipartOverhead = 64 << 10

func (s *Server) uploadLimit() int64 {
	if s.Files == nil {
		return web.MaxBodyBytes
	}
	return s.Files.Limit() + multipartOverhead
}

func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request) {
	m, err := meta(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var file app.File
	var res app.Result
	err = web.FilePart(w, r, "file", s.uploadLimit(), func(name string, content io.Reader) error {
		file, res, err = s.Files.Attach(r.Context(), tenantOf(r).ID, r.PathValue("id"), "file", name, content, m)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/attachments/"+file.ID)
	w.Header().Set("Eventdesk-Position", res.Position.String())
	web.WriteJSON(w, http.StatusCreated, "application/json", file)
}

// downloadAttachment serves a file with its sniffed type, as an
// attachment (never rendered inline: uploads are untrusted).
func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request) {
	file, err := s.Files.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := web.ServeFile(w, r, s.Files, file); err != nil {
		s.fail(w, r, err)
	}
}
