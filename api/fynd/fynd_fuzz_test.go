package fynd_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/fynd"
)

// FuzzFyndTicket drives the real Fynd surface over real PostgreSQL with
// any ticket body and any X-User-Data header (POST …/ticket/), and the
// same body as a history entry of a ticket: every answer is a 2xx or a
// precise 4xx {"message"}, never a 5xx or a panic, and a refused request
// records nothing (apitest.Env.Fuzz).
func FuzzFyndTicket(f *testing.F) {
	for _, s := range [][2]string{
		{`{"category": "general", "content": {"title": "Order not delivered"}}`, ``},
		{`{"category": "general", "priority": "urgent", "content": {"title": "T", "description": "D", "attachments": [{"type": "image", "url": "https://x/y.png"}]}, "_custom_json": {"a": 1}, "created_on": {"user_agent": "ua"}, "source": "sales_channel"}`, `{"_id": "u1", "first_name": "A", "emails": [{"email": "a@x.com", "primary": true}]}`},
		{`{"category": "general", "content": {"title": "a\u0000b"}}`, `{"_id": "u\u0000"}`},
		{`{"type": "comment", "value": {"text": "\u0000"}}`, `"user-1"`},
		{`{"type": "comment", "value": {"text": "\ud800"}}`, `{"_id":`},
		{"{\"category\": \"general\", \"content\": {\"title\": \"caf\xe9\"}}", `[1]`},
		{`{"type": "rating", "value": {"rating": 1e400}}`, `{"first_name":"x"}`},
		{`{"type": "log", "value": {"v": ` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}`, `{"_id": 5}`},
		{`{"category":"general","category":"x","content":{"title":"t"}}`, `{"id":"a","id":"b"}`},
		{`{"type": "thread", "value": {"text": "hi"}, "created_by": {"id": "u", "user": {"email": "a@b.c"}}}`, "caf\xe9"},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	e := apitest.New(f)
	auth := "Bearer " + base64.StdEncoding.EncodeToString([]byte(e.A.Creds.FyndApplicationID+":"+e.A.Creds.FyndApplicationToken))
	tk := e.Do("POST", fynd.Prefix+"/ticket/", `{"category": "general", "content": {"title": "Seed"}}`, "Authorization", auth)
	id, _ := tk.JSON(f)["_id"].(string)
	if tk.Status >= 300 || id == "" {
		f.Fatalf("no ticket: %d %s", tk.Status, tk.Body)
	}
	f.Fuzz(func(t *testing.T, body []byte, user string) {
		h := []string{"Authorization", auth}
		if user != "" {
			h = append(h, fynd.HeaderUserData, user)
		}
		e.Fuzz(t, e.A.ID, "POST", fynd.Prefix+"/ticket/", body, h...)
		e.Fuzz(t, e.A.ID, "POST", fynd.Prefix+"/ticket/"+id+"/history", body, h...)
	})
}
