package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/api/web"
)

// jsonSeeds are bodies every JSON fuzz target starts from: valid requests
// of every surface and each hostile input of issue 14 §3 (NUL, invalid
// UTF-8, unpaired surrogates, repeated members, deep nesting, 1e400).
var jsonSeeds = []string{
	`{"title": "Printer on fire", "priority": "high", "tags": ["hardware"]}`,
	`{"status":"in_progress","assignee":{"id":"ana","kind":"agent"}}`,
	`{"type":"comment","value":{"text":"toner melted"}}`,
	`{"title": "a\u0000b"}`,
	`{"custom": {"size": "\u0000"}}`,
	`{"type": "comment", "value": {"text": "\ud800"}}`,
	"{\"title\": \"caf\xe9\"}",
	`{"title": "x\udc00y"}`,
	`{"title": "ok \ud83d\ude00"}`,
	`{"title": "a", "tags": 1e400}`,
	`{"title": 1e400}`,
	`{"title":"a","title":"b"}`,
	`{"a":{"b":1,"b":2}}`,
	`{"\u0061":1,"a":2}`,
	`{"type": "comment", "value": {"v": ` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}`,
	`{"type": "comment", "value": {"v": ` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}}`,
	`[1,2]`, `"x"`, `null`, ``, `   `, `{`, `{"a":}`, `{"a":1,}`, `{"a" 1}`,
	"{\"x\u0000\":1}", `{"\ud800":1}`,
	`{"Text":"The lead submitted the ticket through our portal","Direction":"INBOUND"}`,
	`{ "TypeId":"1", "Id":null, "LeadId":"45b5fded-e696-45a6-9fbb-c6af6178229e", "Fields":[ { "SchemaName":"Title", "Value":"Test ticket from API" } ], "RelatedTicketTypeId":1 }`,
	`{ "uuid": "79af4bc5-a995-4262-92ee-0da381ccaf07", "udid": "7237F578-828D-43D9-995D-F8B7AC8A4881", "subject": "sub 1", "message": "msg 1", "email": "a@b.c", "category": "cat1", "phone": "+919916248135", "images": [ "732bbe0a.jpeg" ] }`,
}

// refCheck checks body with encoding/json's tokenizer: whether it is one
// object, its deepest nesting, whether an object repeats a member (by
// decoded name) and whether a decoded string holds NUL.
func refCheck(body []byte) (object bool, depth int, dup, nul bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		obj  bool
		seen map[string]bool
		key  bool // the next string token of an object is a key
	}
	var stack []*frame
	first := true
	for {
		tok, err := dec.Token()
		if err != nil {
			return object, depth, dup, nul
		}
		if first {
			object, first = tok == json.Delim('{'), false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.obj && top.key
		if top != nil && top.obj {
			top.key = !top.key
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{obj: t == '{', seen: map[string]bool{}, key: true})
				depth = max(depth, len(stack))
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = true
				}
			}
		case string:
			if strings.ContainsRune(t, 0) {
				nul = true
			}
			if isKey {
				if top.seen[t] {
					dup = true
				}
				top.seen[t] = true
			}
		}
	}
}

// FuzzCheckObject checks the JSON reader every surface shares: any body
// is accepted or refused as a *BodyError answered with a 4xx, never a
// panic; an accepted body is one valid object, UTF-8, without NUL or a
// repeated member, nested at most MaxJSONDepth; and a body refused is
// refused for one of those reasons.
func FuzzCheckObject(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := web.CheckObject(body)
		object, depth, dup, nul := refCheck(body)
		valid := json.Valid(body)
		if err != nil {
			var be *web.BodyError
			if !errors.As(err, &be) {
				t.Fatalf("CheckObject() = %T %v, want a *BodyError", err, err)
			}
			if st := be.Problem().Status; st < 400 || st >= 500 {
				t.Fatalf("CheckObject() = %v answered %d, want a 4xx", err, st)
			}
			if web.Classify(err).Internal {
				t.Fatalf("Classify(%v) is internal", err)
			}
			// Without \u escapes, a refusal has one of the reasons the
			// reference sees (unpaired surrogates need the escapes).
			if valid && object && depth <= web.MaxJSONDepth && !dup && !nul && utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
				t.Fatalf("CheckObject() = %v for a body the reference accepts", err)
			}
			return
		}
		switch {
		case !valid:
			t.Fatalf("CheckObject() = nil for invalid JSON")
		case !object:
			t.Fatalf("CheckObject() = nil for JSON that is not an object")
		case depth > web.MaxJSONDepth:
			t.Fatalf("CheckObject() = nil for JSON nested %d deep", depth)
		case dup:
			t.Fatalf("CheckObject() = nil for an object that repeats a member")
		case nul:
			t.Fatalf("CheckObject() = nil for a string holding NUL")
		case !utf8.Valid(body):
			t.Fatalf("CheckObject() = nil for invalid UTF-8")
		}
		m, err := web.Members(body)
		if err != nil {
			t.Fatalf("Members() = %v after CheckObject() = nil", err)
		}
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(body, &ref); err != nil || len(ref) != len(m) {
			t.Fatalf("Members() has %d members, encoding/json %d (%v)", len(m), len(ref), err)
		}
		for k, v := range m {
			if !web.ValidText(k) {
				t.Fatalf("member name %q is not valid text", k)
			}
			if !json.Valid(v) {
				t.Fatalf("member %q = %s is not JSON", k, v)
			}
		}
	})
}

