package native_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eventdesk/eventdesk/api/apitest"
)

// pngBytes starts like a PNG image, so that the content type is sniffed as
// image/png whatever the client says.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 600)...)

// multipartFile returns a multipart/form-data body with content in field
// under filename, and its Content-Type.
func multipartFile(t *testing.T, field, filename string, content []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.WriteField("note", "not the file"); err != nil {
		t.Fatal(err)
	}
	part, err := w.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), w.FormDataContentType()
}

// upload posts content as the file of ticket ref.
func (e *env) upload(tn *apitest.Tenant, ref, filename string, content []byte, headers ...string) response {
	e.t.Helper()
	body, ct := multipartFile(e.t, "file", filename, content)
	return e.do(tn, "POST", "/v1/tickets/"+ref+"/attachments", body, append([]string{"Content-Type", ct}, headers...)...)
}

// storedFiles lists the files under the data directory, relative to it,
// leaving out the scratch directory of uploads in progress.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() && rel == "tmp" {
			entries, err := os.ReadDir(path)
			if err != nil {
				return err
			}
			for _, en := range entries {
				out = append(out, "tmp/"+en.Name())
			}
			return fs.SkipDir
		}
		if !d.IsDir() {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestAttachmentUploadDownload(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "Broken screen"})["id"].(string)

	up := e.upload(e.a, id, "screen.txt", pngBytes).want(t, http.StatusCreated)
	f := up.json(t)
	fid, _ := f["id"].(string)
	want := map[string]any{"id": fid, "ticket_id": id, "kind": "file", "filename": "screen.txt", "content_type": "image/png",
		"size": float64(len(pngBytes)), "sha256": sha(pngBytes), "created_at": f["created_at"]}
	if diff := cmp.Diff(want, f); diff != "" || fid == "" || f["created_at"] == nil {
		t.Errorf("uploaded file (-want +got):\n%s", diff)
	}
	if up.Header.Get("Location") != "/v1/attachments/"+fid || up.Header.Get("Eventdesk-Position") == "" {
		t.Errorf("headers = %v, want Location /v1/attachments/%s and Eventdesk-Position", up.Header, fid)
	}

	// The download is the same bytes, served as an attachment that browsers must not sniff.
	down := e.do(e.a, "GET", "/v1/attachments/"+fid, nil).want(t, http.StatusOK)
	if !bytes.Equal(down.Body, pngBytes) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(down.Body), len(pngBytes))
	}
	disp, params, err := mime.ParseMediaType(down.Header.Get("Content-Disposition"))
	if down.Header.Get("Content-Type") != "image/png" || err != nil || disp != "attachment" || params["filename"] != "screen.txt" ||
		down.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download headers = %v, want image/png, attachment; filename=screen.txt, nosniff", down.Header)
	}

	// The ticket lists the attachment, and its audit trail has the event with the metadata.
	tk := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)
	wantFile := map[string]any{"id": fid, "filename": "screen.txt", "content_type": "image/png", "size": float64(len(pngBytes)), "sha256": sha(pngBytes)}
	wantAtt := []any{map[string]any{"type": "image", "value": "/v1/attachments/" + fid, "display": "screen.txt", "file": wantFile}}
	if diff := cmp.Diff(wantAtt, tk["attachments"]); diff != "" {
		t.Errorf("ticket attachments (-want +got):\n%s", diff)
	}
	var added map[string]any
	for _, ev := range e.do(e.a, "GET", "/v1/tickets/"+id+"/events", nil).want(t, http.StatusOK).json(t)["events"].([]any) {
		if m := ev.(map[string]any); m["type"] == "ticket.attachment_added" {
			added = m
		}
	}
	if added == nil {
		t.Fatal("no ticket.attachment_added in the ticket's events")
	}
	if diff := cmp.Diff(wantAtt[0], added["data"].(map[string]any)["attachment"]); diff != "" {
		t.Errorf("event attachment (-want +got):\n%s", diff)
	}
	if md := added["metadata"].(map[string]any); md["source"] != "api" || md["actor"] == "" {
		t.Errorf("event metadata = %v, want source api and an actor", md)
	}

	// Text is sniffed as text; uploads by number work too.
	txt := e.upload(e.a, "1", "notes.png", []byte("plain words\n")).want(t, http.StatusCreated).json(t)
	if txt["content_type"] != "text/plain; charset=utf-8" || txt["ticket_id"] != id {
		t.Errorf("text upload = %v, want text/plain; charset=utf-8 on ticket %s", txt, id)
	}
	// An upload can be retried safely with an Idempotency-Key.
	body, ct := multipartFile(t, "file", "log.txt", []byte("once"))
	first := e.do(e.a, "POST", "/v1/tickets/"+id+"/attachments", body, "Content-Type", ct, "Idempotency-Key", "u1").want(t, http.StatusCreated)
	again := e.do(e.a, "POST", "/v1/tickets/"+id+"/attachments", body, "Content-Type", ct, "Idempotency-Key", "u1").want(t, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.Body, again.Body) ||
		again.Header.Get("Location") != first.Header.Get("Location") {
		t.Errorf("replayed upload differs: %s vs %s (headers %v)", first.Body, again.Body, again.Header)
	}
	if n := len(e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t)["attachments"].([]any)); n != 3 {
		t.Errorf("ticket has %d attachments, want 3", n)
	}
}

