package native_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// asToken sends a request with an agent's token.
func (e *env) asToken(token, method, path string, body any, headers ...string) response {
	e.t.Helper()
	return e.do(nil, method, path, body, append(headers, "Authorization", "Bearer "+token)...)
}

func TestAgentsGroupsAndTokens(t *testing.T) {
	e := newEnv(t)
	ana := e.do(e.a, "POST", "/v1/agents", map[string]any{"email": " Ana@Example.com", "name": "Ana", "role": "admin"},
		"Idempotency-Key", "ana").want(t, http.StatusCreated).json(t)
	if ana["email"] != "ana@example.com" || ana["role"] != "admin" || ana["active"] != true {
		t.Fatalf("created agent = %v", ana)
	}
	anaID := ana["id"].(string)
	// A retry answers the same agent; another request with the e-mail is a 409.
	again := e.do(e.a, "POST", "/v1/agents", map[string]any{"email": " Ana@Example.com", "name": "Ana", "role": "admin"},
		"Idempotency-Key", "ana").want(t, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.json(t)["id"] != anaID {
		t.Errorf("retry = %v %s, want the same agent replayed", again.Header, again.Body)
	}
	e.do(e.a, "POST", "/v1/agents", map[string]any{"email": "ANA@example.com", "name": "Other"}).problem(t, http.StatusConflict, "agent_email_taken")
	p := e.do(e.a, "POST", "/v1/agents", map[string]any{"email": "bo@example.com", "name": "Bo", "role": "boss"}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if !strings.Contains(string(e.do(e.a, "POST", "/v1/agents", map[string]any{"email": "bo@example.com", "name": "Bo", "role": "boss"}).Body), "admin, agent") {
		t.Errorf("bad role problem does not list the allowed values: %v", p)
	}
	bo := e.do(e.a, "POST", "/v1/agents", map[string]any{"email": "bo@example.com", "name": "Bo"}).want(t, http.StatusCreated).json(t)
	boID := bo["id"].(string)
	e.do(e.b, "GET", "/v1/agents/"+anaID, nil).problem(t, http.StatusNotFound, "agent_not_found")
	if list := e.do(e.a, "GET", "/v1/agents", nil).want(t, http.StatusOK).json(t)["agents"].([]any); len(list) != 2 {
		t.Errorf("agents = %v, want 2", list)
	}

	// Tokens: shown once, listed without the secret.
	tok := e.do(e.a, "POST", "/v1/agents/"+anaID+"/tokens", nil).want(t, http.StatusCreated).json(t)
	anaToken := tok["token"].(string)
	boToken := e.do(e.a, "POST", "/v1/agents/"+boID+"/tokens", nil).want(t, http.StatusCreated).json(t)["token"].(string)
	listed := e.do(e.a, "GET", "/v1/agents/"+anaID+"/tokens", nil).want(t, http.StatusOK)
	if strings.Contains(string(listed.Body), anaToken) || len(listed.json(t)["tokens"].([]any)) != 1 {
		t.Errorf("token list = %s, want one token without its secret", listed.Body)
	}

	// An admin's token manages; its writes are the agent's.
	g := e.asToken(anaToken, "POST", "/v1/groups", map[string]any{"name": "Billing", "members": []string{anaID}}).want(t, http.StatusCreated).json(t)
	gID := g["id"].(string)
	ticket := e.asToken(anaToken, "POST", "/v1/tickets", map[string]any{"title": "By Ana"}).want(t, http.StatusCreated).json(t)
	if by := ticket["created_by"].(map[string]any); by["kind"] != "agent" || by["id"] != anaID || by["email"] != "ana@example.com" {
		t.Errorf("created_by = %v, want agent ana", by)
	}
	// Idempotency-Keys are the caller's own: the same key and body from the
	// API key is another request.
	byKey := e.do(e.a, "POST", "/v1/tickets", map[string]any{"title": "Keyed"}, "Idempotency-Key", "k1").want(t, http.StatusCreated)
	byAna := e.asToken(anaToken, "POST", "/v1/tickets", map[string]any{"title": "Keyed"}, "Idempotency-Key", "k1").want(t, http.StatusCreated)
	if byAna.Header.Get("Idempotent-Replayed") != "" || byAna.json(t)["id"] == byKey.json(t)["id"] {
		t.Errorf("an agent's request replayed the API key's answer for the same Idempotency-Key")
	}
	e.asToken(anaToken, "POST", "/v1/tickets", map[string]any{"title": "x"}, "Eventdesk-Actor", "agent:bo@example.com").
		problem(t, http.StatusUnprocessableEntity, "validation_failed")

	// A plain agent's token reads but does not manage.
	e.asToken(boToken, "GET", "/v1/groups/"+gID, nil).want(t, http.StatusOK)
	e.asToken(boToken, "GET", "/v1/agents", nil).want(t, http.StatusOK)
	e.asToken(boToken, "POST", "/v1/groups", map[string]any{"name": "Mine"}).problem(t, http.StatusForbidden, "forbidden")
	e.asToken(boToken, "PATCH", "/v1/agents/"+boID, map[string]any{"role": "admin"}).problem(t, http.StatusForbidden, "forbidden")
	e.asToken(boToken, "POST", "/v1/agents/"+boID+"/tokens", nil).problem(t, http.StatusForbidden, "forbidden")

	// Who am I: the API key, an admin agent in a group, a plain agent.
	me := e.do(e.a, "GET", "/v1/me", nil).want(t, http.StatusOK).json(t)
	if me["kind"] != "api_key" || me["admin"] != true || me["agent"] != nil || me["token_id"] != nil || len(me["groups"].([]any)) != 0 {
		t.Errorf("GET /v1/me with the API key = %v", me)
	}
	me = e.asToken(anaToken, "GET", "/v1/me", nil).want(t, http.StatusOK).json(t)
	if me["kind"] != "agent_token" || me["admin"] != true || me["agent"].(map[string]any)["id"] != anaID ||
		me["token_id"] != tok["id"] || fmt.Sprint(me["groups"]) != fmt.Sprint([]any{gID}) {
		t.Errorf("GET /v1/me with Ana's token = %v, want agent %s in group %s", me, anaID, gID)
	}
	me = e.asToken(boToken, "GET", "/v1/me", nil).want(t, http.StatusOK).json(t)
	if me["admin"] != false || me["agent"].(map[string]any)["email"] != "bo@example.com" || len(me["groups"].([]any)) != 0 {
		t.Errorf("GET /v1/me with Bo's token = %v, want a plain agent in no group", me)
	}
	if tenant := me["tenant"].(map[string]any); tenant["id"] == "" || tenant["id"] == nil {
		t.Errorf("GET /v1/me names no tenant: %v", me)
	}

	// Groups: members, names unique per tenant.
	e.do(e.a, "PUT", "/v1/groups/"+gID+"/members", map[string]any{"members": []string{anaID, boID}}).want(t, http.StatusOK)
	e.do(e.a, "POST", "/v1/groups", map[string]any{"name": "billing"}).problem(t, http.StatusConflict, "group_name_taken")
	e.do(e.b, "POST", "/v1/groups", map[string]any{"name": "Billing"}).want(t, http.StatusCreated)
	e.do(e.b, "GET", "/v1/groups/"+gID, nil).problem(t, http.StatusNotFound, "group_not_found")
	renamed := e.do(e.a, "PATCH", "/v1/groups/"+gID, map[string]any{"name": "Invoices"}).want(t, http.StatusOK).json(t)
	if renamed["name"] != "Invoices" || len(renamed["members"].([]any)) != 2 {
		t.Errorf("renamed group = %v", renamed)
	}
	if list := e.do(e.a, "GET", "/v1/groups", nil).want(t, http.StatusOK).json(t)["groups"].([]any); len(list) != 1 {
		t.Errorf("groups = %v, want 1", list)
	}

	// An agent token never works for another tenant, and stops on
	// deactivation and revocation.
	e.asToken(boToken, "GET", "/v1/agents/"+boID, nil).want(t, http.StatusOK)
	e.do(e.a, "PATCH", "/v1/agents/"+boID, map[string]any{"active": false}).want(t, http.StatusOK)
	e.asToken(boToken, "GET", "/v1/agents", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	e.do(e.a, "PATCH", "/v1/agents/"+boID, map[string]any{"active": true}).want(t, http.StatusOK)
	e.asToken(boToken, "GET", "/v1/agents", nil).want(t, http.StatusOK)
	e.do(e.b, "DELETE", "/v1/agents/"+anaID+"/tokens/"+tok["id"].(string), nil).problem(t, http.StatusNotFound, "agent_not_found")
	e.asToken(anaToken, "DELETE", "/v1/agents/"+anaID+"/tokens/"+tok["id"].(string), nil).want(t, http.StatusNoContent)
	e.asToken(anaToken, "GET", "/v1/agents", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	e.do(e.a, "DELETE", "/v1/agents/"+anaID+"/tokens/"+tok["id"].(string), nil).problem(t, http.StatusNotFound, "token_not_found")
}
