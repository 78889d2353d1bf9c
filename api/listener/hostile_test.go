package listener_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
)

// TestHostileInputRules: the listener's own JSON reader refuses what the
// shared reader of every other surface refuses (issue 14 §3, findings 1,
// 2, 9 and 10): a \u0000 or an unpaired surrogate escape, a member
// repeated within one object, nesting beyond 64 levels — each a 400 in
// the listener's shape naming the member path, and nothing recorded.
func TestHostileInputRules(t *testing.T) {
	e := apitest.New(t)
	h := newHook(t, e, &e.A, nil)
	count := func() (n int64) {
		t.Helper()
		if err := e.DB.QueryRowContext(context.Background(), `SELECT count(*) FROM events WHERE tenant_id = $1`, e.A.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	action := func(data string) string {
		return `{"senderUser":"` + sender + `","data":[{"actionType":"add-contact","data":` + data + `}]}`
	}
	tests := []struct{ body, code, field string }{
		{action(`{"name":"a\u0000b","email":[{"type":"Work","value":"a@example.com"}]}`), "invalid_text", "data[0].data.name"},
		{action(`{"name":"\ud800","email":[{"type":"Work","value":"a@example.com"}]}`), "invalid_text", "data[0].data.name"},
		{action(`{"name":"x\udc00y"}`), "invalid_text", "data[0].data.name"},
		{action(`{"name":"a","name":"b"}`), "duplicate_member", "data[0].data.name"},
		{`{"senderUser":"` + sender + `","senderUser":"other@example.com","data":[]}`, "duplicate_member", "senderUser"},
		// 65 levels: refused where the 65th opens, with its position.
		{action(`{"name":"a","cusFields":{"v":` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}}`), "invalid_json", ""},
	}
	for _, tt := range tests {
		r := h.post(t, tt.body).Want(t, 400)
		var got struct {
			Error struct{ Code, Field, Message string }
		}
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Error.Code != tt.code || tt.field != "" && got.Error.Field != tt.field {
			t.Errorf("%s: error %+v, want code %s, field %s", tt.body[:min(len(tt.body), 80)], got.Error, tt.code, tt.field)
		}
	}
	if after := count(); after != before {
		t.Errorf("events went from %d to %d: a refused delivery recorded something", before, after)
	}
	// A surrogate pair is one character, and is kept.
	h.deliver(t, "add-contact", map[string]any{"name": "ok 😀", "email": []map[string]any{{"type": "Work", "value": "ok@example.com"}}})
}
