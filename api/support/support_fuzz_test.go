package support_test

import (
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/support"
)

// FuzzSupport drives the real support-message surface over real
// PostgreSQL with any body, as a message (POST /api/user/log/message) and
// as a search: every answer is a 2xx or a precise 4xx in the surface's
// envelope, never a 5xx or a panic, and a refused request records
// nothing (apitest.Env.Fuzz).
func FuzzSupport(f *testing.F) {
	for _, s := range []string{
		support.SampleMessage, support.SampleSearch,
		`{"uuid":"79af4bc5-a995-4262-92ee-0da381ccaf07","udid":"u","subject":"a\u0000","message":"m","email":"a@b.c","category":"c"}`,
		`{"uuid":"79af4bc5-a995-4262-92ee-0da381ccaf07","udid":"u","subject":"\ud800","message":"m","email":"a@b.c","category":"c"}`,
		"{\"uuid\":\"x\",\"udid\":\"caf\xe9\"}",
		`{"uuid":"a","uuid":"b"}`,
		`{"uuid":"79af4bc5-a995-4262-92ee-0da381ccaf07","udid":"u","subject":"s","message":"m","email":"a@b.c","category":"c","phone":919916248135,"images":"x"}`,
		`{"images":[null],"name":{"v":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}`,
		`{"ticketId":"%00","zendeskTicketId":1e400,"page":-1,"size":99999999999}`,
		`[]`, ``, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	e := apitest.New(f)
	h := []string{"Authorization", "Bearer " + e.A.Creds.APIKey}
	f.Fuzz(func(t *testing.T, body []byte) {
		e.Fuzz(t, e.A.ID, "POST", support.PathMessage, body, h...)
		e.Fuzz(t, e.A.ID, "POST", support.PathSearch, body, h...)
	})
}
