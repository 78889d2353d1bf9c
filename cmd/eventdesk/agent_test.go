package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestRun_AgentAndGroupCreate(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL (skipped by -short only)")
	}
	getenv := env(map[string]string{"EVENTDESK_DATABASE_URL": scratchURL(t)})
	cmd := func(args ...string) map[string]any {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, getenv, &out, &errb); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, &errb)
		}
		var m map[string]any
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%s printed %q: %v", strings.Join(args, " "), out.String(), err)
		}
		return m
	}
	if err := run(context.Background(), []string{"migrate"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	tenant := cmd("tenant", "create", "--name", "Acme")["tenant_id"].(string)
	a := cmd("agent", "create", "--tenant", tenant, "--email", "Ana@Example.com", "--name", "Ana", "--role", "admin")
	if a["email"] != "ana@example.com" || a["role"] != "admin" || a["active"] != true {
		t.Errorf("agent create printed %v", a)
	}
	g := cmd("group", "create", "--tenant", tenant, "--name", "Billing", "--member", a["id"].(string))
	if g["name"] != "Billing" || len(g["members"].([]any)) != 1 {
		t.Errorf("group create printed %v", g)
	}
	err := run(context.Background(), []string{"agent", "create", "--tenant", tenant, "--email", "ana@example.com", "--name", "Ana"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate agent create = %v, want the e-mail refused", err)
	}
	err = run(context.Background(), []string{"group", "create", "--tenant", "nope", "--name", "X"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no tenant") {
		t.Errorf("group create for an unknown tenant = %v, want refused", err)
	}
}
