package apitest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
)

// FuzzNativeAPI is the native API's HTTP-level target. It lives here, not
// in api/native, whose tests import an OpenAPI validator that would
// triple the instrumented build of every fuzz run.
//
// FuzzNativeAPI drives the real native API over real PostgreSQL with any
// ticket body (POST /v1/tickets) and any query of the ticket list and the
// feed (filters, q, limit, cursor, after, min_position): every answer is
// a 2xx or a precise 4xx problem, never a 5xx or a panic, and a refused
// request records nothing (apitest.Env.Fuzz).
func FuzzNativeAPI(f *testing.F) {
	for _, s := range []struct{ body, query string }{
		{`{"title": "Printer on fire", "priority": "high", "tags": ["hardware"]}`, "q=printer&status=in_progress"},
		{`{"title": "a\u0000b"}`, "q=%00"},
		{"{\"title\": \"caf\xe9\"}", "status=%FF"},
		{`{"title": "x\udc00y", "custom": {"size": "\u0000"}}`, "tag=a%00"},
		{`{"title": "a", "tags": 1e400}`, "assignee=%C3"},
		{`{"title": 1e400}`, "category=%FF"},
		{`{"title":"a","title":"b"}`, "limit=0"},
		{`{"title":"a","custom":{"v":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}`, "limit=99999999999999999999"},
		{`{"title":"a","custom":{"v":` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}}`, "cursor=bjoxMg"},
		{`{"title":"ok \ud83d\ude00","assignee":{"id":"ana","kind":"agent"}}`, "cursor=%FF%FF"},
		{`[]`, "after=18446744073709551615-9223372036854775807"},
		{``, "min_position=1-2"},
		{`{"title":"t","priority":"urgent","category":"x","source":"api"}`, "created_from=2019-07-08T00:00:00Z&created_to=9999-12-31"},
		{`{"title":"t"}`, "updated_from=yesterday&include_internal=maybe"},
		{`{"title":"t"}`, "after=1-%2B2&type=ticket.opened&follow=yes"},
	} {
		f.Add([]byte(s.body), s.query)
	}
	e := apitest.New(f)
	key := e.A.Creds.APIKey
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		e.Fuzz(t, e.A.ID, "POST", "/v1/tickets", body, "Authorization", "Bearer "+key)
		if _, err := url.ParseQuery(query); err != nil && strings.ContainsAny(query, " #") {
			return // not a query a client sends
		}
		e.Fuzz(t, e.A.ID, "GET", "/v1/tickets?"+query, nil, "Authorization", "Bearer "+key)
		if !strings.Contains(strings.ToLower(query), "follow") { // a follow stream never ends by itself
			e.Fuzz(t, e.A.ID, "GET", "/v1/events?"+query, nil, "Authorization", "Bearer "+key)
		}
	})
}
