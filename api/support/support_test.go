package support_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/support"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/projections"
)

// newEnv starts the API (every surface is mounted).
func newEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.New(t)
}

const (
	pathMessage = "/api/user/log/message"
	pathSearch  = "/api/admin/fetch/customer/support"
)

func uploadPath(id, kind string) string   { return "/api/user/help/file/upload/" + id + "/" + kind }
func downloadPath(id, kind string) string { return "/api/aws/download/support/file/" + id + "/" + kind }

// envelope checks r is the envelope with status and, on success, message;
// it returns data.
func envelope(t *testing.T, r apitest.Response, status int, message string) any {
	t.Helper()
	r.Want(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	m := r.JSON(t)
	if got := keysOf(t, r.Body); !slices.Equal(got, []string{"data", "detail", "error", "message"}) {
		t.Errorf("envelope members = %v, want data, detail, error, message", got)
	}
	failed := status != http.StatusOK
	if m["error"] != failed {
		t.Errorf("error = %v, want %v; body %s", m["error"], failed, r.Body)
	}
	if msg, _ := m["message"].(string); msg == "" || message != "" && msg != message {
		t.Errorf("message = %v, want %q", m["message"], message)
	}
	if failed {
		if m["data"] != nil {
			t.Errorf("data = %v, want null on failure", m["data"])
		}
		if d, ok := m["detail"]; ok && d != nil {
			if _, isString := d.(string); !isString {
				t.Errorf("detail = %v, want a string or null", d)
			}
		}
	} else if m["detail"] != nil {
		t.Errorf("detail = %v, want null on success", m["detail"])
	}
	return m["data"]
}

// failure checks r is an error envelope with status and returns its
// message and detail.
func failure(t *testing.T, r apitest.Response, status int) (message, detail string) {
	t.Helper()
	envelope(t, r, status, "")
	m := r.JSON(t)
	message, _ = m["message"].(string)
	detail, _ = m["detail"].(string)
	return message, detail
}

// keysOf returns the members of a JSON object in the order they appear.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// create posts body as tenant A and returns data.
func create(t *testing.T, e *apitest.Env, tn *apitest.Tenant, body any) map[string]any {
	t.Helper()
	return envelope(t, e.Native(tn, "POST", pathMessage, body), http.StatusOK, support.MsgCreated).(map[string]any)
}

// search posts body and returns the records.
func search(t *testing.T, e *apitest.Env, tn *apitest.Tenant, query string, body any) []any {
	t.Helper()
	data := envelope(t, e.Native(tn, "POST", pathSearch+query, body), http.StatusOK, support.MsgFetched)
	recs, ok := data.([]any)
	if !ok {
		t.Fatalf("data = %v, want an array", data)
	}
	return recs
}

// multipartBody builds a multipart body with the file content in field.
func multipartBody(t *testing.T, field, filename string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func upload(t *testing.T, e *apitest.Env, tn *apitest.Tenant, id, kind, filename string, content []byte) apitest.Response {
	t.Helper()
	b, ct := multipartBody(t, "file", filename, content)
	return e.Native(tn, "POST", uploadPath(id, kind), b, "Content-Type", ct)
}

// pngImage is a real, small PNG.
func pngImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		for y := range 3 {
			img.Set(x, y, color.RGBA{uint8(60 * x), uint8(80 * y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func str(v any) string { s, _ := v.(string); return s }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func TestCreate_DocumentedSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := time.Now().Add(-time.Second).UnixMilli()
	r := e.Native(&e.A, "POST", pathMessage, support.SampleMessage)
	data := envelope(t, r, http.StatusOK, "Adding a complaint successful").(map[string]any)
	id, ticketID := str(data["id"]), str(data["ticketId"])
	if !domain.ValidUUID(id) || !domain.ValidUUID(ticketID) || id == ticketID {
		t.Fatalf("id = %q, ticketId = %q: want two different UUIDs", id, ticketID)
	}
	created, _ := data["creationDate"].(float64)
	if int64(created) < before || int64(created) > time.Now().UnixMilli() {
		t.Errorf("creationDate = %v, want now in epoch millis", data["creationDate"])
	}
	device := map[string]any{"udid": "7237F578-828D-43D9-995D-F8B7AC8A4881"}
	want := map[string]any{
		"id":       id,
		"user":     map[string]any{"id": "79af4bc5-a995-4262-92ee-0da381ccaf07", "devices": []any{device}},
		"device":   device,
		"ticketId": ticketID,
		"logPath":  nil,
		"name":     "sudipta",
		"email":    "sudipta.bhaumik@innoflexion.com",
		"phone":    "+919916248135",
		"category": "cat1",
		"ticketInfo": map[string]any{
			"id": ticketID, "coreTicketNumber": nil, "supportTicketId": "1",
			"subject": "sub 1@innoflexion.com", "message": "msg 1@innoflexion.com", "ticketStatus": "CREATED",
			"userTransactionId": nil, "userId": "79af4bc5-a995-4262-92ee-0da381ccaf07", "userName": nil,
			"images": []any{"732bbe0a-8d29-4c8d-bb84-891e43439630.jpeg"},
		},
		"feedbackPhoto": nil,
		"creationDate":  created,
	}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	// The documented order of members.
	var env struct{ Data json.RawMessage }
	json.Unmarshal(r.Body, &env)
	wantKeys := []string{"id", "user", "device", "ticketId", "logPath", "name", "email", "phone", "category", "ticketInfo", "feedbackPhoto", "creationDate"}
	if got := keysOf(t, env.Data); !slices.Equal(got, wantKeys) {
		t.Errorf("data members = %v, want %v", got, wantKeys)
	}

	// The curl example's body works too; numbers go on.
	d2 := create(t, e, &e.A, support.SampleMessageCurl)
	if got := str(obj(d2["ticketInfo"])["supportTicketId"]); got != "2" {
		t.Errorf("second supportTicketId = %q, want 2", got)
	}

	// Cross-surface: the message is an ordinary ticket.
	tk := e.Native(&e.A, "GET", "/v1/tickets/1", nil).Want(t, http.StatusOK).JSON(t)
	for k, v := range map[string]any{"id": id, "title": "sub 1@innoflexion.com", "description": "msg 1@innoflexion.com",
		"source": "email", "channel": "support_message", "status": "open", "key": "#001"} {
		if tk[k] != v {
			t.Errorf("native ticket %s = %v, want %v", k, tk[k], v)
		}
	}
	wantRefs := map[string]any{"user_id": "79af4bc5-a995-4262-92ee-0da381ccaf07", "device_id": "7237F578-828D-43D9-995D-F8B7AC8A4881",
		"contact_name": "sudipta", "contact_email": "sudipta.bhaumik@innoflexion.com", "contact_phone": "+919916248135",
		"client_ticket_id": ticketID}
	if diff := cmp.Diff(wantRefs, tk["references"]); diff != "" {
		t.Errorf("native references (-want +got):\n%s", diff)
	}
	wantAtt := []any{map[string]any{"type": "image", "value": "732bbe0a-8d29-4c8d-bb84-891e43439630.jpeg"}}
	if diff := cmp.Diff(wantAtt, tk["attachments"]); diff != "" {
		t.Errorf("native attachments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"support_category": "cat1"}, tk["custom"]); diff != "" {
		t.Errorf("native custom (-want +got):\n%s", diff)
	}
	if by := obj(tk["created_by"]); by["kind"] != "user" || by["id"] != "79af4bc5-a995-4262-92ee-0da381ccaf07" {
		t.Errorf("created_by = %v, want the app user", by)
	}
	// Its event is in the tenant's log, by the support integration.
	feed := e.Native(&e.A, "GET", "/v1/events?stream_type=ticket", nil).Want(t, http.StatusOK).JSON(t)
	found := false
	for _, ev := range feed["events"].([]any) {
		ev := obj(ev)
		if ev["stream_id"] == id && ev["type"] == "ticket.created" {
			found = true
			if md := obj(ev["metadata"]); !strings.Contains(str(md["actor"]), "support_api") {
				t.Errorf("event metadata = %v, want the support_api actor", md)
			}
		}
	}
	if !found {
		t.Errorf("no ticket.created for %s in /v1/events", id)
	}
}

func TestCreate_CategoryMatchesTenantCategory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]any{"uuid": uuid.NewString(), "udid": "dev-1", "subject": "s", "message": "m",
		"email": "A@Example.com", "category": "General"}
	data := create(t, e, &e.A, body)
	if data["category"] != "General" || data["email"] != "a@example.com" || data["phone"] != nil || data["name"] != nil {
		t.Errorf("data = %v, want category General, e-mail lower-cased, phone and name null", data)
	}
	if imgs := obj(data["ticketInfo"])["images"]; !cmp.Equal(imgs, []any{}) {
		t.Errorf("images = %v, want []", imgs)
	}
	tk := e.Native(&e.A, "GET", "/v1/tickets/"+str(data["id"]), nil).Want(t, http.StatusOK).JSON(t)
	if tk["category"] != "general" {
		t.Errorf("native category = %v, want the tenant's general", tk["category"])
	}
}

func TestCreate_BadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	valid := func(kv ...any) map[string]any {
		m := map[string]any{"uuid": uuid.NewString(), "udid": "UDID-1", "subject": "s", "message": "m",
			"email": "ana@example.com", "category": "c"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name        string
		body        any
		status      int
		wantMessage string // substring
	}{
		{"malformed JSON", `{"uuid": "x",`, 400, "Malformed JSON request"},
		{"syntax error", `{"uuid" "x"}`, 400, "Malformed JSON request"},
		{"array body", `[1, 2]`, 400, "Malformed JSON request"},
		{"string body", `"hello"`, 400, "Malformed JSON request"},
		{"empty body", ``, 400, "Required request body is missing"},
		{"everything missing", `{}`, 400, "Required fields are missing: uuid, udid, subject, message, email, category"},
		{"blank subject", valid("subject", "   "), 400, "Required fields are missing: subject"},
		{"missing email and category", valid("email", nil, "category", nil), 400, "Required fields are missing: email, category"},
		{"null udid", `{"uuid":"79af4bc5-a995-4262-92ee-0da381ccaf07","udid":null,"subject":"s","message":"m","email":"a@b.co","category":"c"}`, 400, "udid"},
		{"bad e-mail", valid("email", "not-an-email"), 400, "Invalid value for: email"},
		{"bad uuid", valid("uuid", "user-42"), 400, "Invalid value for: uuid"},
		{"bad phone", valid("phone", "call me maybe"), 400, "phone"},
		{"subject too long", valid("subject", strings.Repeat("x", 501)), 400, "subject"},
		{"name too long", valid("name", strings.Repeat("n", 300)), 400, "name"},
		{"category too long", valid("category", strings.Repeat("c", 300)), 400, "category"},
		{"images not an array", valid("images", "a.jpeg"), 400, "Invalid request body"},
		{"image not a string", valid("images", []any{1}), 400, "Invalid request body"},
		{"null image", valid("images", []any{nil}), 400, "Invalid request body"},
		{"empty image name", valid("images", []any{""}), 400, "images[0]"},
		{"subject an object", valid("subject", map[string]any{"a": 1}), 400, "Invalid request body"},
		{"uuid a boolean", valid("uuid", true), 400, "Invalid request body"},
		{"email an array", valid("email", []any{"a@b.co"}), 400, "Invalid request body"},
		{"body too large", `{"message":"` + strings.Repeat("x", support.MaxBodyBytes) + `"}`, 413, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, detail := failure(t, e.Native(&e.A, "POST", pathMessage, tt.body), tt.status)
			if !strings.Contains(msg+" "+detail, tt.wantMessage) {
				t.Errorf("message %q, detail %q; want %q in them", msg, detail, tt.wantMessage)
			}
		})
	}
	// No ticket came of any of it, and no number was burnt.
	if recs := search(t, e, &e.A, "", `{}`); len(recs) != 0 {
		t.Errorf("search after bad input = %v, want nothing", recs)
	}
	if d := create(t, e, &e.A, valid("phone", 919916248135)); obj(d["ticketInfo"])["supportTicketId"] != "1" || d["phone"] != "919916248135" {
		t.Errorf("after bad input: %v; want ticket 1, a numeric phone taken as its literal", d)
	}
}

func TestUploadDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := create(t, e, &e.A, support.SampleMessage)
	id, ticketID := str(rec["id"]), str(rec["ticketId"])
	logURL := e.HTTP.URL + downloadPath(ticketID, "LOG")
	photoURL := e.HTTP.URL + downloadPath(ticketID, "FEEDBACK_PHOTO")

	// A LOG by the record id (the sample's feedbackId is data.id).
	logContent := []byte("2026-01-02 12:00:01 INFO app started\n2026-01-02 12:00:02 ERROR crash\n")
	data := envelope(t, upload(t, e, &e.A, id, "LOG", "app.log", logContent), http.StatusOK,
		"User customer support file is uploaded successfully").(map[string]any)
	if data["id"] != id || data["ticketId"] != ticketID || data["logPath"] != logURL || data["feedbackPhoto"] != nil {
		t.Errorf("after LOG upload: id %v ticketId %v logPath %v feedbackPhoto %v; want %s %s %s null",
			data["id"], data["ticketId"], data["logPath"], data["feedbackPhoto"], id, ticketID, logURL)
	}
	// A FEEDBACK_PHOTO by the client ticketId.
	photo := pngImage(t)
	data = envelope(t, upload(t, e, &e.A, ticketID, "FEEDBACK_PHOTO", "shot.png", photo), http.StatusOK, support.MsgUploaded).(map[string]any)
	if data["id"] != id || data["logPath"] != logURL || data["feedbackPhoto"] != photoURL {
		t.Errorf("after photo upload: id %v logPath %v feedbackPhoto %v; want %s %s %s", data["id"], data["logPath"], data["feedbackPhoto"], id, logURL, photoURL)
	}
	if imgs := obj(data["ticketInfo"])["images"]; !cmp.Equal(imgs, []any{"732bbe0a-8d29-4c8d-bb84-891e43439630.jpeg"}) {
		t.Errorf("images = %v, want only the message's image names", imgs)
	}

	// Both come back byte for byte, as attachments with sniffed types.
	for _, c := range []struct {
		ref, kind, ctype string
		want             []byte
	}{
		{ticketID, "LOG", "text/plain; charset=utf-8", logContent},
		{ticketID, "FEEDBACK_PHOTO", "image/png", photo},
		{id, "LOG", "text/plain; charset=utf-8", logContent}, // the record id works too
	} {
		r := e.Native(&e.A, "GET", downloadPath(c.ref, c.kind), nil).Want(t, http.StatusOK)
		if !bytes.Equal(r.Body, c.want) {
			t.Errorf("download %s = %d bytes, want the %d uploaded", c.kind, len(r.Body), len(c.want))
		}
		if ct := r.Header.Get("Content-Type"); ct != c.ctype {
			t.Errorf("download %s Content-Type = %q, want %q", c.kind, ct, c.ctype)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("download %s Content-Disposition = %q, want attachment", c.kind, cd)
		}
	}
	// A later LOG replaces the earlier one for download.
	newer := []byte("second log\n")
	envelope(t, upload(t, e, &e.A, ticketID, "LOG", "app2.log", newer), http.StatusOK, support.MsgUploaded)
	if r := e.Native(&e.A, "GET", downloadPath(ticketID, "LOG"), nil).Want(t, http.StatusOK); !bytes.Equal(r.Body, newer) {
		t.Errorf("download after second LOG = %q, want %q", r.Body, newer)
	}

	// Search shows the paths.
	recs := search(t, e, &e.A, "", map[string]any{"ticketId": ticketID})
	if len(recs) != 1 || obj(recs[0])["logPath"] != logURL || obj(recs[0])["feedbackPhoto"] != photoURL {
		t.Errorf("search = %v, want the record with both paths", recs)
	}

	// The files are attachments of the native ticket, and their events
	// are in the log.
	tk := e.Native(&e.A, "GET", "/v1/tickets/"+str(obj(rec["ticketInfo"])["supportTicketId"]), nil).Want(t, http.StatusOK).JSON(t)
	var files []string
	for _, a := range tk["attachments"].([]any) {
		if f := obj(obj(a)["file"]); f != nil {
			files = append(files, str(f["filename"]))
		}
	}
	if !slices.Equal(files, []string{"app.log", "shot.png", "app2.log"}) {
		t.Errorf("native attachments' files = %v, want app.log, shot.png, app2.log", files)
	}
	evs := e.Native(&e.A, "GET", "/v1/tickets/"+id+"/events", nil).Want(t, http.StatusOK).JSON(t)["events"].([]any)
	var types []string
	for _, ev := range evs {
		types = append(types, str(obj(ev)["type"]))
	}
	if !slices.Equal(types, []string{"ticket.created", "ticket.attachment_added", "ticket.attachment_added", "ticket.attachment_added"}) {
		t.Errorf("ticket events = %v", types)
	}
}

func TestUpload_BadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := create(t, e, &e.A, support.SampleMessage)
	id, ticketID := str(rec["id"]), str(rec["ticketId"])
	photo := pngImage(t)

	for _, kind := range []string{"log", "Log", "PHOTO", "FILE", "LOG ", "..%2F..%2FLOG", "%2e%2e"} {
		t.Run("type "+kind, func(t *testing.T) {
			msg, _ := failure(t, upload(t, e, &e.A, ticketID, kind, "a.log", []byte("x")), http.StatusBadRequest)
			if !strings.Contains(msg, "HelpSupportFileType") {
				t.Errorf("message = %q, want it to name HelpSupportFileType", msg)
			}
			failure(t, e.Native(&e.A, "GET", downloadPath(ticketID, kind), nil), http.StatusBadRequest)
		})
	}
	t.Run("photo that is not an image", func(t *testing.T) {
		msg, detail := failure(t, upload(t, e, &e.A, ticketID, "FEEDBACK_PHOTO", "fake.png", []byte("just text, not a PNG")), http.StatusBadRequest)
		if !strings.Contains(msg, "image") || !strings.Contains(detail, "text/plain") {
			t.Errorf("message %q detail %q, want an image required, text/plain sniffed", msg, detail)
		}
	})
	t.Run("not multipart", func(t *testing.T) {
		msg, _ := failure(t, e.Native(&e.A, "POST", uploadPath(ticketID, "LOG"), `{"file":"x"}`), http.StatusBadRequest)
		if !strings.Contains(msg, "multipart") {
			t.Errorf("message = %q", msg)
		}
	})
	t.Run("no file part", func(t *testing.T) {
		b, ct := multipartBody(t, "upload", "a.log", []byte("x"))
		msg, _ := failure(t, e.Native(&e.A, "POST", uploadPath(ticketID, "LOG"), b, "Content-Type", ct), http.StatusBadRequest)
		if msg != "Required request part 'file' is not present" {
			t.Errorf("message = %q", msg)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		failure(t, upload(t, e, &e.A, ticketID, "LOG", "a.log", nil), http.StatusBadRequest)
	})
	t.Run("oversized", func(t *testing.T) {
		for _, n := range []int{apitest.UploadLimit + 1, 2 * apitest.UploadLimit} {
			big := append(bytes.Clone(photo), bytes.Repeat([]byte{0}, n-len(photo))...)
			for _, kind := range []string{"LOG", "FEEDBACK_PHOTO"} {
				msg, _ := failure(t, upload(t, e, &e.A, ticketID, kind, "big.png", big), http.StatusRequestEntityTooLarge)
				if msg != "Maximum upload size exceeded" {
					t.Errorf("%d bytes: message = %q", n, msg)
				}
			}
		}
		// Exactly the limit is fine.
		exact := append(bytes.Clone(photo), bytes.Repeat([]byte{0}, apitest.UploadLimit-len(photo))...)
		envelope(t, upload(t, e, &e.A, ticketID, "FEEDBACK_PHOTO", "max.png", exact), http.StatusOK, support.MsgUploaded)
	})
	t.Run("unknown ids", func(t *testing.T) {
		for _, ref := range []string{uuid.NewString(), "1", "%23001", "not-a-ticket", strings.ToUpper(ticketID) + "0"} {
			msg, _ := failure(t, upload(t, e, &e.A, ref, "LOG", "a.log", []byte("x")), http.StatusNotFound)
			if msg != "Customer support record not found" {
				t.Errorf("%s: message = %q", ref, msg)
			}
			failure(t, e.Native(&e.A, "GET", downloadPath(ref, "LOG"), nil), http.StatusNotFound)
		}
	})
	t.Run("no file of that type yet", func(t *testing.T) {
		other := create(t, e, &e.A, support.SampleMessage)
		msg, _ := failure(t, e.Native(&e.A, "GET", downloadPath(str(other["ticketId"]), "FEEDBACK_PHOTO"), nil), http.StatusNotFound)
		if msg != "Customer support file not found" {
			t.Errorf("message = %q", msg)
		}
	})
	t.Run("traversal in ids", func(t *testing.T) {
		secret := filepath.Join(filepath.Dir(e.DataDir), "secret.txt")
		os.WriteFile(secret, []byte("top secret"), 0o600)
		before := countFiles(t, e.DataDir)
		for _, ref := range []string{"..%2F..%2F..%2Fetc%2Fpasswd", "..%2Fsecret.txt", "..", "%2e%2e", "..%5C..%5Csecret.txt",
			id + "%2F..%2F..", "%2Fetc%2Fpasswd"} {
			for _, r := range []apitest.Response{
				upload(t, e, &e.A, ref, "LOG", "../../x.log", []byte("evil")),
				e.Native(&e.A, "GET", downloadPath(ref, "LOG"), nil),
				e.Native(&e.A, "GET", downloadPath(ticketID, ref), nil),
			} {
				if r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
					t.Errorf("%s: status %d, want 404 or 400; body %s", ref, r.Status, r.Body)
				}
				if bytes.Contains(r.Body, []byte("top secret")) || bytes.Contains(r.Body, []byte("root:")) {
					t.Errorf("%s: body leaks a file: %s", ref, r.Body)
				}
			}
		}
		if after := countFiles(t, e.DataDir); after != before {
			t.Errorf("files under the data dir: %d before, %d after; want no new file", before, after)
		}
	})
	// Nothing bad was recorded: the ticket has only the one good upload
	// (max.png) from the oversized case.
	tk := e.Native(&e.A, "GET", "/v1/tickets/"+id, nil).Want(t, http.StatusOK).JSON(t)
	if n := len(tk["attachments"].([]any)); n != 2 { // the sample's image and max.png
		t.Errorf("attachments = %d, want 2: %v", n, tk["attachments"])
	}
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u1, u2 := uuid.NewString(), uuid.NewString()
	msg := func(user, udid, email, phone string) map[string]any {
		return map[string]any{"uuid": user, "udid": udid, "subject": "help " + udid, "message": "m", "email": email,
			"category": "c", "phone": phone}
	}
	r1 := create(t, e, &e.A, msg(u1, "DEV-ONE", "shared@example.com", "+911111111111"))
	r2 := create(t, e, &e.A, msg(u2, "DEV-TWO", "shared@example.com", "+922222222222"))
	t1, t2 := str(r1["ticketId"]), str(r2["ticketId"])

	ids := func(recs []any) []string {
		out := []string{}
		for _, r := range recs {
			out = append(out, str(obj(r)["ticketId"]))
		}
		return out
	}
	tests := []struct {
		name  string
		query string
		body  any
		want  []string
	}{
		{"uuid", "", map[string]any{"uuid": u1}, []string{t1}},
		{"uuid in upper case", "", map[string]any{"uuid": strings.ToUpper(u2)}, []string{t2}},
		{"udid", "", map[string]any{"udid": "DEV-TWO"}, []string{t2}},
		{"udid in lower case", "", map[string]any{"udid": "dev-one"}, []string{t1}},
		{"email matches both, newest first", "", map[string]any{"email": "SHARED@example.com"}, []string{t2, t1}},
		{"phone", "", map[string]any{"phone": "+911111111111"}, []string{t1}},
		{"ticketId", "", map[string]any{"ticketId": t2}, []string{t2}},
		{"zendeskTicketId", "", map[string]any{"zendeskTicketId": "1"}, []string{t1}},
		{"zendeskTicketId as a number", "", `{"zendeskTicketId": 2}`, []string{t2}},
		{"AND: both match", "", map[string]any{"email": "shared@example.com", "udid": "DEV-ONE", "phone": "+911111111111"}, []string{t1}},
		{"AND: none match", "", map[string]any{"uuid": u1, "udid": "DEV-TWO"}, []string{}},
		{"AND: ticketId of one, uuid of the other", "", map[string]any{"ticketId": t1, "uuid": u2}, []string{}},
		{"empty strings do not filter", "", map[string]any{"uuid": "", "udid": " ", "email": "", "phone": "", "ticketId": "", "zendeskTicketId": ""}, []string{t2, t1}},
		{"nulls do not filter", "", `{"uuid": null, "zendeskTicketId": null}`, []string{t2, t1}},
		{"unknown members are ignored", "", `{"status": "OPEN"}`, []string{t2, t1}},
		{"no filter", "", `{}`, []string{t2, t1}},
		{"empty body", "", ``, []string{t2, t1}},
		{"unknown e-mail", "", map[string]any{"email": "nobody@example.com"}, []string{}},
		{"the documented sample (its ticketId is not ours)", "", support.SampleSearch, []string{}},
		{"page 0 of size 1", "?page=0&size=1", `{}`, []string{t2}},
		{"page 1 of size 1", "?page=1&size=1", `{}`, []string{t1}},
		{"page 2 of size 1", "?page=2&size=1", `{}`, []string{}},
		{"malformed paging falls back to defaults", "?page=x&size=-3", `{}`, []string{t2, t1}},
		{"huge page", "?page=99999999999&size=100", `{}`, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(search(t, e, &e.A, tt.query, tt.body)); !slices.Equal(got, tt.want) {
				t.Errorf("ticketIds = %v, want %v", got, tt.want)
			}
		})
	}

	// The documented sample, with our ticketId, finds the documented
	// sample's record in the documented shape.
	rec := create(t, e, &e.A, support.SampleMessage)
	var sample map[string]any
	json.Unmarshal([]byte(support.SampleSearch), &sample)
	sample["ticketId"] = rec["ticketId"]
	recs := search(t, e, &e.A, "", sample)
	if len(recs) != 1 {
		t.Fatalf("sample search = %d records, want 1", len(recs))
	}
	if diff := cmp.Diff(rec, recs[0]); diff != "" {
		t.Errorf("search record differs from the created one (-create +search):\n%s", diff)
	}

	// Paging links to the next page.
	r := e.Native(&e.A, "POST", pathSearch+"?size=2", `{}`).Want(t, http.StatusOK)
	if link := r.Header.Get("Link"); link != `<`+pathSearch+`?page=1&size=2>; rel="next"` {
		t.Errorf("Link = %q, want the next page", link)
	}
	if r := e.Native(&e.A, "POST", pathSearch+"?size=20", `{}`).Want(t, http.StatusOK); r.Header.Get("Link") != "" {
		t.Errorf("Link on the last page = %q, want none", r.Header.Get("Link"))
	}

	for _, bad := range []string{`{"uuid": ["x"]}`, `{"email": {"a": 1}}`, `{"ticketId": true}`, `{"uuid": `, `[]`} {
		failure(t, e.Native(&e.A, "POST", pathSearch, bad), http.StatusBadRequest)
	}
}

