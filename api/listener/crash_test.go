package listener_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventdesk/eventdesk/api"
	"github.com/eventdesk/eventdesk/api/apitest"
	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/web"
)

// TestCrashedDelivery kills a keyed delivery at each step of its writes
// (the key claimed, a command decided, an append committed, the answer
// recorded, the answer stored) and redelivers it with the same
// webhook-id: every action's effects exist exactly once — one contact,
// one note, one welcome e-mail — and the answer says what they are.
func TestCrashedDelivery(t *testing.T) {
	var armed atomic.Value
	hit := func(s app.Step) {
		if a, _ := armed.Load().(app.Step); a == s && armed.CompareAndSwap(a, app.Step("")) {
			panic(http.ErrAbortHandler)
		}
	}
	e := apitest.New(t, func(d *api.Deps) { d.Keys.CrashAt = hit })
	h := newHook(t, e, &e.A, map[string]any{"auto_email": map[string]any{"enabled": true, "subject": "Hi", "body": "Hi {{.Name}}"}})
	oneShot := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	steps := []app.Step{web.StepClaimed, app.StepDecided, app.StepAppended, web.StepAnswered, web.StepStored}
	for i, step := range steps {
		email := string(step) + "@example.com"
		body := `{"senderUser": "` + sender + `", "data": [{"actionType": "add-contact", "data": {"name": "` + string(step) + `", "emails": [{"value": "` + email + `"}]}},
			{"actionType": "add-note", "data": {"body": "hello", "email": "` + email + `"}}]}`
		post := func() (*http.Response, error) {
			req, _ := http.NewRequest(http.MethodPost, e.HTTP.URL+h.path, bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("webhook-id", "msg_"+string(step))
			return oneShot.Do(req)
		}
		armed.Store(step)
		if res, err := post(); err == nil {
			res.Body.Close()
			if step != web.StepStored {
				t.Fatalf("%s: the delivery was not cut off (status %d)", step, res.StatusCode)
			}
		}
		rs := h.results(t, h.post(t, body, "webhook-id", "msg_"+string(step)), 2)
		if rs[0].Status != "created" || rs[1].Status != "created" {
			t.Errorf("%s: redelivery answered %+v", step, rs)
		}
		if n := h.events(t, "customer.created", i+1); n != i+1 {
			t.Errorf("%s: %d customers, want %d", step, n, i+1)
		}
		if n := h.events(t, "customer.note_added", i+1); n != i+1 {
			t.Errorf("%s: %d notes, want %d", step, n, i+1)
		}
		msgs := h.requested(t, i+1)
		if len(msgs) != i+1 || !strings.HasPrefix(msgs[i]["to"].(string), string(step)) {
			t.Errorf("%s: %d welcome e-mails (%v), want %d", step, len(msgs), msgs, i+1)
		}
	}
}
