package support_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/support"
)

// Regression tests of the black-box probe's findings (issue 14, §3) on the
// support-message API: its envelope and its documented statuses (400 for
// bad input, 401, 404, 405, 413).

func TestFinding1And2_BadTextIs400(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for path, body := range map[string]string{
		pathMessage:        `{"uuid": "u1", "subject": "a\u0000", "message": "m", "email": "a@example.com"}`,
		pathMessage + "?2": `{"uuid": "u1", "subject": "\ud800", "message": "m", "email": "a@example.com"}`,
		pathMessage + "?3": "{\"uuid\": \"u1\", \"subject\": \"caf\xe9\", \"message\": \"m\", \"email\": \"a@example.com\"}",
		pathSearch:         `{"email": "a\u0000"}`,
	} {
		msg, detail := failure(t, e.Native(&e.A, "POST", path, body), http.StatusBadRequest)
		if !strings.Contains(detail, "must be UTF-8 text") {
			t.Errorf("%s %s: message %q, detail %q; want the rule named", path, body, msg, detail)
		}
	}
}

func TestFinding3_BadTextInQueryAndHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	failure(t, e.Native(&e.A, "POST", pathSearch+"?q=%00", `{}`), http.StatusBadRequest)
	failure(t, e.Native(&e.A, "POST", pathMessage, support.SampleMessage, "Idempotency-Key", "k\xff"), http.StatusBadRequest)
	failure(t, e.Native(&e.A, "GET", downloadPath("%FF", "LOG"), nil), http.StatusNotFound)
}

func TestFinding4And13_MultipartFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := create(t, e, &e.A, support.SampleMessage)
	id := str(rec["id"])
	// Truncated.
	b, ct := multipartBody(t, "file", "app.log", bytes.Repeat([]byte("log line\n"), 500))
	msg, _ := failure(t, e.Native(&e.A, "POST", uploadPath(id, "LOG"), b[:len(b)-20], "Content-Type", ct), http.StatusBadRequest)
	if msg != "Malformed multipart request" {
		t.Errorf("truncated: message %q", msg)
	}
	// Two parts "file".
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := range 2 {
		fw, _ := mw.CreateFormFile("file", fmt.Sprintf("app%d.log", i))
		fmt.Fprintf(fw, "log %d\n", i)
	}
	mw.Close()
	msg, _ = failure(t, e.Native(&e.A, "POST", uploadPath(id, "LOG"), buf.Bytes(), "Content-Type", mw.FormDataContentType()), http.StatusBadRequest)
	if msg != "Only one part 'file' is allowed" {
		t.Errorf("two file parts: message %q", msg)
	}
	// Neither stored anything.
	failure(t, e.Native(&e.A, "GET", downloadPath(id, "LOG"), nil), http.StatusNotFound)
}

func TestFinding9And10_RepeatedMembersAndDepth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, detail := failure(t, e.Native(&e.A, "POST", pathMessage, `{"uuid": "u1", "subject": "a", "subject": "b", "message": "m"}`), http.StatusBadRequest)
	if !strings.Contains(detail, "subject") {
		t.Errorf("detail %q, want it to name subject", detail)
	}
	deep := `{"uuid": "u1", "images": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	failure(t, e.Native(&e.A, "POST", pathMessage, deep), http.StatusBadRequest)
}

func TestFinding11_NoStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.Native(&e.A, "POST", pathMessage, support.SampleMessage).Want(t, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v, want Cache-Control no-store and X-Content-Type-Options nosniff", r.Header)
	}
}

func TestFinding13_TwoAuthorizationHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.HTTP.URL+pathSearch, strings.NewReader(`{}`))
	req.Header.Add("Authorization", "Bearer "+e.A.Creds.APIKey)
	req.Header.Add("Authorization", "Bearer "+e.B.Creds.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("two Authorization headers: %d, want 401", res.StatusCode)
	}
}
