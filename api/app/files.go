package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/ticket"
)

// ErrFileTooLarge: an upload is over the configured limit.
var ErrFileTooLarge = &domain.Error{Kind: domain.TooLarge, Code: "file_too_large", Field: "file", Msg: "file is too large"}

// ErrFileNotFound: no such attachment for this tenant.
var ErrFileNotFound = &domain.Error{Kind: domain.NotFound, Code: "attachment_not_found", Msg: "attachment not found"}

// Files keeps uploaded files under a data directory, content-addressed by
// SHA-256 (dir/ab/abcdef...), so equal files are stored once and no name
// from a request ever becomes a path. An index table maps each tenant's
// attachment ids to their files.
type Files struct {
	dir     string
	db      *sql.DB
	tickets *Tickets
	limit   int64
}

// NewFiles returns the file store rooted at dir, refusing files over
// limit bytes.
func NewFiles(dir string, limit int64, db *sql.DB, tickets *Tickets) *Files {
	return &Files{dir: dir, db: db, tickets: tickets, limit: limit}
}

// Limit is the largest file accepted, in bytes.
func (f *Files) Limit() int64 { return f.limit }

// File is an attachment's metadata.
type File struct {
	ID          string    `json:"id"`
	TicketID    string    `json:"ticket_id"`
	Kind        string    `json:"kind"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (f *Files) path(sum string) (string, error) {
	if !sha256RE.MatchString(sum) { // never a path from outside
		return "", fmt.Errorf("files: bad digest %q", sum)
	}
	return filepath.Join(f.dir, sum[:2], sum), nil
}

// put stores r's content and returns its digest, size and sniffed type.
func (f *Files) put(r io.Reader) (sum string, size int64, contentType string, err error) {
	if err := os.MkdirAll(filepath.Join(f.dir, "tmp"), 0o750); err != nil {
		return "", 0, "", err
	}
	tmp, err := os.CreateTemp(filepath.Join(f.dir, "tmp"), "upload-*")
	if err != nil {
		return "", 0, "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", 0, "", err
	}
	head = head[:n]
	contentType = http.DetectContentType(head)
	rest := io.LimitReader(r, f.limit-int64(n)+1)
	size, err = io.Copy(io.MultiWriter(tmp, h), io.MultiReader(bytes.NewReader(head), rest))
	if err != nil {
		return "", 0, "", err
	}
	if size > f.limit {
		return "", 0, "", ErrFileTooLarge.Withf("file exceeds %d bytes", f.limit)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, "", err
	}
	sum = hex.EncodeToString(h.Sum(nil))
	dst, _ := f.path(sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", 0, "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, "", err
	}
	return sum, size, contentType, nil
}

// MaxFilenameLength bounds a stored file name.
const MaxFilenameLength = 255

// cleanName keeps only the base name of a client's file name, for display.
func cleanName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = filepath.Base("/" + name)
	if name == "/" || name == "." || name == ".." || !utf8.ValidString(name) {
		name = "file"
	}
	if len(name) > MaxFilenameLength {
		name = name[:MaxFilenameLength]
	}
	return name
}

// Attach stores r as a file of ticket ref and records it on the ticket
// (ticket.attachment_added). kind tags the file for surfaces that keep
// several kinds (the support API's LOG and FEEDBACK_PHOTO); asset is the
// Fynd asset type (image, video, file).
func (f *Files) Attach(ctx context.Context, tenant, ref, kind, filename string, r io.Reader, m Meta) (File, Result, error) {
	// Refuse before writing a byte to disk when the ticket cannot take it.
	t, _, err := f.tickets.Load(ctx, tenant, ref)
	if err != nil {
		return File{}, Result{}, err
	}
	if t.Snapshot().StatusKind == ticket.KindClosed {
		return File{}, Result{}, ticket.ErrClosed
	}
	id := t.ID()
	sum, size, ct, err := f.put(r)
	if err != nil {
		return File{}, Result{}, err
	}
	file := File{ID: m.derivedID("attachment"), TicketID: id, Kind: kind, Filename: cleanName(filename), ContentType: ct, Size: size, SHA256: sum}
	asset := ticket.AssetFile
	switch {
	case strings.HasPrefix(ct, "image/"):
		asset = ticket.AssetImage
	case strings.HasPrefix(ct, "video/"):
		asset = ticket.AssetVideo
	}
	// The index row goes in first and the event second: a file whose event
	// did not land is never listed on a ticket, and reads check every row
	// against the ticket's own stream, so a row left behind by a crash in
	// between is never served.
	// A retried idempotent request derives the same attachment id: its row
	// is kept as the first attempt wrote it.
	file.CreatedAt = f.tickets.now().UTC().Truncate(time.Microsecond)
	if err := f.db.QueryRowContext(ctx, `INSERT INTO attachments (tenant_id, attachment_id, ticket_id, kind, filename, content_type, size, sha256, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, attachment_id) DO UPDATE SET tenant_id = excluded.tenant_id RETURNING created_at`,
		tenant, file.ID, id, kind, file.Filename, ct, size, sum, file.CreatedAt).Scan(&file.CreatedAt); err != nil {
		return File{}, Result{}, fmt.Errorf("index attachment: %w", err)
	}
	res, err := f.tickets.execute(ctx, tenant, id, m, func(t *ticket.Ticket, _ ticket.Config, at time.Time) error {
		return t.AddAttachment(ticket.AddAttachment{By: m.By, Source: m.Source, Attachment: ticket.Attachment{
			Type: asset, Value: "/v1/attachments/" + file.ID, Display: file.Filename,
			File: &ticket.File{ID: file.ID, Filename: file.Filename, ContentType: ct, Size: size, SHA256: sum},
		}}, at)
	})
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, derr := f.db.ExecContext(dctx, `DELETE FROM attachments WHERE tenant_id = $1 AND attachment_id = $2`, tenant, file.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("unindex attachment: %w", derr))
		}
		return File{}, Result{}, err
	}
	return file, res, nil
}

// Get returns attachment id of the tenant.
func (f *Files) Get(ctx context.Context, tenant, id string) (File, error) {
	files, err := f.attached(ctx, tenant, `WHERE tenant_id = $1 AND attachment_id = $2`, id)
	if err != nil || len(files) == 0 {
		return File{}, err
	}
	return files[0], nil
}

// Latest returns the newest file of kind on ticket id.
func (f *Files) Latest(ctx context.Context, tenant, ticketID, kind string) (File, error) {
	files, err := f.attached(ctx, tenant, `WHERE tenant_id = $1 AND ticket_id = $2 AND kind = $3 ORDER BY created_at DESC`, ticketID, kind)
	if err != nil || len(files) == 0 {
		return File{}, err
	}
	return files[0], nil
}

// attached returns the tenant's indexed files that where selects ($1 is
// the tenant, args the rest) and that their ticket records (the index row
// of an attach that failed half-way is not one of them), in the query's
// order. None is ErrFileNotFound.
func (f *Files) attached(ctx context.Context, tenant, where string, args ...any) ([]File, error) {
	files, err := f.indexed(ctx, where, append([]any{tenant}, args...)...)
	if err != nil {
		return nil, err
	}
	on := map[string]map[string]bool{} // ticket -> its attachment ids
	var out []File
	for _, file := range files {
		ids, ok := on[file.TicketID]
		if !ok {
			t, _, err := f.tickets.Load(ctx, tenant, file.TicketID)
			if err != nil && !errors.Is(err, ticket.ErrNotFound) {
				return nil, err
			}
			ids = map[string]bool{}
			if err == nil {
				for _, a := range t.Snapshot().Attachments {
					if a.File != nil {
						ids[a.File.ID] = true
					}
				}
			}
			on[file.TicketID] = ids
		}
		if ids[file.ID] {
			out = append(out, file)
		}
	}
	if len(out) == 0 {
		return nil, ErrFileNotFound
	}
	return out, nil
}

func (f *Files) indexed(ctx context.Context, where string, args ...any) ([]File, error) {
	rows, err := f.db.QueryContext(ctx, `SELECT attachment_id, ticket_id, kind, filename, content_type, size, sha256, created_at
		FROM attachments `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("attachment: %w", err)
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var file File
		if err := rows.Scan(&file.ID, &file.TicketID, &file.Kind, &file.Filename, &file.ContentType,
			&file.Size, &file.SHA256, &file.CreatedAt); err != nil {
			return nil, fmt.Errorf("attachment: %w", err)
		}
		out = append(out, file)
	}
	return out, rows.Err()
}

// Open opens a file's content.
func (f *Files) Open(file File) (*os.File, error) {
	p, err := f.path(file.SHA256)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}
