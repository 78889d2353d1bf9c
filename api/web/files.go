package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
)

// FilePart finds the multipart part named field in r's body and hands it
// to fn (as SoleFile: the rest of the body is read, and must hold no
// second such part, before the content ends), mapping a missing part, a
// body that is not multipart, a truncated one and an oversized body to
// client errors. limit bounds the whole body.
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
			return &MultipartError{Field: field}
		}
		if part.FormName() != field {
			part.Close()
			continue
		}
		err = fn(part.FileName(), SoleFile(mr, part, field))
		part.Close()
		if errors.As(err, &tooBig) {
			return NewProblem(http.StatusRequestEntityTooLarge, "file_too_large", fmt.Sprintf("request body exceeds %d bytes", limit))
		}
		return err
	}
}

// MultipartError is why a multipart body was refused: it is truncated or
// malformed, or (Repeated) it has a second part named Field. It unwraps
// to the native API's problem (400 malformed_multipart, 422 naming the
// field), for Classify; a surface with its own wording words it.
type MultipartError struct {
	Field    string
	Repeated bool
}

func (e *MultipartError) Error() string { return e.Problem().Detail }

// Unwrap returns e as a problem, for errors.As and Classify.
func (e *MultipartError) Unwrap() error { return e.Problem() }

// Problem is e as the native API answers it.
func (e *MultipartError) Problem() *Problem {
	if e.Repeated {
		return Invalid(FieldError{Field: e.Field, Code: "repeated",
			Detail: fmt.Sprintf("send one multipart part %q; this request has more", e.Field)})
	}
	return NewProblem(http.StatusBadRequest, "malformed_multipart", "malformed multipart body: it is truncated or not valid multipart")
}

// SoleFile reads part, the part named field of mr, as a file's content.
// At the part's end it reads the rest of the body before it reports
// io.EOF, so that whoever stores the content sees the body's faults
// before it keeps anything: a truncated or malformed body is a
// *MultipartError, and so is a second part named field (Repeated). An
// oversized body's *http.MaxBytesError passes as it is.
func SoleFile(mr *multipart.Reader, part *multipart.Part, field string) io.Reader {
	return &soleFile{mr: mr, part: part, field: field}
}

type soleFile struct {
	mr    *multipart.Reader
	part  *multipart.Part
	field string
	err   error // sticky, once the end is reached or reading failed
}

func (f *soleFile) Read(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.part.Read(b)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF):
		f.err = f.rest()
	default:
		f.err = f.fault(err)
	}
	if n > 0 && errors.Is(f.err, io.EOF) {
		return n, nil
	}
	return n, f.err
}

// rest reads the parts after the file: io.EOF when the body ends well.
func (f *soleFile) rest() error {
	for {
		p, err := f.mr.NextPart()
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		if err != nil {
			return f.fault(err)
		}
		repeated := p.FormName() == f.field
		_, err = io.Copy(io.Discard, p)
		p.Close()
		if repeated {
			return &MultipartError{Field: f.field, Repeated: true}
		}
		if err != nil {
			return f.fault(err)
		}
	}
}

func (f *soleFile) fault(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return &MultipartError{Field: f.field}
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
