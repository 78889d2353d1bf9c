package native_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/fynd"
	"github.com/eventdesk/eventdesk/api/leadsquared"
	"github.com/eventdesk/eventdesk/api/support"
)

// TestTenantIsolationSweep (issue 14, §4) walks every route of
// openapi.json and every route the vendor surfaces register, as tenant B,
// against tenant A's ids (UUIDs, numbers, keys, slugs, room names,
// attachment, agent, token, group, pipeline, deal, contact and listener
// ids), and requires each answer to be the one B gets for an id that does
// not exist: same status and, for refusals, the same body once the id is
// blanked out. Routes are read from the document and from the surfaces'
// Register, so new ones are swept as they are added; a route with a
// parameter the sweep cannot fill fails the test until it is taught here.
func TestTenantIsolationSweep(t *testing.T) {
	e := newEnv(t)
	ids := tenantAIDs(t, e)

	// Native routes, from the document.
	doc, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	var routes []string
	for path, ops := range spec.Paths {
		for method := range ops {
			if m := strings.ToUpper(method); slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, m) {
				routes = append(routes, m+" "+path)
			}
		}
	}
	for _, surface := range []interface {
		Register(interface{ Handle(string, http.Handler) })
	}{fynd.New(fynd.Deps{}), leadsquared.New(leadsquared.Deps{}), support.New(support.Deps{})} {
		rec := &recorder{}
		surface.Register(rec)
		routes = append(routes, rec.routes...)
	}
	// Reads first: a write B may make (its own form at a slug, say) must
	// not change what a later read of the same id answers.
	slices.SortFunc(routes, func(x, y string) int {
		gx, gy := strings.HasPrefix(x, "GET "), strings.HasPrefix(y, "GET ")
		switch {
		case gx && !gy:
			return -1
		case gy && !gx:
			return 1
		}
		return strings.Compare(x, y)
	})

	swept := 0
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		path = strings.TrimSuffix(path, "{$}")
		params := paramRE.FindAllStringSubmatch(path, -1)
		if len(params) == 0 {
			continue // no id to probe (lists are scoped by the credentials alone)
		}
		for _, p := range params {
			name := p[1]
			vals, ok := ids.values(path, name)
			if !ok {
				t.Errorf("%s: the sweep does not know parameter {%s}; teach tenantAIDs.values its tenant-A value", route, name)
				continue
			}
			if vals == nil {
				continue // not an id (a file type): fixed below
			}
			for _, v := range vals {
				fill := func(val string) string {
					out := path
					for _, q := range params {
						with := val
						if q[1] != name {
							with = ids.neutral(path, q[1])
						}
						out = strings.Replace(out, q[0], with, 1)
					}
					return out
				}
				gotPath, wantPath := fill(v[0]), fill(v[1])
				got, want := e.asB(method, gotPath), e.asB(method, wantPath)
				if got.status != want.status || got.status >= 400 && blank(got.body, gotPath, v[0]) != blank(want.body, wantPath, v[1]) {
					t.Errorf("%s with A's %s %q: %d %s\nwant the answer for an unknown one (%q): %d %s",
						route, name, v[0], got.status, got.body, v[1], want.status, want.body)
				}
				swept++
			}
		}
	}
	t.Logf("swept %d (route, id) pairs over %d routes", swept, len(routes))
	if swept < 60 {
		t.Errorf("swept %d (route, id) pairs; want at least 60: routes missing?", swept)
	}
}

var paramRE = regexp.MustCompile(`\{([A-Za-z_]+)\}`)

// recorder collects the method patterns a surface registers.
type recorder struct{ routes []string }

func (r *recorder) Handle(pattern string, _ http.Handler) {
	if m, _, ok := strings.Cut(pattern, " "); ok && m != "" && !strings.Contains(m, "/") {
		r.routes = append(r.routes, pattern)
	}
}

type answer struct {
	status int
	body   string
}

// blank removes the request's path and the quoted id (also unescaped)
// from body, for comparing refusals that name them.
func blank(body, path, v string) string {
	body = strings.ReplaceAll(body, path, "PATH")
	body = strings.ReplaceAll(body, strings.ReplaceAll(path, "%23", "#"), "PATH")
	for _, s := range []string{v, strings.ReplaceAll(v, "%23", "#")} {
		body = strings.ReplaceAll(body, strconv.Quote(s), `"ID"`)
	}
	return body
}

