package native_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/web"
)

// conformListeners drives every documented answer of /v1/listeners.
func conformListeners(t *testing.T, e *env, c *checker) {
	bearer := func(token string, headers ...string) []string {
		return append(headers, "Authorization", "Bearer "+token)
	}
	big := func(body map[string]any) string {
		raw, _ := json.Marshal(body)
		return string(raw) + strings.Repeat(" ", web.MaxBodyBytes)
	}
	agent := c.do(t, e, e.a, "POST", "/v1/agents", map[string]any{"email": "lis@example.com", "name": "Lis", "role": "agent"}).want(t, http.StatusCreated).json(t)
	token := c.do(t, e, e.a, "POST", "/v1/agents/"+agent["id"].(string)+"/tokens", nil).want(t, http.StatusCreated).json(t)["token"].(string)
	unknown := "7a0c4f4e-0000-4000-8000-000000000000"

	// Create: the URL only here and after a rotation.
	full := map[string]any{"name": "Website", "enabled": true, "allowed_cidrs": []string{"203.0.113.0/24"}, "default_tag": "web",
		"contact_channel": "Website", "lead_channel": "Ads", "rate_limit": 60,
		"auto_email": map[string]any{"enabled": true, "subject": "Welcome {{.Name}}", "body": "Hi {{.Name}}, you are {{.Code}}."},
		"auto_sms":   map[string]any{"enabled": true, "template": "Hi {{.Name}}"}}
	r := c.do(t, e, e.a, "POST", "/v1/listeners", full).want(t, http.StatusCreated)
	l := r.json(t)
	id := l["id"].(string)
	if !strings.HasPrefix(l["url"].(string), "http://localhost:8080/hooks/listener/whl_") || r.Header.Get("Location") != "/v1/listeners/"+id {
		t.Errorf("created %v (Location %q)", l, r.Header.Get("Location"))
	}
	c.doBad(t, e, nil, "POST", "/v1/listeners", full).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "POST", "/v1/listeners", full, bearer(token)...).problem(t, http.StatusForbidden, "forbidden")
	c.doBad(t, e, e.a, "POST", "/v1/listeners", `{"name": "x",}`).problem(t, http.StatusBadRequest, "malformed_json")
	c.do(t, e, e.a, "POST", "/v1/listeners", big(full)).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
	c.doBad(t, e, e.a, "POST", "/v1/listeners", `{"name": "x"}`, "Content-Type", "text/plain").problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	p := c.do(t, e, e.a, "POST", "/v1/listeners", map[string]any{"name": "x", "auto_sms": map[string]any{"enabled": true, "template": "{{.Secret}}"}}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if !strings.Contains(mustJSON(p), "auto_sms.template") {
		t.Errorf("422 = %v, want the field auto_sms.template", p)
	}

	// List and get: never the URL.
	list := c.do(t, e, e.a, "GET", "/v1/listeners", nil).want(t, http.StatusOK)
	if strings.Contains(string(list.Body), "whl_") {
		t.Errorf("the list shows a secret: %s", list.Body)
	}
	c.doBad(t, e, nil, "GET", "/v1/listeners", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", "/v1/listeners", nil, bearer(token)...).problem(t, http.StatusForbidden, "forbidden")
	path := "/v1/listeners/" + id
	if got := c.do(t, e, e.a, "GET", path, nil).want(t, http.StatusOK).json(t); got["url"] != nil {
		t.Errorf("GET shows the URL: %v", got)
	}
	c.doBad(t, e, nil, "GET", path, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "GET", path, nil, bearer(token)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "GET", path, nil).problem(t, http.StatusNotFound, "listener_not_found")

	// Patch.
	c.do(t, e, e.a, "PATCH", path, map[string]any{"enabled": false}, "If-Match", `"1"`, "Idempotency-Key", "disable").want(t, http.StatusOK)
	c.doBad(t, e, nil, "PATCH", path, map[string]any{"enabled": true}).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "PATCH", path, map[string]any{"enabled": true}, bearer(token)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "PATCH", path, map[string]any{"enabled": true}).problem(t, http.StatusNotFound, "listener_not_found")
	c.do(t, e, e.a, "PATCH", path, map[string]any{"enabled": true}, "If-Match", `"99"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	c.doBad(t, e, e.a, "PATCH", path, `{"enabled": true,}`).problem(t, http.StatusBadRequest, "malformed_json")
	c.do(t, e, e.a, "PATCH", path, big(map[string]any{"enabled": true})).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
	c.doBad(t, e, e.a, "PATCH", path, `{"enabled": true}`, "Content-Type", "text/plain").problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	c.do(t, e, e.a, "PATCH", path, map[string]any{"allowed_cidrs": []string{"not an address"}}).problem(t, http.StatusUnprocessableEntity, "validation_failed")

	// Rotate.
	rot := c.do(t, e, e.a, "POST", path+"/rotate", nil).want(t, http.StatusOK).json(t)
	if rot["url"] == l["url"] || rot["generation"] != float64(1) {
		t.Errorf("rotated = %v", rot)
	}
	c.doBad(t, e, nil, "POST", path+"/rotate", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "POST", path+"/rotate", nil, bearer(token)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "POST", path+"/rotate", nil).problem(t, http.StatusNotFound, "listener_not_found")
	c.doBad(t, e, e.a, "POST", path+"/rotate", `{"a": 1,}`).problem(t, http.StatusBadRequest, "malformed_json")

	// Delete.
	c.doBad(t, e, nil, "DELETE", path, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, nil, "DELETE", path, nil, bearer(token)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.a, "DELETE", path, nil).want(t, http.StatusNoContent)
	c.do(t, e, e.a, "DELETE", path, nil).problem(t, http.StatusNotFound, "listener_not_found")
	c.do(t, e, e.a, "DELETE", "/v1/listeners/"+unknown, nil).problem(t, http.StatusNotFound, "listener_not_found")
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