func TestAttachmentDeduplicated(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "x"})["id"].(string)
	other := e.createTicket(e.b, map[string]any{"title": "y"})["id"].(string)
	content := []byte("the same bytes, three times")
	a1 := e.upload(e.a, id, "a.txt", content).want(t, http.StatusCreated).json(t)
	a2 := e.upload(e.a, id, "b.txt", content).want(t, http.StatusCreated).json(t)
	b1 := e.upload(e.b, other, "c.txt", content).want(t, http.StatusCreated).json(t)
	if a1["sha256"] != sha(content) || a2["sha256"] != a1["sha256"] || b1["sha256"] != a1["sha256"] {
		t.Errorf("sha256 = %v, %v, %v; want %s each", a1["sha256"], a2["sha256"], b1["sha256"], sha(content))
	}
	if a1["id"] == a2["id"] || a1["id"] == b1["id"] {
		t.Errorf("attachment ids %v, %v, %v; want three", a1["id"], a2["id"], b1["id"])
	}
	s := sha(content)
	if got, want := storedFiles(t, e.DataDir), []string{s[:2] + "/" + s}; !cmp.Equal(got, want) {
		t.Errorf("data directory holds %v, want the content once: %v", got, want)
	}
	for _, f := range []map[string]any{a1, a2} {
		if got := e.do(e.a, "GET", "/v1/attachments/"+f["id"].(string), nil).want(t, http.StatusOK); !bytes.Equal(got.Body, content) ||
			!strings.Contains(got.Header.Get("Content-Disposition"), f["filename"].(string)) {
			t.Errorf("download of %v = %q (%v)", f["id"], got.Body, got.Header)
		}
	}
}

func TestAttachmentPathTraversal(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "x"})["id"].(string)
	for i, tc := range []struct{ name, want string }{
		{"../../etc/passwd", "passwd"},
		{`..\..\windows\win.ini`, "win.ini"},
		{"/etc/shadow", "shadow"},
		{"", "file"},
	} {
		content := []byte("payload " + tc.name + string(rune('a'+i)))
		f := e.upload(e.a, id, tc.name, content).want(t, http.StatusCreated).json(t)
		if f["filename"] != tc.want {
			t.Errorf("filename %q stored as %v, want %q", tc.name, f["filename"], tc.want)
		}
		d := e.do(e.a, "GET", "/v1/attachments/"+f["id"].(string), nil).want(t, http.StatusOK)
		if _, params, _ := mime.ParseMediaType(d.Header.Get("Content-Disposition")); params["filename"] != tc.want {
			t.Errorf("Content-Disposition %q, want filename %q", d.Header.Get("Content-Disposition"), tc.want)
		}
	}
	// Only content-addressed files exist, all inside the data directory,
	// and nothing appeared beside it.
	for _, f := range storedFiles(t, e.DataDir) {
		dir, name := filepath.Split(f)
		if len(name) != 64 || dir != name[:2]+"/" {
			t.Errorf("data directory holds %s, want only <sha[:2]>/<sha256>", f)
		}
	}
	parent := filepath.Dir(e.DataDir)
	_ = filepath.WalkDir(parent, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(path, e.DataDir+string(filepath.Separator)) {
			t.Errorf("file %s written outside the data directory %s", path, e.DataDir)
		}
		if n := d.Name(); n == "passwd" || n == "win.ini" || n == "shadow" {
			t.Errorf("%s exists: a client's file name became a path", path)
		}
		return nil
	})
	// Ids in the path cannot reach files either.
	for _, ref := range []string{"..%2F..%2Fetc%2Fpasswd", sha([]byte("x"))} {
		e.do(e.a, "GET", "/v1/attachments/"+ref, nil).problem(t, http.StatusNotFound, "attachment_not_found")
	}
}

