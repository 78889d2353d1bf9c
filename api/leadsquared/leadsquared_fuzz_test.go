package leadsquared_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/leadsquared"
)

// FuzzLeadSquared drives the real LeadSquared surface over real
// PostgreSQL with any body, as a ticket create and as a portal activity
// of a ticket: every answer is a 2xx or a precise 4xx in LeadSquared's
// shape, never a 5xx or a panic, and a refused request records nothing
// (apitest.Env.Fuzz).
func FuzzLeadSquared(f *testing.F) {
	for _, s := range []string{
		`{ "TypeId":"1", "Id":null, "LeadId":"45b5fded-e696-45a6-9fbb-c6af6178229e", "Fields":[ { "SchemaName":"Title", "Value":"Test ticket from API" }, { "SchemaName":"RelatedCustomerId", "Value":"45b5fded-e696-45a6-9fbb-c6af6178229e" }, { "SchemaName":"Description", "Value":"Test ticket from External API" }, { "SchemaName":"Type", "Value":"General" }, { "SchemaName":"Status", "Value":"Open" }, { "SchemaName":"Priority", "Value":"Low" }, { "SchemaName":"Channel", "Value":"Chat" } ], "RelatedTicketTypeId":1 }`,
		`{"Text":"The lead submitted the ticket through our portal","Direction":"INBOUND"}`,
		`{"Text":"a\u0000","Direction":"INBOUND"}`,
		`{"Fields":[{"SchemaName":"Title","Value":"\ud800"}],"LeadId":"x"}`,
		"{\"Text\":\"caf\xe9\",\"Direction\":\"INBOUND\"}",
		`{"Text":"a","text":"b","Direction":"OUTBOUND"}`,
		`{"Fields":[{"SchemaName":"LeadDetail.Phone","Value":9876543210},{"SchemaName":"Title","Value":1e400}]}`,
		`{"Fields":[{"SchemaName":"LeadDetail.EmailAddress","Value":"a@b.c"},{"SchemaName":"Title","Value":{"v":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}]}`,
		`{"Fields":"x"}`, `[]`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	e := apitest.New(f, apitest.WithLimiter(leadsquared.NewMemoryLimiter(roomy, nil)))
	h := keys(&e.A)
	tk := e.Do("POST", ticketPath(&e.A), fields("Title", "Seed", "LeadDetail.EmailAddress", "a@example.com"), h...)
	id, _ := tk.JSON(f)["TicketId"].(string)
	if tk.Status != http.StatusOK || id == "" {
		f.Fatalf("no ticket: %d %s", tk.Status, tk.Body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e.Fuzz(t, e.A.ID, "POST", ticketPath(&e.A), body, h...)
		e.Fuzz(t, e.A.ID, "POST", activityPath(&e.A, id), body, h...)
	})
}
