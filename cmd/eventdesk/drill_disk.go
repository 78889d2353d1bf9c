package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// tmpfsSize is the size of the drill's data directory: a file larger than
// it fills the disk mid-upload.
const tmpfsSize = "1m"

// filePart is content as a multipart body with the part "file", and its
// Content-Type; a retry must send the very same bytes (boundary included)
// to match its Idempotency-Key.
type filePart struct {
	body        []byte
	contentType string
}

func newFilePart(content []byte) filePart {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", "drill.log")
	_, _ = part.Write(content)
	_ = mw.Close()
	return filePart{body.Bytes(), mw.FormDataContentType()}
}

// upload posts p and returns the answer.
func upload(ctx context.Context, url string, headers map[string]string, p filePart) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(p.body))
	if err != nil {
		return answer{Err: err}
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", p.contentType)
	return send(req)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// diskDrill mounts a 1 MiB tmpfs as the server's data directory, then
// uploads attachments through the native API and the support surface
// while it is full (a file larger than the disk) and while it is mounted
// read-only. Promise: a 503 with Retry-After in each surface's shape,
// nothing half-written (no temporary file left, every stored file whole),
// nothing listed that cannot be downloaded, and a retry with the same
// Idempotency-Key succeeds once the disk is writable again. It needs
// mount(8) (root); without it the drill says it was skipped.
func diskDrill(ctx context.Context, d *drillEnv, r *drillResult) error {
	n, err := d.newNode("drill_disk")
	if err != nil {
		return err
	}
	data := n.DataDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+tmpfsSize+",mode=0750", "tmpfs", data).CombinedOutput(); err != nil {
		r.fig("skipped", "a tmpfs cannot be mounted here (%s): run as root", strings.TrimSpace(string(out)))
		return nil
	}
	defer func() {
		n.Stop()
		if err := exec.Command("umount", data).Run(); err != nil {
			_ = exec.Command("umount", "-l", data).Run()
		}
	}()
	remount := func(mode string) error {
		if out, err := exec.Command("mount", "-o", "remount,"+mode, data).CombinedOutput(); err != nil {
			return fmt.Errorf("remount %s: %v: %s", mode, err, out)
		}
		return nil
	}
	if err := n.Start(ctx); err != nil {
		return err
	}
	t, err := n.createTenant(ctx)
	if err != nil {
		return err
	}
	ticketID, err := n.createTicket(ctx, t, "disk drill")
	if err != nil {
		return err
	}
	native := n.Base() + "/v1/tickets/" + ticketID + "/attachments"
	support := n.Base() + "/api/user/help/file/upload/" + ticketID + "/LOG"
	auth := bearer(t.APIKey)

	type attempt struct {
		name, url string
		headers   map[string]string
		size      int
		shaped    func(ct string, b map[string]any) bool
	}
	nativeShape := func(ct string, b map[string]any) bool {
		return strings.HasPrefix(ct, "application/problem+json") && b["code"] == "storage_unavailable"
	}
	supportShape := func(ct string, b map[string]any) bool {
		return b["error"] == true && b["message"] == "Service unavailable"
	}
	try := func(phase string, at attempt, want int) {
		a := upload(ctx, at.url, at.headers, newFilePart(randomBytes(at.size)))
		var b map[string]any
		_ = json.Unmarshal(a.Body, &b)
		r.fig(fmt.Sprintf("%s: %s (%d KiB)", phase, at.name, at.size>>10), "%d %s in %s", a.Status, a.Header.Get("Retry-After"), ms(a.Took))
		switch {
		case a.Err != nil:
			r.failf("%s, %s: no answer: %v", phase, at.name, a.Err)
		case a.Status != want:
			r.failf("%s, %s: %d %.200s, want %d", phase, at.name, a.Status, a.Body, want)
		case want == http.StatusServiceUnavailable && (a.Header.Get("Retry-After") == "" || !at.shaped(a.Header.Get("Content-Type"), b)):
			r.failf("%s, %s: 503 without Retry-After or not in the surface's shape: %s %.200s", phase, at.name, a.Header.Get("Content-Type"), a.Body)
		}
	}
	keyed := func(key string) map[string]string {
		h := bearer(t.APIKey)
		h["Idempotency-Key"] = key
		return h
	}

	try("writable", attempt{"native", native, auth, 4 << 10, nativeShape}, http.StatusCreated)
	try("writable", attempt{"support", support, auth, 4 << 10, supportShape}, http.StatusOK)
	try("full", attempt{"native", native, keyed("disk-full"), 1536 << 10, nativeShape}, http.StatusServiceUnavailable)
	try("full", attempt{"support", support, auth, 1536 << 10, supportShape}, http.StatusServiceUnavailable)
	if err := remount("ro"); err != nil {
		return err
	}
	ro := keyed("disk-ro")
	content := newFilePart(randomBytes(8 << 10))
	for _, at := range []attempt{{"native", native, ro, 0, nativeShape}, {"support", support, auth, 0, supportShape}} {
		a := upload(ctx, at.url, at.headers, content)
		var b map[string]any
		_ = json.Unmarshal(a.Body, &b)
		r.fig("read-only: "+at.name+" (8 KiB)", "%d %s in %s", a.Status, a.Header.Get("Retry-After"), ms(a.Took))
		r.check(a.Status == http.StatusServiceUnavailable && a.Header.Get("Retry-After") != "" && at.shaped(a.Header.Get("Content-Type"), b),
			"read-only, %s: %d %s %.200s, want 503 with Retry-After in the surface's shape", at.name, a.Status, a.Header.Get("Retry-After"), a.Body)
	}
	if err := remount("rw"); err != nil {
		return err
	}
	a := upload(ctx, native, ro, content)
	r.fig("writable again: native retry with its key", "%d", a.Status)
	r.check(a.Status == http.StatusCreated, "the retry of a refused upload with its key: %d %.200s, want 201", a.Status, a.Body)

	// Nothing half-written: no temporary file left, every stored file whole.
	files := filepath.Join(data, "files")
	stored, partial := 0, 0
	err = filepath.WalkDir(files, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		if filepath.Base(filepath.Dir(path)) == "tmp" {
			partial++
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != filepath.Base(path) {
			partial++
		}
		stored++
		return nil
	})
	if err != nil {
		return err
	}
	r.fig("files on disk", "%d whole, %d partial or temporary", stored, partial)
	r.check(partial == 0, "%d half-written files left in the data directory", partial)

	// Nothing listed that cannot be downloaded: every attachment the
	// ticket's history names, and every indexed one, downloads whole.
	db, err := n.openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT data->'attachment'->'file'->>'id', data->'attachment'->'file'->>'sha256' FROM events
		WHERE tenant_id = $1 AND event_type = 'ticket.attachment_added'
		UNION SELECT attachment_id, sha256 FROM attachments WHERE tenant_id = $1`, t.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	listed, served := 0, 0
	for rows.Next() {
		var id, sum string
		if err := rows.Scan(&id, &sum); err != nil {
			return err
		}
		listed++
		a := do(ctx, http.MethodGet, n.Base()+"/v1/attachments/"+id, auth, nil)
		got := sha256.Sum256(a.Body)
		if a.Status == http.StatusOK && hex.EncodeToString(got[:]) == sum {
			served++
		} else {
			r.failf("attachment %s is listed but downloads as %d", id, a.Status)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.fig("attachments listed, downloadable", "%d, %d", listed, served)
	r.check(listed == 3, "%d attachments listed, want the 3 accepted", listed)
	r.check(n.Alive(), "the server did not stay up")
	return nil
}
