package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
)

// multipartOverhead is what a multipart envelope may add to a file.
const multipartOverhead = 64 << 10

func (s *Server) uploadLimit() int64 {
	if s.Files == nil {
		return MaxBodyBytes
	}
	return s.Files.Limit() + multipartOverhead
}

// FilePart finds the multipart part named field in r's body and hands it
// to fn, mapping a missing part, a body that is not multipart and an
// oversized body to client errors. limit bounds the whole body.
func FilePart(w http.ResponseWriter, r *http.Request, field string, limit int64, fn func(filename string, content io.Reader) error) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return problem(http.StatusBadRequest, "not_multipart", fmt.Sprintf("send multipart/form-data with the file in the field %q", field))
	}
	for {
		part, err := mr.NextPart()
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return problem(http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("request body exceeds %d bytes", limit))
		case errors.Is(err, io.EOF):
			return invalid(FieldError{Field: field, Code: "required", Detail: fmt.Sprintf("multipart field %q with a file is required", field)})
		case err != nil:
			return problem(http.StatusBadRequest, "malformed_multipart", "malformed multipart body: "+err.Error())
		}
		if part.FormName() != field {
			part.Close()
			continue
		}
		err = fn(part.FileName(), part)
		part.Close()
		if errors.As(err, &tooBig) {
			return problem(http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("request body exceeds %d bytes", limit))
		}
		return err
	}
}

func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request) {
	m, err := meta(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var file app.File
	var res app.Result
	err = FilePart(w, r, "file", s.uploadLimit(), func(name string, content io.Reader) error {
		file, res, err = s.Files.Attach(r.Context(), tenantOf(r).ID, r.PathValue("id"), "file", name, content, m)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/attachments/"+file.ID)
	w.Header().Set("Eventdesk-Position", res.Position.String())
	writeJSON(w, http.StatusCreated, "application/json", file)
}

// downloadAttachment serves a file with its sniffed type, as an
// attachment (never rendered inline: uploads are untrusted).
func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request) {
	file, err := s.Files.Get(r.Context(), tenantOf(r).ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := ServeFile(w, r, s.Files, file); err != nil {
		s.fail(w, r, err)
	}
}

// ServeFile writes file's content with safe headers; it fails only before
// writing anything.
func ServeFile(w http.ResponseWriter, r *http.Request, files *app.Files, file app.File) error {
	f, err := files.Open(file)
	if err != nil {
		return fmt.Errorf("open attachment %s: %w", file.ID, err)
	}
	defer f.Close()
	w.Header().Set("Content-Type", file.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": file.Filename}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", strconv.Quote(file.SHA256))
	http.ServeContent(w, r, "", file.CreatedAt.Truncate(time.Second), f)
	return nil
}