func TestSearch_StatusAndOtherSurfaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := create(t, e, &e.A, support.SampleMessage)
	id, ticketID := str(rec["id"]), str(rec["ticketId"])
	// A ticket made through the native API is a record too.
	native := e.Native(&e.A, "POST", "/v1/tickets", map[string]any{"title": "Native ticket", "description": "d"}).
		Want(t, http.StatusCreated).JSON(t)
	nativeID := str(native["id"])

	// waitStatus polls the read model until the record shows status.
	waitStatus := func(body any, status string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			recs := search(t, e, &e.A, "", body)
			if len(recs) == 1 && obj(obj(recs[0])["ticketInfo"])["ticketStatus"] == status {
				return obj(recs[0])
			}
			if time.Now().After(deadline) {
				t.Fatalf("search %v = %v, want one record with ticketStatus %s", body, recs, status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	nr := waitStatus(map[string]any{"zendeskTicketId": "2"}, "CREATED")
	want := map[string]any{"id": nativeID, "ticketId": nativeID, "user": nil, "device": nil, "logPath": nil,
		"name": nil, "email": nil, "phone": nil, "category": nil, "feedbackPhoto": nil}
	for k, v := range want {
		if nr[k] != v {
			t.Errorf("native record %s = %v, want %v", k, nr[k], v)
		}
	}
	if ti := obj(nr["ticketInfo"]); ti["subject"] != "Native ticket" || ti["userId"] != nil || ti["supportTicketId"] != "2" {
		t.Errorf("native record ticketInfo = %v", ti)
	}
	// Files can go on it by its id, which is its ticketId here.
	envelope(t, upload(t, e, &e.A, nativeID, "LOG", "n.log", []byte("native log")), http.StatusOK, support.MsgUploaded)
	if r := e.Native(&e.A, "GET", downloadPath(nativeID, "LOG"), nil).Want(t, http.StatusOK); string(r.Body) != "native log" {
		t.Errorf("download = %q", r.Body)
	}

	// Status changes made elsewhere show in ticketStatus.
	for _, c := range []struct{ status, want string }{
		{"in_progress", "OPEN"}, {"pending", "PENDING"}, {"resolved", "SOLVED"}, {"closed", "CLOSED"},
	} {
		e.Native(&e.A, "PATCH", "/v1/tickets/"+id, map[string]any{"status": c.status}).Want(t, http.StatusOK)
		waitStatus(map[string]any{"ticketId": ticketID}, c.want)
	}
	// A closed ticket takes no more files.
	failure(t, upload(t, e, &e.A, ticketID, "LOG", "late.log", []byte("late")), http.StatusConflict)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := create(t, e, &e.A, support.SampleMessage)
	id, ticketID := str(rec["id"]), str(rec["ticketId"])
	envelope(t, upload(t, e, &e.A, ticketID, "LOG", "a.log", []byte("A's log")), http.StatusOK, support.MsgUploaded)

	if recs := search(t, e, &e.B, "", `{}`); len(recs) != 0 {
		t.Errorf("B's search = %v, want nothing", recs)
	}
	for _, body := range []map[string]any{{"ticketId": ticketID}, {"uuid": "79af4bc5-a995-4262-92ee-0da381ccaf07"}, {"zendeskTicketId": "1"}} {
		if recs := search(t, e, &e.B, "", body); len(recs) != 0 {
			t.Errorf("B's search %v = %v, want nothing", body, recs)
		}
	}
	for _, ref := range []string{id, ticketID} {
		failure(t, e.Native(&e.B, "GET", downloadPath(ref, "LOG"), nil), http.StatusNotFound)
		failure(t, upload(t, e, &e.B, ref, "LOG", "b.log", []byte("B's log")), http.StatusNotFound)
	}
	// B's own record with the same user does not mix with A's.
	b := create(t, e, &e.B, support.SampleMessage)
	if obj(b["ticketInfo"])["supportTicketId"] != "1" {
		t.Errorf("B's first supportTicketId = %v, want 1 (numbers are per tenant)", obj(b["ticketInfo"])["supportTicketId"])
	}
	if recs := search(t, e, &e.B, "", `{}`); len(recs) != 1 || obj(recs[0])["id"] != b["id"] {
		t.Errorf("B's search = %v, want only B's record", recs)
	}
	if r := e.Native(&e.A, "GET", downloadPath(ticketID, "LOG"), nil).Want(t, http.StatusOK); string(r.Body) != "A's log" {
		t.Errorf("A's download = %q, want A's log", r.Body)
	}
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := create(t, e, &e.A, support.SampleMessage)
	ticketID := str(rec["ticketId"])
	b, ct := multipartBody(t, "file", "a.log", []byte("x"))
	requests := []struct {
		method, path string
		body         any
		headers      []string
	}{
		{"POST", pathMessage, support.SampleMessage, nil},
		{"POST", uploadPath(ticketID, "LOG"), b, []string{"Content-Type", ct}},
		{"GET", downloadPath(ticketID, "LOG"), nil, nil},
		{"POST", pathSearch, support.SampleSearch, nil},
	}
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong-key", "Basic " + e.A.Creds.APIKey, e.A.Creds.APIKey,
		"Bearer " + e.A.Creds.LSQSecretKey} {
		for _, rq := range requests {
			h := append([]string{"Authorization", auth}, rq.headers...)
			r := e.Do(rq.method, rq.path, rq.body, h...)
			failure(t, r, http.StatusUnauthorized)
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: no WWW-Authenticate", rq.method, rq.path)
			}
		}
	}
	if recs := search(t, e, &e.A, "", `{}`); len(recs) != 1 {
		t.Errorf("records = %d, want only the authenticated one", len(recs))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ method, path, allow string }{
		{"GET", pathMessage, "POST"},
		{"PUT", pathSearch, "POST"},
		{"GET", uploadPath(uuid.NewString(), "LOG"), "POST"},
		{"POST", downloadPath(uuid.NewString(), "LOG"), "GET, HEAD"},
	} {
		r := e.Native(&e.A, c.method, c.path, nil)
		failure(t, r, http.StatusMethodNotAllowed)
		if r.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: Allow = %q, want %q", c.method, c.path, r.Header.Get("Allow"), c.allow)
		}
	}
}