func TestAttachmentBadUploads(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "x"})["id"].(string)
	path := "/v1/tickets/" + id + "/attachments"

	// Over the limit: the file alone, and a body far beyond it.
	e.upload(e.a, id, "big.bin", bytes.Repeat([]byte("a"), apitest.UploadLimit+1)).problem(t, http.StatusRequestEntityTooLarge, "file_too_large")
	e.upload(e.a, id, "huge.bin", bytes.Repeat([]byte("a"), 2*apitest.UploadLimit)).problem(t, http.StatusRequestEntityTooLarge, "file_too_large")
	// Exactly the limit is fine.
	e.upload(e.a, id, "max.bin", bytes.Repeat([]byte("b"), apitest.UploadLimit)).want(t, http.StatusCreated)

	body, ct := multipartFile(t, "document", "a.txt", []byte("hi"))
	p := e.do(e.a, "POST", path, body, "Content-Type", ct).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if !cmp.Equal(fields(p), []string{"file"}) {
		t.Errorf("missing file fields = %v, want [file]", fields(p))
	}
	e.do(e.a, "POST", path, `{"file": "aGk="}`).problem(t, http.StatusBadRequest, "not_multipart")
	e.do(e.a, "POST", path, nil).problem(t, http.StatusBadRequest, "not_multipart")
	e.do(e.a, "POST", path, "--x\r\nnot a part", "Content-Type", "multipart/form-data; boundary=x").
		problem(t, http.StatusBadRequest, "malformed_multipart")
	e.upload(nil, id, "a.txt", []byte("hi")).problem(t, http.StatusUnauthorized, "unauthenticated")

	// Refused uploads left nothing behind: one file (max.bin), no scratch files, one attachment.
	s := sha(bytes.Repeat([]byte("b"), apitest.UploadLimit))
	if got := storedFiles(t, e.DataDir); !cmp.Equal(got, []string{s[:2] + "/" + s}) {
		t.Errorf("data directory holds %v, want only max.bin's content", got)
	}
	if tk := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t); len(tk["attachments"].([]any)) != 1 {
		t.Errorf("ticket has attachments %v, want max.bin only", tk["attachments"])
	}
	// Unknown tickets are 404. (app.Files.Attach stores the content before
	// it learns that a ticket given by UUID does not exist, so the data
	// directory is not checked after these: the bytes stay, unreferenced.)
	e.upload(e.a, "7a0c4f4e-0000-4000-8000-000000000000", "a.txt", []byte("hi")).problem(t, http.StatusNotFound, "ticket_not_found")
	e.upload(e.a, "99", "a.txt", []byte("hi")).problem(t, http.StatusNotFound, "ticket_not_found")
	e.upload(e.a, "..%2F..%2Fetc", "a.txt", []byte("hi")).problem(t, http.StatusNotFound, "ticket_not_found")
}

func TestAttachmentTenantIsolation(t *testing.T) {
	e := newEnv(t)
	id := e.createTicket(e.a, map[string]any{"title": "A's ticket"})["id"].(string)
	f := e.upload(e.a, id, "secret.txt", []byte("A's secret")).want(t, http.StatusCreated).json(t)
	fid := f["id"].(string)

	e.do(nil, "GET", "/v1/attachments/"+fid, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	// B cannot read A's file, nor attach to A's ticket (by id or by number).
	e.do(e.b, "GET", "/v1/attachments/"+fid, nil).problem(t, http.StatusNotFound, "attachment_not_found")
	e.upload(e.b, id, "x.txt", []byte("from B")).problem(t, http.StatusNotFound, "ticket_not_found")
	e.upload(e.b, "1", "x.txt", []byte("from B")).problem(t, http.StatusNotFound, "ticket_not_found")
	e.do(e.a, "GET", "/v1/attachments/7a0c4f4e-0000-4000-8000-000000000000", nil).problem(t, http.StatusNotFound, "attachment_not_found")
	// B's own upload of the same content is B's.
	bid := e.createTicket(e.b, map[string]any{"title": "B's ticket"})["id"].(string)
	bf := e.upload(e.b, bid, "mine.txt", []byte("A's secret")).want(t, http.StatusCreated).json(t)
	e.do(e.a, "GET", "/v1/attachments/"+bf["id"].(string), nil).problem(t, http.StatusNotFound, "attachment_not_found")
	if got := e.do(e.b, "GET", "/v1/attachments/"+bf["id"].(string), nil).want(t, http.StatusOK); string(got.Body) != "A's secret" {
		t.Errorf("B's download = %q", got.Body)
	}
	if tk := e.do(e.a, "GET", "/v1/tickets/"+id, nil).want(t, http.StatusOK).json(t); len(tk["attachments"].([]any)) != 1 {
		t.Errorf("A's ticket has attachments %v, want secret.txt only", tk["attachments"])
	}
}