// request is a request type with every kind of member the native API's
// requests have.
type request struct {
	Title    string         `json:"title"`
	Priority *string        `json:"priority"`
	Tags     []string       `json:"tags"`
	Custom   map[string]any `json:"custom"`
	Assignee *struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	} `json:"assignee"`
	Number int64           `json:"number"`
	Amount float64         `json:"amount"`
	Open   bool            `json:"open"`
	Value  json.RawMessage `json:"value"`
	Type   string          `json:"type"`
	Items  []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"items"`
}

// FuzzDecodeJSON checks the native API's strict decoder: any body decodes
// or is refused with a 400 or a 422 naming the fields, never a panic, a
// 5xx or a Go type's name; a decoded body names only members the request
// has, and its strings are valid text.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"number": 1.5, "amount": "x", "open": 1, "assignee": {"id": "a", "x": 1}}`))
	f.Add([]byte(`{"items": [{"key": "k", "value": {"a": [1, "b", null]}}], "number": 99999999999999999999}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst request
		present, err := web.DecodeJSON(body, &dst)
		if err != nil {
			c := web.Classify(err)
			if c.Internal || c.Status != http.StatusBadRequest && c.Status != http.StatusUnprocessableEntity {
				t.Fatalf("DecodeJSON() = %v, classified %d (internal %v), want 400 or 422", err, c.Status, c.Internal)
			}
			for _, leak := range []string{"Go value", "float64", "int64", "unmarshal", "json:"} {
				if strings.Contains(c.Message, leak) {
					t.Fatalf("message %q leaks %q", c.Message, leak)
				}
			}
			return
		}
		for name := range present {
			if !strings.Contains(string(body), name) && !bytes.Contains(body, []byte(`\u`)) {
				t.Fatalf("member %q present but not in the body", name)
			}
		}
		for _, s := range append([]string{dst.Title, dst.Type}, dst.Tags...) {
			if !web.ValidText(s) {
				t.Fatalf("decoded %q, which is not valid text", s)
			}
		}
	})
}

// FuzzFilePart checks the multipart reader of attachment uploads: any
// body is a file or a 400, 413 or 422, never a panic or a 5xx; a file is
// handed on only when the whole body is well-formed multipart with
// exactly one part named file, and its content is that part's, whole.
func FuzzFilePart(f *testing.F) {
	const boundary = "XyZ"
	part := func(name, filename, content string) string {
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
			"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n"
	}
	end := "--" + boundary + "--\r\n"
	one := part("file", "a.txt", strings.Repeat("x", 100)) + end
	for _, s := range []string{
		one,
		one[:len(one)-10], one[:len(one)/2], // truncated: finding 4
		part("file", "a.txt", "first") + part("file", "b.txt", "second") + end, // two files: finding 13
		part("other", "o.txt", "o") + part("file", "a.txt", "content") + end,
		part("file", "a.txt", "content") + part("other", "o.txt", "o") + end,
		part("other", "o.txt", "o") + end,
		end, "", "garbage",
		part("file", "", "no name") + end,
		part("file", "../../etc/passwd", "x") + end,
		part("file", "a\x00b.txt", "x") + end,
		strings.ReplaceAll(one, "\r\n", "\n"),
		part("file", "big", strings.Repeat("y", 600)) + end,
	} {
		f.Add([]byte(s), "multipart/form-data; boundary="+boundary)
	}
	f.Add([]byte(one), "multipart/form-data")
	f.Add([]byte(one), "application/json")
	f.Add([]byte(one), "multipart/mixed; boundary="+boundary)
	const limit = 512
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		r := httptest.NewRequest("POST", "/v1/tickets/1/attachments", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		var got []byte
		called := false
		err := web.FilePart(w, r, "file", limit, func(filename string, content io.Reader) error {
			called = true
			var err error
			got, err = io.ReadAll(content)
			return err
		})
		if err != nil {
			c := web.Classify(err)
			if c.Internal || c.Status < 400 || c.Status >= 500 {
				t.Fatalf("FilePart() = %T %v, classified %d, want a 4xx", err, err, c.Status)
			}
			return
		}
		if !called {
			t.Fatalf("FilePart() = nil without a file")
		}
		if len(body) > limit {
			t.Fatalf("FilePart() = nil for a %d-byte body over the %d limit", len(body), limit)
		}
		// The reference: the whole body parses, with one part named file,
		// whose content is what was handed on.
		_, params, _ := mime.ParseMediaType(contentType)
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		files := 0
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("FilePart() = nil, but the body is malformed: %v", err)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatalf("FilePart() = nil, but a part is malformed: %v", err)
			}
			if p.FormName() == "file" {
				files++
				if !bytes.Equal(b, got) {
					t.Fatalf("FilePart() handed on %q, the part holds %q", got, b)
				}
			}
		}
		if files != 1 {
			t.Fatalf("FilePart() = nil for a body with %d parts named file", files)
		}
	})
}