func TestInternalErrorsAreNotShown(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	broken, err := sql.Open("postgres", "postgres://127.0.0.1:1/none?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	broken.Close()
	var logs bytes.Buffer
	h := support.New(support.Deps{Tickets: e.Tickets, Tenants: e.Tenants, Files: e.Files,
		Queries: projections.NewTicketQueries(broken), Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest("POST", srv.URL+pathSearch, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+e.A.Creds.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := apitest.Response{Status: res.StatusCode, Header: res.Header, Body: body}
	msg, detail := failure(t, r, http.StatusInternalServerError)
	if msg != "Internal server error" || detail != "" {
		t.Errorf("message %q detail %q, want a generic message and no detail", msg, detail)
	}
	if bytes.Contains(body, []byte("sql")) || bytes.Contains(body, []byte("closed")) {
		t.Errorf("body leaks internals: %s", body)
	}
	if !strings.Contains(logs.String(), "database is closed") {
		t.Errorf("log = %q, want the cause logged", logs.String())
	}
}

// TestRecordShape pins the record's member order against the document's
// create response.
func TestRecordShape(t *testing.T) {
	t.Parallel()
	want := []string{"id", "coreTicketNumber", "supportTicketId", "subject", "message", "ticketStatus", "userTransactionId", "userId", "userName", "images"}
	b, _ := json.Marshal(support.TicketInfo{})
	if got := keysOf(t, b); !slices.Equal(got, want) {
		t.Errorf("ticketInfo members = %v, want %v", got, want)
	}
}
