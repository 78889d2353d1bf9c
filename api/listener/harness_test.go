package listener_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/customer"
	"github.com/eventdesk/eventdesk/eventstore"
)

// sender is the senderUser of the document's samples.
const sender = "huy.nguyenviet@htklabs.com"

var apiKey = app.Meta{By: domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}, Source: domain.SourceAPI}

// hook is one listener of a tenant in a running API.
type hook struct {
	e    *apitest.Env
	tn   *apitest.Tenant
	id   string
	path string
}

// newHook creates, in tn, the agent the samples send as and a listener
// with settings (JSON members of POST /v1/listeners).
func newHook(t testing.TB, e *apitest.Env, tn *apitest.Tenant, settings map[string]any) *hook {
	t.Helper()
	if _, err := e.Agents.ByEmail(context.Background(), tn.ID, sender); err != nil {
		if _, _, err := e.Agents.Create(context.Background(), tn.ID, agent.CreateAgent{Email: sender, Name: "Huy", Role: agent.Admin}, apiKey); err != nil {
			t.Fatal(err)
		}
	}
	if settings == nil {
		settings = map[string]any{}
	}
	if settings["name"] == nil {
		settings["name"] = "Web form"
	}
	res := e.Native(tn, "POST", "/v1/listeners", settings).Want(t, 201).JSON(t)
	url, _ := res["url"].(string)
	if !strings.HasPrefix(url, app.DefaultPublicURL+app.ListenerPath) {
		t.Fatalf("url = %q, want it under %s", url, app.DefaultPublicURL+app.ListenerPath)
	}
	return &hook{e: e, tn: tn, id: res["id"].(string), path: strings.TrimPrefix(url, app.DefaultPublicURL)}
}

// post delivers body (a string sent as is, or a value sent as JSON).
func (h *hook) post(t *testing.T, body any, headers ...string) apitest.Response {
	t.Helper()
	return h.e.Do("POST", h.path, body, headers...)
}

// result is one action's result as answered.
type result struct {
	Index      int      `json:"index"`
	ActionType string   `json:"actionType"`
	Status     string   `json:"status"`
	ID         string   `json:"id"`
	Code       string   `json:"code"`
	Messages   []string `json:"messages"`
	Warnings   []string `json:"warnings"`
	Error      *struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Fields  []string `json:"fields"`
	} `json:"error"`
}

// deliver posts actions (actionType, data pairs) as sender and returns the
// results, failing unless the answer is 200 with one result per action.
func (h *hook) deliver(t *testing.T, actions ...any) []result {
	t.Helper()
	var list []map[string]any
	for i := 0; i+1 < len(actions); i += 2 {
		list = append(list, map[string]any{"actionType": actions[i], "data": actions[i+1]})
	}
	return h.results(t, h.post(t, map[string]any{"senderUser": sender, "data": list}), len(list))
}

func (h *hook) results(t *testing.T, r apitest.Response, n int) []result {
	t.Helper()
	r.Want(t, 200)
	var body struct {
		Results []result `json:"results"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Results) != n {
		t.Fatalf("%d results, want %d: %s", len(body.Results), n, r.Body)
	}
	for i, res := range body.Results {
		if res.Index != i {
			t.Errorf("results[%d].index = %d", i, res.Index)
		}
	}
	return body.Results
}

// want fails unless res has status.
func want(t *testing.T, res result, status string) result {
	t.Helper()
	if res.Status != status {
		msg := ""
		if res.Error != nil {
			msg = res.Error.Code + ": " + res.Error.Message
		}
		t.Fatalf("%s #%d: status %s (%s), want %s", res.ActionType, res.Index, res.Status, msg, status)
	}
	return res
}

// wantFailed fails unless res failed with code, naming field (if any).
func wantFailed(t *testing.T, res result, code, field string) {
	t.Helper()
	if res.Status != "failed" || res.Error == nil || res.Error.Code != code {
		t.Fatalf("%s #%d = %+v (error %+v), want failed with %s", res.ActionType, res.Index, res, res.Error, code)
	}
	if field != "" && !contains(res.Error.Fields, field) {
		t.Errorf("%s #%d fields = %v, want %s among them (%s)", res.ActionType, res.Index, res.Error.Fields, field, res.Error.Message)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// customerOf returns the customer a code or id names.
func (h *hook) customer(t *testing.T, ref string) customer.Snapshot {
	t.Helper()
	c, _, err := h.e.Customers.Get(context.Background(), h.tn.ID, ref)
	if err != nil {
		t.Fatalf("customer %s: %v", ref, err)
	}
	return c
}

func seedFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seed", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventQuery reads the whole log (the tests' tenants write few events).
func eventQuery() eventstore.Query { return eventstore.Query{Limit: 100000} }

func agentCreate(email string, admin bool) agent.CreateAgent {
	role := agent.Role("agent")
	if admin {
		role = agent.Admin
	}
	return agent.CreateAgent{Email: email, Name: email, Role: role}
}

// read returns tn's events of type typ, waiting (up to 5 s) until there
// are n of them: the gap-free log shows a commit a moment after it.
func (h *hook) read(t *testing.T, typ string, n int) []eventstore.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := h.e.Store.ReadAll(context.Background(), eventstore.Query{TenantID: h.tn.ID, Types: []string{typ}, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= n || time.Now().After(deadline) {
			if len(evs) == n {
				time.Sleep(50 * time.Millisecond) // and no more come
				evs, err = h.e.Store.ReadAll(context.Background(), eventstore.Query{TenantID: h.tn.ID, Types: []string{typ}, Limit: 10000})
				if err != nil {
					t.Fatal(err)
				}
			}
			return evs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requested returns the outbox messages requested in tn, oldest first,
// read from the log once there are (at least) n.
func (h *hook) requested(t *testing.T, n int) []map[string]any {
	t.Helper()
	evs := h.read(t, "outbox.requested", n)
	var out []map[string]any
	for _, ev := range evs {
		var m map[string]any
		if err := json.Unmarshal(ev.Data, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// events counts the events of type typ in tn's log, once there are n.
func (h *hook) events(t *testing.T, typ string, n int) int {
	t.Helper()
	return len(h.read(t, typ, n))
}
