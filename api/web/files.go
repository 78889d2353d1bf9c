package web

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

// FilePart finds the multipart part named field in r's body and hands it
// to fn, mapping a missing part, a body that is not multipart and an
// oversized body to client errors. limit bounds the whole body.
func FilePart(w http.ResponseWriter, r *http.Request, field string, limit int64, fn func(filename string, content io.Reader) error) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return NewProblem(http.StatusBadRequest, "not_multipart", fmt.Sprintf("send multipart/form-data with the file in the field %q", field))
	}
	for {
		part, err := mr.NextPart()
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return NewProblem(http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("request body exceeds %d bytes", limit))
		case errors.Is(err, io.EOF):
			return Invalid(FieldError{Field: field, Code: "required", Detail: fmt.Sprintf("multipart field %q with a file is required", field)})
		case err != nil:
			return NewProblem(http.StatusBadRequest, "malformed_multipart", "malformed multipart body: "+err.Error())
		}
		if part.FormName() != field {
			part.Close()
			continue
		}
		err = fn(part.FileName(), part)
		part.Close()
		if errors.As(err, &tooBig) {
			return NewProblem(http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("request body exceeds %d bytes", limit))
		}
		return err
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