// asB sends method path as tenant B, with B's credentials for the surface
// the path belongs to and a body of {} for writes.
func (e *env) asB(method, path string) answer {
	e.t.Helper()
	var body io.Reader
	if method != "GET" && method != "DELETE" {
		body = strings.NewReader(`{}`)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	b := e.b.Creds
	switch {
	case strings.HasPrefix(path, fynd.Prefix):
		req.Header.Set("Authorization", "Bearer "+base64.StdEncoding.EncodeToString([]byte(b.FyndApplicationID+":"+b.FyndApplicationToken)))
	case strings.HasPrefix(path, "/api/tenants/"):
		req.Header.Set(leadsquared.HeaderAccessKey, b.LSQAccessKey)
		req.Header.Set(leadsquared.HeaderSecretKey, b.LSQSecretKey)
	default:
		req.Header.Set("Authorization", "Bearer "+b.APIKey)
	}
	r := sendReq(e.t, req)
	return answer{r.Status, string(r.Body)}
}

// aIDs are tenant A's records, by kind, and ids of the same shapes that
// name nothing.
type aIDs struct {
	a, b                                                        *apitest.Tenant
	ticket, number, attachment, slug, room, agent, token, group string
	pipeline, deal, contact, contactCode, listener              string
}

const unknownUUID = "7a0c4f4e-0000-4000-8000-000000000000"

// values are the [A's value, unknown value] pairs to probe parameter name
// of path with; nil, true for parameters that are not ids.
func (ids aIDs) values(path, name string) ([][2]string, bool) {
	switch name {
	case "HelpSupportFileType":
		return nil, true
	case "OrgID":
		return [][2]string{{ids.a.ID, unknownUUID}}, true
	case "slug":
		return [][2]string{{ids.slug, "no-such-form"}}, true
	case "unique_name":
		return [][2]string{{ids.room, strings.Repeat("0", len(ids.room))}}, true
	case "identity":
		return [][2]string{{"ana@example.com", "nobody@example.com"}}, true
	case "token_id":
		return [][2]string{{ids.token, unknownUUID}}, true
	case "ticketId", "feedbackId", "coreTicketId":
		return [][2]string{{ids.ticket, unknownUUID}, {"1", "424242"}}, true
	case "id":
	default:
		return nil, false
	}
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	kind := ""
	for i, s := range seg {
		if s == "{id}" && i > 0 {
			kind = seg[i-1]
			break
		}
	}
	switch kind {
	case "tickets", "ticket":
		return [][2]string{{ids.ticket, unknownUUID}, {"1", "424242"}, {"%23001", "%23424242"}}, true
	case "attachments":
		return [][2]string{{ids.attachment, unknownUUID}}, true
	case "agents":
		return [][2]string{{ids.agent, unknownUUID}}, true
	case "groups":
		return [][2]string{{ids.group, unknownUUID}}, true
	case "pipelines":
		return [][2]string{{ids.pipeline, unknownUUID}}, true
	case "deals":
		return [][2]string{{ids.deal, unknownUUID}}, true
	case "contacts":
		return [][2]string{{ids.contact, unknownUUID}, {ids.contactCode, "CID-424242"}}, true
	case "listeners":
		return [][2]string{{ids.listener, unknownUUID}}, true
	case "outbox":
		// A has no message without a sender running; an id of the shape
		// still probes that the route answers B as for nothing.
		return [][2]string{{"01a00000-0000-7000-8000-000000000001", unknownUUID}}, true
	}
	return nil, false
}

// neutral fills a parameter that is not the one probed: B's own org, a
// valid file type, else A's value (B sees none of them).
func (ids aIDs) neutral(path, name string) string {
	switch name {
	case "OrgID":
		return ids.b.ID
	case "HelpSupportFileType":
		return "LOG"
	}
	v, _ := ids.values(path, name)
	return v[0][0]
}

// tenantAIDs creates one record of every kind in tenant A.
func tenantAIDs(t *testing.T, e *env) aIDs {
	t.Helper()
	ids := aIDs{a: e.a, b: e.b}
	post := func(path string, body any) map[string]any {
		t.Helper()
		r := e.do(e.a, "POST", path, body)
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
		return r.json(t)
	}
	ids.ticket = post("/v1/tickets", map[string]any{"title": "A's ticket"})["id"].(string)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "a.txt")
	fmt.Fprint(fw, "A's file")
	mw.Close()
	ids.attachment = e.do(e.a, "POST", "/v1/tickets/"+ids.ticket+"/attachments", buf.Bytes(), "Content-Type", mw.FormDataContentType()).
		want(t, http.StatusCreated).json(t)["id"].(string)
	f := damageForm()
	delete(f, "category")
	ids.slug = post("/v1/forms", f)["slug"].(string)
	ids.room = post("/v1/tickets/"+ids.ticket+"/video-room", nil)["unique_name"].(string)
	post("/v1/video-rooms/"+ids.room+"/participants", map[string]any{"identity": "ana@example.com"})
	ids.agent = post("/v1/agents", map[string]any{"email": "ana@a.example", "name": "Ana"})["id"].(string)
	ids.token = post("/v1/agents/"+ids.agent+"/tokens", nil)["id"].(string)
	ids.group = post("/v1/groups", map[string]any{"name": "A team", "members": []string{ids.agent}})["id"].(string)
	ids.pipeline = post("/v1/pipelines", map[string]any{"name": "Sales", "stages": []any{map[string]any{"name": "Lead"}}})["id"].(string)
	c := post("/v1/contacts", map[string]any{"name": "Huy"})
	ids.contact, ids.contactCode = c["id"].(string), c["code"].(string)
	ids.deal = post("/v1/deals", map[string]any{"name": "A's deal", "pipeline": ids.pipeline, "stage": "Lead"})["id"].(string)
	ids.listener = post("/v1/listeners", map[string]any{"name": "Website"})["id"].(string)
	return ids
}
