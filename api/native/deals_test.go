package native_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/api/web"
)

// TestCRMDeals drives the CRM configuration, pipeline and deal routes (see
// conformCRM) against the document on its own.
func TestCRMDeals(t *testing.T) {
	e := newEnv(t)
	conformCRM(t, e, newChecker(t))
}

// conformCRM drives every CRM configuration, pipeline and deal operation
// through every status it documents, checks permits for each kind on the
// deal read routes, and the bad input rules.
func conformCRM(t *testing.T, e *env, c *checker) {
	bearer := func(token string, headers ...string) []string {
		return append(headers, "Authorization", "Bearer "+token)
	}
	big := func(body map[string]any) string {
		raw, _ := json.Marshal(body)
		return string(raw) + strings.Repeat(" ", web.MaxBodyBytes)
	}
	// Each write operation's shared failures: 400, 401, 413, 415, 422.
	shared := func(method, path string, body map[string]any, bad string) {
		t.Helper()
		c.doBad(t, e, nil, method, path, body).problem(t, http.StatusUnauthorized, "unauthenticated")
		p := c.doBad(t, e, e.a, method, path, `{"name": 1,}`).problem(t, http.StatusBadRequest, "malformed_json")
		if !strings.Contains(p["detail"].(string), "offset") {
			t.Errorf("malformed JSON problem does not name the byte offset: %v", p["detail"])
		}
		c.doBad(t, e, e.a, method, path, `{"nope": 1}`).problem(t, http.StatusBadRequest, "unknown_field")
		c.do(t, e, e.a, method, path, big(body)).problem(t, http.StatusRequestEntityTooLarge, "body_too_large")
		raw, _ := json.Marshal(body)
		c.doBad(t, e, e.a, method, path, string(raw), "Content-Type", "text/plain").problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		c.doBad(t, e, e.a, method, path, bad).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	}
	wantFields := func(p map[string]any, want ...string) {
		t.Helper()
		got := fields(p)
		for _, f := range want {
			if !slices.Contains(got, f) {
				t.Errorf("problem fields %v lack %q: %v", got, f, p["detail"])
			}
		}
	}
	unknown := "7a0c4f4e-0000-4000-8000-000000000000"

	// Members: ana (owner of the deals below), bo (in group Team), cy.
	agentToken := func(email string) (string, string) {
		a := c.do(t, e, e.a, "POST", "/v1/agents", map[string]any{"email": email, "name": email}).want(t, http.StatusCreated).json(t)
		tok := c.do(t, e, e.a, "POST", "/v1/agents/"+a["id"].(string)+"/tokens", nil).want(t, http.StatusCreated).json(t)
		return a["id"].(string), tok["token"].(string)
	}
	anaID, anaToken := agentToken("ana@crm.example")
	boID, boToken := agentToken("bo@crm.example")
	cyID, cyToken := agentToken("cy@crm.example")
	team := c.do(t, e, e.a, "POST", "/v1/groups", map[string]any{"name": "Team", "members": []string{boID}}).want(t, http.StatusCreated).json(t)["id"].(string)

	// CRM configuration.
	cfg := c.do(t, e, e.a, "GET", "/v1/config/crm", nil).want(t, http.StatusOK).json(t)
	if cfg["region"] != "" || cfg["version"] != float64(0) {
		t.Errorf("CRM config before any change = %v", cfg)
	}
	c.doBad(t, e, nil, "GET", "/v1/config/crm", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	put := c.do(t, e, e.a, "PUT", "/v1/config/crm", map[string]any{"region": "vn", "deal_categories": []string{"UI Design"}, "packages": []string{"Goi A"}},
		"Idempotency-Key", "crmtest-crm-1").want(t, http.StatusOK)
	if got := put.json(t); got["region"] != "VN" || put.Header.Get("ETag") != `"1"` {
		t.Errorf("PUT /v1/config/crm = %v %v", got, put.Header)
	}
	c.do(t, e, nil, "PUT", "/v1/config/crm", map[string]any{"region": "US"}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.a, "PUT", "/v1/config/crm", map[string]any{"region": "US"}, "If-Match", `"9"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	p := c.do(t, e, e.a, "PUT", "/v1/config/crm", map[string]any{"region": "QQ", "deal_categories": []string{"A", "a"}}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "region")
	p = c.do(t, e, e.a, "PUT", "/v1/config/crm", map[string]any{"region": "Viet", "deal_categories": []string{"A", "a"}}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "region", "deal_categories[1]")
	shared("PUT", "/v1/config/crm", map[string]any{"region": "VN"}, `{"region": 5, "packages": "x"}`)

	c.do(t, e, nil, "GET", "/v1/config/custom-fields", nil, bearer(boToken)...).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", "/v1/config/custom-fields", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	defs := map[string]any{"custom_fields": []any{
		map[string]any{"name": "Budget", "entity": "deal", "type": "number"},
		map[string]any{"name": "Pets", "entity": "deal", "type": "checkbox", "options": []string{"Dog", "Cat"}},
		map[string]any{"name": "Referred By", "entity": "lead", "type": "text"}}}
	if got := c.do(t, e, e.a, "PUT", "/v1/config/custom-fields", defs, "If-Match", `"1"`).want(t, http.StatusOK).json(t); len(got["custom_fields"].([]any)) != 3 {
		t.Errorf("custom fields = %v", got)
	}
	c.do(t, e, nil, "PUT", "/v1/config/custom-fields", defs, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.a, "PUT", "/v1/config/custom-fields", defs, "If-Match", `"1"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	p = c.do(t, e, e.a, "PUT", "/v1/config/custom-fields", map[string]any{"custom_fields": []any{
		map[string]any{"name": "X", "entity": "ticket", "type": "text"}, map[string]any{"name": "Y", "entity": "deal", "type": "select"}}}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "custom_fields[0].entity", "custom_fields[1].options")
	shared("PUT", "/v1/config/custom-fields", defs, `{}`)

	// Pipelines.
	pl := c.do(t, e, e.a, "POST", "/v1/pipelines", map[string]any{"name": "Sales", "stages": []any{
		map[string]any{"name": "Lead", "probability": 0.1}, map[string]any{"name": "Proposal", "probability": "0.50"},
		map[string]any{"name": "Won", "kind": "won"}, map[string]any{"name": "Lost", "kind": "lost"}}},
		"Idempotency-Key", "crmtest-pl-1").want(t, http.StatusCreated).json(t)
	plID := pl["id"].(string)
	stages := pl["stages"].([]any)
	stageID := func(i int) string { return stages[i].(map[string]any)["id"].(string) }
	if got := stages[1].(map[string]any)["probability"]; got != "0.50" {
		t.Errorf("probability = %v, want \"0.50\" exactly", got)
	}
	c.do(t, e, e.a, "POST", "/v1/pipelines", map[string]any{"name": " sales", "stages": []any{map[string]any{"name": "A"}}}).problem(t, http.StatusConflict, "pipeline_name_taken")
	c.do(t, e, nil, "POST", "/v1/pipelines", map[string]any{"name": "Mine", "stages": []any{map[string]any{"name": "A"}}}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	p = c.doBad(t, e, e.a, "POST", "/v1/pipelines", `{"name": "X", "stages": [{"name": "A", "probability": 2, "kind": "maybe"}, {"name": "a"}]}`).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "stages[0].kind")
	p = c.do(t, e, e.a, "POST", "/v1/pipelines", map[string]any{"name": "X", "stages": []any{map[string]any{"name": "A", "probability": 2}, map[string]any{"name": "a"}}}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "stages[0].probability", "stages[1].name")
	shared("POST", "/v1/pipelines", map[string]any{"name": "Other", "stages": []any{map[string]any{"name": "A"}}}, `{"name": "Y"}`)
	c.do(t, e, nil, "GET", "/v1/pipelines", nil, bearer(boToken)...).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", "/v1/pipelines", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	plPath := "/v1/pipelines/" + plID
	c.do(t, e, nil, "GET", plPath, nil, bearer(boToken)...).want(t, http.StatusOK)
	c.doBad(t, e, nil, "GET", plPath, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.b, "GET", plPath, nil).problem(t, http.StatusNotFound, "pipeline_not_found")
	c.do(t, e, e.a, "POST", "/v1/pipelines", map[string]any{"name": "Renewals", "stages": []any{map[string]any{"name": "Open"}}}).want(t, http.StatusCreated)
	c.do(t, e, e.a, "PATCH", plPath, map[string]any{"name": "Renewals"}).problem(t, http.StatusConflict, "pipeline_name_taken")
	c.do(t, e, nil, "PATCH", plPath, map[string]any{"name": "Mine"}, bearer(boToken)...).problem(t, http.StatusForbidden, "forbidden")
	c.do(t, e, e.b, "PATCH", plPath, map[string]any{"name": "Mine"}).problem(t, http.StatusNotFound, "pipeline_not_found")
	c.do(t, e, e.a, "PATCH", plPath, map[string]any{"name": "Mine"}, "If-Match", `"9"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	patched := c.do(t, e, e.a, "PATCH", plPath, map[string]any{"stages": []any{map[string]any{"name": "Lead", "probability": "0.2"},
		map[string]any{"name": "Proposal"}, map[string]any{"name": "Won", "kind": "won"}, map[string]any{"name": "Lost", "kind": "lost"}}},
		"If-Match", `"1"`).want(t, http.StatusOK).json(t)
	if got := patched["stages"].([]any)[0].(map[string]any); got["id"] != stageID(0) || got["probability"] != "0.2" {
		t.Errorf("patched stage = %v, want its id kept", got)
	}
	shared("PATCH", plPath, map[string]any{"name": "Sales"}, `{"stages": []}`)

	// Deals: create with an exact value, bad input listing every field,
	// nothing partial stored.
	huy := c.do(t, e, e.a, "POST", "/v1/contacts", map[string]any{"name": "Huy"}).want(t, http.StatusCreated).json(t)["id"].(string)
	create := map[string]any{"external_id": "1234567890", "name": "Booking-ID #0003", "value": json.Number("12345678901234567.123456"), "currency": "vnd",
		"description": "This is description", "pipeline": plID, "stage": "Lead", "close_date": 1482470382793, "category": "ui design", "package": "Goi A",
		"owners": map[string]any{"agents": []string{anaID}, "groups": []string{team}}, "customer": huy, "contacts": []string{huy},
		"custom": map[string]any{"Budget": "10.50", "Pets": "Dog|Cat"}, "permit": map[string]any{"kind": "everybody"}}
	d := c.do(t, e, nil, "POST", "/v1/deals", create, bearer(anaToken, "Idempotency-Key", "crmtest-deal-1")...).want(t, http.StatusCreated)
	deal := d.json(t)
	dealID := deal["id"].(string)
	if deal["value"] != "12345678901234567.123456" || deal["currency"] != "VND" || deal["stage"] != stageID(0) || deal["owner"] != anaID ||
		deal["category"] != "UI Design" || deal["close_date"] != "2016-12-23T05:19:42.793Z" || d.Header.Get("Location") != "/v1/deals/"+dealID {
		t.Errorf("created deal = %v", deal)
	}
	if cu := deal["custom"].(map[string]any); cu["Budget"] != 10.5 || len(cu["Pets"].([]any)) != 2 {
		t.Errorf("custom = %v", cu)
	}
	c.do(t, e, e.a, "POST", "/v1/deals", with(create, "name", "Other"), "Idempotency-Key", "crmtest-deal-2").problem(t, http.StatusConflict, "deal_external_id_taken")
	listed := "/v1/deals?min_position=" + d.Header.Get("Eventdesk-Position") // deals.v1 shows the create
	before := len(c.do(t, e, e.a, "GET", listed, nil).want(t, http.StatusOK).json(t)["deals"].([]any))
	p = c.doBad(t, e, e.a, "POST", "/v1/deals", map[string]any{"value": "1.1234567", "currency": "ABC", "category": "Nope", "close_date": "soon",
		"pipeline": plID, "custom": map[string]any{"Budget": "lots", "Colour": "red"}, "owners": map[string]any{"agents": []string{unknown}}}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "name", "stage")
	p = c.do(t, e, e.a, "POST", "/v1/deals", map[string]any{"name": "X", "stage": "Nowhere", "value": "1.1234567", "currency": "ABC", "category": "Nope",
		"close_date": "soon", "pipeline": plID, "custom": map[string]any{"Budget": "lots", "Colour": "red"}}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "stage", "value", "currency", "category", "close_date", "custom.Budget", "custom.Colour")
	p = c.do(t, e, e.a, "POST", "/v1/deals", map[string]any{"name": "X", "stage": "Lead", "value": "1", "currency": "ABC",
		"owners": map[string]any{"agents": []string{unknown}, "groups": []string{anaID}}}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "currency", "owners.agents[0]", "owners.groups[0]")
	p = c.doBad(t, e, e.a, "POST", "/v1/deals", `{"name": 5, "stage": true, "value": {}}`).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "name", "stage")
	c.do(t, e, e.b, "POST", "/v1/deals", map[string]any{"name": "X", "stage": "Lead", "pipeline": plID}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	if after := len(c.do(t, e, e.a, "GET", listed, nil).want(t, http.StatusOK).json(t)["deals"].([]any)); after != before {
		t.Errorf("deals after refused creates = %d, want %d", after, before)
	}
	shared("POST", "/v1/deals", map[string]any{"name": "Y", "stage": "Lead"}, `{"name": "Y"}`)
	c.doBad(t, e, nil, "GET", "/v1/deals", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.a, "GET", "/v1/deals?pipeline="+plID+"&stage_kind=open&close_from=2016-01-01&close_to=2030-12-31&customer="+huy+"&limit=10", nil).want(t, http.StatusOK)
	c.doBad(t, e, e.a, "GET", "/v1/deals?stage_kind=maybe&close_from=soon", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	board := c.do(t, e, e.a, "GET", plPath+"/board?min_position="+d.Header.Get("Eventdesk-Position"), nil).want(t, http.StatusOK).json(t)
	if st := board["stages"].([]any)[0].(map[string]any); st["count"] != float64(1) || st["values"].([]any)[0].(map[string]any)["sum"] != "12345678901234567.123456" {
		t.Errorf("board's first stage = %v, want the deal counted with its exact value", st)
	}
	c.doBad(t, e, nil, "GET", plPath+"/board", nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.b, "GET", plPath+"/board", nil).problem(t, http.StatusNotFound, "pipeline_not_found")
	c.doBad(t, e, e.a, "GET", plPath+"/board?min_position=x", nil).problem(t, http.StatusUnprocessableEntity, "validation_failed")

	// Permits: one deal of each kind, owned by ana.
	byKind := map[string]string{"everybody": dealID}
	for kind, permit := range map[string]map[string]any{
		"owner":        {"kind": "owner"},
		"owner_group":  {"kind": "owner_group", "group": team},
		"owner_agents": {"kind": "owner_agents", "agents": []string{cyID}},
	} {
		r := c.do(t, e, nil, "POST", "/v1/deals", map[string]any{"name": "Deal " + kind, "stage": "Lead", "permit": permit},
			bearer(anaToken)...).want(t, http.StatusCreated)
		byKind[kind] = r.json(t)["id"].(string)
		// Wait for every create: deals.v1 applies them in log order.
		c.do(t, e, e.a, "GET", "/v1/deals?min_position="+r.Header.Get("Eventdesk-Position"), nil).want(t, http.StatusOK)
	}
	sees := map[string][]string{ // token → kinds it sees
		anaToken: {"everybody", "owner", "owner_group", "owner_agents"},
		boToken:  {"everybody", "owner_group"},
		cyToken:  {"everybody", "owner_agents"},
	}
	for token, kinds := range sees {
		listed := map[string]bool{}
		for _, x := range c.do(t, e, nil, "GET", "/v1/deals?limit=200", nil, bearer(token)...).want(t, http.StatusOK).json(t)["deals"].([]any) {
			listed[x.(map[string]any)["id"].(string)] = true
		}
		for kind, id := range byKind {
			visible := slices.Contains(kinds, kind)
			if listed[id] != visible {
				t.Errorf("%s deal listed for %v = %v, want %v", kind, kinds, listed[id], visible)
			}
			for _, path := range []string{"/v1/deals/" + id, "/v1/deals/" + id + "/notes"} {
				if visible {
					c.do(t, e, nil, "GET", path, nil, bearer(token)...).want(t, http.StatusOK)
				} else {
					c.do(t, e, nil, "GET", path, nil, bearer(token)...).problem(t, http.StatusNotFound, "deal_not_found")
				}
			}
		}
	}
	// The API key sees every deal.
	if n := len(c.do(t, e, e.a, "GET", "/v1/deals", nil).want(t, http.StatusOK).json(t)["deals"].([]any)); n != 4 {
		t.Errorf("deals the API key lists = %d, want 4", n)
	}
	dPath := "/v1/deals/" + dealID
	if got := c.do(t, e, e.a, "GET", dPath, nil).want(t, http.StatusOK); got.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag = %q, want \"1\"", got.Header.Get("ETag"))
	}
	c.doBad(t, e, nil, "GET", dPath, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.b, "GET", dPath, nil).problem(t, http.StatusNotFound, "deal_not_found")

	// Update: fields, then a stage change by name; custom values merge.
	u := c.do(t, e, e.a, "PATCH", dPath, map[string]any{"name": "Booking 3", "stage": "Won", "value": 50000, "custom": map[string]any{"Pets": nil}},
		"If-Match", `"1"`, "Idempotency-Key", "crmtest-patch-1").want(t, http.StatusOK).json(t)
	if u["stage"] != stageID(2) || u["value"] != "50000" || u["version"] != float64(3) || u["custom"].(map[string]any)["Pets"] != nil {
		t.Errorf("patched deal = %v", u)
	}
	c.do(t, e, e.a, "PATCH", dPath, map[string]any{"name": "X"}, "If-Match", `"1"`).problem(t, http.StatusPreconditionFailed, "precondition_failed")
	c.do(t, e, e.b, "PATCH", dPath, map[string]any{"name": "X"}).problem(t, http.StatusNotFound, "deal_not_found")
	c.do(t, e, nil, "PATCH", "/v1/deals/"+byKind["owner"], map[string]any{"name": "X"}, bearer(boToken)...).problem(t, http.StatusNotFound, "deal_not_found")
	p = c.do(t, e, e.a, "PATCH", dPath, map[string]any{"currency": "", "category": "Nope", "stage": "Nowhere"}).problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "currency", "category", "stage")
	if got := c.do(t, e, e.a, "GET", dPath, nil).want(t, http.StatusOK).json(t); got["version"] != float64(3) {
		t.Errorf("deal after a refused change = %v, want unchanged", got)
	}
	shared("PATCH", dPath, map[string]any{"name": "Booking 3"}, `{"external_id": "x"}`)

	// Notes, each with its own permit.
	notes := dPath + "/notes"
	n := c.do(t, e, nil, "POST", notes, map[string]any{"body": "Only ana", "permit": map[string]any{"kind": "owner"}, "tag": "webhook", "channel": "Kite Chat"},
		bearer(anaToken, "Idempotency-Key", "crmtest-note-1")...).want(t, http.StatusCreated).json(t)
	if n["owner"] != anaID || n["author"].(map[string]any)["id"] != anaID {
		t.Errorf("note = %v, want ana as owner and author", n)
	}
	c.do(t, e, e.a, "POST", notes, map[string]any{"body": "For all"}).want(t, http.StatusCreated)
	for token, want := range map[string]int{anaToken: 2, boToken: 1} {
		if got := c.do(t, e, nil, "GET", notes, nil, bearer(token)...).want(t, http.StatusOK).json(t)["notes"].([]any); len(got) != want {
			t.Errorf("notes listed = %d, want %d", len(got), want)
		}
	}
	c.doBad(t, e, nil, "GET", notes, nil).problem(t, http.StatusUnauthorized, "unauthenticated")
	c.do(t, e, e.b, "GET", notes, nil).problem(t, http.StatusNotFound, "deal_not_found")
	c.do(t, e, e.b, "POST", notes, map[string]any{"body": "x"}).problem(t, http.StatusNotFound, "deal_not_found")
	p = c.do(t, e, e.a, "POST", notes, map[string]any{"body": "x", "permit": map[string]any{"kind": "owner_group", "group": unknown}}).
		problem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantFields(p, "permit.group")
	shared("POST", notes, map[string]any{"body": "x"}, `{"body": ""}`)
	c.methodNotAllowed(t, e, e.a, "DELETE", dPath, "/v1/deals/{id}")
}
